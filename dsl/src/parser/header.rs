//! The `---` header of `key: value` lines at the top of a hunt.

use super::*;
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};

/// The `---` block of `key: value` lines at the top.
pub(super) fn header<'a>(sp: &Spans<'a>, diagnostics: &mut Diagnostics) -> (Vec<HeaderEntry>, &'a str) {
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
