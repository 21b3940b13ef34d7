//! Sources: tables (one or several), sequences and process chains.

use crate::ast::{self, BinaryOp, ChainMatcher, Source};
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::{self, Field, Rel, RelKind, TExpr, TExprKind, Value};
use crate::span::Span;
use crate::types::Type;

use super::expr::binary;
use super::{Resolver, Scope};

/// Most steps a sequence or chain may have: each adds a join.
pub const MAX_STEPS: usize = 16;

impl Resolver<'_> {
    pub(super) fn source(&mut self, source: &Source) -> Option<Rel> {
        match source {
            Source::Tables { names, history } => {
                let mut rels: Vec<Rel> = names.iter().filter_map(|n| self.table(n)).collect();
                if rels.len() != names.len() {
                    return None;
                }
                if history.is_some() {
                    for (rel, name) in rels.iter_mut().zip(names) {
                        match &mut rel.kind {
                            RelKind::Scan { builtin: true, history, .. } => *history = true,
                            _ => {
                                self.error(
                                    Diagnostic::new(
                                        Code::UnknownTable,
                                        name.span,
                                        format!(
                                            "`history` reads one of spoor's tables, and `{}` is not one",
                                            name.name
                                        ),
                                    )
                                    .label("not a table of the store")
                                    .hint("a `let` pipeline can read `history <table>` itself"),
                                );
                                return None;
                            }
                        }
                    }
                }
                if rels.len() == 1 {
                    return rels.into_iter().next();
                }
                let mut fields: Vec<Field> = Vec::new();
                for (rel, name) in rels.iter().zip(names) {
                    for f in &rel.fields {
                        match fields.iter_mut().find(|g| g.name == f.name) {
                            // An IP address is text with a meaning: next to plain text, it is text.
                            Some(g) if matches!((&g.ty, &f.ty), (Type::Ip, Type::Text) | (Type::Text, Type::Ip)) => {
                                g.ty = Type::Text;
                            }
                            Some(g) if g.ty != f.ty => {
                                self.error(Diagnostic::new(
                                    Code::TypeMismatch,
                                    name.span,
                                    format!("`{}` is {} here but {} in an earlier table", f.name, f.ty, g.ty),
                                ));
                                return None;
                            }
                            Some(_) => {}
                            None => fields.push(f.clone()),
                        }
                    }
                }
                Some(Rel { kind: RelKind::Union(rels), fields })
            }
            Source::Sequence(s) => self.sequence(s),
            Source::Chain(c) => self.chain(c),
        }
    }

    fn sequence(&mut self, s: &ast::Sequence) -> Option<Rel> {
        if s.stages.len() > MAX_STEPS {
            self.error(Diagnostic::new(Code::Sequence, s.span, format!("a sequence has at most {MAX_STEPS} steps")));
            return None;
        }
        // A bad span is reported, and the steps are still checked.
        let within = match self.expr(&s.within, Scope::of(&[])) {
            Some(TExpr { kind: TExprKind::Literal(Value::Duration(d)), .. }) if d > 0 => Some(d),
            Some(other) => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        s.within.span,
                        format!("`within` needs a positive duration, not {}", other.ty),
                    )
                    .hint("write a duration such as 10m, 24h or 3d"),
                );
                None
            }
            None => None,
        };
        for (i, step) in s.stages.iter().enumerate() {
            if step.absent && i + 1 != s.stages.len() {
                self.error(
                    Diagnostic::new(Code::Sequence, step.span, "only the last step can be `not` (absent)").hint(
                        "an absent step says: the earlier steps happened and this did not follow within the span",
                    ),
                );
                return None;
            }
            if s.stages[..i].iter().any(|other| other.alias.name == step.alias.name) {
                self.error(Diagnostic::new(
                    Code::DuplicateName,
                    step.alias.span,
                    format!("step `{}` is named twice", step.alias.name),
                ));
                return None;
            }
        }
        let mut earlier: Vec<(String, Vec<Field>)> = Vec::new();
        let mut steps = Vec::new();
        let mut absent = None;
        for step in &s.stages {
            let (resolved, own_fields) = self.step(step, &earlier, &s.by)?;
            earlier.push((step.alias.name.clone(), own_fields));
            if step.absent {
                absent = Some(resolved);
            } else {
                steps.push(resolved);
            }
        }
        let until = match &s.until {
            Some(u) => Some(self.step(u, &earlier, &s.by)?.0),
            None => None,
        };
        let within = within?;
        let mut fields: Vec<Field> = steps.iter().flat_map(|step| step.input.fields.iter().cloned()).collect();
        fields.insert(0, Field { name: "@timestamp".into(), ty: Type::Time });
        Some(Rel { kind: RelKind::Sequence(Box::new(ir::Sequence { steps, within, until, absent })), fields })
    }

    /// One step: its table, filtered by the conditions on its own fields, renamed `alias.field`;
    /// conditions that refer to earlier steps (and the shared `by` keys) link it to them.
    /// Also gives the table's own (unprefixed) fields, for later steps to refer to.
    fn step(
        &mut self,
        step: &ast::SequenceStep,
        earlier: &[(String, Vec<Field>)],
        by: &[ast::Ident],
    ) -> Option<(ir::Step, Vec<Field>)> {
        let alias = step.alias.name.as_str();
        if self.catalog.get(alias).is_some() || alias.contains('.') {
            self.error(
                Diagnostic::new(Code::DuplicateName, step.alias.span, format!("`{alias}` cannot name a step"))
                    .hint("pick a short name that is not a table: a, b, install, lookup"),
            );
            return None;
        }
        let table = self.table(&step.table)?;
        let scope = Scope { fields: &table.fields, prefix: Some(alias), earlier, aggregates: false };
        let condition = match &step.condition {
            Some(c) => {
                let t = self.expr(c, scope)?;
                if !matches!(t.ty, Type::Bool | Type::Null) {
                    self.error(Diagnostic::new(
                        Code::TypeMismatch,
                        c.span,
                        format!("a step's condition must be true/false, not {}", t.ty),
                    ));
                    return None;
                }
                Some(t)
            }
            None => None,
        };
        let mut own = Vec::new();
        let mut link = Vec::new();
        for part in condition.map(conjuncts).unwrap_or_default() {
            if references_only(&part, alias) {
                own.push(part);
            } else {
                link.push(part);
            }
        }
        if let Some((first_alias, first_fields)) = earlier.first() {
            for key in by {
                let (Some(here), Some(there)) =
                    (table.field(&key.name), first_fields.iter().find(|f| f.name == key.name))
                else {
                    self.error(
                        Diagnostic::new(Code::UnknownField, key.span, format!("`{}` is not a field of every step's table", key.name))
                            .hint("`sequence by` keys must exist in each step; link steps with conditions such as `b.user.name == a.user.name` otherwise"),
                    );
                    return None;
                };
                let l = TExpr::column(format!("{alias}.{}", key.name), here.ty.clone());
                let r = TExpr::column(format!("{first_alias}.{}", key.name), there.ty.clone());
                link.push(binary(BinaryOp::Eq, l, r, Type::Bool));
            }
        } else {
            for key in by {
                if table.field(&key.name).is_none() {
                    self.error(Diagnostic::new(
                        Code::UnknownField,
                        key.span,
                        format!("`{}` is not a field of `{}`", key.name, step.table.name),
                    ));
                    return None;
                }
            }
        }
        let own_fields = table.fields.clone();
        let input = prefixed(table, alias, own);
        Some((ir::Step { alias: alias.to_string(), input, link: and_all(link) }, own_fields))
    }

    fn chain(&mut self, c: &ast::Chain) -> Option<Rel> {
        if c.steps.len() > MAX_STEPS {
            self.error(Diagnostic::new(Code::Sequence, c.span, format!("a chain has at most {MAX_STEPS} steps")));
            return None;
        }
        let processes = self.table(&ast::Ident { name: "process".into(), span: c.span })?;
        let mut steps = Vec::new();
        let mut earlier: Vec<(String, Vec<Field>)> = Vec::new();
        for (i, step) in c.steps.iter().enumerate() {
            let alias = step.alias.as_ref().map_or_else(|| format!("p{}", i + 1), |a| a.name.clone());
            let span = step.alias.as_ref().map_or(step.span, |a| a.span);
            if earlier.iter().any(|(a, _)| *a == alias) || self.catalog.get(&alias).is_some() || alias.contains('.') {
                self.error(
                    Diagnostic::new(Code::DuplicateName, span, format!("`{alias}` cannot name this step"))
                        .hint("names must be unique and not a table's"),
                );
                return None;
            }
            let scope = Scope { fields: &processes.fields, prefix: Some(&alias), earlier: &earlier, aggregates: false };
            let condition = match &step.matcher {
                ChainMatcher::Names(names) => Some(name_matcher(&alias, names)),
                ChainMatcher::Condition(e) => {
                    let t = self.expr(e, scope)?;
                    if !matches!(t.ty, Type::Bool | Type::Null) {
                        self.error(Diagnostic::new(
                            Code::TypeMismatch,
                            e.span,
                            format!("a step's condition must be true/false, not {}", t.ty),
                        ));
                        return None;
                    }
                    if !references_only(&t, &alias) {
                        self.error(
                            Diagnostic::new(
                                Code::Sequence,
                                e.span,
                                "a chain step's condition can only use its own fields",
                            )
                            .hint("filter on other steps after the chain: | where p1.user.name != p3.user.name"),
                        );
                        return None;
                    }
                    Some(t)
                }
            };
            steps.push((alias.clone(), prefixed(processes.clone(), &alias, condition.into_iter().collect())));
            earlier.push((alias, processes.fields.clone()));
        }
        let mut fields: Vec<Field> = steps.iter().flat_map(|(_, r)| r.fields.iter().cloned()).collect();
        fields.insert(0, Field { name: "@timestamp".into(), ty: Type::Time });
        let descendant = c.links.iter().map(|l| *l == ast::ChainLink::Descendant).collect();
        Some(Rel { kind: RelKind::Chain(Box::new(ir::Chain { steps, descendant, processes })), fields })
    }
}

/// `process.name` against the step's names: case-insensitive, `*` and `?` as wildcards.
fn name_matcher(alias: &str, names: &[(String, Span)]) -> TExpr {
    let column = || TExpr::column(format!("{alias}.process.name"), Type::Text);
    let (globs, exact): (Vec<&String>, Vec<&String>) =
        names.iter().map(|(n, _)| n).partition(|n| n.contains(['*', '?']));
    let mut parts = Vec::new();
    if !exact.is_empty() {
        let list = exact.iter().map(|n| Value::Text(n.to_lowercase())).collect();
        parts.push(TExpr {
            kind: TExprKind::InList { expr: Box::new(column()), list, negated: false, nocase: true, cidr: false },
            ty: Type::Bool,
        });
    }
    for g in globs {
        let pattern = TExpr::literal(Value::Text(g.clone()), Type::Text);
        parts.push(binary(BinaryOp::Like { nocase: true }, column(), pattern, Type::Bool));
    }
    parts
        .into_iter()
        .reduce(|a, b| binary(BinaryOp::Or, a, b, Type::Bool))
        .unwrap_or_else(|| TExpr::literal(Value::Bool(false), Type::Bool))
}

/// The table with every column renamed `alias.column`, filtered by `conditions` (which refer to
/// the renamed columns).
fn prefixed(table: Rel, alias: &str, conditions: Vec<TExpr>) -> Rel {
    let items: Vec<(String, TExpr)> = table
        .fields
        .iter()
        .map(|f| (format!("{alias}.{}", f.name), TExpr::column(f.name.clone(), f.ty.clone())))
        .collect();
    let fields = items.iter().map(|(n, e)| Field { name: n.clone(), ty: e.ty.clone() }).collect::<Vec<_>>();
    let renamed = Rel { kind: RelKind::Project { input: Box::new(table), items }, fields: fields.clone() };
    match and_all(conditions) {
        Some(predicate) => Rel { kind: RelKind::Filter { input: Box::new(renamed), predicate }, fields },
        None => renamed,
    }
}

pub(super) fn conjuncts(e: TExpr) -> Vec<TExpr> {
    match e.kind {
        TExprKind::Binary { op: BinaryOp::And, left, right } => {
            let mut out = conjuncts(*left);
            out.extend(conjuncts(*right));
            out
        }
        kind => vec![TExpr { kind, ty: e.ty }],
    }
}

pub(super) fn and_all(parts: Vec<TExpr>) -> Option<TExpr> {
    parts.into_iter().reduce(|a, b| binary(BinaryOp::And, a, b, Type::Bool))
}

/// Whether every column the expression reads belongs to the step `alias`.
fn references_only(e: &TExpr, alias: &str) -> bool {
    let mut columns = Vec::new();
    crate::ir::collect_columns(e, &mut columns);
    columns.iter().all(|c| c.strip_prefix(alias).is_some_and(|rest| rest.starts_with('.')))
}
