//! Aggregates: `stats` (a row per group) and `over` (every row, next to its group's aggregate).
//!
//! Both take expressions over aggregates, such as `share = count() * 1.0 / dc(host.name)`: each
//! aggregate call is lifted out of the expression and computed by the stage under a name no hunt
//! can write (`#1`), and the expression, resolved after the stage, reads that column.

use crate::ast::{self, Expr, ExprKind, Item};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::ir::{self, Aggregate, AggregateFunction, Field, Rel, RelKind, TExpr, TExprKind, Value};
use crate::span::Span;
use crate::types::Type;

use super::expr::AGGREGATES;
use super::stage::project;
use super::{Resolver, Scope};

/// An aggregate taken out of an expression, computed under `name`.
struct Lifted {
    name: String,
    aggregate: Aggregate,
    ty: Type,
    /// `over`'s fields; none in `stats`.
    by: Vec<String>,
    /// `over ... within`'s span, in microseconds.
    within: Option<i64>,
}

/// Where aggregates are lifted from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// `stats`: aggregate calls, over the whole group.
    Stats,
    /// `extend` and `select`: `aggregate(...) over fields`.
    Over,
}

impl Resolver<'_> {
    pub(super) fn stats(&mut self, input: Box<Rel>, items: &[Item], by: &[Item], fields: &[Field]) -> Option<Rel> {
        let groups = self.items(by, Scope::of(fields), "stats ... by")?;
        let mut out: Vec<Field> = groups.iter().map(|(n, e)| Field { name: n.clone(), ty: e.ty.clone() }).collect();
        let mut aggregates: Vec<(String, Aggregate)> = Vec::new();
        // Expressions over aggregates, resolved once the aggregates exist.
        let mut computed: Vec<(usize, String, Expr)> = Vec::new();
        let mut lifted = Vec::new();
        let mut ok = true;
        for item in items {
            let plain = match &item.expr.kind {
                // An unknown function is taken for a misspelt aggregate, and said so.
                ExprKind::Call { function, args }
                    if is_aggregate(&function.name) || crate::functions::lookup(&function.name).is_none() =>
                {
                    Some((function, args))
                }
                _ => None,
            };
            let named = if let Some((function, args)) = plain {
                let Some((aggregate, ty)) = self.aggregate_call(function, args, item.expr.span, fields) else {
                    ok = false;
                    continue;
                };
                let Some(name) = self.aggregate_name(item, &aggregate) else {
                    ok = false;
                    continue;
                };
                aggregates.push((name.clone(), aggregate));
                Field { name, ty }
            } else {
                let Some(name) = &item.name else {
                    self.error(
                        Diagnostic::new(Code::Syntax, item.expr.span, "name this field")
                            .hint("stats share = count() / dc(host.name)"),
                    );
                    ok = false;
                    continue;
                };
                let before = lifted.len();
                let Some(rewritten) = self.lift(&item.expr, fields, Context::Stats, &mut lifted) else {
                    ok = false;
                    continue;
                };
                if lifted.len() == before {
                    self.error(
                        Diagnostic::new(Code::Aggregate, item.expr.span, "`stats` computes aggregates")
                            .hint("use count(), dc(f), min, max, sum, avg, stddev, first, last, values or list, or an expression over them; group with `by`"),
                    );
                    ok = false;
                    continue;
                }
                computed.push((out.len(), name.name.clone(), rewritten));
                // The type is known once the expression is resolved below.
                Field { name: name.name.clone(), ty: Type::Null }
            };
            if out.iter().any(|f| f.name == named.name) {
                let span = item.name.as_ref().map_or(item.expr.span, |n| n.span);
                self.error(Diagnostic::new(Code::DuplicateName, span, format!("`{}` appears twice", named.name)));
                ok = false;
                continue;
            }
            out.push(named);
        }
        if !ok {
            return None;
        }
        let mut computed_over: Vec<Field> =
            out.iter().filter(|f| !computed.iter().any(|(_, n, _)| *n == f.name)).cloned().collect();
        for l in lifted {
            computed_over.push(Field { name: l.name.clone(), ty: l.ty });
            aggregates.push((l.name, l.aggregate));
        }
        let aggregated = Rel { kind: RelKind::Aggregate { input, groups, aggregates }, fields: computed_over.clone() };
        if computed.is_empty() {
            return Some(aggregated);
        }
        let scope = Scope::of(&computed_over);
        let mut projected: Vec<(String, TExpr)> =
            out.iter().map(|f| (f.name.clone(), TExpr::column(f.name.clone(), f.ty.clone()))).collect();
        for (index, name, e) in computed {
            let value = self.expr(&e, scope);
            ok &= value.is_some();
            if let Some(value) = value {
                projected[index] = (name, value);
            }
        }
        ok.then(|| project(Box::new(aggregated), projected))
    }

    /// The items of `extend` or `select` with each `aggregate(...) over fields` computed by a
    /// window below them; `input` unchanged where there is none.
    pub(super) fn windows(&mut self, input: Box<Rel>, items: &[Item]) -> Option<(Box<Rel>, Vec<Item>)> {
        if !items.iter().any(|i| has_over(&i.expr)) {
            return Some((input, items.to_vec()));
        }
        let mut lifted = Vec::new();
        let mut rewritten = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in items {
            match self.lift(&item.expr, &input.fields, Context::Over, &mut lifted) {
                Some(expr) => rewritten.push(Item { name: item.name.clone(), expr }),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let mut fields = input.fields.clone();
        fields.extend(lifted.iter().map(|l| Field { name: l.name.clone(), ty: l.ty.clone() }));
        let windows = lifted
            .into_iter()
            .map(|l| ir::Window { name: l.name, aggregate: l.aggregate, by: l.by, within: l.within })
            .collect();
        Some((Box::new(Rel { kind: RelKind::Window { input, windows }, fields }), rewritten))
    }

    /// `e` with its aggregates (in `stats`) or `over` windows replaced by the names they are
    /// computed under, which are added to `lifted`.
    fn lift(&mut self, e: &Expr, fields: &[Field], context: Context, lifted: &mut Vec<Lifted>) -> Option<Expr> {
        let mut lift = |r: &mut Self, x: &Expr| r.lift(x, fields, context, lifted).map(Box::new);
        let kind = match &e.kind {
            ExprKind::Call { function, args } if context == Context::Stats && is_aggregate(&function.name) => {
                let (aggregate, ty) = self.aggregate_call(function, args, e.span, fields)?;
                return Some(self.lifted(e.span, aggregate, ty, Vec::new(), None, lifted));
            }
            ExprKind::Over { call, by, within } if context == Context::Over => {
                let ExprKind::Call { function, args } = &call.kind else {
                    return None;
                };
                let by = self.over_fields(by, fields)?;
                let within = match within {
                    Some(span) => Some(self.sliding_span(span, fields)?),
                    None => None,
                };
                let (aggregate, ty) = self.aggregate_call(function, args, call.span, fields)?;
                if !windowed(aggregate.function) {
                    self.error(
                        Diagnostic::new(
                            Code::Aggregate,
                            call.span,
                            format!("`{}` is not computed over a window", function.name),
                        )
                        .hint("`over` follows count(), dc(f), min, max, sum, avg or stddev"),
                    );
                    return None;
                }
                return Some(self.lifted(e.span, aggregate, ty, by, within, lifted));
            }
            ExprKind::Name(_) | ExprKind::Literal(_) | ExprKind::Over { .. } => e.kind.clone(),
            ExprKind::List(items) => {
                ExprKind::List(items.iter().map(|i| lift(self, i).map(|b| *b)).collect::<Option<_>>()?)
            }
            ExprKind::Not(x) => ExprKind::Not(lift(self, x)?),
            ExprKind::Negate(x) => ExprKind::Negate(lift(self, x)?),
            ExprKind::Binary { op, left, right } => {
                let (left, right) = (lift(self, left), lift(self, right));
                ExprKind::Binary { op: *op, left: left?, right: right? }
            }
            ExprKind::In { expr, list, negated, nocase } => {
                ExprKind::In { expr: lift(self, expr)?, list: list.clone(), negated: *negated, nocase: *nocase }
            }
            ExprKind::IsNull { expr, negated } => ExprKind::IsNull { expr: lift(self, expr)?, negated: *negated },
            ExprKind::Call { function, args } => ExprKind::Call {
                function: function.clone(),
                args: args.iter().map(|a| lift(self, a).map(|b| *b)).collect::<Option<_>>()?,
            },
        };
        Some(Expr { kind, span: e.span })
    }

    fn lifted(
        &mut self,
        span: Span,
        aggregate: Aggregate,
        ty: Type,
        by: Vec<String>,
        within: Option<i64>,
        out: &mut Vec<Lifted>,
    ) -> Expr {
        let name = format!("#{}", out.len() + 1);
        out.push(Lifted { name: name.clone(), aggregate, ty, by, within });
        Expr { kind: ExprKind::Name(name), span }
    }

    /// `within`'s span in microseconds: a positive duration, over rows that have a time.
    fn sliding_span(&mut self, span: &Expr, fields: &[Field]) -> Option<i64> {
        if !fields.iter().any(|f| f.name == "@timestamp" && f.ty == Type::Time) {
            self.error(
                Diagnostic::new(Code::Aggregate, span.span, "`within` slides over `@timestamp`, which these rows lack")
                    .hint("keep @timestamp in the rows, or drop `within` to aggregate the whole group"),
            );
            return None;
        }
        match self.expr(span, Scope::of(&[])) {
            Some(TExpr { kind: TExprKind::Literal(Value::Duration(d)), .. }) if d > 0 => Some(d),
            Some(other) => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        span.span,
                        format!("`within` needs a positive duration, not {}", other.ty),
                    )
                    .hint("write a duration such as 10m, 24h or 3d"),
                );
                None
            }
            None => None,
        }
    }

    fn over_fields(&mut self, by: &[ast::Ident], fields: &[Field]) -> Option<Vec<String>> {
        let mut out = Vec::with_capacity(by.len());
        for b in by {
            match fields.iter().find(|f| f.name == b.name) {
                Some(f) => out.push(f.name.clone()),
                None => {
                    let mut d = Diagnostic::new(Code::UnknownField, b.span, format!("unknown field `{}`", b.name));
                    if let Some(s) = did_you_mean(&b.name, fields.iter().map(|f| f.name.as_str())) {
                        d = d.hint(format!("did you mean `{s}`?"));
                    }
                    self.error(d);
                    return None;
                }
            }
        }
        Some(out)
    }

    /// One aggregate call, `count()` or `max(@timestamp)`, over `fields`: what it computes and
    /// the type it gives.
    fn aggregate_call(
        &mut self,
        function: &ast::Ident,
        args: &[Expr],
        span: Span,
        fields: &[Field],
    ) -> Option<(Aggregate, Type)> {
        let name = function.name.to_ascii_lowercase();
        let func = match name.as_str() {
            "count" => AggregateFunction::Count,
            "count_distinct" | "dc" => AggregateFunction::CountDistinct,
            "min" => AggregateFunction::Min,
            "max" => AggregateFunction::Max,
            "sum" => AggregateFunction::Sum,
            "avg" => AggregateFunction::Avg,
            "stddev" => AggregateFunction::Stddev,
            "first" => AggregateFunction::First,
            "last" => AggregateFunction::Last,
            "values" => AggregateFunction::Values,
            "list" => AggregateFunction::List,
            _ => {
                let mut d =
                    Diagnostic::new(Code::Aggregate, function.span, format!("`{}` is not an aggregate", function.name));
                if let Some(s) = did_you_mean(&name, AGGREGATES.iter().copied()) {
                    d = d.hint(format!("did you mean `{s}`?"));
                }
                self.error(d);
                return None;
            }
        };
        let arg = match (func, args) {
            (AggregateFunction::Count, []) => None,
            (_, [a]) => Some(self.expr(a, Scope::of(fields))?),
            _ => {
                self.error(Diagnostic::new(Code::WrongArguments, span, format!("`{name}` takes one argument")));
                return None;
            }
        };
        let arg_ty = arg.as_ref().map(|a| a.ty.clone());
        let ty = match func {
            AggregateFunction::Count | AggregateFunction::CountDistinct => Type::Int,
            AggregateFunction::Avg | AggregateFunction::Stddev => Type::Float,
            AggregateFunction::Values | AggregateFunction::List => {
                Type::List(Box::new(arg_ty.clone().unwrap_or(Type::Text)))
            }
            _ => arg_ty.clone().unwrap_or(Type::Null),
        };
        if matches!(func, AggregateFunction::Sum | AggregateFunction::Avg | AggregateFunction::Stddev)
            && !arg_ty.as_ref().is_some_and(Type::is_numeric)
        {
            self.error(Diagnostic::new(Code::TypeMismatch, span, format!("`{name}` needs numbers")));
            return None;
        }
        Some((Aggregate { function: func, arg }, ty))
    }

    /// A plain aggregate's name: as given, or `count`, `max_@timestamp` for one over a field.
    fn aggregate_name(&mut self, item: &Item, aggregate: &Aggregate) -> Option<String> {
        if let Some(n) = &item.name {
            return Some(n.name.clone());
        }
        let ExprKind::Call { function, .. } = &item.expr.kind else { return None };
        let name = function.name.to_ascii_lowercase();
        match &aggregate.arg {
            None => Some(name),
            Some(TExpr { kind: TExprKind::Column(c), .. }) => Some(format!("{name}_{c}")),
            Some(_) => {
                self.error(
                    Diagnostic::new(Code::Syntax, item.expr.span, "name this aggregate")
                        .hint(format!("stats x = {name}(...)")),
                );
                None
            }
        }
    }
}

fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name.to_ascii_lowercase().as_str())
}

/// Aggregates the engine computes over a window of rows without an order.
fn windowed(f: AggregateFunction) -> bool {
    use AggregateFunction::*;
    matches!(f, Count | CountDistinct | Min | Max | Sum | Avg | Stddev)
}

fn has_over(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Over { .. } => true,
        ExprKind::Name(_) | ExprKind::Literal(_) => false,
        ExprKind::List(items) => items.iter().any(has_over),
        ExprKind::Not(x) | ExprKind::Negate(x) => has_over(x),
        ExprKind::Binary { left, right, .. } => has_over(left) || has_over(right),
        ExprKind::In { expr, .. } | ExprKind::IsNull { expr, .. } => has_over(expr),
        ExprKind::Call { args, .. } => args.iter().any(has_over),
    }
}
