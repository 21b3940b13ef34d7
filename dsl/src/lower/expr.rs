//! Typed expressions → DataFusion `Expr`.

use arrow::datatypes::{DataType, TimeUnit};
use datafusion::functions::core::expr_fn::nullif;
use datafusion::functions::string::expr_fn as string;
use datafusion::functions_nested::expr_fn::array_has;
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{Expr, Operator, binary_expr, cast, lit};
use datafusion::prelude::Column;
use datafusion::scalar::ScalarValue;

use crate::ast::BinaryOp;
use crate::functions;
use crate::ir::{TExpr, TExprKind, Value};
use crate::types::Type;

use crate::options::RunOptions;

/// A column by its full name: `process.name` is one column, not column `name` of `process`.
pub fn col(name: &str) -> Expr {
    Expr::Column(Column::from_name(name))
}

pub fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

pub fn time(micros: i64) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(Some(micros), Some("UTC".into())))
}

/// A duration as an interval, for adding to a timestamp.
pub fn interval(micros: i64) -> Expr {
    lit(ScalarValue::new_interval_mdn(0, 0, micros.saturating_mul(1000)))
}

pub fn value(v: &Value, ty: &Type) -> Expr {
    match v {
        Value::Text(s) => lit(s.as_str()),
        Value::Int(n) if *ty == Type::Float => lit(*n as f64),
        Value::Int(n) => lit(*n),
        Value::Float(f) => lit(*f),
        Value::Bool(b) => lit(*b),
        Value::Null => lit(ScalarValue::Null),
        Value::Time(t) => time(*t),
        // Durations are whole microseconds in plans; see `arithmetic`.
        Value::Duration(d) => lit(*d),
    }
}

#[recursive::recursive]
pub fn expr(e: &TExpr, options: &RunOptions) -> Expr {
    match &e.kind {
        TExprKind::Column(c) => col(c),
        TExprKind::Literal(v) => value(v, &e.ty),
        TExprKind::Not(x) => Expr::Not(Box::new(expr(x, options))),
        TExprKind::Negate(x) => Expr::Negative(Box::new(expr(x, options))),
        TExprKind::Binary { op, left, right } => binary(*op, left, right, options),
        TExprKind::InList { expr: x, list, negated, nocase, cidr } => {
            let target = expr(x, options);
            if *cidr {
                let any = list
                    .iter()
                    .map(|v| {
                        let network = value(v, &Type::Text);
                        functions::cidr_match(target.clone(), network)
                    })
                    .reduce(|a, b| a.or(b))
                    .unwrap_or(lit(false));
                return if *negated { Expr::Not(Box::new(any)) } else { any };
            }
            if *nocase && let Some(any) = ascii_nocase_any(&target, list) {
                return if *negated { Expr::Not(Box::new(any)) } else { any };
            }
            let target = if *nocase { string::lower(target) } else { target };
            let values = list.iter().map(|v| value(v, &x.ty)).collect();
            target.in_list(values, *negated)
        }
        TExprKind::InColumn { expr: x, list, negated } => {
            let has = array_has(expr(list, options), expr(x, options));
            if *negated { Expr::Not(Box::new(has)) } else { has }
        }
        TExprKind::IsNull { expr: x, negated } => {
            let x = expr(x, options);
            if *negated { x.is_not_null() } else { x.is_null() }
        }
        TExprKind::Call { function, args } => (function.lower)(args.iter().map(|a| expr(a, options)).collect()),
        TExprKind::BytesToText(x) => functions::bytes_to_text(expr(x, options)),
        TExprKind::Now => time(options.now_micros()),
        TExprKind::WindowStart => time(options.window_start_micros()),
        TExprKind::WindowEnd => time(options.window_end_micros()),
    }
}

/// `x in~ (...)` over a few ASCII texts, compared ignoring case without lowercasing a copy of
/// every value first (as `lower(x) IN (...)` would): as an anchored regex, whose texts are
/// searched for over the whole column at once, where they can be; else as case-insensitive LIKEs
/// without wildcards, which Arrow compares in place. Longer lists keep the one hashed IN.
fn ascii_nocase_any(target: &Expr, list: &[Value]) -> Option<Expr> {
    const MOST: usize = 4;
    if list.is_empty() || list.len() > MOST {
        return None;
    }
    let texts: Vec<&str> = list
        .iter()
        .map(|v| match v {
            Value::Text(s) if s.is_ascii() => Some(s.as_str()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let escaped: Vec<String> = texts.iter().map(|s| regex::escape(s)).collect();
    let pattern = format!("^(?:{})$", escaped.join("|"));
    functions::matches_by_literals(target.clone(), &pattern, true)
        .or_else(|| texts.iter().map(|s| like(target.clone(), escape_like(s), true)).reduce(|a, b| a.or(b)))
}

fn like(target: Expr, pattern: String, case_insensitive: bool) -> Expr {
    Expr::Like(Like::new(false, Box::new(target), Box::new(lit(pattern)), Some('\\'), case_insensitive))
}

/// Escapes LIKE's own wildcards so the text matches literally.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A glob (`*`, `?`) as a LIKE pattern.
pub fn glob_to_like(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len());
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn text_literal(e: &TExpr) -> Option<&str> {
    match &e.kind {
        TExprKind::Literal(Value::Text(s)) => Some(s),
        _ => None,
    }
}

fn binary(op: BinaryOp, left: &TExpr, right: &TExpr, options: &RunOptions) -> Expr {
    use BinaryOp::*;
    let l = expr(left, options);
    let r = expr(right, options);
    let operator = |o: Operator| binary_expr(l.clone(), o, r.clone());
    match op {
        Or => operator(Operator::Or),
        And => operator(Operator::And),
        Eq => operator(Operator::Eq),
        NotEq => operator(Operator::NotEq),
        Lt => operator(Operator::Lt),
        LtEq => operator(Operator::LtEq),
        Gt => operator(Operator::Gt),
        GtEq => operator(Operator::GtEq),
        EqNocase | NotEqNocase => {
            // An ASCII text is compared in place (a LIKE without wildcards) rather than against
            // a lowercased copy of every value.
            if let Some(s) = text_literal(right).filter(|s| s.is_ascii()) {
                let equal = like(l, escape_like(s), true);
                return if op == EqNocase { equal } else { Expr::Not(Box::new(equal)) };
            }
            let r = match text_literal(right) {
                Some(s) => lit(s.to_lowercase()),
                None => string::lower(r),
            };
            let o = if op == EqNocase { Operator::Eq } else { Operator::NotEq };
            binary_expr(string::lower(l), o, r)
        }
        Contains { nocase } | StartsWith { nocase } | EndsWith { nocase } => match text_literal(right) {
            Some(s) => {
                let s = escape_like(s);
                let pattern = match op {
                    Contains { .. } => format!("%{s}%"),
                    StartsWith { .. } => format!("{s}%"),
                    _ => format!("%{s}"),
                };
                like(l, pattern, nocase)
            }
            None => {
                let (l, r) = if nocase { (string::lower(l), string::lower(r)) } else { (l, r) };
                match op {
                    Contains { .. } => string::contains(l, r),
                    StartsWith { .. } => string::starts_with(l, r),
                    _ => string::ends_with(l, r),
                }
            }
        },
        Like { nocase } => like(l, glob_to_like(text_literal(right).unwrap_or_default()), nocase),
        Matches { nocase } => functions::matches(l, text_literal(right).unwrap_or_default(), nocase),
        Add | Sub | Mul | Div | IntDiv | Mod => arithmetic(op, left, right, l, r),
    }
}

/// Times and durations are done in whole microseconds, so every mix (time ± duration,
/// time − time, duration × n) is plain integer arithmetic the engine can fold.
fn arithmetic(op: BinaryOp, left: &TExpr, right: &TExpr, l: Expr, r: Expr) -> Expr {
    let micros = |e: Expr, ty: &Type| if *ty == Type::Time { cast(e, DataType::Int64) } else { e };
    let o = match op {
        BinaryOp::Add => Operator::Plus,
        BinaryOp::Sub => Operator::Minus,
        BinaryOp::Mul => Operator::Multiply,
        BinaryOp::Mod => Operator::Modulo,
        _ => Operator::Divide,
    };
    let divides = matches!(op, BinaryOp::Div | BinaryOp::IntDiv | BinaryOp::Mod);
    match (&left.ty, &right.ty) {
        (Type::Time, _) | (_, Type::Time) => {
            let result = binary_expr(micros(l, &left.ty), o, micros(r, &right.ty));
            let is_time = !(left.ty == Type::Time && right.ty == Type::Time);
            if is_time { cast(result, time_type()) } else { result }
        }
        (Type::Int | Type::Duration, Type::Int | Type::Duration) if op == BinaryOp::IntDiv => {
            // Whole microseconds or integers: the engine's integer division truncates.
            binary_expr(l, o, nullif(r, lit(0i64)))
        }
        (_, _) if op == BinaryOp::IntDiv => {
            let quotient = binary_expr(cast(l, DataType::Float64), o, nullif(cast(r, DataType::Float64), lit(0.0)));
            cast(datafusion::functions::math::expr_fn::trunc(vec![quotient]), DataType::Int64)
        }
        (Type::Int, Type::Int) if op == BinaryOp::Mod => {
            // Integer division by zero gives null instead of failing the whole hunt.
            binary_expr(l, o, nullif(r, lit(0i64)))
        }
        (Type::Duration, Type::Duration) if op == BinaryOp::Mod => binary_expr(l, o, nullif(r, lit(0i64))),
        (_, _) if divides => binary_expr(cast(l, DataType::Float64), o, nullif(cast(r, DataType::Float64), lit(0.0))),
        _ => binary_expr(l, o, r),
    }
}
