//! Stage 2, resolve: [`ast::Hunt`] → [`ir::Hunt`]. Binds every name (field, `let`, parameter,
//! step alias) against the [`Catalog`], checks types, and reports every problem it finds, each
//! with its span and, where it can guess, a "did you mean".

mod aggregate;
mod expr;
mod header;
mod source;
mod stage;

use std::collections::{BTreeMap, HashMap};

use crate::ast;
use crate::catalog::Catalog;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::ir::{self, Field, Rel, TExpr, Value};
use crate::span::Span;
use crate::types::Type;

/// A resolved hunt and the warnings found on the way (errors make [`resolve`] fail).
#[derive(Debug, Clone)]
pub struct Resolved {
    pub hunt: ir::Hunt,
    /// The parameters the hunt declares, in order (their values are substituted in `hunt`).
    pub params: Vec<String>,
    pub warnings: Diagnostics,
}

/// Values given by a run for the hunt's `param`s, as text (`--param window=48h`).
pub type ParamValues = BTreeMap<String, String>;

pub fn resolve(hunt: &ast::Hunt, catalog: &Catalog, params: &ParamValues) -> Result<Resolved, Diagnostics> {
    let mut r = Resolver {
        catalog,
        lets: HashMap::new(),
        params: HashMap::new(),
        diags: Diagnostics::default(),
        expanding: Vec::new(),
        expansions: 0,
        expression_nodes: 0,
    };
    let meta = header::meta(&hunt.header, &mut r.diags);
    r.params(&hunt.params, params);
    for l in &hunt.lets {
        if r.lets.contains_key(&l.name.name) || r.params.contains_key(&l.name.name) {
            r.error(Diagnostic::new(Code::DuplicateName, l.name.span, format!("`{}` is defined twice", l.name.name)));
        }
        r.lets.insert(l.name.name.clone(), l);
    }
    let query = r.pipeline(&hunt.pipeline);
    if let Some(rel) = &query
        && rel.depth() > MAX_QUERY_DEPTH
    {
        r.error(
            Diagnostic::new(
                Code::TooDeep,
                hunt.pipeline.span,
                format!("the query nests {} stages deep, more than {MAX_QUERY_DEPTH}", rel.depth()),
            )
            .hint("filter in fewer steps: one `where` can hold many conditions"),
        );
    }
    match query {
        Some(query) if !r.diags.has_errors() => {
            let hunt_ir = ir::Hunt { meta, query };
            if let Some(entry) = hunt.header.iter().find(|e| e.key.name == "tables") {
                let read = hunt_ir.tables();
                if read != hunt_ir.meta.tables {
                    r.error(
                        Diagnostic::new(
                            Code::Header,
                            entry.span,
                            format!(
                                "`tables` says [{}] but the query reads [{}]",
                                hunt_ir.meta.tables.join(", "),
                                read.join(", ")
                            ),
                        )
                        .hint(format!("write `tables: [{}]`", read.join(", "))),
                    );
                    return Err(r.diags.sorted());
                }
            }
            let params = hunt.params.iter().map(|p| p.name.name.clone()).collect();
            Ok(Resolved { hunt: hunt_ir, params, warnings: r.diags.sorted() })
        }
        _ => {
            if !r.diags.has_errors() {
                r.error(Diagnostic::new(Code::Syntax, hunt.pipeline.span, "the query could not be resolved"));
            }
            Err(r.diags.sorted())
        }
    }
}

pub(crate) struct Resolver<'a> {
    catalog: &'a Catalog,
    lets: HashMap<String, &'a ast::Let>,
    params: HashMap<String, TExpr>,
    diags: Diagnostics,
    /// `let`s being expanded, to catch a definition that uses itself.
    expanding: Vec<String>,
    /// `let` uses expanded so far: each use copies its definition, so a chain of definitions that
    /// each use the one before twice would grow the query exponentially.
    expansions: usize,
    /// Expression nodes resolved so far, `let` copies included.
    expression_nodes: usize,
}

/// How deep `let` definitions may use one another (each level is a level of the plan).
pub const MAX_LET_DEPTH: usize = 128;
/// How many `let` uses a hunt may expand to in all.
pub const MAX_LET_EXPANSIONS: usize = 4096;
/// How deep the query's relations may nest (stages on stages, through `let`s): planning and
/// optimizing recurse over the plan, and a deeper one would exhaust the stack.
pub const MAX_QUERY_DEPTH: usize = 128;
/// How many expression nodes (names, operators, calls; not literals) the whole query may hold. The
/// optimizer merges the filters of consecutive stages into one conjunction and recurses over it,
/// so this bounds the deepest expression it can meet. Many alternatives belong in one `in (...)`,
/// which is one node however long its list.
pub const MAX_EXPRESSION_NODES: usize = 2048;

/// What names an expression can see.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'s> {
    pub fields: &'s [Field],
    /// In a sequence or chain step, the step's alias: its fields become `alias.field`.
    pub prefix: Option<&'s str>,
    /// Earlier steps, by alias, with their own (unprefixed) fields.
    pub earlier: &'s [(String, Vec<Field>)],
    /// Whether aggregate functions are allowed (in `stats`).
    pub aggregates: bool,
}

impl<'s> Scope<'s> {
    pub fn of(fields: &'s [Field]) -> Scope<'s> {
        Scope { fields, prefix: None, earlier: &[], aggregates: false }
    }
}

impl<'a> Resolver<'a> {
    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn params(&mut self, declared: &[ast::Param], given: &ParamValues) {
        for p in declared {
            let scope = Scope::of(&[]);
            let Some(default) = self.expr(&p.default, scope) else { continue };
            if !matches!(default.kind, ir::TExprKind::Literal(_)) {
                self.error(
                    Diagnostic::new(Code::Parameter, p.default.span, "a parameter's default must be a literal value")
                        .hint("write a string, number, duration, time or `true`/`false`"),
                );
                continue;
            }
            let value = match given.get(&p.name.name) {
                Some(text) => match override_value(text, &default.ty) {
                    Ok(v) => v,
                    Err(message) => {
                        self.error(
                            Diagnostic::new(
                                Code::Parameter,
                                p.name.span,
                                format!("--param {}={text}: {message}", p.name.name),
                            )
                            .hint(format!("the default is {}", describe_literal(&default))),
                        );
                        continue;
                    }
                },
                None => default,
            };
            if self.params.insert(p.name.name.clone(), value).is_some() {
                self.error(Diagnostic::new(
                    Code::DuplicateName,
                    p.name.span,
                    format!("parameter `{}` is declared twice", p.name.name),
                ));
            }
        }
        for name in given.keys() {
            if !declared.iter().any(|p| &p.name.name == name) {
                let names: Vec<&str> = declared.iter().map(|p| p.name.name.as_str()).collect();
                let mut d =
                    Diagnostic::new(Code::Parameter, Span::default(), format!("the hunt has no parameter `{name}`"));
                d = d.hint(if names.is_empty() {
                    "this hunt declares no parameters".to_string()
                } else {
                    format!("its parameters are: {}", names.join(", "))
                });
                self.error(d);
            }
        }
    }

    /// A pipeline: its source, then each stage over the previous one's output.
    fn pipeline(&mut self, p: &ast::Pipeline) -> Option<Rel> {
        let mut rel = self.source(&p.source)?;
        let mut failed = false;
        for stage in &p.stages {
            let fields = rel.fields.clone();
            match self.stage(rel, stage) {
                Some(next) => rel = next,
                None => {
                    // Keep checking the later stages against the fields the broken one would have
                    // given, so its one error is not followed by one for each name it defines;
                    // the hunt has an error, so this stand-in relation is never lowered.
                    failed = true;
                    let fields = stand_in_fields(stage, fields);
                    rel = Rel { kind: ir::RelKind::Values { values: Vec::new(), ty: Type::Null }, fields };
                }
            }
        }
        (!failed).then_some(rel)
    }

    /// A name used as a table: a catalog table or a `let` pipeline.
    fn table(&mut self, name: &ast::Ident) -> Option<Rel> {
        if let Some(l) = self.lets.get(&name.name).copied() {
            return match &l.value {
                ast::LetValue::Pipeline(p) => self.expand(&name.name, name.span, |r| r.pipeline(p)).map(|input| Rel {
                    fields: input.fields.clone(),
                    kind: ir::RelKind::Let { name: name.name.clone(), input: Box::new(input) },
                }),
                ast::LetValue::Expr(e) => match &e.kind {
                    ast::ExprKind::List(_) => {
                        let list = self.literal_list(e, Scope::of(&[]))?;
                        let ty = list.iter().map(|(_, t)| t.clone()).find(|t| *t != Type::Null).unwrap_or(Type::Text);
                        Some(Rel {
                            kind: ir::RelKind::Values {
                                values: list.into_iter().map(|(v, _)| v).collect(),
                                ty: ty.clone(),
                            },
                            fields: vec![Field { name: "value".into(), ty }],
                        })
                    }
                    _ => {
                        self.error(
                            Diagnostic::new(
                                Code::UnknownTable,
                                name.span,
                                format!("`{}` is an expression, not a table", name.name),
                            )
                            .hint("a `let` used as a table must be a pipeline in parentheses or a list"),
                        );
                        None
                    }
                },
            };
        }
        match self.catalog.get(&name.name) {
            Some(t) => Some(Rel {
                kind: ir::RelKind::Scan { table: t.name.clone(), builtin: t.builtin, history: false },
                fields: t.columns.iter().map(|(n, ty)| Field { name: n.clone(), ty: ty.clone() }).collect(),
            }),
            None => {
                let lets = self.lets.keys().map(String::as_str);
                let candidates: Vec<&str> = self.catalog.names().chain(lets).collect();
                let mut d = Diagnostic::new(Code::UnknownTable, name.span, format!("unknown table `{}`", name.name))
                    .label("no such table");
                d = d.hint(match crate::diagnostic::did_you_mean(&name.name, candidates.iter().copied()) {
                    _ if name.name == spoor_core::iocs::TABLE => {
                        "load indicator lists with --iocs <file> (CSV, JSON or STIX 2.1) to read them as `iocs`"
                            .to_string()
                    }
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "tables are: {}",
                        self.catalog.names().filter(|n| !n.starts_with('_')).collect::<Vec<_>>().join(", ")
                    ),
                });
                self.error(d);
                None
            }
        }
    }

    /// Counts one expression node; false (with one error for the hunt) past the limit.
    pub(crate) fn count_expression_node(&mut self, span: Span) -> bool {
        self.expression_nodes += 1;
        if self.expression_nodes == MAX_EXPRESSION_NODES + 1 {
            self.error(
                Diagnostic::new(
                    Code::TooDeep,
                    span,
                    format!("the query holds more than {MAX_EXPRESSION_NODES} field names, operators and calls"),
                )
                .hint("write many alternatives as one `field in (\"a\", \"b\", ...)`, or a lookup against a list"),
            );
        }
        self.expression_nodes <= MAX_EXPRESSION_NODES
    }

    /// Runs `f` while `name` is being expanded, refusing a `let` that uses itself.
    fn expand<T>(&mut self, name: &str, span: Span, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.expanding.iter().any(|n| n == name) {
            self.error(Diagnostic::new(Code::DuplicateName, span, format!("`{name}` is defined in terms of itself")));
            return None;
        }
        if self.expanding.len() >= MAX_LET_DEPTH {
            self.error(
                Diagnostic::new(
                    Code::TooDeep,
                    span,
                    format!("`let` definitions use one another more than {MAX_LET_DEPTH} levels deep"),
                )
                .hint("filter in fewer steps: one `where` can hold many conditions"),
            );
            return None;
        }
        self.expansions += 1;
        if self.expansions > MAX_LET_EXPANSIONS {
            if self.expansions == MAX_LET_EXPANSIONS + 1 {
                self.error(
                    Diagnostic::new(
                        Code::TooDeep,
                        span,
                        format!(
                            "the hunt uses `let` definitions more than {MAX_LET_EXPANSIONS} times once expanded \
                             (each use copies its definition, and uses within it)"
                        ),
                    )
                    .hint("a definition used twice by one used twice is expanded four times: use each one fewer times"),
                );
            }
            return None;
        }
        self.expanding.push(name.to_string());
        let out = f(self);
        self.expanding.pop();
        out
    }
}

/// A `--param` value, read as the type of the default. Text defaults take the text as it is,
/// so `--param user=alice` needs no quotes.
fn override_value(text: &str, ty: &Type) -> Result<TExpr, String> {
    if *ty == Type::Text {
        let unquoted = crate::parser::parse_expression(text).ok().and_then(|e| match e.kind {
            ast::ExprKind::Literal(ast::Literal::Text(s)) => Some(s),
            _ => None,
        });
        return Ok(TExpr::literal(Value::Text(unquoted.unwrap_or_else(|| text.to_string())), Type::Text));
    }
    let parsed = crate::parser::parse_expression(text)
        .map_err(|d| d.0.first().map(|d| d.message.clone()).unwrap_or_default())?;
    let (value, found) = match parsed.kind {
        ast::ExprKind::Literal(lit) => literal_value(&lit),
        ast::ExprKind::Negate(inner) => match inner.kind {
            ast::ExprKind::Literal(ast::Literal::Int(n)) => (Value::Int(-n), Type::Int),
            ast::ExprKind::Literal(ast::Literal::Float(n)) => (Value::Float(-n), Type::Float),
            _ => return Err("expected a literal value".into()),
        },
        _ => return Err("expected a literal value".into()),
    };
    match (ty, &found, value) {
        (Type::Float, Type::Int, Value::Int(n)) => Ok(TExpr::literal(Value::Float(n as f64), Type::Float)),
        (Type::Ip, Type::Text, Value::Text(s)) => match s.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(TExpr::literal(Value::Text(ip.to_string()), Type::Ip)),
            Err(_) => Err(format!("`{s}` is not an IP address")),
        },
        (want, got, value) if want == got => Ok(TExpr::literal(value, got.clone())),
        (want, got, _) => Err(format!("expected {want}, got {got}")),
    }
}

pub(crate) fn literal_value(lit: &ast::Literal) -> (Value, Type) {
    let ty = match lit {
        ast::Literal::Text(_) => Type::Text,
        ast::Literal::Int(_) => Type::Int,
        ast::Literal::Float(_) => Type::Float,
        ast::Literal::Bool(_) => Type::Bool,
        ast::Literal::Null => Type::Null,
        ast::Literal::Time(_) => Type::Time,
        ast::Literal::Duration(_) => Type::Duration,
    };
    (lit.clone(), ty)
}

fn describe_literal(e: &TExpr) -> String {
    match &e.kind {
        ir::TExprKind::Literal(v) => format!("{} ({})", display_value(v), e.ty),
        _ => e.ty.to_string(),
    }
}

pub(crate) fn display_value(v: &Value) -> String {
    match v {
        Value::Text(s) => format!("{s:?}"),
        Value::Int(n) => n.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Time(t) => chrono::DateTime::from_timestamp_micros(*t).map_or_else(|| t.to_string(), |t| t.to_rfc3339()),
        Value::Duration(d) => format!("{}s", *d as f64 / 1e6),
    }
}

/// The fields a stage that failed to resolve would have given, as far as its text says: the
/// names it defines (of unknown type, which fits anywhere), and the input's where it keeps them.
fn stand_in_fields(stage: &ast::Stage, input: Vec<Field>) -> Vec<Field> {
    use ast::StageKind::*;
    let unknown = |name: &str| Field { name: name.to_string(), ty: Type::Null };
    let item_name = |item: &ast::Item| match (&item.name, &item.expr.kind) {
        (Some(n), _) => Some(n.name.clone()),
        (None, ast::ExprKind::Name(n)) => Some(n.clone()),
        (None, ast::ExprKind::Call { function, args }) => Some(match args.as_slice() {
            [ast::Expr { kind: ast::ExprKind::Name(arg), .. }] => {
                format!("{}_{arg}", function.name.to_ascii_lowercase())
            }
            _ => function.name.to_ascii_lowercase(),
        }),
        _ => None,
    };
    let kept = |names: Vec<String>| -> Vec<Field> {
        names.iter().map(|n| input.iter().find(|f| f.name == *n).cloned().unwrap_or_else(|| unknown(n))).collect()
    };
    match &stage.kind {
        Select(items) => kept(items.iter().filter_map(item_name).collect()),
        Stats { aggregates, by } => kept(by.iter().chain(aggregates).filter_map(item_name).collect()),
        Distinct(names) => kept(names.iter().map(|n| n.name.clone()).collect()),
        Stack { fields, .. } => {
            let mut names: Vec<String> = fields.iter().map(|n| n.name.clone()).collect();
            names.extend(["count".to_string(), "spread".to_string()]);
            kept(names)
        }
        Beacon { by } => {
            let mut names: Vec<String> = by.iter().map(|n| n.name.clone()).collect();
            names.extend(ir::BEACON_FIELDS.iter().map(|(n, _)| n.to_string()));
            kept(names)
        }
        Extend(items) => {
            let mut fields = input.clone();
            fields.extend(
                items.iter().filter_map(item_name).filter(|n| !input.iter().any(|f| f.name == *n)).map(|n| unknown(&n)),
            );
            fields
        }
        Rename(pairs) => {
            let mut fields = input.clone();
            fields.extend(pairs.iter().map(|(new, _)| unknown(&new.name)));
            fields
        }
        _ => input,
    }
}
