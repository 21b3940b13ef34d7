//! Scalar functions a hunt can call. Each is declared once, with its signature, its reference
//! text and examples; the examples are both `docs/functions.md` (generated) and tests (each is
//! evaluated by the engine and must give the result written next to it).
//!
//! Functions DataFusion already has are declared in `builtin` and lowered to DataFusion's own;
//! the others (entropy, XOR, domains, URLs, CIDR, lenient decoding) each have their own file, as
//! does `matches`, the kernel of the `matches` operator.

mod builtin;
mod cidr_match;
mod decode;
mod domain;
mod entropy;
pub(crate) mod extract;
mod intervals;
pub(crate) mod matches;
mod package_name;
mod url_part;
mod xor_decode;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringArray};
use arrow::datatypes::DataType;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{ColumnarValue, Expr, ScalarUDF, Volatility, create_udf};
use serde::Serialize;

use crate::types::Type;

pub use matches::{
    NAME as MATCHES, NAME_NOCASE as MATCHES_NOCASE, REGEX_SIZE_LIMIT, matches, matches_by_literals, validate_regex,
};
pub use url_part::PARTS as URL_PARTS;

/// A network (`10.0.0.0/8`) or single address in canonical form, if the text is one.
pub fn parse_cidr(text: &str) -> Option<String> {
    cidr_match::parse_network(text).map(|n| n.to_string())
}

/// What an argument accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Accepts {
    /// Text, an address, or decoded bytes (which read as text wherever text is expected).
    Text,
    Int,
    /// An integer or a float.
    Number,
    Time,
    Duration,
    Ip,
    /// A list of strings.
    TextList,
    /// Any list.
    List,
    /// A map of names to strings.
    Map,
    /// A true/false condition.
    Bool,
    /// Any type; the result has the type of the first argument.
    Any,
}

impl Accepts {
    pub fn accepts(self, ty: &Type) -> bool {
        match self {
            Accepts::Text => matches!(ty, Type::Text | Type::Ip | Type::Null | Type::Bytes),
            Accepts::Int => matches!(ty, Type::Int | Type::Null),
            Accepts::Number => matches!(ty, Type::Int | Type::Float | Type::Null),
            Accepts::Time => matches!(ty, Type::Time | Type::Null),
            Accepts::Duration => matches!(ty, Type::Duration),
            Accepts::Ip => matches!(ty, Type::Ip | Type::Text | Type::Null),
            Accepts::TextList => match ty {
                Type::List(inner) => matches!(**inner, Type::Text | Type::Ip | Type::Null),
                other => *other == Type::Null,
            },
            Accepts::List => matches!(ty, Type::List(_) | Type::Null),
            Accepts::Map => matches!(ty, Type::Map | Type::Null),
            Accepts::Bool => matches!(ty, Type::Bool | Type::Null),
            Accepts::Any => true,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Accepts::Text => "a string",
            Accepts::Int => "an integer",
            Accepts::Number => "a number",
            Accepts::Time => "a time",
            Accepts::Duration => "a duration literal",
            Accepts::Ip => "an IP address",
            Accepts::TextList => "a list of strings",
            Accepts::List => "a list",
            Accepts::Map => "a map (such as `winlog.event_data`)",
            Accepts::Bool => "a true/false condition",
            Accepts::Any => "a value",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Arg {
    pub name: &'static str,
    pub accepts: Accepts,
    pub optional: bool,
}

pub const fn arg(name: &'static str, accepts: Accepts) -> Arg {
    Arg { name, accepts, optional: false }
}

pub const fn optional(name: &'static str, accepts: Accepts) -> Arg {
    Arg { name, accepts, optional: true }
}

/// Which arguments may repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Variadic {
    No,
    /// The last argument may repeat: `concat(a, b, c)`.
    Last,
    /// The first two arguments repeat as pairs, and one more after the last pair is allowed:
    /// `case(condition, value, condition, value, else)`.
    Pairs,
}

/// The result type: fixed, that of the first argument, or the one type all the value
/// arguments (those accepting any value) share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Returns {
    Text,
    Int,
    Float,
    Bool,
    Time,
    Bytes,
    TextList,
    FirstArgument,
    /// The common type of the arguments that accept any value (the branches of `if`, the
    /// values of `coalesce`); the checker refuses values of types with none.
    Common,
}

impl Returns {
    pub fn resolve(self, args: &[Type]) -> Type {
        match self {
            Returns::Text => Type::Text,
            Returns::Int => Type::Int,
            Returns::Float => Type::Float,
            Returns::Bool => Type::Bool,
            Returns::Time => Type::Time,
            Returns::Bytes => Type::Bytes,
            Returns::TextList => Type::List(Box::new(Type::Text)),
            Returns::FirstArgument => args.iter().find(|t| **t != Type::Null).cloned().unwrap_or(Type::Null),
            // The caller passes the value arguments' types, already checked to share one.
            Returns::Common => args.iter().try_fold(Type::Null, |common, t| common.common(t)).unwrap_or(Type::Null),
        }
    }
}

/// An example call and its result as the engine prints it (`NULL` for null).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Example {
    pub call: &'static str,
    pub result: &'static str,
}

#[derive(Serialize)]
pub struct Function {
    pub name: &'static str,
    pub args: &'static [Arg],
    pub variadic: Variadic,
    pub returns: Returns,
    pub doc: &'static str,
    pub examples: &'static [Example],
    /// Indexes of arguments that must be literals (checked when resolving).
    pub literal_args: &'static [usize],
    #[serde(skip)]
    pub lower: fn(Vec<Expr>) -> Expr,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Function({})", self.name)
    }
}

impl Function {
    pub fn signature(&self) -> String {
        if let (Variadic::Pairs, [condition, value, otherwise]) = (self.variadic, self.args) {
            return format!("{}({}, {}, ..., [{}])", self.name, condition.name, value.name, otherwise.name);
        }
        let args: Vec<String> = self
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let repeat = if self.variadic == Variadic::Last && i + 1 == self.args.len() { ", ..." } else { "" };
                if a.optional { format!("[{}{repeat}]", a.name) } else { format!("{}{repeat}", a.name) }
            })
            .collect();
        let pairs = if self.variadic == Variadic::Pairs { ", ..." } else { "" };
        format!("{}({}{pairs})", self.name, args.join(", "))
    }

    /// What the argument at `index` of a call must be.
    pub fn arg(&self, index: usize, count: usize) -> Arg {
        match self.variadic {
            // Pairs, then perhaps one more: the value given when no condition holds.
            Variadic::Pairs if index % 2 == 1 => self.args[1],
            Variadic::Pairs if index + 1 < count => self.args[0],
            Variadic::Pairs => self.args[self.args.len() - 1],
            _ => self.args[index.min(self.args.len() - 1)],
        }
    }

    pub fn min_args(&self) -> usize {
        self.args.iter().filter(|a| !a.optional).count()
    }

    pub fn max_args(&self) -> Option<usize> {
        (self.variadic == Variadic::No).then_some(self.args.len())
    }
}

/// Every function, in reference order.
pub fn all() -> impl Iterator<Item = &'static Function> {
    builtin::FUNCTIONS.iter().chain([
        &decode::BASE64_DECODE,
        &decode::HEX_DECODE,
        &xor_decode::XOR_DECODE,
        &entropy::ENTROPY,
        &extract::EXTRACT,
        &extract::EXTRACT_ALL,
        &domain::REGISTERED_DOMAIN,
        &domain::PUBLIC_SUFFIX,
        &domain::DOMAIN_LABELS,
        &url_part::URL_PART,
        &package_name::PACKAGE_NAME,
        &package_name::PACKAGE_NAMES,
        &cidr_match::CIDR_MATCH,
    ])
}

/// A literal argument a function cannot take, found when the hunt is resolved.
pub struct BadLiteral {
    pub index: usize,
    pub code: crate::diagnostic::Code,
    pub message: String,
    pub hint: Option<String>,
}

/// Checks the literal arguments of a call that only some values suit (a regex, a URL part).
pub fn check_literals(f: &Function, args: &[Option<&crate::ir::Value>]) -> Result<(), BadLiteral> {
    use crate::diagnostic::Code;
    use crate::ir::Value;
    match f.name {
        "url_part" => match args.get(1) {
            Some(Some(Value::Text(part))) if !URL_PARTS.contains(&part.as_str()) => Err(BadLiteral {
                index: 1,
                code: Code::WrongArguments,
                message: format!("unknown URL part `{part}`"),
                hint: Some(format!("parts are: {}", URL_PARTS.join(", "))),
            }),
            _ => Ok(()),
        },
        "time_part" => match args.get(1) {
            Some(Some(Value::Text(part))) if !builtin::TIME_PARTS.contains(&part.as_str()) => Err(BadLiteral {
                index: 1,
                code: Code::WrongArguments,
                message: format!("unknown part of a time `{part}`"),
                hint: Some(format!("parts are: {}", builtin::TIME_PARTS.join(", "))),
            }),
            _ => Ok(()),
        },
        "extract" | "extract_all" => extract::check(args).map_err(|(index, message)| BadLiteral {
            index,
            code: if index == 1 { Code::InvalidRegex } else { Code::WrongArguments },
            message,
            hint: (index == 1).then(|| {
                "regexes use Rust syntax (no look-around or backreferences); write them in '...' to keep backslashes"
                    .to_string()
            }),
        }),
        _ => Ok(()),
    }
}

pub fn lookup(name: &str) -> Option<&'static Function> {
    all().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// Bytes read as text, invalid UTF-8 replaced: used where a string is expected.
pub fn bytes_to_text(e: Expr) -> Expr {
    static UDF: std::sync::OnceLock<Udf> = std::sync::OnceLock::new();
    let udf = UDF.get_or_init(|| {
        udf("spoor_bytes_to_text", vec![DataType::Binary], DataType::Utf8, |args| {
            let bytes = binaries(&args[0])?;
            let out: StringArray = bytes.iter().map(|b| b.map(|b| String::from_utf8_lossy(b).into_owned())).collect();
            Ok(Arc::new(out))
        })
    });
    udf.call(vec![e])
}

/// The subdomain chain of a name (`a.b.c` → `a.b.c`, `b.c`, `c`), for domain-suffix lookups.
pub fn domain_suffixes(e: Expr) -> Expr {
    domain::suffixes(e)
}

pub use intervals::{MEASURES as BEACON_MEASURES, beacon_measures, no_sizes};

/// `cidr_match(ip, network)`, for the `in (networks)` test and CIDR lookups.
pub fn cidr_match(ip: Expr, network: Expr) -> Expr {
    (cidr_match::CIDR_MATCH.lower)(vec![ip, network])
}

/// A scalar UDF and its argument types; calls cast their arguments to those types, so strings
/// of any layout (views, large) and bytes-or-text arguments all arrive as the function expects.
pub struct Udf {
    udf: Arc<ScalarUDF>,
    inputs: Vec<DataType>,
}

impl Udf {
    pub fn call(&self, args: Vec<Expr>) -> Expr {
        let args =
            args.into_iter().zip(&self.inputs).map(|(a, t)| datafusion::logical_expr::cast(a, t.clone())).collect();
        self.udf.call(args)
    }
}

/// A scalar UDF from a function over whole argument arrays (scalars are expanded).
fn udf(
    name: &str,
    inputs: Vec<DataType>,
    returns: DataType,
    f: impl Fn(&[ArrayRef]) -> DfResult<ArrayRef> + Send + Sync + 'static,
) -> Udf {
    columnar_udf(name, inputs, returns, move |args| {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        Ok(ColumnarValue::Array(f(&arrays)?))
    })
}

/// A scalar UDF from a function over its arguments as the engine gives them: for functions that
/// do better with a literal argument than with an array of copies of it.
fn columnar_udf(
    name: &str,
    inputs: Vec<DataType>,
    returns: DataType,
    f: impl Fn(&[ColumnarValue]) -> DfResult<ColumnarValue> + Send + Sync + 'static,
) -> Udf {
    let udf = Arc::new(create_udf(name, inputs.clone(), returns, Volatility::Immutable, Arc::new(f)));
    Udf { udf, inputs }
}

/// Any string array as `StringArray` (the engine may hand over views or large strings).
fn strings(array: &ArrayRef) -> DfResult<StringArray> {
    let cast = arrow::compute::cast(array, &DataType::Utf8)?;
    Ok(cast.as_any().downcast_ref::<StringArray>().cloned().unwrap_or_else(|| StringArray::new_null(array.len())))
}

fn binaries(array: &ArrayRef) -> DfResult<arrow::array::BinaryArray> {
    let cast = arrow::compute::cast(array, &DataType::Binary)?;
    Ok(cast
        .as_any()
        .downcast_ref::<arrow::array::BinaryArray>()
        .cloned()
        .unwrap_or_else(|| arrow::array::BinaryArray::new_null(array.len())))
}

/// `docs/functions.md`, generated from the declarations.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Functions\n\n<!-- Generated from dsl/src/functions by `spoor functions --markdown`; a test fails when they differ. -->\n\n\
         Every example below is run by the test suite and must give the result shown.\n\
         Functions never fail on bad input: a value they cannot handle gives `NULL`.\n",
    );
    for f in all() {
        out.push_str(&format!("\n## `{}`\n\n{}\n\n| example | result |\n|---|---|\n", f.signature(), f.doc));
        for e in f.examples {
            out.push_str(&format!("| `{}` | `{}` |\n", e.call.replace('|', "\\|"), e.result.replace('|', "\\|")));
        }
    }
    out
}
