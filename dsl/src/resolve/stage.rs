//! Stages: each takes the previous relation and gives the next, with its fields.

use crate::ast::{self, Item, LookupMode, StageKind};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::ir::{Field, Rel, RelKind, TExpr};
use crate::types::Type;

use super::{Resolver, Scope};

impl Resolver<'_> {
    pub(super) fn stage(&mut self, input: Rel, stage: &ast::Stage) -> Option<Rel> {
        let fields = input.fields.clone();
        let scope = Scope::of(&fields);
        let boxed = Box::new(input);
        match &stage.kind {
            StageKind::Where(e) => {
                let predicate = self.expr(e, scope)?;
                if !matches!(predicate.ty, Type::Bool | Type::Null) {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            e.span,
                            format!("`where` needs a true/false condition, not {}", predicate.ty),
                        )
                        .hint("compare it: `where field == \"value\"`"),
                    );
                    return None;
                }
                Some(Rel { kind: RelKind::Filter { input: boxed, predicate }, fields })
            }
            StageKind::Select(items) => {
                let (input, items) = self.windows(boxed, items)?;
                let items = self.items(&items, Scope::of(&input.fields), "select")?;
                Some(project(input, items))
            }
            StageKind::Extend(items) => {
                let (input, items) = self.windows(boxed, items)?;
                let boxed = input;
                let new = self.items(&items, Scope::of(&boxed.fields), "extend")?;
                let mut all: Vec<(String, TExpr)> = fields
                    .iter()
                    .filter(|f| !new.iter().any(|(n, _)| *n == f.name))
                    .map(|f| (f.name.clone(), TExpr::column(f.name.clone(), f.ty.clone())))
                    .collect();
                all.extend(new);
                Some(project(boxed, all))
            }
            StageKind::Rename(pairs) => {
                let mut items: Vec<(String, TExpr)> =
                    fields.iter().map(|f| (f.name.clone(), TExpr::column(f.name.clone(), f.ty.clone()))).collect();
                for (new, old) in pairs {
                    match items.iter_mut().find(|(n, _)| *n == old.name) {
                        Some(item) => item.0 = new.name.clone(),
                        None => {
                            self.unknown_field(&old.name, old.span, &fields);
                            return None;
                        }
                    }
                }
                Some(project(boxed, items))
            }
            StageKind::Sort(keys) => {
                let mut out = Vec::new();
                for k in keys {
                    out.push((self.expr(&k.expr, scope)?, k.descending));
                }
                Some(Rel { kind: RelKind::Sort { input: boxed, keys: out }, fields })
            }
            StageKind::Limit(n, _) => Some(Rel { kind: RelKind::Limit { input: boxed, n: *n }, fields }),
            StageKind::Distinct(names) => {
                let kept = self.fields(names, &fields)?;
                Some(Rel {
                    kind: RelKind::Distinct { input: boxed, fields: kept.iter().map(|f| f.name.clone()).collect() },
                    fields: kept,
                })
            }
            StageKind::Dedup(names) => {
                let keys = self.fields(names, &fields)?;
                Some(Rel {
                    kind: RelKind::Dedup { input: boxed, fields: keys.into_iter().map(|f| f.name).collect() },
                    fields,
                })
            }
            StageKind::Expand(name) => {
                let field = self.fields(std::slice::from_ref(name), &fields)?.remove(0);
                let Type::List(element) = field.ty else {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            name.span,
                            format!("`expand` needs a list field, and `{}` is {}", field.name, field.ty),
                        )
                        .hint("make a list first: `extend parts = split(field, \",\") | expand parts`"),
                    );
                    return None;
                };
                let fields = fields
                    .iter()
                    .map(|f| {
                        if f.name == field.name {
                            Field { name: f.name.clone(), ty: (*element).clone() }
                        } else {
                            f.clone()
                        }
                    })
                    .collect();
                Some(Rel { kind: RelKind::Expand { input: boxed, field: field.name }, fields })
            }
            StageKind::Stats { aggregates, by } => self.stats(boxed, aggregates, by, &fields),
            StageKind::Stack { rare, fields: names, across, limit } => {
                let mut out = self.fields(names, &fields)?;
                let across = match across {
                    Some(a) => Some(self.fields(std::slice::from_ref(a), &fields)?.remove(0).name),
                    None => fields.iter().find(|f| f.name == "host.name").map(|f| f.name.clone()),
                };
                out.push(Field { name: "count".into(), ty: Type::Int });
                out.push(Field { name: "spread".into(), ty: Type::Int });
                let fields_names = names.iter().map(|n| n.name.clone()).collect();
                Some(Rel {
                    kind: RelKind::Stack {
                        input: boxed,
                        rare: *rare,
                        fields: fields_names,
                        across,
                        limit: limit.map(|l| l.0),
                    },
                    fields: out,
                })
            }
            StageKind::Lookup(l) => self.lookup(boxed, l, fields),
            StageKind::Beacon { by } => {
                let mut out = self.fields(by, &fields)?;
                if !fields.iter().any(|f| f.name == "@timestamp" && f.ty == Type::Time) {
                    self.error(Diagnostic::new(
                        Code::UnknownField,
                        stage.span,
                        "`beacon` needs an `@timestamp` field in its input",
                    ));
                    return None;
                }
                out.extend(
                    crate::ir::BEACON_FIELDS.iter().map(|(name, ty)| Field { name: name.to_string(), ty: ty.clone() }),
                );
                Some(Rel {
                    kind: RelKind::Beacon { input: boxed, by: by.iter().map(|b| b.name.clone()).collect() },
                    fields: out,
                })
            }
        }
    }

    fn unknown_field(&mut self, name: &str, span: crate::span::Span, fields: &[Field]) {
        let mut d = Diagnostic::new(Code::UnknownField, span, format!("unknown field `{name}`"))
            .label("not a field of this stage's input");
        if let Some(s) = did_you_mean(name, fields.iter().map(|f| f.name.as_str())) {
            d = d.hint(format!("did you mean `{s}`?"));
        }
        self.error(d);
    }

    /// Plain field names, each of which must exist.
    fn fields(&mut self, names: &[ast::Ident], fields: &[Field]) -> Option<Vec<Field>> {
        let mut out = Vec::new();
        let mut ok = true;
        for n in names {
            match fields.iter().find(|f| f.name == n.name) {
                Some(f) => out.push(f.clone()),
                None => {
                    self.unknown_field(&n.name, n.span, fields);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// `name = expr` or a bare field, named after itself.
    pub(super) fn items(&mut self, items: &[Item], scope: Scope<'_>, stage: &str) -> Option<Vec<(String, TExpr)>> {
        let mut out: Vec<(String, TExpr)> = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(expr) = self.expr(&item.expr, scope) else {
                ok = false;
                continue;
            };
            let name = match (&item.name, &item.expr.kind) {
                (Some(n), _) => n.name.clone(),
                (None, ast::ExprKind::Name(n)) => n.clone(),
                (None, _) => {
                    self.error(
                        Diagnostic::new(Code::Syntax, item.expr.span, format!("name the computed field in `{stage}`"))
                            .hint(format!("{stage} name = ...")),
                    );
                    ok = false;
                    continue;
                }
            };
            if out.iter().any(|(n, _)| *n == name) {
                let span = item.name.as_ref().map_or(item.expr.span, |n| n.span);
                self.error(Diagnostic::new(Code::DuplicateName, span, format!("`{name}` appears twice")));
                ok = false;
                continue;
            }
            out.push((name, expr));
        }
        ok.then_some(out)
    }

    fn lookup(&mut self, input: Box<Rel>, l: &ast::Lookup, mut fields: Vec<Field>) -> Option<Rel> {
        if let Some(span) = l.keep.filter(|_| matches!(l.mode, LookupMode::Domain | LookupMode::Cidr)) {
            self.error(
                Diagnostic::new(Code::Syntax, span, "`keep` works with exact and nocase lookups")
                    .hint("a domain or CIDR lookup keeps only the rows that match"),
            );
            return None;
        }
        let list = self.table(&l.source)?;
        let Some(field) = fields.iter().find(|f| f.name == l.field.name).cloned() else {
            self.unknown_field(&l.field.name, l.field.span, &fields);
            return None;
        };
        let alias = l.alias.as_ref().map_or_else(|| l.source.name.clone(), |a| a.name.clone());
        let column = match &l.column {
            Some(c) => {
                let name = c.name.strip_prefix(&format!("{alias}.")).unwrap_or(&c.name).to_string();
                if list.field(&name).is_none() {
                    self.unknown_field(&c.name, c.span, &list.fields);
                    return None;
                }
                name
            }
            None if list.field("value").is_some() => "value".to_string(),
            None if list.fields.len() == 1 => list.fields[0].name.clone(),
            None => {
                self.error(
                    Diagnostic::new(
                        Code::UnknownField,
                        l.source.span,
                        format!("`{}` has no `value` column", l.source.name),
                    )
                    .hint(format!("name the column to match: lookup {} on {} = <column>", l.source.name, l.field.name)),
                );
                return None;
            }
        };
        let textual = |t: &Type| matches!(t, Type::Text | Type::Ip);
        let column_ty = list.field(&column).map(|f| f.ty.clone()).unwrap_or(Type::Text);
        let fits = match l.mode {
            LookupMode::Exact => field.ty.comparable(&column_ty),
            LookupMode::Nocase | LookupMode::Domain => textual(&field.ty) && textual(&column_ty),
            LookupMode::Cidr => field.ty == Type::Ip && textual(&column_ty),
        };
        if !fits {
            let need = match l.mode {
                LookupMode::Cidr => "an IP address field",
                LookupMode::Exact => "the same type on both sides",
                _ => "strings on both sides",
            };
            self.error(Diagnostic::new(
                Code::TypeMismatch,
                l.field.span,
                format!(
                    "this lookup needs {need}; `{}` is {} and the list's `{column}` is {column_ty}",
                    field.name, field.ty
                ),
            ));
            return None;
        }
        for f in &list.fields {
            let name = format!("{alias}.{}", f.name);
            if fields.iter().any(|g| g.name == name) {
                self.error(
                    Diagnostic::new(Code::DuplicateName, l.source.span, format!("`{name}` already exists"))
                        .hint("give the lookup another name with `as`"),
                );
                return None;
            }
            fields.push(Field { name, ty: f.ty.clone() });
        }
        Some(Rel {
            kind: RelKind::Lookup {
                input,
                list: Box::new(list),
                alias,
                field: field.name,
                column,
                mode: l.mode,
                keep: l.keep.is_some(),
            },
            fields,
        })
    }
}

pub(super) fn project(input: Box<Rel>, items: Vec<(String, TExpr)>) -> Rel {
    let fields = items.iter().map(|(n, e)| Field { name: n.clone(), ty: e.ty.clone() }).collect();
    Rel { kind: RelKind::Project { input, items }, fields }
}
