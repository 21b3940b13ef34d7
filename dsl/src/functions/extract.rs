//! `extract` and `extract_all`: the text a regular expression's group captured.
//!
//! The pattern and the group are literals, checked when the hunt is resolved (syntax, size, and
//! that the group exists), and the regex is compiled once per plan, with the same linear-time
//! engine and size limit as `matches`.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, ListBuilder, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, lit,
};
use regex::Regex;

use super::{Accepts::*, Example, Function, Returns, Variadic, arg, optional, strings};
use crate::ir::Value;

pub static EXTRACT: Function = Function {
    name: "extract",
    args: &[arg("text", Text), arg("pattern", Text), optional("group", Any)],
    variadic: Variadic::No,
    returns: Returns::Text,
    doc: "What the regular expression's `group` captured in its first match: a group's number, or its \
          name for `(?P<name>...)`; by default the first group, or the whole match if the pattern has no \
          group. Null when nothing matches (or the group took no part in the match). Patterns use the \
          syntax of `matches` (linear time, no look-around; `(?i)` ignores case); write them in '...'.",
    examples: &[
        Example { call: r#"extract("GET /6202033 HTTP/1.1", '/(\d+)')"#, result: "6202033" },
        Example {
            call: r#"extract("-nop -w hidden -enc SQBFAFgA", '(?i)-enc(?:odedcommand)?\s+(?P<payload>\S+)', "payload")"#,
            result: "SQBFAFgA",
        },
        Example { call: r#"extract("sfrclak.com:8000", '\d+', 0)"#, result: "8000" },
        Example { call: r#"extract("no digits", '(\d+)')"#, result: "NULL" },
    ],
    literal_args: &[1, 2],
    lower: |a| lower(a, false),
};

pub static EXTRACT_ALL: Function = Function {
    name: "extract_all",
    args: &[arg("text", Text), arg("pattern", Text), optional("group", Any)],
    variadic: Variadic::No,
    returns: Returns::TextList,
    doc: "What `group` captured in every match, in order, as a list (empty when nothing matches); the \
          group is chosen as for `extract`. Use `expand` to get a row per element.",
    examples: &[
        Example {
            call: r#"extract_all("curl http://a.example/x; wget http://b.example/y", 'https?://([^/\s]+)')"#,
            result: "[a.example, b.example]",
        },
        Example { call: r#"extract_all("no urls", 'https?://(\S+)')"#, result: "[]" },
    ],
    literal_args: &[1, 2],
    lower: |a| lower(a, true),
};

/// Which group of a match to take.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) enum Group {
    /// The first group if the pattern has one, else the whole match.
    Default,
    Number(usize),
    Name(String),
}

impl Group {
    fn from_literal(value: Option<&Value>) -> std::result::Result<Group, String> {
        match value {
            None | Some(Value::Null) => Ok(Group::Default),
            Some(Value::Int(n)) => usize::try_from(*n)
                .map(Group::Number)
                .map_err(|_| format!("group {n} does not exist: groups are numbered from 0 (the whole match)")),
            Some(Value::Text(name)) => Ok(Group::Name(name.clone())),
            Some(_) => Err("the group is a number or a name".into()),
        }
    }

    /// The group's index in the regex's captures, if the regex has it.
    fn index(&self, regex: &Regex) -> std::result::Result<usize, String> {
        let groups = regex.captures_len() - 1;
        match self {
            Group::Default => Ok(usize::from(groups > 0)),
            Group::Number(n) if *n <= groups => Ok(*n),
            Group::Number(n) => Err(format!(
                "the pattern has {groups} group{}, so there is no group {n}",
                if groups == 1 { "" } else { "s" }
            )),
            Group::Name(name) => regex
                .capture_names()
                .position(|n| n == Some(name.as_str()))
                .ok_or_else(|| format!("the pattern has no group named `{name}`")),
        }
    }
}

/// The regex under `matches`' size limit, and the index of the group asked for.
fn compile(pattern: &str, group: &Group) -> std::result::Result<(Regex, usize), String> {
    super::matches::validate_regex(pattern, false)?;
    let regex = Regex::new(pattern).map_err(|e| e.to_string())?;
    let index = group.index(&regex)?;
    Ok((regex, index))
}

/// Checks the literal pattern and group of a call when the hunt is resolved: the index of the
/// argument at fault and why.
pub fn check(args: &[Option<&Value>]) -> std::result::Result<(), (usize, String)> {
    let Some(Some(Value::Text(pattern))) = args.get(1) else { return Ok(()) };
    let group = Group::from_literal(args.get(2).copied().flatten()).map_err(|e| (2, e))?;
    super::matches::validate_regex(pattern, false).map_err(|e| (1, e))?;
    compile(pattern, &group).map(|_| ()).map_err(|e| (if args.len() > 2 { 2 } else { 1 }, e))
}

fn lower(mut args: Vec<Expr>, all: bool) -> Expr {
    let literal = |e: Option<&Expr>| match e {
        Some(Expr::Literal(ScalarValue::Utf8(Some(s)), _)) => Some(Value::Text(s.clone())),
        Some(Expr::Literal(ScalarValue::Int64(Some(n)), _)) => Some(Value::Int(*n)),
        _ => None,
    };
    let pattern = match literal(args.get(1)) {
        Some(Value::Text(p)) => p,
        _ => String::new(),
    };
    // An invalid group surfaces when the plan runs (the checker refuses it first).
    let group = Group::from_literal(literal(args.get(2)).as_ref()).unwrap_or(Group::Number(usize::MAX));
    args.truncate(1);
    args.push(lit(pattern.clone()));
    let udf =
        Extract { pattern, group, all, signature: Signature::any(2, Volatility::Immutable), compiled: OnceLock::new() };
    ScalarUDF::new_from_impl(udf).call(args)
}

#[derive(Debug)]
struct Extract {
    pattern: String,
    group: Group,
    all: bool,
    signature: Signature,
    compiled: OnceLock<std::result::Result<(Regex, usize), String>>,
}

impl PartialEq for Extract {
    fn eq(&self, other: &Self) -> bool {
        (&self.pattern, &self.group, self.all) == (&other.pattern, &other.group, other.all)
    }
}

impl Eq for Extract {}

impl Hash for Extract {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (&self.pattern, &self.group, self.all).hash(state);
    }
}

impl Extract {
    fn first(regex: &Regex, group: usize, texts: &StringArray) -> ArrayRef {
        let out: StringArray =
            texts.iter().map(|t| regex.captures(t?)?.get(group).map(|m| m.as_str().to_string())).collect();
        Arc::new(out)
    }

    fn every(regex: &Regex, group: usize, texts: &StringArray) -> ArrayRef {
        let mut out = ListBuilder::new(StringBuilder::new());
        for text in texts.iter() {
            match text {
                Some(text) => {
                    for captures in regex.captures_iter(text) {
                        if let Some(m) = captures.get(group) {
                            out.values().append_value(m.as_str());
                        }
                    }
                    out.append(true);
                }
                None => out.append(false),
            }
        }
        Arc::new(out.finish())
    }
}

impl ScalarUDFImpl for Extract {
    fn name(&self) -> &str {
        if self.all { "spoor_extract_all" } else { "spoor_extract" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(if self.all { DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))) } else { DataType::Utf8 })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let compiled = self.compiled.get_or_init(|| compile(&self.pattern, &self.group));
        let (regex, group) = match compiled {
            Ok(c) => c,
            Err(message) => return exec_err!("{} `{}`: {message}", self.name(), self.pattern),
        };
        let Some(text) = args.args.first() else {
            return exec_err!("{} takes the text and the pattern", self.name());
        };
        let scalar = matches!(text, ColumnarValue::Scalar(_));
        let texts = strings(&text.to_array(args.number_rows.max(1))?)?;
        let out = if self.all { Self::every(regex, *group, &texts) } else { Self::first(regex, *group, &texts) };
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::Array;

    use super::*;

    fn first(pattern: &str, group: Group, text: &str) -> Option<String> {
        let (regex, index) = compile(pattern, &group).unwrap();
        let out = Extract::first(&regex, index, &StringArray::from(vec![text]));
        let out = out.as_any().downcast_ref::<StringArray>().unwrap();
        out.is_valid(0).then(|| out.value(0).to_string())
    }

    #[test]
    fn the_default_group_is_the_first_or_the_whole_match() {
        assert_eq!(first(r"port (\d+)", Group::Default, "port 8000").as_deref(), Some("8000"));
        assert_eq!(first(r"\d+", Group::Default, "port 8000").as_deref(), Some("8000"));
        assert_eq!(first(r"(a)|(b)", Group::Number(1), "b"), None, "a group outside the match is null");
    }

    #[test]
    fn groups_that_do_not_exist_are_refused_before_running() {
        assert!(check(&[None, Some(&Value::Text(r"(\d+)".into())), Some(&Value::Int(2))]).is_err());
        assert!(check(&[None, Some(&Value::Text(r"(?P<x>\d+)".into())), Some(&Value::Text("y".into()))]).is_err());
        assert!(check(&[None, Some(&Value::Text(r"(\d+".into()))]).is_err());
        assert!(check(&[None, Some(&Value::Text(r"(?P<x>\d+)".into())), Some(&Value::Text("x".into()))]).is_ok());
    }
}

/// What `udf` needs to travel to a cluster, when it is an extraction: its pattern, group and
/// whether it takes every match.
pub(crate) fn travelling(udf: &ScalarUDF) -> Option<(String, Group, bool)> {
    let extract = udf.inner().downcast_ref::<Extract>()?;
    Some((extract.pattern.clone(), extract.group.clone(), extract.all))
}

/// An extraction again.
pub(crate) fn arrived(pattern: String, group: Group, all: bool) -> ScalarUDF {
    ScalarUDF::new_from_impl(Extract {
        pattern,
        group,
        all,
        signature: Signature::any(2, Volatility::Immutable),
        compiled: OnceLock::new(),
    })
}
