//! Expressions: names bound, types checked, literals validated (times, IPs, regexes).

use crate::ast::{BinaryOp, Expr, ExprKind, LetValue};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::functions;
use crate::ir::{TExpr, TExprKind, Value};
use crate::types::Type;

use super::{Resolver, Scope, literal_value};

/// Functions only `stats` may call.
pub const AGGREGATES: &[&str] =
    &["count", "count_distinct", "dc", "min", "max", "sum", "avg", "stddev", "first", "last", "values", "list"];

impl Resolver<'_> {
    #[recursive::recursive]
    pub(crate) fn expr(&mut self, e: &Expr, scope: Scope<'_>) -> Option<TExpr> {
        // Literals are leaves, and an `in` list of any length is one node of the plan.
        if !matches!(e.kind, ExprKind::Literal(_)) && !self.count_expression_node(e.span) {
            return None;
        }
        match &e.kind {
            ExprKind::Name(name) => self.name(name, e, scope),
            ExprKind::Literal(lit) => {
                let (value, ty) = literal_value(lit);
                Some(TExpr::literal(value, ty))
            }
            ExprKind::List(_) => {
                self.error(
                    Diagnostic::new(Code::TypeMismatch, e.span, "a list can only follow `in`")
                        .hint("write `field in (\"a\", \"b\")`, or define it with `let name = [...]`"),
                );
                None
            }
            ExprKind::Not(inner) => {
                let inner = self.expr(inner, scope)?;
                self.expect_bool(&inner, e.span, "`not`")?;
                Some(TExpr { kind: TExprKind::Not(Box::new(inner)), ty: Type::Bool })
            }
            ExprKind::Negate(inner) => {
                let inner = self.expr(inner, scope)?;
                if !matches!(inner.ty, Type::Int | Type::Float | Type::Duration | Type::Null) {
                    self.error(Diagnostic::new(Code::TypeMismatch, e.span, format!("cannot negate {}", inner.ty)));
                    return None;
                }
                if let TExprKind::Literal(v) = &inner.kind {
                    let v = match v {
                        Value::Int(n) => Value::Int(n.saturating_neg()),
                        Value::Float(f) => Value::Float(-f),
                        Value::Duration(d) => Value::Duration(d.saturating_neg()),
                        other => other.clone(),
                    };
                    return Some(TExpr::literal(v, inner.ty));
                }
                let ty = inner.ty.clone();
                Some(TExpr { kind: TExprKind::Negate(Box::new(inner)), ty })
            }
            ExprKind::Binary { op, left, right } => {
                if let ExprKind::Call { function, args } = &right.kind
                    && let Some(all) = quantifier(&function.name)
                {
                    return self.quantified(*op, left, args, all, e, scope);
                }
                let (l, r) = (self.expr(left, scope), self.expr(right, scope));
                self.binary(*op, l?, r?, left, right, e)
            }
            ExprKind::In { expr, list, negated, nocase } => self.in_expr(expr, list, *negated, *nocase, e, scope),
            ExprKind::IsNull { expr, negated } => {
                let inner = self.expr(expr, scope)?;
                Some(TExpr { kind: TExprKind::IsNull { expr: Box::new(inner), negated: *negated }, ty: Type::Bool })
            }
            ExprKind::Call { function, args } => self.call(function, args, e, scope),
            ExprKind::Over { .. } => {
                self.error(
                    Diagnostic::new(Code::Aggregate, e.span, "`over` is computed by `extend` or `select`")
                        .hint("extend total = count() over source.ip | where ..."),
                );
                None
            }
        }
    }

    fn name(&mut self, name: &str, e: &Expr, scope: Scope<'_>) -> Option<TExpr> {
        if let Some(f) = scope.fields.iter().find(|f| f.name == name) {
            let column = match scope.prefix {
                Some(p) => format!("{p}.{name}"),
                None => name.to_string(),
            };
            return Some(TExpr::column(column, f.ty.clone()));
        }
        // `alias.field` of an earlier step.
        if let Some((alias, field)) = name.split_once('.')
            && let Some((_, fields)) = scope.earlier.iter().find(|(a, _)| a == alias)
        {
            if let Some(f) = fields.iter().find(|f| f.name == field) {
                return Some(TExpr::column(name, f.ty.clone()));
            }
            let mut d = Diagnostic::new(Code::UnknownField, e.span, format!("step `{alias}` has no field `{field}`"));
            if let Some(s) = did_you_mean(field, fields.iter().map(|f| f.name.as_str())) {
                d = d.hint(format!("did you mean `{alias}.{s}`?"));
            }
            self.error(d);
            return None;
        }
        if let Some(l) = self.lets.get(name).copied() {
            return match &l.value {
                LetValue::Expr(def) => {
                    if matches!(def.kind, ExprKind::List(_)) {
                        self.error(
                            Diagnostic::new(Code::TypeMismatch, e.span, format!("`{name}` is a list"))
                                .hint(format!("use it after `in`: field in {name}")),
                        );
                        return None;
                    }
                    self.expand(name, e.span, |r| r.expr(def, scope))
                }
                LetValue::Pipeline(_) => {
                    self.error(
                        Diagnostic::new(Code::TypeMismatch, e.span, format!("`{name}` is a pipeline, not a value"))
                            .hint(format!("use it as a source (`{name} | ...`) or in `lookup {name} on ...`")),
                    );
                    None
                }
            };
        }
        if let Some(value) = self.params.get(name) {
            return Some(value.clone());
        }
        // `winlog.event_data.PipeName`: a name under a map column reads the map.
        if let Some(read) = map_entry(name, scope) {
            return Some(read);
        }
        let mut candidates: Vec<String> = scope.fields.iter().map(|f| f.name.clone()).collect();
        for (alias, fields) in scope.earlier {
            candidates.extend(fields.iter().map(|f| format!("{alias}.{}", f.name)));
        }
        candidates.extend(self.lets.keys().cloned());
        candidates.extend(self.params.keys().cloned());
        let mut d = Diagnostic::new(Code::UnknownField, e.span, format!("unknown field `{name}`"))
            .label("not a field of this stage's input");
        if let Some(s) = did_you_mean(name, candidates.iter().map(String::as_str)) {
            d = d.hint(format!("did you mean `{s}`?"));
        } else if let Some(table) = self.catalog_table_with(name) {
            d = d.hint(format!("`{name}` is a field of the `{table}` table, which this pipeline does not read"));
        }
        self.error(d);
        None
    }

    fn catalog_table_with(&self, field: &str) -> Option<String> {
        self.catalog
            .names()
            .find(|t| self.catalog.get(t).is_some_and(|t| t.column(field).is_some()))
            .map(str::to_string)
    }

    fn expect_bool(&mut self, e: &TExpr, span: crate::span::Span, context: &str) -> Option<()> {
        if matches!(e.ty, Type::Bool | Type::Null) {
            return Some(());
        }
        self.error(Diagnostic::new(
            Code::TypeMismatch,
            span,
            format!("{context} needs a true/false condition, not {}", e.ty),
        ));
        None
    }

    /// Text where text is wanted: bytes are read as text, IPs are text already.
    fn as_text(e: TExpr) -> TExpr {
        match e.ty {
            Type::Bytes => TExpr { kind: TExprKind::BytesToText(Box::new(e)), ty: Type::Text },
            _ => e,
        }
    }

    fn binary(&mut self, op: BinaryOp, l: TExpr, r: TExpr, left: &Expr, right: &Expr, whole: &Expr) -> Option<TExpr> {
        use BinaryOp::*;
        let span = whole.span;
        let mismatch = |r: &mut Self, message: String, hint: Option<String>| {
            let mut d = Diagnostic::new(Code::TypeMismatch, span, message);
            if let Some(h) = hint {
                d = d.hint(h);
            }
            r.error(d);
            None
        };
        match op {
            Or | And => {
                self.expect_bool(&l, left.span, &format!("`{}`", op.symbol()))?;
                self.expect_bool(&r, right.span, &format!("`{}`", op.symbol()))?;
                Some(binary(op, l, r, Type::Bool))
            }
            Eq | NotEq | Lt | LtEq | Gt | GtEq => {
                if matches!(r.kind, TExprKind::Literal(Value::Null))
                    || matches!(l.kind, TExprKind::Literal(Value::Null))
                {
                    return mismatch(
                        self,
                        "comparing with null is never true".into(),
                        Some("write `field is null` or `field is not null`".into()),
                    );
                }
                let (lt, rt) = (l.ty.clone(), r.ty.clone());
                let (l, r) = (self.coerce_literal(l, &rt, left)?, self.coerce_literal(r, &lt, right)?);
                if !l.ty.comparable(&r.ty) {
                    let hint = match (&l.ty, &r.ty) {
                        (Type::Time, Type::Text) | (Type::Text, Type::Time) => {
                            Some("write times without quotes, as RFC 3339: 2026-03-31T00:21:00Z".to_string())
                        }
                        (Type::Int | Type::Float, Type::Text) | (Type::Text, Type::Int | Type::Float) => {
                            Some("numbers are written without quotes".to_string())
                        }
                        _ => None,
                    };
                    return mismatch(self, format!("cannot compare {} with {}", l.ty, r.ty), hint);
                }
                Some(binary(op, Self::as_text(l), Self::as_text(r), Type::Bool))
            }
            EqNocase | NotEqNocase => {
                if !l.ty.is_textual() || !r.ty.is_textual() {
                    return mismatch(
                        self,
                        format!("`{}` compares strings, not {} and {}", op.symbol(), l.ty, r.ty),
                        None,
                    );
                }
                Some(binary(op, Self::as_text(l), Self::as_text(r), Type::Bool))
            }
            Contains { nocase } if matches!(l.ty, Type::List(_)) => {
                if nocase {
                    return mismatch(
                        self,
                        "`contains~` does not apply to lists".into(),
                        Some("use `contains` for an exact element".into()),
                    );
                }
                Some(TExpr {
                    kind: TExprKind::InColumn { expr: Box::new(Self::as_text(r)), list: Box::new(l), negated: false },
                    ty: Type::Bool,
                })
            }
            Contains { .. } | StartsWith { .. } | EndsWith { .. } | Like { .. } | Matches { .. } => {
                if !l.ty.is_textual() || !r.ty.is_textual() {
                    return mismatch(self, format!("`{}` needs strings, not {} and {}", op.symbol(), l.ty, r.ty), None);
                }
                if let Like { .. } | Matches { .. } = op {
                    let TExprKind::Literal(Value::Text(pattern)) = &r.kind else {
                        return mismatch(
                            self,
                            format!("the pattern after `{}` must be a string literal", op.symbol()),
                            None,
                        );
                    };
                    if let Matches { nocase } = op
                        && let Err(message) = functions::validate_regex(pattern, nocase)
                    {
                        self.error(
                                Diagnostic::new(Code::InvalidRegex, right.span, message)
                                    .hint("regexes use Rust syntax (no look-around or backreferences); write them in '...' to keep backslashes"),
                            );
                        return None;
                    }
                }
                Some(binary(op, Self::as_text(l), Self::as_text(r), Type::Bool))
            }
            Add | Sub => {
                let ty = match (&l.ty, &r.ty) {
                    (Type::Time, Type::Duration) => Type::Time,
                    (Type::Duration, Type::Time) if op == Add => Type::Time,
                    (Type::Time, Type::Time) if op == Sub => Type::Duration,
                    (Type::Duration, Type::Duration) => Type::Duration,
                    (Type::Int, Type::Int) => Type::Int,
                    (a, b) if a.is_numeric() && b.is_numeric() => Type::Float,
                    (a, b) => {
                        return mismatch(
                            self,
                            format!(
                                "cannot {} {b} {} {a}",
                                if op == Add { "add" } else { "subtract" },
                                if op == Add { "to" } else { "from" }
                            ),
                            None,
                        );
                    }
                };
                // Fold time arithmetic on literals, so `2026-03-31T00:00:00Z - 1h` prunes files.
                if let (TExprKind::Literal(Value::Time(t)), TExprKind::Literal(Value::Duration(d))) = (&l.kind, &r.kind)
                {
                    let v = if op == Add { t.saturating_add(*d) } else { t.saturating_sub(*d) };
                    return Some(TExpr::literal(Value::Time(v), Type::Time));
                }
                Some(binary(op, l, r, ty))
            }
            IntDiv => {
                let fits = match (&l.ty, &r.ty) {
                    (Type::Duration, Type::Duration) => true,
                    (a, b) => a.is_numeric() && b.is_numeric(),
                };
                if !fits {
                    return mismatch(self, format!("cannot divide {} by {}", l.ty, r.ty), None);
                }
                Some(binary(op, l, r, Type::Int))
            }
            Mul | Div | Mod => {
                let ty = match (&l.ty, &r.ty) {
                    (Type::Int, Type::Int) if op != Div => Type::Int,
                    (Type::Duration, Type::Int) if op != Mod => Type::Duration,
                    // What is left of a span after whole days, hours...: `(@timestamp -
                    // 2026-01-01T00:00:00Z) % 1d` is the time of day.
                    (Type::Duration, Type::Duration) if op == Mod => Type::Duration,
                    // How many of one span fit in another: `(t2 - t1) / 1m` is minutes.
                    (Type::Duration, Type::Duration) if op == Div => Type::Float,
                    (a, b) if a.is_numeric() && b.is_numeric() => Type::Float,
                    (a, b) => {
                        let hint = (op == Mod && *a == Type::Time).then(|| {
                            "subtract a time first: `(@timestamp - 2026-01-01T00:00:00Z) % 1d` is the time of day"
                                .to_string()
                        });
                        return mismatch(
                            self,
                            match op {
                                Mul => format!("cannot multiply {a} by {b}"),
                                Div => format!("cannot divide {a} by {b}"),
                                _ => format!("cannot take the remainder of {a} by {b}"),
                            },
                            hint,
                        );
                    }
                };
                Some(binary(op, l, r, ty))
            }
        }
    }

    /// A string literal compared with an IP field must be an address (canonicalized); compared
    /// with a time it is an error the caller explains.
    fn coerce_literal(&mut self, e: TExpr, other: &Type, source: &Expr) -> Option<TExpr> {
        match (&e.kind, other) {
            (TExprKind::Literal(Value::Text(s)), Type::Ip) => match s.trim().parse::<std::net::IpAddr>() {
                Ok(ip) => Some(TExpr::literal(Value::Text(ip.to_string()), Type::Ip)),
                Err(_) => {
                    let hint = if s.contains('/') {
                        "to test a network, write `field in (\"10.0.0.0/8\")` or `cidr_match(field, \"10.0.0.0/8\")`"
                    } else {
                        "write an IPv4 or IPv6 address: \"198.51.100.73\", \"2001:db8::1\""
                    };
                    self.error(
                        Diagnostic::new(Code::InvalidLiteral, source.span, format!("`{s}` is not an IP address"))
                            .hint(hint),
                    );
                    None
                }
            },
            _ => Some(e),
        }
    }

    fn in_expr(
        &mut self,
        expr: &Expr,
        list: &Expr,
        negated: bool,
        nocase: bool,
        whole: &Expr,
        scope: Scope<'_>,
    ) -> Option<TExpr> {
        let left = self.expr(expr, scope)?;
        // `value in list_field`
        if let ExprKind::Name(n) = &list.kind {
            let is_let = self.lets.get(n).is_some();
            if !is_let && !self.params.contains_key(n) {
                let column = self.expr(list, scope)?;
                if !matches!(column.ty, Type::List(_)) {
                    self.error(Diagnostic::new(
                        Code::TypeMismatch,
                        list.span,
                        format!("`in` needs a list; `{n}` is {}", column.ty),
                    ));
                    return None;
                }
                return Some(TExpr {
                    kind: TExprKind::InColumn { expr: Box::new(Self::as_text(left)), list: Box::new(column), negated },
                    ty: Type::Bool,
                });
            }
        }
        let items = self.literal_list(list, scope)?;
        let cidr = left.ty == Type::Ip && items.iter().any(|(v, _)| matches!(v, Value::Text(s) if s.contains('/')));
        let mut values = Vec::with_capacity(items.len());
        for (value, ty) in items {
            if !left.ty.comparable(&ty) && !(left.ty == Type::Ip && ty == Type::Text) {
                self.error(Diagnostic::new(
                    Code::TypeMismatch,
                    whole.span,
                    format!("the list holds {ty}, but the value is {}", left.ty),
                ));
                return None;
            }
            let value = match (value, &left.ty) {
                (Value::Text(s), Type::Ip) if cidr => match functions::parse_cidr(&s) {
                    Some(net) => Value::Text(net),
                    None => {
                        self.error(Diagnostic::new(
                            Code::InvalidLiteral,
                            list.span,
                            format!("`{s}` is not an IP address or network"),
                        ));
                        return None;
                    }
                },
                (Value::Text(s), Type::Ip) => match s.trim().parse::<std::net::IpAddr>() {
                    Ok(ip) => Value::Text(ip.to_string()),
                    Err(_) => {
                        self.error(Diagnostic::new(
                            Code::InvalidLiteral,
                            list.span,
                            format!("`{s}` is not an IP address"),
                        ));
                        return None;
                    }
                },
                (Value::Text(s), _) if nocase => Value::Text(s.to_lowercase()),
                (v, _) => v,
            };
            values.push(value);
        }
        if nocase && !left.ty.is_textual() {
            self.error(Diagnostic::new(
                Code::TypeMismatch,
                whole.span,
                format!("`in~` compares strings, not {}", left.ty),
            ));
            return None;
        }
        Some(TExpr {
            kind: TExprKind::InList { expr: Box::new(Self::as_text(left)), list: values, negated, nocase, cidr },
            ty: Type::Bool,
        })
    }

    /// `left op any(a, b, ...)`: true where `left op a` holds for one of them (`all`: for each).
    /// The values are the arguments, or the items of the one `let` list named.
    fn quantified(
        &mut self,
        op: BinaryOp,
        left: &Expr,
        args: &[Expr],
        all: bool,
        whole: &Expr,
        scope: Scope<'_>,
    ) -> Option<TExpr> {
        let word = if all { "all" } else { "any" };
        if matches!(op, BinaryOp::And | BinaryOp::Or) || op.is_arithmetic() {
            self.error(Diagnostic::new(
                Code::Syntax,
                whole.span,
                format!("`{word}(...)` follows a comparison, not `{}`", op.symbol()),
            ));
            return None;
        }
        let named_list = match args {
            [Expr { kind: ExprKind::Name(n), .. }] => self.lets.contains_key(n),
            _ => false,
        };
        let values: Vec<TExpr> = if named_list {
            self.literal_list(&args[0], scope)?.into_iter().map(|(v, ty)| TExpr::literal(v, ty)).collect()
        } else {
            let typed: Vec<Option<TExpr>> = args.iter().map(|a| self.expr(a, scope)).collect();
            typed.into_iter().collect::<Option<_>>()?
        };
        if values.is_empty() {
            self.error(Diagnostic::new(
                Code::WrongArguments,
                whole.span,
                format!("`{word}()` needs at least one value"),
            ));
            return None;
        }
        let l = self.expr(left, scope)?;
        let mut tests = Vec::with_capacity(values.len());
        for (i, value) in values.into_iter().enumerate() {
            // Each value stands where it was written, or for the whole list.
            let source = if named_list { &args[0] } else { &args[i] };
            tests.push(self.binary(op, l.clone(), value, left, source, whole)?);
        }
        let join = if all { BinaryOp::And } else { BinaryOp::Or };
        Some(balanced(join, tests))
    }

    /// The literal values of `(a, b)`, `[a, b]`, or a `let` list or list parameter.
    pub(crate) fn literal_list(&mut self, list: &Expr, scope: Scope<'_>) -> Option<Vec<(Value, crate::types::Type)>> {
        let items: Vec<Expr> = match &list.kind {
            ExprKind::List(items) => items.clone(),
            ExprKind::Name(n) => match self.lets.get(n).copied() {
                Some(l) => match &l.value {
                    LetValue::Expr(def) => {
                        let def = def.clone();
                        return self.expand(n, list.span, |r| r.literal_list(&def, scope));
                    }
                    LetValue::Pipeline(_) => {
                        self.error(
                            Diagnostic::new(Code::TypeMismatch, list.span, format!("`{n}` is a pipeline"))
                                .hint(format!("to match against a table, use `lookup {n} on field`")),
                        );
                        return None;
                    }
                },
                None => vec![list.clone()],
            },
            _ => vec![list.clone()],
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in &items {
            match self.expr(item, Scope::of(&[])) {
                Some(TExpr { kind: TExprKind::Literal(v), ty }) => out.push((v, ty)),
                Some(_) => {
                    self.error(Diagnostic::new(Code::TypeMismatch, item.span, "list items must be literal values"));
                    ok = false;
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn call(&mut self, function: &crate::ast::Ident, args: &[Expr], whole: &Expr, scope: Scope<'_>) -> Option<TExpr> {
        let name = function.name.to_ascii_lowercase();
        let no_args = |r: &mut Self, kind: TExprKind, ty: Type| {
            if !args.is_empty() {
                r.error(Diagnostic::new(Code::WrongArguments, whole.span, format!("`{name}()` takes no arguments")));
                return None;
            }
            Some(TExpr { kind, ty })
        };
        match name.as_str() {
            "now" => return no_args(self, TExprKind::Now, Type::Time),
            "window_start" => return no_args(self, TExprKind::WindowStart, Type::Time),
            "window_end" => return no_args(self, TExprKind::WindowEnd, Type::Time),
            "exists" => {
                if args.len() != 1 {
                    self.error(Diagnostic::new(Code::WrongArguments, whole.span, "`exists(field)` takes one field"));
                    return None;
                }
                let inner = self.expr(&args[0], scope)?;
                let is_text = inner.ty == Type::Text;
                let not_null =
                    TExpr { kind: TExprKind::IsNull { expr: Box::new(inner.clone()), negated: true }, ty: Type::Bool };
                if !is_text {
                    return Some(not_null);
                }
                let not_empty =
                    binary(BinaryOp::NotEq, inner, TExpr::literal(Value::Text(String::new()), Type::Text), Type::Bool);
                return Some(binary(BinaryOp::And, not_null, not_empty, Type::Bool));
            }
            _ => {}
        }
        if let Some(all) = quantifier(&name) {
            let word = if all { "all" } else { "any" };
            self.error(
                Diagnostic::new(Code::Syntax, whole.span, format!("`{word}(...)` goes after an operator")).hint(
                    format!("field contains~ {word}(\"a\", \"b\"), or field like {word}(patterns) with a `let` list"),
                ),
            );
            return None;
        }
        if AGGREGATES.contains(&name.as_str()) && !scope.aggregates {
            self.error(Diagnostic::new(Code::Aggregate, whole.span, format!("`{name}` is an aggregate")).hint(
                format!(
                    "aggregates go in a `stats` stage (| stats n = {name}(...) by host.name), or next to each row \
                         with `over` (| extend n = {name}(...) over host.name)"
                ),
            ));
            return None;
        }
        let Some(f) = functions::lookup(&name) else {
            let names: Vec<&str> =
                functions::all().map(|f| f.name).chain(["now", "window_start", "window_end", "exists"]).collect();
            let mut d =
                Diagnostic::new(Code::UnknownFunction, function.span, format!("unknown function `{}`", function.name));
            d = d.hint(match did_you_mean(&name, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "see docs/functions.md for the functions spoor has".to_string(),
            });
            self.error(d);
            return None;
        };
        if args.len() < f.min_args() || f.max_args().is_some_and(|m| args.len() > m) {
            self.error(
                Diagnostic::new(
                    Code::WrongArguments,
                    whole.span,
                    format!("`{}` takes {}, got {}", f.name, arity(f), args.len()),
                )
                .hint(format!("usage: {}", f.signature())),
            );
            return None;
        }
        let mut typed = Vec::with_capacity(args.len());
        let mut ok = true;
        for (i, a) in args.iter().enumerate() {
            let spec = f.arg(i, args.len());
            let Some(t) = self.expr(a, scope) else {
                ok = false;
                continue;
            };
            if !spec.accepts.accepts(&t.ty) {
                self.error(
                    Diagnostic::new(
                        Code::WrongArguments,
                        a.span,
                        format!(
                            "`{}`'s argument `{}` must be {}, not {}",
                            f.name,
                            spec.name,
                            spec.accepts.describe(),
                            t.ty
                        ),
                    )
                    .hint(format!("usage: {}", f.signature())),
                );
                ok = false;
                continue;
            }
            if f.literal_args.contains(&i) && !matches!(t.kind, TExprKind::Literal(_)) {
                self.error(Diagnostic::new(
                    Code::WrongArguments,
                    a.span,
                    format!("`{}`'s argument `{}` must be a literal", f.name, spec.name),
                ));
                ok = false;
                continue;
            }
            let wants_text = spec.accepts == functions::Accepts::Text;
            typed.push(if wants_text { Self::as_text(t) } else { t });
        }
        if !ok {
            return None;
        }
        let literals: Vec<Option<&Value>> = typed
            .iter()
            .map(|t| match &t.kind {
                TExprKind::Literal(v) => Some(v),
                _ => None,
            })
            .collect();
        if let Err(bad) = functions::check_literals(f, &literals) {
            let mut d = Diagnostic::new(bad.code, args[bad.index].span, bad.message);
            if let Some(hint) = bad.hint {
                d = d.hint(hint);
            }
            self.error(d);
            return None;
        }
        let mut types: Vec<Type> = typed.iter().map(|t| t.ty.clone()).collect();
        if f.returns == functions::Returns::Common {
            let values: Vec<(Type, crate::span::Span)> = (0..typed.len())
                .filter(|&i| f.arg(i, typed.len()).accepts == functions::Accepts::Any)
                .map(|i| (types[i].clone(), args[i].span))
                .collect();
            let mut common = Type::Null;
            for (ty, span) in &values {
                let Some(next) = common.common(ty) else {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            *span,
                            format!("`{}`'s values must have one type: {common} here, then {ty}", f.name),
                        )
                        .hint("convert one of them, for example with concat(value) for text"),
                    );
                    return None;
                };
                common = next;
            }
            types = vec![common];
        }
        Some(TExpr { kind: TExprKind::Call { function: f, args: typed }, ty: f.returns.resolve(&types) })
    }
}

fn arity(f: &functions::Function) -> String {
    match (f.min_args(), f.max_args()) {
        (min, None) => format!("at least {min} argument{}", if min == 1 { "" } else { "s" }),
        (min, Some(max)) if min == max => format!("{min} argument{}", if min == 1 { "" } else { "s" }),
        (min, Some(max)) => format!("{min} to {max} arguments"),
    }
}

/// `any` or `all`, the quantifiers a comparison takes a list with: whether it is `all`.
fn quantifier(name: &str) -> Option<bool> {
    match name.to_ascii_lowercase().as_str() {
        "any" => Some(false),
        "all" => Some(true),
        _ => None,
    }
}

/// Tests joined by `and` or `or` as a balanced tree: a list of hundreds stays shallow.
fn balanced(op: BinaryOp, mut tests: Vec<TExpr>) -> TExpr {
    if tests.len() == 1 {
        return tests.remove(0);
    }
    let right = tests.split_off(tests.len() / 2);
    binary(op, balanced(op, tests), balanced(op, right), Type::Bool)
}

pub(crate) fn binary(op: BinaryOp, l: TExpr, r: TExpr, ty: Type) -> TExpr {
    TExpr { kind: TExprKind::Binary { op, left: Box::new(l), right: Box::new(r) }, ty }
}

/// `map.key` for a map field `map` of the scope: the map's value under `key`, as text.
fn map_entry(name: &str, scope: Scope<'_>) -> Option<TExpr> {
    let field = scope.fields.iter().filter(|f| f.ty == Type::Map).find(|f| {
        name.len() > f.name.len() + 1 && name.starts_with(f.name.as_str()) && name.as_bytes()[f.name.len()] == b'.'
    })?;
    let key = &name[field.name.len() + 1..];
    let column = match scope.prefix {
        Some(p) => format!("{p}.{}", field.name),
        None => field.name.clone(),
    };
    let function = crate::functions::lookup("get").expect("`get` is a built-in function");
    let args = vec![TExpr::column(column, Type::Map), TExpr::literal(Value::Text(key.to_string()), Type::Text)];
    Some(TExpr { kind: TExprKind::Call { function, args }, ty: Type::Text })
}
