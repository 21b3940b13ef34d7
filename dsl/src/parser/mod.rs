//! Stage 1, parse: source text → [`ast::Hunt`](crate::ast::Hunt), with nom.
//!
//! A hunt file is an optional `---` header of `key: value` lines, then `let` and `param`
//! definitions, then one pipeline: a source and `|`-separated stages. When a stage does not
//! parse, the error is recorded and parsing resumes at the next `|`, so one run reports every
//! broken stage.
//!
//! The modules mirror `resolve/`: `header` the `---` block, `source` a pipeline's source
//! (tables, `sequence`, `chain`), `stage` the stages after it, `expr` expressions, `lexical`
//! the tokens; this file the hunt as a whole (`let`, `param`, the pipeline and its recovery).

mod expr;
mod header;
mod lexical;
pub use lexical::is_keyword;
mod source;
mod stage;

use nom::Parser as _;

use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::span::Span;
pub use expr::MAX_DEPTH;
use expr::{expect_expr, expr};
use header::header;
use lexical::*;
use source::source;
use stage::stage;

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
