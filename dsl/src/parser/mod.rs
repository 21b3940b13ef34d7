//! Stage 1, parse: source text → [`ast::Hunt`](crate::ast::Hunt), with nom.
//!
//! A hunt file is an optional `---` header of `key: value` lines, then `let` and `param`
//! definitions, then one pipeline: a source and `|`-separated stages. When a stage does not
//! parse, the error is recorded and parsing resumes at the next `|`, so one run reports every
//! broken stage.

mod expr;
mod lexical;

use nom::Parser as _;
use nom::combinator::opt;
use nom::multi::separated_list1;

use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::span::Span;
pub use expr::MAX_DEPTH;
use expr::{close, expect_expr, expr};
use lexical::*;

/// Parses a whole hunt. Errors come back all at once, ordered by position.
pub fn parse(source: &str) -> Result<Hunt, Diagnostics> {
    match parse_recovering(source) {
        (Some(hunt), d) if !d.has_errors() => Ok(hunt),
        (_, d) => Err(d),
    }
}

/// Parses what can be parsed: the hunt without its broken stages (if it has a pipeline at
/// all), and every syntax error. The checker resolves the rest, so one run reports both.
pub fn parse_recovering(source: &str) -> (Option<Hunt>, Diagnostics) {
    expr::reset_depth();
    let sp = Spans { source };
    let mut diagnostics = Diagnostics::default();
    let (header, body) = header(&sp, &mut diagnostics);
    let mut lets = Vec::new();
    let mut params = Vec::new();
    let mut i = body;
    let mut pipeline = None;
    loop {
        let Ok((rest, _)) = ws(i) else { break };
        if rest.is_empty() {
            break;
        }
        if pipeline.is_some() {
            let (found, len) = describe_next(rest);
            diagnostics.push(
                Diagnostic::new(
                    Code::Syntax,
                    sp.span_len(rest, len),
                    format!("expected `|` or the end of the hunt, found {found}"),
                )
                .hint("a hunt holds one pipeline; join stages with `|`"),
            );
            break;
        }
        let statement = if keyword("let").parse(rest).is_ok() {
            let_statement(&sp, rest).map(|(r, l)| {
                lets.push(l);
                r
            })
        } else if keyword("param").parse(rest).is_ok() {
            param_statement(&sp, rest).map(|(r, p)| {
                params.push(p);
                r
            })
        } else {
            pipeline_with_recovery(&sp, rest, &mut diagnostics).map(|(r, p)| {
                pipeline = Some(p);
                r
            })
        };
        match statement {
            Ok(rest) => i = rest,
            Err(e) => {
                diagnostics.push(sp.diagnostic(e));
                i = skip_line(rest);
            }
        }
    }
    if pipeline.is_none() && !diagnostics.has_errors() {
        diagnostics.push(
            Diagnostic::new(Code::Syntax, Span::new(source.len(), source.len()), "the hunt has no query")
                .hint("write a pipeline such as: process | where process.name == \"curl\""),
        );
    }
    let hunt = pipeline.map(|pipeline| Hunt { header, lets, params, pipeline });
    (hunt, diagnostics.sorted())
}

/// Offsets into the source: parsers see the remaining input, spans need positions.
pub struct Spans<'a> {
    source: &'a str,
}

impl<'a> Spans<'a> {
    /// Where `rest` (any slice of the source) starts in it.
    pub fn offset(&self, rest: &str) -> usize {
        let start = self.source.as_ptr() as usize;
        let at = rest.as_ptr() as usize;
        if (start..=start + self.source.len()).contains(&at) {
            at - start
        } else {
            self.source.len() - rest.len().min(self.source.len())
        }
    }

    /// From where `start` begins to where `end` begins.
    pub fn span(&self, start: &str, end: &str) -> Span {
        Span::new(self.offset(start), self.offset(end))
    }

    fn span_len(&self, at: &str, len: usize) -> Span {
        let start = self.offset(at);
        Span::new(start, (start + len).min(self.source.len()))
    }

    fn diagnostic(&self, e: nom::Err<PError>) -> Diagnostic {
        let e = match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => e,
            nom::Err::Incomplete(_) => PError::new("", "more input"),
        };
        let at = &self.source[self.source.len() - e.at.min(self.source.len())..];
        let mut d = match &e.message {
            Some(message) => Diagnostic::new(e.code, self.span_len(at, e.len.max(1)), message.clone()),
            None => {
                let (found, len) = describe_next(at);
                let at = ws(at).map_or(at, |r| r.0);
                let expected = if e.expected.is_empty() { "something else" } else { &e.expected };
                Diagnostic::new(e.code, self.span_len(at, len.max(1)), format!("expected {expected}, found {found}"))
                    .label(format!("expected {expected}"))
            }
        };
        d.hint = e.hint;
        d
    }
}

/// The `---` block of `key: value` lines at the top.
fn header<'a>(sp: &Spans<'a>, diagnostics: &mut Diagnostics) -> (Vec<HeaderEntry>, &'a str) {
    let source = sp.source;
    let start = source.trim_start();
    let Some(after_open) = start.strip_prefix("---") else {
        return (Vec::new(), source);
    };
    let mut entries = Vec::new();
    let mut rest = after_open.trim_start_matches([' ', '\t']);
    rest = rest.strip_prefix('\n').or_else(|| rest.strip_prefix("\r\n")).unwrap_or(rest);
    loop {
        if rest.is_empty() {
            diagnostics.push(
                Diagnostic::new(Code::Header, sp.span_len(start, 3), "the header is not closed")
                    .hint("end the header with a line holding `---`"),
            );
            return (entries, rest);
        }
        let line_end = rest.find('\n').unwrap_or(rest.len());
        let line = &rest[..line_end];
        let next = &rest[(line_end + 1).min(rest.len())..];
        let trimmed = line.trim();
        if trimmed == "---" {
            return (entries, next);
        }
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            match header_line(line) {
                Some((key, key_at, mut value)) => {
                    let key_rest = &line[key_at..];
                    // Indented lines below continue the value: `- item` lines make a list,
                    // others add text (kept as lines after `|`, joined with spaces otherwise).
                    let mut continued = next;
                    let mut items: Vec<String> = Vec::new();
                    let mut lines: Vec<&str> = Vec::new();
                    loop {
                        let end = continued.find('\n').unwrap_or(continued.len());
                        let candidate = &continued[..end];
                        let indented = candidate.starts_with([' ', '\t']) && !candidate.trim().is_empty();
                        if !indented || candidate.trim() == "---" {
                            break;
                        }
                        match candidate.trim().strip_prefix("- ") {
                            Some(item) => items.push(item.trim().to_string()),
                            None => lines.push(candidate.trim()),
                        }
                        continued = &continued[(end + 1).min(continued.len())..];
                    }
                    if !items.is_empty() || !lines.is_empty() {
                        value = match value {
                            HeaderValue::Text(t) if !items.is_empty() && (t.is_empty()) => HeaderValue::List(items),
                            HeaderValue::Text(t) => {
                                let literal = t == "|";
                                let mut parts: Vec<&str> =
                                    if t.is_empty() || t == "|" || t == ">" { vec![] } else { vec![t.as_str()] };
                                parts.extend(lines.iter().copied());
                                HeaderValue::Text(parts.join(if literal { "\n" } else { " " }))
                            }
                            list => list,
                        };
                    }
                    let used = continued.as_ptr() as usize - line.as_ptr() as usize;
                    let span_text = line_span_text(&rest[..used.min(rest.len())]);
                    entries.push(HeaderEntry {
                        key: Ident { name: key.to_string(), span: sp.span_len(key_rest, key.len()) },
                        value,
                        span: sp.span_len(line, span_text),
                    });
                    rest = continued;
                    continue;
                }
                None => diagnostics.push(
                    Diagnostic::new(
                        Code::Header,
                        sp.span_len(line, line.trim_end().len()),
                        "expected `key: value` in the header",
                    )
                    .hint("header lines look like `title: npm publish after an email change` or `attack: [T1195.002]`"),
                ),
            }
        }
        rest = next;
    }
}

/// The length of a header entry's text without its trailing line break and blanks.
fn line_span_text(entry: &str) -> usize {
    entry.trim_end().len()
}

fn header_line(line: &str) -> Option<(&str, usize, HeaderValue)> {
    let key_at = line.len() - line.trim_start().len();
    let (key, value) = line.trim().split_once(':')?;
    let key = key.trim_end();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.') {
        return None;
    }
    let value = value.trim();
    let unquote = |s: &str| {
        let s = s.trim();
        s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s).to_string()
    };
    let value = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(items) => HeaderValue::List(items.split(',').map(unquote).filter(|s| !s.is_empty()).collect()),
        None => HeaderValue::Text(unquote(value)),
    };
    Some((key, key_at, value))
}

fn skip_line(i: &str) -> &str {
    i.find('\n').map_or("", |n| &i[n + 1..])
}

fn ident<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Ident> {
    let (i, _) = ws(i)?;
    let (rest, n) = name(i)?;
    Ok((rest, Ident { name: n.into_owned(), span: sp.span(i, rest) }))
}

/// A name where one is required.
fn expect_ident<'a>(sp: &Spans<'a>, i: &'a str, what: &'static str) -> PResult<'a, Ident> {
    ident(sp, i).map_err(|e| match e {
        nom::Err::Failure(f) => nom::Err::Failure(f),
        _ => {
            let at = ws(i).map_or(i, |r| r.0);
            let error = PError::new(at, what);
            // `let rare = ...` reads as a name to the author; say why it is not one.
            let error = match word(at).ok().map(|(_, w)| w).filter(|w| is_keyword(w)) {
                Some(w) => error.with_hint(format!(
                    "`{w}` is a keyword of the language: choose another name (or write it in backticks to use it as one)"
                )),
                None => error,
            };
            nom::Err::Failure(error)
        }
    })
}

fn idents<'a>(sp: &Spans<'a>, i: &'a str, what: &'static str) -> PResult<'a, Vec<Ident>> {
    let (mut i, first) = expect_ident(sp, i, what)?;
    let mut out = vec![first];
    while let Ok((rest, _)) = symbol(",").parse(i) {
        let (rest, next) = expect_ident(sp, rest, what)?;
        out.push(next);
        i = rest;
    }
    Ok((i, out))
}

fn expect_symbol<'a>(i: &'a str, s: &'static str, what: &'static str) -> PResult<'a, &'a str> {
    symbol(s).parse(i).map_err(|_| nom::Err::Failure(PError::new(ws(i).map_or(i, |r| r.0), what)))
}

fn expect_keyword<'a>(i: &'a str, kw: &'static str, what: &'static str) -> PResult<'a, &'a str> {
    keyword(kw).parse(i).map_err(|_| nom::Err::Failure(PError::new(ws(i).map_or(i, |r| r.0), what)))
}

fn let_statement<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Let> {
    let (i, _) = keyword("let").parse(i)?;
    let (i, name) = expect_ident(sp, i, "a name after `let`")?;
    let (i, _) = expect_symbol(i, "=", "`=` after the name")?;
    // `let x = (process | where ...)` defines a pipeline; anything else is an expression.
    if let Ok((after_paren, _)) = symbol("(").parse(i)
        && let Ok((after, pipeline)) = pipeline(sp, after_paren)
        && let Ok((after, _)) = symbol(")").parse(after)
    {
        return Ok((after, Let { name, value: LetValue::Pipeline(pipeline) }));
    }
    let (i, value) = expect_expr(sp, i, "`=`")?;
    Ok((i, Let { name, value: LetValue::Expr(value) }))
}

fn param_statement<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Param> {
    let (i, _) = keyword("param").parse(i)?;
    let (i, name) = expect_ident(sp, i, "a name after `param`")?;
    let (i, _) = expect_symbol(i, "=", "`=` and a default value after the parameter's name")?;
    let (i, default) = expect_expr(sp, i, "`=`")?;
    Ok((i, Param { name, default }))
}

/// A pipeline, where a broken stage is reported and skipped up to the next `|`.
fn pipeline_with_recovery<'a>(sp: &Spans<'a>, i: &'a str, diagnostics: &mut Diagnostics) -> PResult<'a, Pipeline> {
    let start = ws(i)?.0;
    let (mut i, source) = source(sp, i)?;
    let mut stages = Vec::new();
    loop {
        let Ok((after_bar, _)) = symbol("|").parse(i) else { break };
        match stage(sp, after_bar) {
            Ok((rest, stage)) => {
                stages.push(stage);
                i = rest;
            }
            Err(e) => {
                diagnostics.push(sp.diagnostic(e));
                i = skip_to_next_stage(after_bar);
            }
        }
    }
    Ok((i, Pipeline { source, stages, span: sp.span(start, i) }))
}

/// A pipeline inside parentheses (`let`), without recovery.
fn pipeline<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Pipeline> {
    let start = ws(i)?.0;
    let (mut i, source) = source(sp, i)?;
    let mut stages = Vec::new();
    while let Ok((after_bar, _)) = symbol("|").parse(i) {
        let (rest, stage) = stage(sp, after_bar)?;
        stages.push(stage);
        i = rest;
    }
    Ok((i, Pipeline { source, stages, span: sp.span(start, i) }))
}

/// The rest of the input after the next `|` outside strings and brackets (or the end).
fn skip_to_next_stage(i: &str) -> &str {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (at, c) in i.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                '|' if depth <= 0 => return &i[at..],
                _ => {}
            },
        }
    }
    ""
}

fn source<'a>(sp: &Spans<'a>, mut i: &'a str) -> PResult<'a, Source> {
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

fn items<'a>(sp: &Spans<'a>, i: &'a str, after: &'static str) -> PResult<'a, Vec<Item>> {
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

fn stage<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Stage> {
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
fn lookup<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Lookup> {
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

/// Parses a single expression (for `--param` values and tests).
pub fn parse_expression(source: &str) -> Result<Expr, Diagnostics> {
    expr::reset_depth();
    let sp = Spans { source };
    match expr(&sp, source) {
        Ok((rest, e)) if ws(rest).map(|r| r.0.is_empty()).unwrap_or(false) => Ok(e),
        Ok((rest, _)) => {
            let rest = ws(rest).map_or(rest, |r| r.0);
            let (found, len) = describe_next(rest);
            Err(Diagnostics(vec![Diagnostic::new(
                Code::Syntax,
                sp.span_len(rest, len),
                format!("expected the end of the value, found {found}"),
            )]))
        }
        Err(e) => Err(Diagnostics(vec![sp.diagnostic(e)])),
    }
}
