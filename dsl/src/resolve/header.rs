//! The hunt's header: known keys, checked values.

use crate::ast::{HeaderEntry, HeaderValue};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::ir::Meta;

pub const KEYS: &[&str] = &[
    "id",
    "title",
    "description",
    "severity",
    "confidence",
    "attack",
    "tables",
    "false_positives",
    "tags",
    "references",
    "author",
    "version",
    "status",
    "date",
    "modified",
];
pub const SEVERITIES: &[&str] = &["info", "low", "medium", "high", "critical"];
pub const CONFIDENCES: &[&str] = &["low", "medium", "high"];

pub fn meta(entries: &[HeaderEntry], diags: &mut Diagnostics) -> Meta {
    let mut meta = Meta::default();
    let mut seen: Vec<&str> = Vec::new();
    for entry in entries {
        let key = entry.key.name.as_str();
        if seen.contains(&key) {
            diags.push(Diagnostic::new(Code::Header, entry.key.span, format!("`{key}` appears twice in the header")));
            continue;
        }
        seen.push(key);
        let text = || match &entry.value {
            HeaderValue::Text(t) => t.clone(),
            HeaderValue::List(items) => items.join(", "),
        };
        let list = || match &entry.value {
            HeaderValue::Text(t) if t.is_empty() => Vec::new(),
            HeaderValue::Text(t) => vec![t.clone()],
            HeaderValue::List(items) => items.clone(),
        };
        match key {
            "id" => {
                let id = text();
                if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
                    diags.push(
                        Diagnostic::new(Code::Header, entry.span, format!("`{id}` is not a valid hunt id"))
                            .hint("ids use letters, digits, `.`, `_` and `-`: npm.email-change-then-publish"),
                    );
                }
                meta.id = Some(id);
            }
            "title" => meta.title = Some(text()),
            "description" => meta.description = Some(text()),
            "author" => meta.author = Some(text()),
            "severity" => {
                let severity = text().to_ascii_lowercase();
                if !SEVERITIES.contains(&severity.as_str()) {
                    diags.push(
                        Diagnostic::new(Code::Header, entry.span, format!("unknown severity `{severity}`"))
                            .hint(format!("use one of: {}", SEVERITIES.join(", "))),
                    );
                }
                meta.severity = Some(severity);
            }
            "confidence" => {
                let confidence = text().to_ascii_lowercase();
                if !CONFIDENCES.contains(&confidence.as_str()) {
                    diags.push(
                        Diagnostic::new(Code::Header, entry.span, format!("unknown confidence `{confidence}`"))
                            .hint(format!("use one of: {}", CONFIDENCES.join(", "))),
                    );
                }
                meta.confidence = Some(confidence);
            }
            "version" => meta.version = Some(text()),
            "status" => meta.status = Some(text()),
            "date" => meta.date = Some(text()),
            "modified" => meta.modified = Some(text()),
            "false_positives" => meta.false_positives = list(),
            "tables" => {
                meta.tables = list();
                meta.tables.sort();
            }
            "attack" => {
                for technique in list() {
                    if !is_technique(&technique) {
                        diags.push(
                            Diagnostic::new(
                                Code::Header,
                                entry.span,
                                format!("`{technique}` is not an ATT&CK technique id"),
                            )
                            .hint("technique ids look like T1195 or T1195.002"),
                        );
                    }
                    meta.attack.push(technique.to_ascii_uppercase());
                }
            }
            "tags" => meta.tags = list(),
            "references" => meta.references = list(),
            _ => {
                let mut d =
                    Diagnostic::new(Code::UnknownHeaderKey, entry.key.span, format!("unknown header key `{key}`"));
                d = d.hint(match did_you_mean(key, KEYS.iter().copied()) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => format!("known keys: {}", KEYS.join(", ")),
                });
                diags.push(d);
            }
        }
    }
    meta
}

fn is_technique(id: &str) -> bool {
    let id = id.to_ascii_uppercase();
    let Some(rest) = id.strip_prefix('T') else { return false };
    let (main, sub) = rest.split_once('.').map_or((rest, None), |(m, s)| (m, Some(s)));
    main.len() == 4
        && main.bytes().all(|b| b.is_ascii_digit())
        && sub.is_none_or(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
}
