//! The stages after a pipeline's source (`where`, `stats`, `lookup`, ...).

use nom::Parser as _;
use nom::combinator::opt;
use nom::multi::separated_list1;

use super::expr::expect_expr;
use super::lexical::*;
use super::*;
use crate::ast::*;
use crate::diagnostic::Code;

pub(super) fn items<'a>(sp: &Spans<'a>, i: &'a str, after: &'static str) -> PResult<'a, Vec<Item>> {
    let item = |i: &'a str| -> PResult<'a, Item> {
        // `name = expr` names the item; `==` is a comparison, not a name.
        if let Ok((rest, (name, _))) =
            (|i| ident(sp, i), (symbol("="), nom::combinator::not(nom::bytes::complete::tag("=")))).parse(i)
        {
            let (rest, expr) = expect_expr(sp, rest, "`=`")?;
            return Ok((rest, Item { name: Some(name), expr }));
        }
        let (rest, expr) = expect_expr(sp, i, after)?;
        Ok((rest, Item { name: None, expr }))
    };
    separated_list1(symbol(","), item).parse(i)
}

pub(super) fn stage<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Stage> {
    let start = ws(i)?.0;
    let (i, kw) = word(start).map_err(|_| {
        nom::Err::Failure(PError::new(
            start,
            "a stage (where, select, extend, rename, sort, limit, distinct, dedup, stats, rare, top, lookup, beacon)",
        ))
    })?;
    let kind_and_rest: PResult<'a, StageKind> = match kw.to_ascii_lowercase().as_str() {
        "where" => expect_expr(sp, i, "`where`").map(|(r, e)| (r, StageKind::Where(e))),
        "select" => items(sp, i, "`select`").map(|(r, v)| (r, StageKind::Select(v))),
        "extend" => items(sp, i, "`extend`").map(|(r, v)| (r, StageKind::Extend(v))),
        "rename" => {
            let pair = |i: &'a str| -> PResult<'a, (Ident, Ident)> {
                let (i, new) = expect_ident(sp, i, "the new name (`rename new = old`)")?;
                let (i, _) = expect_symbol(i, "=", "`=` in `rename new = old`")?;
                let (i, old) = expect_ident(sp, i, "the field to rename")?;
                Ok((i, (new, old)))
            };
            separated_list1(symbol(","), pair).parse(i).map(|(r, v)| (r, StageKind::Rename(v)))
        }
        "sort" => {
            let key = |i: &'a str| -> PResult<'a, SortKey> {
                let (i, expr) = expect_expr(sp, i, "`sort`")?;
                if let Ok((rest, _)) = keyword("desc").parse(i) {
                    return Ok((rest, SortKey { expr, descending: true }));
                }
                let (i, _) = opt(keyword("asc")).parse(i)?;
                Ok((i, SortKey { expr, descending: false }))
            };
            separated_list1(symbol(","), key).parse(i).map(|(r, v)| (r, StageKind::Sort(v)))
        }
        "limit" => {
            let at = ws(i)?.0;
            unsigned(i)
                .map_err(|_| nom::Err::Failure(PError::new(at, "a row count after `limit`")))
                .map(|(r, n)| (r, StageKind::Limit(n, sp.span(at, r))))
        }
        "distinct" => idents(sp, i, "a field after `distinct`").map(|(r, v)| (r, StageKind::Distinct(v))),
        "dedup" => idents(sp, i, "a field after `dedup`").map(|(r, v)| (r, StageKind::Dedup(v))),
        "expand" => expect_ident(sp, i, "a list field after `expand`").map(|(r, f)| (r, StageKind::Expand(f))),
        "stats" => (|| {
            let (i, aggregates) = items(sp, i, "`stats`")?;
            let (i, by) = match keyword("by").parse(i) {
                Ok((rest, _)) => items(sp, rest, "`by`")?,
                Err(_) => (i, Vec::new()),
            };
            Ok((i, StageKind::Stats { aggregates, by }))
        })(),
        "rare" | "top" => (|| {
            let rare = kw.eq_ignore_ascii_case("rare");
            let (i, fields) = idents(sp, i, "a field to stack")?;
            let (i, across) = match keyword("across").parse(i) {
                Ok((rest, _)) => expect_ident(sp, rest, "a field after `across`").map(|(r, f)| (r, Some(f)))?,
                Err(_) => (i, None),
            };
            let (i, limit) = match keyword("limit").parse(i) {
                Ok((rest, _)) => {
                    let at = ws(rest)?.0;
                    let (r, n) =
                        unsigned(rest).map_err(|_| nom::Err::Failure(PError::new(at, "a row count after `limit`")))?;
                    (r, Some((n, sp.span(at, r))))
                }
                Err(_) => (i, None),
            };
            Ok((i, StageKind::Stack { rare, fields, across, limit }))
        })(),
        "lookup" => lookup(sp, i).map(|(r, l)| (r, StageKind::Lookup(l))),
        "beacon" => (|| {
            let (i, _) = expect_keyword(
                i,
                "by",
                "`by` and the fields that identify a beacon (`beacon by host.name, destination.ip`)",
            )?;
            let (i, by) = idents(sp, i, "a field after `by`")?;
            Ok((i, StageKind::Beacon { by }))
        })(),
        _ => {
            let suggestion = crate::diagnostic::did_you_mean(kw, STAGES.iter().copied());
            let mut e = PError::message(start, Code::Syntax, kw.len(), format!("unknown stage `{kw}`"));
            e = e.with_hint(match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("stages are: {}", STAGES.join(", ")),
            });
            return Err(nom::Err::Failure(e));
        }
    };
    let (rest, kind) = kind_and_rest?;
    // Whatever follows a stage must be the next `|`, a `)` closing a `let`, or the end.
    let after = ws(rest)?.0;
    if !(after.is_empty() || after.starts_with('|') || after.starts_with(')')) {
        return Err(nom::Err::Failure(PError::new(after, "`|` or the end of the stage")));
    }
    Ok((rest, Stage { kind, span: sp.span(start, rest) }))
}

const STAGES: &[&str] = &[
    "where", "select", "extend", "rename", "sort", "limit", "distinct", "dedup", "expand", "stats", "rare", "top",
    "lookup", "beacon",
];

/// `lookup iocs [as ioc] on dns.question.name [= ioc.value] [using exact|nocase|domain|cidr]`
pub(super) fn lookup<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Lookup> {
    let (i, source) = expect_ident(sp, i, "the list or table to look up")?;
    let (i, alias) = match keyword("as").parse(i) {
        Ok((rest, _)) => expect_ident(sp, rest, "a name after `as`").map(|(r, a)| (r, Some(a)))?,
        Err(_) => (i, None),
    };
    let (i, _) = expect_keyword(i, "on", "`on` and the field to match (`lookup iocs on dns.question.name`)")?;
    let (i, field) = expect_ident(sp, i, "the field to match")?;
    let (i, column) = match (symbol("="), nom::combinator::not(nom::bytes::complete::tag("="))).parse(i) {
        Ok((rest, _)) => expect_ident(sp, rest, "the lookup's column after `=`").map(|(r, c)| (r, Some(c)))?,
        Err(_) => (i, None),
    };
    let (i, mode) = match keyword("using").parse(i) {
        Ok((rest, _)) => {
            let at = ws(rest)?.0;
            let (r, w) = word(at)
                .map_err(|_| nom::Err::Failure(PError::new(at, "a match mode: exact, nocase, domain or cidr")))?;
            let mode = match w.to_ascii_lowercase().as_str() {
                "exact" => LookupMode::Exact,
                "nocase" => LookupMode::Nocase,
                "domain" => LookupMode::Domain,
                "cidr" => LookupMode::Cidr,
                _ => {
                    return Err(nom::Err::Failure(
                        PError::message(at, Code::Syntax, w.len(), format!("unknown match mode `{w}`"))
                            .with_hint("use exact, nocase, domain or cidr"),
                    ));
                }
            };
            (r, mode)
        }
        Err(_) => (i, LookupMode::Exact),
    };
    let (i, keep) = match keyword("keep").parse(i) {
        Ok((rest, _)) => (rest, Some(sp.span(ws(i)?.0, rest))),
        Err(_) => (i, None),
    };
    Ok((i, Lookup { source, alias, field, column, mode, keep }))
}
