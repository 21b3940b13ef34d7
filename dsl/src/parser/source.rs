//! A pipeline's source: tables, `history`, a `let`'s pipeline, `sequence` and `chain`.

use nom::Parser as _;
use nom::combinator::opt;
use nom::multi::separated_list1;

use super::expr::{close, expect_expr};
use super::lexical::*;
use super::*;
use crate::ast::*;
use crate::diagnostic::Code;
use crate::span::Span;

pub(super) fn source<'a>(sp: &Spans<'a>, mut i: &'a str) -> PResult<'a, Source> {
    if keyword("sequence").parse(i).is_ok() {
        return sequence(sp, i).map(|(r, s)| (r, Source::Sequence(s)));
    }
    if keyword("chain").parse(i).is_ok() {
        return chain(sp, i).map(|(r, c)| (r, Source::Chain(c)));
    }
    // `history dns`: the table whole. `history` alone is a name (a `let` may be called so).
    let mut history = None;
    if let Ok((rest, word)) = keyword("history").parse(i)
        && ident(sp, rest).is_ok()
    {
        history = Some(sp.span_len(ws(i)?.0, word.len()));
        i = rest;
    }
    let (i, names) = idents(sp, i, "a table name (process, network, file, registry, dns, ci, package, audit)")?;
    Ok((i, Source::Tables { names, history }))
}

/// `sequence [by f, ...] within 1h  a: table where ...  b: table where ...  [until table where ...]`
fn sequence<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Sequence> {
    let start = ws(i)?.0;
    let (i, _) = keyword("sequence").parse(i)?;
    let (i, by) = match keyword("by").parse(i) {
        Ok((rest, _)) => idents(sp, rest, "a field after `by`")?,
        Err(_) => (i, Vec::new()),
    };
    let (i, _) = expect_keyword(i, "within", "`within` and a duration (`sequence within 1h`)")?;
    let (mut i, within) = expect_expr(sp, i, "`within`")?;
    let mut stages = Vec::new();
    loop {
        let step_start = ws(i)?.0;
        // A step begins with `alias:` (any word, keywords too: `lookup:` reads well).
        let Ok((rest, alias)) = step_alias(sp, i) else { break };
        let Ok((rest, _)) = symbol(":").parse(rest) else { break };
        let (rest, absent) = opt(keyword("not")).parse(rest)?;
        let (rest, step) = step_body(sp, rest, alias, absent.is_some(), step_start)?;
        stages.push(step);
        i = rest;
    }
    let (i, until) = match keyword("until").parse(i) {
        Ok((rest, kw)) => {
            let alias = Ident { name: "until".into(), span: sp.span_len(ws(i)?.0, kw.len()) };
            let (rest, step) = step_body(sp, rest, alias, false, ws(i)?.0)?;
            (rest, Some(step))
        }
        Err(_) => (i, None),
    };
    if stages.len() < 2 {
        return Err(nom::Err::Failure(
            PError::message(start, Code::Sequence, "sequence".len(), "a sequence needs at least two steps")
                .with_hint("write each step as `name: table where condition`"),
        ));
    }
    Ok((i, Sequence { by, within, stages, until, span: sp.span(start, i) }))
}

fn step_alias<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Ident> {
    let (i, _) = ws(i)?;
    let (rest, w) = word(i)?;
    Ok((rest, Ident { name: w.to_string(), span: sp.span(i, rest) }))
}

fn step_body<'a>(sp: &Spans<'a>, i: &'a str, alias: Ident, absent: bool, start: &'a str) -> PResult<'a, SequenceStep> {
    let (i, table) = expect_ident(sp, i, "a table name for the step")?;
    let (i, condition) = match keyword("where").parse(i) {
        Ok((rest, _)) => {
            let (rest, e) = expect_expr(sp, rest, "`where`")?;
            (rest, Some(e))
        }
        Err(_) => (i, None),
    };
    Ok((i, SequenceStep { alias, absent, table, condition, span: sp.span(start, i) }))
}

/// `chain node -> (sh, bash) ->> [process.name == "curl"]`, steps optionally named `alias:`.
fn chain<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Chain> {
    let start = ws(i)?.0;
    let (i, _) = keyword("chain").parse(i)?;
    let (mut i, first) = chain_step(sp, i)?;
    let mut steps = vec![first];
    let mut links = Vec::new();
    loop {
        let link = if let Ok((rest, _)) = symbol("->>").parse(i) {
            (rest, ChainLink::Descendant)
        } else if let Ok((rest, _)) = symbol("->").parse(i) {
            (rest, ChainLink::Child)
        } else {
            break;
        };
        let (rest, step) = chain_step(sp, link.0)?;
        links.push(link.1);
        steps.push(step);
        i = rest;
    }
    if steps.len() < 2 {
        return Err(nom::Err::Failure(
            PError::new(ws(i)?.0, "`->` (child) or `->>` (descendant) and a second step")
                .with_hint("a chain links processes: chain node -> (sh, bash) -> (curl, wget)"),
        ));
    }
    Ok((i, Chain { steps, links, span: sp.span(start, i) }))
}

fn chain_step<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, ChainStep> {
    let start = ws(i)?.0;
    let (i, alias) = match (|i| step_alias(sp, i), symbol(":")).parse(i) {
        Ok((rest, (alias, _))) => (rest, Some(alias)),
        Err(_) => (i, None),
    };
    let process_name = |i: &'a str| -> PResult<'a, (String, Span)> {
        let at = ws(i)?.0;
        if at.starts_with('"') || at.starts_with('\'') {
            let (rest, s) = string(at)?;
            return Ok((rest, (s, sp.span(at, rest))));
        }
        let (rest, w) = word(at)?;
        Ok((rest, (w.to_string(), sp.span(at, rest))))
    };
    if let Ok((rest, _)) = symbol("[").parse(i) {
        let (rest, condition) = expect_expr(sp, rest, "`[`")?;
        let (rest, _) = close(rest, "]", "`]` after the step's condition")?;
        return Ok((
            rest,
            ChainStep { alias, matcher: ChainMatcher::Condition(condition), span: sp.span(start, rest) },
        ));
    }
    if let Ok((rest, _)) = symbol("(").parse(i) {
        let (rest, names) = separated_list1(symbol(","), process_name).parse(rest).map_err(|_| {
            nom::Err::Failure(PError::new(ws(rest).map_or(rest, |r| r.0), "process names in the step: (sh, bash)"))
        })?;
        let (rest, _) = close(rest, ")", "`,` or `)` in the step's names")?;
        return Ok((rest, ChainStep { alias, matcher: ChainMatcher::Names(names), span: sp.span(start, rest) }));
    }
    let (rest, single) = process_name(i).map_err(|_| {
        nom::Err::Failure(PError::new(
            ws(i).map_or(i, |r| r.0),
            "a chain step: a process name, (names, ...) or [condition]",
        ))
    })?;
    Ok((rest, ChainStep { alias, matcher: ChainMatcher::Names(vec![single]), span: sp.span(start, rest) }))
}
