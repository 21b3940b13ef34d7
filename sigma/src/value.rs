//! A field test's values and modifiers, as the tests spoor's language has: a string pattern
//! (Sigma's wildcards, after the transforming modifiers), a regular expression, a network, a
//! number comparison, a field reference, a null or existence test.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::rule::{FieldTest, Value};
use crate::{Reason, Unsupported, regex_flavor};

/// One piece of a Sigma string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// `*`: any run of characters.
    Any,
    /// `?`: one character.
    One,
}

/// What one value of a field test asks of the field.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Wildcards and text; case-insensitive unless `cased`.
    Pattern { pieces: Vec<Piece>, cased: bool },
    /// A whole number, which a numeric column compares as a number.
    Number(i64),
    /// Sigma's `null`: the field is missing or empty.
    Null,
    /// `|exists: true/false`.
    Exists(bool),
    /// `|re`, with its flags as a `(?ims)` prefix.
    Regex(String),
    /// `|cidr`.
    Cidr(String),
    /// `|lt`, `|lte`, `|gt`, `|gte`: the comparison and the number.
    Compare(&'static str, String),
    /// `|fieldref`: equal to (or containing, starting or ending with) another field's value.
    FieldRef { other: String, anchor: Anchor },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Equal,
    Contains,
    StartsWith,
    EndsWith,
}

/// A field test planned: per value, its alternatives (a `windash` or `base64offset` value has
/// several), joined by `or`, and the values joined by `or` (`and` with `|all`).
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub field: Option<String>,
    pub values: Vec<Vec<Test>>,
    pub all: bool,
    /// `|neq`: none of the values.
    pub negated: bool,
    /// A time modifier (`|hour`): the values are compared with that part of the field's time.
    pub time_part: Option<&'static str>,
}

const TIME_PARTS: &[&str] = &["minute", "hour", "day", "week", "month", "year"];

/// Plans a field test, or says which modifier spoor cannot run.
pub fn plan(test: &FieldTest) -> Result<Planned, Unsupported> {
    let unsupported = |m: String| Unsupported::new(Reason::Modifier, m);
    let mut anchor = Anchor::Equal;
    let (mut all, mut cased, mut negated) = (false, false, false);
    let mut kind: Option<&str> = None;
    let mut time_part = None;
    let mut regex_flags = String::new();
    let mut transforms: Vec<&str> = Vec::new();
    for m in &test.modifiers {
        match m.as_str() {
            "contains" => anchor = Anchor::Contains,
            "startswith" => anchor = Anchor::StartsWith,
            "endswith" => anchor = Anchor::EndsWith,
            "all" => all = true,
            "cased" => cased = true,
            "neq" => negated = true,
            "i" | "ignorecase" => regex_flags.push('i'),
            "m" | "multiline" => regex_flags.push('m'),
            "s" | "dotall" => regex_flags.push('s'),
            "re" | "cidr" | "exists" | "fieldref" | "lt" | "lte" | "gt" | "gte" => {
                if let Some(k) = kind {
                    return Err(unsupported(format!("modifiers `{k}` and `{m}` together")));
                }
                kind = Some(m.as_str());
            }
            "base64" | "base64offset" | "utf16le" | "utf16be" | "utf16" | "wide" | "windash" => transforms.push(m),
            // Placeholders are the mapping's (`Mapping::expand`), replaced before a test is planned.
            "expand" => return Err(unsupported("`expand` with placeholders nobody replaced".into())),
            m if TIME_PARTS.contains(&m) => time_part = TIME_PARTS.iter().copied().find(|p| *p == m),
            other => return Err(unsupported(format!("unknown modifier `{other}`"))),
        }
    }
    if !regex_flags.is_empty() && kind != Some("re") {
        return Err(unsupported(format!("regular expression flags `{regex_flags}` without `re`")));
    }
    if kind.is_some() && !transforms.is_empty() {
        return Err(unsupported(format!("`{}` after `{}`", kind.unwrap_or_default(), transforms.join("|"))));
    }
    let mut values = Vec::new();
    for value in &test.values {
        let alternatives = match (kind, value) {
            (Some("exists"), Value::Bool(b)) => vec![Test::Exists(*b)],
            (Some("exists"), other) => return Err(unsupported(format!("`exists` takes true or false, not {other:?}"))),
            (_, Value::Null) => vec![Test::Null],
            (Some("re"), v) => {
                let pattern = v.as_text().unwrap_or_default();
                let flags = if regex_flags.is_empty() { String::new() } else { format!("(?{regex_flags})") };
                vec![Test::Regex(format!("{flags}{}", regex_flavor::ascii_classes(&pattern)))]
            }
            (Some("cidr"), v) => vec![Test::Cidr(v.as_text().unwrap_or_default())],
            (Some("fieldref"), v) => vec![Test::FieldRef { other: v.as_text().unwrap_or_default(), anchor }],
            (Some(op), Value::Int(_) | Value::Float(_)) => {
                let symbol = match op {
                    "lt" => "<",
                    "lte" => "<=",
                    "gt" => ">",
                    _ => ">=",
                };
                vec![Test::Compare(symbol, value.as_text().unwrap_or_default())]
            }
            (Some(op), other) => return Err(unsupported(format!("`{op}` takes a number, not {other:?}"))),
            (None, Value::Int(n)) if transforms.is_empty() && anchor == Anchor::Equal => vec![Test::Number(*n)],
            (None, v) => {
                let text = v.as_text().unwrap_or_default();
                transformed(&text, &transforms)?
                    .into_iter()
                    .map(|pieces| Test::Pattern { pieces: anchored(pieces, anchor), cased })
                    .collect()
            }
        };
        values.push(alternatives);
    }
    if time_part.is_some()
        && (!transforms.is_empty() || anchor != Anchor::Equal || matches!(kind, Some("re" | "cidr" | "fieldref")))
    {
        return Err(unsupported("a time modifier with a text test: it compares numbers".into()));
    }
    Ok(Planned { field: test.field.clone(), values, all, negated, time_part })
}

/// Sigma's string syntax: `*` and `?` are wildcards; `\*`, `\?` and `\\` stand for themselves;
/// any other backslash is a backslash.
pub fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => literal.push(chars.next().unwrap_or('\\')),
            '*' | '?' => {
                if !literal.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut literal)));
                }
                out.push(if c == '*' { Piece::Any } else { Piece::One });
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        out.push(Piece::Text(literal));
    }
    out
}

fn anchored(mut pieces: Vec<Piece>, anchor: Anchor) -> Vec<Piece> {
    if matches!(anchor, Anchor::Contains | Anchor::EndsWith) && pieces.first() != Some(&Piece::Any) {
        pieces.insert(0, Piece::Any);
    }
    if matches!(anchor, Anchor::Contains | Anchor::StartsWith) && pieces.last() != Some(&Piece::Any) {
        pieces.push(Piece::Any);
    }
    pieces
}

/// The value after its transforming modifiers, in the order written: each alternative.
fn transformed(text: &str, transforms: &[&str]) -> Result<Vec<Vec<Piece>>, Unsupported> {
    let mut current: Vec<Vec<Piece>> = vec![pieces(text)];
    // Bytes waiting for base64, after a utf16 modifier.
    let mut bytes: Option<Vec<Vec<u8>>> = None;
    for t in transforms {
        match *t {
            "windash" => current = current.iter().flat_map(|p| windash(p)).collect(),
            "utf16le" | "wide" | "utf16be" | "utf16" => {
                let texts = plain(&current, t)?;
                bytes = Some(texts.iter().map(|s| utf16(s, t)).collect());
            }
            "base64" | "base64offset" => {
                let input: Vec<Vec<u8>> = match bytes.take() {
                    Some(b) => b,
                    None => plain(&current, t)?.into_iter().map(String::into_bytes).collect(),
                };
                current = input
                    .iter()
                    .flat_map(|b| if *t == "base64" { vec![STANDARD.encode(b)] } else { base64_offsets(b) })
                    .map(|s| vec![Piece::Text(s)])
                    .collect();
            }
            _ => {}
        }
    }
    if let Some(b) = bytes {
        // utf16 without base64: the code units as characters (NULs included).
        current = b.iter().map(|b| vec![Piece::Text(b.iter().map(|&x| x as char).collect())]).collect();
    }
    Ok(current)
}

/// The alternatives as plain text, for modifiers that encode (wildcards cannot be encoded).
fn plain(alternatives: &[Vec<Piece>], modifier: &str) -> Result<Vec<String>, Unsupported> {
    alternatives
        .iter()
        .map(|p| match p.as_slice() {
            [] => Ok(String::new()),
            [Piece::Text(t)] => Ok(t.clone()),
            _ => Err(Unsupported::new(Reason::Modifier, format!("`{modifier}` of a value with wildcards"))),
        })
        .collect()
}

fn utf16(text: &str, kind: &str) -> Vec<u8> {
    let units = text.encode_utf16();
    match kind {
        "utf16be" => units.flat_map(u16::to_be_bytes).collect(),
        "utf16" => [0xFF, 0xFE].into_iter().chain(units.flat_map(u16::to_le_bytes)).collect(),
        _ => units.flat_map(u16::to_le_bytes).collect(),
    }
}

/// The three encodings of `bytes` at each offset in a base64 stream, cut to the characters
/// that do not depend on what surrounds it (as the Sigma specification defines `base64offset`).
fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    let starts = [0usize, 2, 3];
    let end_cut = [0usize, 3, 2];
    (0..3)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(bytes);
            let encoded = STANDARD.encode(&padded);
            let cut = end_cut[(bytes.len() + i) % 3];
            let end = encoded.len().saturating_sub(cut);
            encoded.get(starts[i]..end).unwrap_or_default().to_string()
        })
        .collect()
}

/// Every spelling of the value with each option dash (`-` or `/` after a non-word character
/// and before a word character) written as `-`, `/`, en dash, em dash or horizontal bar.
fn windash(pieces: &[Piece]) -> Vec<Vec<Piece>> {
    const DASHES: [char; 5] = ['-', '/', '–', '—', '―'];
    let mut out: Vec<Vec<Piece>> = vec![Vec::new()];
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    for piece in pieces {
        let Piece::Text(text) = piece else {
            out.iter_mut().for_each(|p| p.push(piece.clone()));
            continue;
        };
        let chars: Vec<char> = text.chars().collect();
        // Text runs: split where a dash can vary.
        let mut runs: Vec<Vec<String>> = vec![vec![String::new()]];
        for (i, &c) in chars.iter().enumerate() {
            let before = if i == 0 { None } else { Some(chars[i - 1]) };
            let after = chars.get(i + 1).copied();
            if matches!(c, '-' | '/') && !word(before) && word(after) {
                runs.push(DASHES.iter().map(|d| d.to_string()).collect());
                runs.push(vec![String::new()]);
            } else if let Some(last) = runs.last_mut() {
                last.iter_mut().for_each(|s| s.push(c));
            }
        }
        let mut texts = vec![String::new()];
        for run in runs {
            texts = texts.iter().flat_map(|t| run.iter().map(move |r| format!("{t}{r}"))).collect();
        }
        out = out
            .iter()
            .flat_map(|p| {
                texts.iter().map(move |t| {
                    let mut p = p.clone();
                    if !t.is_empty() {
                        p.push(Piece::Text(t.clone()));
                    }
                    p
                })
            })
            .collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(field: &str, modifiers: &[&str], values: Vec<Value>) -> Planned {
        plan(&FieldTest {
            field: Some(field.into()),
            modifiers: modifiers.iter().map(|m| m.to_string()).collect(),
            values,
        })
        .unwrap()
    }

    fn text(t: &str) -> Value {
        Value::Text(t.into())
    }

    #[test]
    fn wildcards_and_escapes() {
        use Piece::*;
        assert_eq!(pieces("a*b?c"), vec![Text("a".into()), Any, Text("b".into()), One, Text("c".into())]);
        assert_eq!(pieces(r"a\*b"), vec![Text("a*b".into())]);
        assert_eq!(pieces(r"C:\Windows\*"), vec![Text(r"C:\Windows*".into())]);
        assert_eq!(pieces(r"a\\*"), vec![Text("a\\".into()), Any]);
        assert_eq!(pieces(r"\x"), vec![Text(r"\x".into())]);
    }

    #[test]
    fn contains_adds_wildcards_once() {
        let p = test("CommandLine", &["contains"], vec![text("*x")]);
        assert_eq!(
            p.values[0],
            vec![Test::Pattern { pieces: vec![Piece::Any, Piece::Text("x".into()), Piece::Any], cased: false }]
        );
    }

    #[test]
    fn windash_spells_each_option_dash_five_ways() {
        let p = test("CommandLine", &["contains", "windash"], vec![text(" -v a-b")]);
        assert_eq!(p.values[0].len(), 5);
        let Test::Pattern { pieces, .. } = &p.values[0][3] else { panic!() };
        assert_eq!(pieces[1], Piece::Text(" —v a-b".into()));
        // Only where a word follows and none precedes.
        assert_eq!(test("c", &["windash"], vec![text("a-b")]).values[0].len(), 1);
        assert_eq!(test("c", &["windash"], vec![text("-a /b")]).values[0].len(), 25);
    }

    #[test]
    fn base64offset_as_the_specification_shows() {
        // The specification's example: `/bin/bash` in three alignments.
        let p = test("CommandLine", &["base64offset", "contains"], vec![text("/bin/bash")]);
        let texts: Vec<String> = p.values[0]
            .iter()
            .map(|t| match t {
                Test::Pattern { pieces, .. } => match &pieces[1] {
                    Piece::Text(s) => s.clone(),
                    _ => panic!(),
                },
                _ => panic!(),
            })
            .collect();
        assert_eq!(texts, vec!["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]);
    }

    #[test]
    fn utf16_then_base64() {
        let p = test("CommandLine", &["wide", "base64"], vec![text("ab")]);
        assert_eq!(p.values[0], vec![Test::Pattern { pieces: vec![Piece::Text("YQBiAA==".into())], cased: false }]);
    }

    #[test]
    fn unsupported_modifiers_say_which() {
        let e =
            plan(&FieldTest { field: Some("x".into()), modifiers: vec!["expand".into()], values: vec![text("%a%")] })
                .unwrap_err();
        assert_eq!(e.code, Reason::Modifier);
        let e =
            plan(&FieldTest { field: Some("x".into()), modifiers: vec!["bogus".into()], values: vec![] }).unwrap_err();
        assert!(e.message.contains("bogus"));
    }
}
