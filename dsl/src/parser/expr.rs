//! Expressions, by precedence: `or` < `and` < `not` < comparisons and predicates < `+ -` <
//! `* /` < unary minus < primaries (literals, lists, calls, names, parentheses).

use std::cell::Cell;

use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::combinator::{not, opt, peek};
use nom::multi::separated_list0;

use super::Spans;
use super::lexical::*;
use crate::ast::{BinaryOp, Expr, ExprKind, Literal};
use crate::diagnostic::Code;

/// Nesting beyond this is an error, not a stack overflow.
pub const MAX_DEPTH: usize = 64;

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Counts one level of nesting for the life of the guard.
struct Nesting;

impl Nesting {
    fn enter(i: &str) -> Result<Nesting, nom::Err<PError>> {
        let depth = DEPTH.with(|d| {
            d.set(d.get() + 1);
            d.get()
        });
        let guard = Nesting;
        if depth > MAX_DEPTH {
            return Err(nom::Err::Failure(
                PError::message(i, Code::TooDeep, 1, format!("expression nested more than {MAX_DEPTH} levels deep"))
                    .with_hint("split it with `let` definitions"),
            ));
        }
        Ok(guard)
    }
}

impl Drop for Nesting {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

pub(super) fn reset_depth() {
    DEPTH.with(|d| d.set(0));
}

pub fn expr<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Expr> {
    or_expr(sp, i)
}

/// An expression where one is required: a clear error when it is missing.
pub fn expect_expr<'a>(sp: &Spans<'a>, i: &'a str, after: &str) -> PResult<'a, Expr> {
    expect_expr_at(sp, i, after, expr)
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    let span = left.span.to(right.span);
    Expr { kind: ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }, span }
}

// Each nesting level passes through here: grow the stack on demand rather than overflow it.
#[recursive::recursive]
fn or_expr<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Expr> {
    let (mut i, mut left) = and_expr(sp, i)?;
    while let Ok((rest, _)) = keyword("or").parse(i) {
        let (rest, right) = expect_expr_at(sp, rest, "`or`", and_expr)?;
        left = binary(BinaryOp::Or, left, right);
        i = rest;
    }
    Ok((i, left))
}

fn and_expr<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Expr> {
    let (mut i, mut left) = not_expr(sp, i)?;
    while let Ok((rest, _)) = keyword("and").parse(i) {
        let (rest, right) = expect_expr_at(sp, rest, "`and`", not_expr)?;
        left = binary(BinaryOp::And, left, right);
        i = rest;
    }
    Ok((i, left))
}

/// Runs an operand parser where an operand is required.
fn expect_expr_at<'a>(
    sp: &Spans<'a>,
    i: &'a str,
    after: &str,
    operand: fn(&Spans<'a>, &'a str) -> PResult<'a, Expr>,
) -> PResult<'a, Expr> {
    let start = ws(i)?.0;
    match operand(sp, i) {
        Err(nom::Err::Error(e)) if e.at == start.len() || e.expected.is_empty() => {
            Err(nom::Err::Failure(PError::new(start, format!("an expression after {after}"))))
        }
        Err(nom::Err::Error(e)) => Err(nom::Err::Failure(e)),
        other => other,
    }
}

fn not_expr<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Expr> {
    let start = ws(i)?.0;
    if let Ok((rest, _)) = keyword("not").parse(i) {
        let _nesting = Nesting::enter(start)?;
        let (rest, inner) = expect_expr_at(sp, rest, "`not`", not_expr)?;
        let span = sp.span(start, rest);
        return Ok((rest, Expr { kind: ExprKind::Not(Box::new(inner)), span }));
    }
    comparison(sp, i)
}

fn comparison_op(i: &str) -> PResult<'_, BinaryOp> {
    use BinaryOp::*;
    let (rest, _) = ws(i)?;
    // Dispatch on the first character: most positions hold no operator at all.
    match rest.as_bytes().first() {
        Some(b'=' | b'!' | b'<' | b'>') => alt((
            symbol("==").map(|_| Eq),
            symbol("!=").map(|_| NotEq),
            symbol("=~").map(|_| EqNocase),
            symbol("!~").map(|_| NotEqNocase),
            symbol("<=").map(|_| LtEq),
            symbol(">=").map(|_| GtEq),
            symbol("<").map(|_| Lt),
            symbol(">").map(|_| Gt),
        ))
        .parse(rest),
        Some(c) if c.is_ascii_alphabetic() => {
            let (after, w) = word(rest)?;
            let op: fn(bool) -> BinaryOp = match w.to_ascii_lowercase().as_str() {
                "contains" => |n| Contains { nocase: n },
                "startswith" => |n| StartsWith { nocase: n },
                "endswith" => |n| EndsWith { nocase: n },
                "like" => |n| Like { nocase: n },
                "matches" => |n| Matches { nocase: n },
                _ => return Err(nom::Err::Error(PError::new(rest, ""))),
            };
            let (after, tilde) = opt(tag("~")).parse(after)?;
            Ok((after, op(tilde.is_some())))
        }
        _ => Err(nom::Err::Error(PError::new(rest, ""))),
    }
}

fn comparison<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Expr> {
    let (i, left) = additive(sp, i)?;
    if let Ok((rest, op)) = comparison_op(i) {
        let (rest, right) = expect_expr_at(sp, rest, &format!("`{}`", op.symbol()), additive)?;
        return Ok((rest, binary(op, left, right)));
    }
    // `x in (..)`, `x in~ list`, `x not in (..)`
    let negated_in = (keyword("not"), keyword("in")).parse(i);
    let plain_in = keyword("in").parse(i);
    if let Ok((rest, negated)) = negated_in.map(|(r, _)| (r, true)).or(plain_in.map(|(r, _)| (r, false))) {
        let (rest, tilde) = opt(tag("~")).parse(rest)?;
        let (rest, list) = in_list(sp, rest)?;
        let span = left.span.to(list.span);
        let kind = ExprKind::In { expr: Box::new(left), list: Box::new(list), negated, nocase: tilde.is_some() };
        return Ok((rest, Expr { kind, span }));
    }
    if let Ok((rest, _)) = keyword("is").parse(i) {
        let (rest, negated) = opt(keyword("not")).parse(rest)?;
        let (rest, _) = nom::combinator::cut(keyword("null"))
            .parse(rest)
            .map_err(|_| nom::Err::Failure(PError::new(ws(rest).map_or(rest, |r| r.0), "`null` after `is`")))?;
        let span = crate::span::Span::new(left.span.start, sp.offset(rest));
        return Ok((rest, Expr { kind: ExprKind::IsNull { expr: Box::new(left), negated: negated.is_some() }, span }));
    }
    Ok((i, left))
}

/// The right side of `in`: `(a, b)`, `[a, b]`, or a name (a `let` list or a parameter).
fn in_list<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Expr> {
    let start = ws(i)?.0;
    if let Ok((rest, _)) = symbol("(").parse(i) {
        let _nesting = Nesting::enter(start)?;
        let (rest, items) = separated_list0(symbol(","), |i| expr(sp, i)).parse(rest)?;
        let (rest, _) = close(rest, ")", "`,` or `)` in the list")?;
        return Ok((rest, Expr { kind: ExprKind::List(items), span: sp.span(start, rest) }));
    }
    match primary(sp, i) {
        Err(nom::Err::Error(_)) => {
            Err(nom::Err::Failure(PError::new(start, "a list after `in`: (\"a\", \"b\"), [..] or a `let` name")))
        }
        other => other,
    }
}

pub(super) fn close<'a>(i: &'a str, closing: &'static str, expected: &'static str) -> PResult<'a, &'a str> {
    symbol(closing).parse(i).map_err(|_| nom::Err::Failure(PError::new(ws(i).map_or(i, |r| r.0), expected)))
}

fn additive<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Expr> {
    let (mut i, mut left) = multiplicative(sp, i)?;
    loop {
        // `->` belongs to chains, not to subtraction.
        let op = alt((
            symbol("+").map(|_| BinaryOp::Add),
            (symbol("-"), not(peek(alt((tag(">"), tag(">>")))))).map(|_| BinaryOp::Sub),
        ))
        .parse(i);
        let Ok((rest, op)) = op else { return Ok((i, left)) };
        let (rest, right) = expect_expr_at(sp, rest, &format!("`{}`", op.symbol()), multiplicative)?;
        left = binary(op, left, right);
        i = rest;
    }
}

fn multiplicative<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Expr> {
    let (mut i, mut left) = unary(sp, i)?;
    loop {
        let op = alt((
            symbol("*").map(|_| BinaryOp::Mul),
            symbol("//").map(|_| BinaryOp::IntDiv),
            symbol("/").map(|_| BinaryOp::Div),
            symbol("%").map(|_| BinaryOp::Mod),
        ))
        .parse(i);
        let Ok((rest, op)) = op else { return Ok((i, left)) };
        let (rest, right) = expect_expr_at(sp, rest, &format!("`{}`", op.symbol()), unary)?;
        left = binary(op, left, right);
        i = rest;
    }
}

fn unary<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Expr> {
    let start = ws(i)?.0;
    if let Ok((rest, _)) = symbol("-").parse(i) {
        let _nesting = Nesting::enter(start)?;
        let (rest, inner) = expect_expr_at(sp, rest, "`-`", unary)?;
        let span = sp.span(start, rest);
        return Ok((rest, Expr { kind: ExprKind::Negate(Box::new(inner)), span }));
    }
    primary(sp, i)
}

pub fn primary<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Expr> {
    let (i, _) = ws(i)?;
    let start = i;
    let literal =
        |rest: &'a str, lit: Literal| Ok((rest, Expr { kind: ExprKind::Literal(lit), span: sp.span(start, rest) }));
    if i.starts_with('"') || i.starts_with('\'') {
        let (rest, s) = string(i)?;
        return literal(rest, Literal::Text(s));
    }
    if i.starts_with(|c: char| c.is_ascii_digit()) {
        let (rest, lit) = number_like(i)?;
        return literal(rest, lit);
    }
    if let Ok((rest, _)) = symbol("(").parse(i) {
        let _nesting = Nesting::enter(start)?;
        let (rest, inner) = expect_expr(sp, rest, "`(`")?;
        let (rest, _) = close(rest, ")", "`)`")?;
        return Ok((rest, Expr { span: sp.span(start, rest), ..inner }));
    }
    if let Ok((rest, _)) = symbol("[").parse(i) {
        let _nesting = Nesting::enter(start)?;
        let (rest, items) = separated_list0(symbol(","), |i| expr(sp, i)).parse(rest)?;
        let (rest, _) = opt(symbol(",")).parse(rest)?;
        let (rest, _) = close(rest, "]", "`,` or `]` in the list")?;
        return Ok((rest, Expr { kind: ExprKind::List(items), span: sp.span(start, rest) }));
    }
    for (kw, lit) in [("true", Literal::Bool(true)), ("false", Literal::Bool(false)), ("null", Literal::Null)] {
        if let Ok((rest, _)) = keyword(kw).parse(i) {
            return literal(rest, lit);
        }
    }
    let (rest, n) = name(i).map_err(|_| nom::Err::Error(PError::new(start, "an expression")))?;
    let name_span = sp.span(start, rest);
    if let Ok((after_paren, _)) = tag::<_, _, PError>("(").parse(rest) {
        let _nesting = Nesting::enter(start)?;
        let (after_args, args) = separated_list0(symbol(","), |i| expr(sp, i)).parse(after_paren)?;
        let (after_args, _) = close(after_args, ")", "`,` or `)` after the function's arguments")?;
        let function = crate::ast::Ident { name: n.into_owned(), span: name_span };
        let call = Expr { kind: ExprKind::Call { function, args }, span: sp.span(start, after_args) };
        if let Ok((rest, _)) = keyword("over").parse(after_args) {
            let (rest, by) = over_fields(sp, rest)?;
            let (rest, within) = match keyword("within").parse(rest) {
                Ok((after, _)) => {
                    // A duration or a param's name: `count() over h within 5m > 3` compares the count.
                    let (after, span) = primary(sp, after)
                        .map_err(|_| nom::Err::Failure(PError::new(after, "a duration after `within` (5m, 1h)")))?;
                    (after, Some(Box::new(span)))
                }
                Err(_) => (rest, None),
            };
            let kind = ExprKind::Over { call: Box::new(call), by, within };
            return Ok((rest, Expr { kind, span: sp.span(start, rest) }));
        }
        return Ok((after_args, call));
    }
    Ok((rest, Expr { kind: ExprKind::Name(n.into_owned()), span: name_span }))
}

/// After `over`: one field, or a parenthesized list of them (`()` for all rows).
fn over_fields<'a>(sp: &Spans<'a>, i: &'a str) -> PResult<'a, Vec<crate::ast::Ident>> {
    let ident = |i: &'a str| -> PResult<'a, crate::ast::Ident> {
        let (i, _) = ws(i)?;
        let (rest, n) = name(i)?;
        Ok((rest, crate::ast::Ident { name: n.into_owned(), span: sp.span(i, rest) }))
    };
    if let Ok((rest, _)) = symbol("(").parse(i) {
        let (rest, fields) = separated_list0(symbol(","), ident).parse(rest)?;
        let (rest, _) = close(rest, ")", "`,` or `)` after the fields of `over`")?;
        return Ok((rest, fields));
    }
    let start = ws(i)?.0;
    ident(i)
        .map(|(rest, f)| (rest, vec![f]))
        .map_err(|_| nom::Err::Failure(PError::new(start, "a field after `over`, or (field, field)")))
}
