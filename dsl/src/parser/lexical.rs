//! Tokens: whitespace and comments, names, keywords, and literals.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1, satisfy};
use nom::combinator::{opt, recognize};
use nom::sequence::pair;
use nom::{IResult, Parser};

use crate::diagnostic::Code;

/// A parse error. `at` is the length of the input left where it happened, which [`super::Parser`]
/// turns into a byte offset of the source.
#[derive(Debug, Clone, PartialEq)]
pub struct PError {
    pub at: usize,
    /// What was expected there, or the whole message when `message` is set.
    pub expected: Cow<'static, str>,
    pub message: Option<String>,
    /// Bytes the error covers (0: one character, or the next token).
    pub len: usize,
    pub code: Code,
    pub hint: Option<String>,
}

impl PError {
    pub fn new(input: &str, expected: impl Into<Cow<'static, str>>) -> PError {
        PError { at: input.len(), expected: expected.into(), message: None, len: 0, code: Code::Syntax, hint: None }
    }

    /// An error with its own message (bad literal, too deep), covering `len` bytes.
    pub fn message(input: &str, code: Code, len: usize, message: impl Into<String>) -> PError {
        PError { at: input.len(), expected: Cow::Borrowed(""), message: Some(message.into()), len, code, hint: None }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> PError {
        self.hint = Some(hint.into());
        self
    }
}

impl<'a> nom::error::ParseError<&'a str> for PError {
    fn from_error_kind(input: &'a str, _kind: nom::error::ErrorKind) -> Self {
        PError::new(input, "")
    }

    fn append(_input: &'a str, _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }

    fn or(self, other: Self) -> Self {
        // Of two alternatives, report the one that got further; at a tie, the one that says more.
        if other.at < self.at || (other.at == self.at && self.expected.is_empty() && self.message.is_none()) {
            other
        } else {
            self
        }
    }
}

pub type PResult<'a, T> = IResult<&'a str, T, PError>;

pub const KEYWORDS: &[&str] = &[
    "where",
    "select",
    "extend",
    "rename",
    "sort",
    "limit",
    "distinct",
    "dedup",
    "keep",
    "expand",
    "stats",
    "rare",
    "top",
    "lookup",
    "beacon",
    "by",
    "as",
    "on",
    "asc",
    "desc",
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "true",
    "false",
    "let",
    "param",
    "sequence",
    "chain",
    "within",
    "until",
    "contains",
    "startswith",
    "endswith",
    "like",
    "matches",
    "across",
    "using",
];

/// Spaces, newlines and `#` comments.
pub fn ws(mut i: &str) -> PResult<'_, ()> {
    loop {
        let trimmed = i.trim_start();
        if let Some(rest) = trimmed.strip_prefix('#') {
            i = rest.find('\n').map_or("", |n| &rest[n..]);
        } else {
            return Ok((trimmed, ()));
        }
    }
}

/// Skips whitespace, then runs `p`.
pub fn token<'a, O>(
    p: impl Parser<&'a str, Output = O, Error = PError>,
) -> impl Parser<&'a str, Output = O, Error = PError> {
    nom::sequence::preceded(ws, p)
}

/// A symbol such as `|`, `==`, `(`, after optional whitespace.
pub fn symbol<'a>(s: &'static str) -> impl Parser<&'a str, Output = &'a str, Error = PError> {
    token(tag(s))
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '@'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@' || c == '.'
}

/// A bare word (`process.parent.name`, `@timestamp`), keywords included. No trailing dot.
pub fn word(i: &str) -> PResult<'_, &str> {
    let (_, w) = recognize(pair(satisfy(is_name_start), take_while(is_name_char))).parse(i)?;
    let w = w.trim_end_matches('.');
    Ok((&i[w.len()..], w))
}

/// A keyword, as a whole word, any case. Failing is cheap (no allocation): parsers try keywords
/// at almost every position.
pub fn keyword<'a>(kw: &'static str) -> impl Parser<&'a str, Output = &'a str, Error = PError> {
    move |i: &'a str| {
        let (rest, _) = ws(i)?;
        let n = kw.len();
        let matches = rest.len() >= n
            && rest.as_bytes()[..n].eq_ignore_ascii_case(kw.as_bytes())
            && !rest[n..].starts_with(is_name_char);
        if matches { Ok((&rest[n..], &rest[..n])) } else { Err(nom::Err::Error(PError::new(rest, ""))) }
    }
}

/// Whether `w` is one of the language's words (any case), which a bare name cannot be.
pub fn is_keyword(w: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w))
}

/// A name that is not a keyword: a field, table, alias, function, `let` or parameter. Backticks
/// quote any other name (`` `weird-name` ``).
pub fn name(i: &str) -> PResult<'_, Cow<'_, str>> {
    let (i, _) = ws(i)?;
    if let Some(rest) = i.strip_prefix('`') {
        return match rest.find('`') {
            Some(end) if end > 0 => Ok((&rest[end + 1..], Cow::Borrowed(&rest[..end]))),
            _ => Err(nom::Err::Failure(PError::message(i, Code::Syntax, 1, "unterminated `quoted name`"))),
        };
    }
    let (rest, w) = word(i)?;
    if is_keyword(w) {
        return Err(nom::Err::Error(PError::new(i, "a name")));
    }
    Ok((rest, Cow::Borrowed(w)))
}

/// `"text"` with escapes (`\"`, `\\`, `\n`, `\t`, `\u{..}`), or `'text'` taken as written
/// (handy for regular expressions and Windows paths).
pub fn string(i: &str) -> PResult<'_, String> {
    let (i, _) = ws(i)?;
    if let Some(rest) = i.strip_prefix('\'') {
        return match rest.find('\'') {
            Some(end) => Ok((&rest[end + 1..], rest[..end].to_string())),
            None => Err(nom::Err::Failure(PError::message(i, Code::Syntax, 1, "unterminated string"))),
        };
    }
    let Some(rest) = i.strip_prefix('"') else {
        return Err(nom::Err::Error(PError::new(i, "a string")));
    };
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((&rest[at + 1..], out)),
            '\\' => {
                let escape_at = &rest[at..];
                match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, '0')) => out.push('\0'),
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, '\'')) => out.push('\''),
                    Some((u, 'u')) => {
                        let tail = &rest[u + 1..];
                        let code = tail
                            .strip_prefix('{')
                            .and_then(|t| t.find('}').map(|e| &t[..e]))
                            .and_then(|hex| u32::from_str_radix(hex, 16).ok().map(|n| (n, hex.len())));
                        match code.and_then(|(n, len)| char::from_u32(n).map(|c| (c, len))) {
                            Some((c, len)) => {
                                out.push(c);
                                for _ in 0..len + 2 {
                                    chars.next();
                                }
                            }
                            None => {
                                return Err(nom::Err::Failure(
                                    PError::message(escape_at, Code::Syntax, 2, "bad unicode escape")
                                        .with_hint("write it as \\u{1F600}"),
                                ));
                            }
                        }
                    }
                    _ => {
                        return Err(nom::Err::Failure(
                            PError::message(escape_at, Code::Syntax, 2, "unknown escape in a string")
                                .with_hint("use '...' for text with backslashes, such as regexes and Windows paths"),
                        ));
                    }
                }
            }
            c => out.push(c),
        }
    }
    Err(nom::Err::Failure(PError::message(i, Code::Syntax, 1, "unterminated string")))
}

pub fn unsigned(i: &str) -> PResult<'_, u64> {
    let (rest, digits) = token(digit1).parse(i)?;
    match digits.parse::<u64>() {
        Ok(n) => Ok((rest, n)),
        Err(_) => Err(nom::Err::Failure(PError::message(
            &i[i.len() - ws(i)?.0.len()..],
            Code::InvalidLiteral,
            digits.len(),
            "number too large",
        ))),
    }
}

/// A number, duration or time literal, told apart by shape: `2026-03-31T00:21:00Z` is a time,
/// `10m` a duration, `1.5` a float, `42` an integer.
pub fn number_like(i: &str) -> PResult<'_, super::super::ast::Literal> {
    use super::super::ast::Literal;
    let (i, _) = ws(i)?;
    if let Ok((rest, text)) = time_text(i) {
        return match parse_time(text) {
            Some(micros) => Ok((rest, Literal::Time(micros))),
            None => Err(nom::Err::Failure(
                PError::message(i, Code::InvalidLiteral, text.len(), format!("`{text}` is not a valid time"))
                    .with_hint("write times as RFC 3339: 2026-03-31T00:21:00Z, or a date: 2026-03-31"),
            )),
        };
    }
    let (rest, number) = recognize(pair(digit1, opt(pair(char('.'), digit1)))).parse(i)?;
    let (after_unit, unit) = take_while(|c: char| c.is_ascii_alphabetic()).parse(rest)?;
    if !unit.is_empty() {
        let scale: Option<i64> = match unit {
            "us" => Some(1),
            "ms" => Some(1_000),
            "s" => Some(1_000_000),
            "m" => Some(60_000_000),
            "h" => Some(3_600_000_000),
            "d" => Some(86_400_000_000),
            "w" => Some(604_800_000_000),
            _ => None,
        };
        let micros = scale.and_then(|s| number.parse::<f64>().ok().map(|n| n * s as f64));
        return match micros {
            Some(m) if m.is_finite() && m < 1e17 => Ok((after_unit, Literal::Duration(m.round() as i64))),
            _ => Err(nom::Err::Failure(
                PError::message(
                    i,
                    Code::InvalidLiteral,
                    number.len() + unit.len(),
                    format!("`{number}{unit}` is not a valid duration"),
                )
                .with_hint("durations are a number and a unit: 500ms, 30s, 10m, 24h, 7d, 2w"),
            )),
        };
    }
    if number.contains('.') {
        return Ok((rest, Literal::Float(number.parse().unwrap_or(f64::NAN))));
    }
    match number.parse::<i64>() {
        Ok(n) => Ok((rest, Literal::Int(n))),
        Err(_) => Err(nom::Err::Failure(PError::message(i, Code::InvalidLiteral, number.len(), "integer too large"))),
    }
}

/// Text shaped like a date or an RFC 3339 time, validated afterwards.
fn time_text(i: &str) -> PResult<'_, &str> {
    let digits =
        |n: usize| take_while1(move |c: char| c.is_ascii_digit()).map_opt(move |d: &str| (d.len() == n).then_some(d));
    recognize((
        digits(4),
        char('-'),
        digits(2),
        char('-'),
        digits(2),
        opt((
            alt((char('T'), char('t'))),
            take_while1(|c: char| c.is_ascii_digit() || c == ':' || c == '.'),
            opt(alt((
                tag("Z"),
                tag("z"),
                recognize((alt((char('+'), char('-'))), take_while1(|c: char| c.is_ascii_digit() || c == ':'))),
            ))),
        )),
    ))
    .parse(i)
}

fn parse_time(text: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_micros());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc().timestamp_micros());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M") {
        return Some(t.and_utc().timestamp_micros());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
}

/// A short description of what comes next, for "expected X, found Y".
pub fn describe_next(i: &str) -> (String, usize) {
    let i = ws(i).map_or(i, |(r, _)| r);
    let Some(c) = i.chars().next() else {
        return ("the end of the hunt".to_string(), 0);
    };
    if let Ok((_, w)) = word(i) {
        return (format!("`{w}`"), w.len());
    }
    if c.is_ascii_digit() {
        let len = i.find(|c: char| !c.is_ascii_alphanumeric() && c != '.').unwrap_or(i.len());
        return (format!("`{}`", &i[..len]), len);
    }
    if c == '"' || c == '\'' {
        return ("a string".to_string(), 1);
    }
    let len = ["==", "!=", "<=", ">=", "=~", "!~", "->>", "->", "in~"]
        .iter()
        .find(|s| i.starts_with(**s))
        .map_or(c.len_utf8(), |s| s.len());
    (format!("`{}`", &i[..len]), len)
}
