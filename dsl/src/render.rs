//! Showing diagnostics: to people (the source line, a caret, the hint: rustc's style, drawn by
//! `annotate-snippets`) and to machines (JSON with line and column).

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Diagnostics, Severity};
use crate::span::{floor_char_boundary, line_column};

/// Diagnostics as a person reads them. `path` names the hunt (a file, or `<query>`).
pub fn pretty(diagnostics: &Diagnostics, source: &str, path: &str, color: bool) -> String {
    let renderer = if color { Renderer::styled() } else { Renderer::plain() }.decor_style(DecorStyle::Ascii);
    let mut out = String::new();
    for d in diagnostics.iter() {
        out.push_str(&renderer.render(&report(d, source, path)));
        out.push_str("\n\n");
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.0.len() - errors;
    match (errors, warnings) {
        (0, 0) => {}
        (0, w) => out.push_str(&format!("{path}: {w} warning{}\n", plural(w))),
        (e, 0) => out.push_str(&format!("{path}: {e} error{}\n", plural(e))),
        (e, w) => out.push_str(&format!("{path}: {e} error{}, {w} warning{}\n", plural(e), plural(w))),
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn report<'a>(d: &'a Diagnostic, source: &'a str, path: &'a str) -> Vec<Group<'a>> {
    let level = match d.severity() {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let start = floor_char_boundary(source, d.span.start.min(source.len()));
    let end = floor_char_boundary(source, d.span.end.min(source.len())).max(start);
    let mut annotation = AnnotationKind::Primary.span(start..end);
    if let Some(label) = &d.label {
        annotation = annotation.label(label.as_str());
    }
    let mut groups = vec![
        level
            .primary_title(d.message.as_str())
            .id(d.code.as_str())
            .element(Snippet::source(source).path(path).annotation(annotation)),
    ];
    if let Some(hint) = &d.hint {
        groups.push(Group::with_title(Level::HELP.secondary_title(hint.as_str())));
    }
    groups
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    start: usize,
    end: usize,
    label: Option<&'a str>,
    hint: Option<&'a str>,
}

/// Diagnostics as a JSON array, one object each, with 1-based lines and columns.
pub fn json(diagnostics: &Diagnostics, source: &str, path: &str) -> String {
    let items: Vec<JsonDiagnostic<'_>> = diagnostics
        .iter()
        .map(|d| {
            let (line, column) = line_column(source, d.span.start);
            let (end_line, end_column) = line_column(source, d.span.end);
            JsonDiagnostic {
                code: d.code.as_str(),
                severity: d.severity(),
                message: &d.message,
                file: path,
                line,
                column,
                end_line,
                end_column,
                start: d.span.start,
                end: d.span.end,
                label: d.label.as_deref(),
                hint: d.hint.as_deref(),
            }
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}

/// Diagnostics of several hunt files as one SARIF 2.1.0 log, for code-scanning tools and CI
/// annotations. `files` pairs each file's name and source with its diagnostics.
pub fn sarif(files: &[(&str, &str, &Diagnostics)]) -> String {
    let rules: Vec<serde_json::Value> = crate::diagnostic::Code::ALL
        .iter()
        .map(|(code, description)| serde_json::json!({ "id": code.as_str(), "shortDescription": { "text": description } }))
        .collect();
    let mut results = Vec::new();
    for (path, source, diagnostics) in files {
        for d in diagnostics.iter() {
            let (line, column) = line_column(source, d.span.start);
            let (end_line, end_column) = line_column(source, d.span.end);
            let message = match &d.hint {
                Some(hint) => format!("{} (hint: {hint})", d.message),
                None => d.message.clone(),
            };
            results.push(serde_json::json!({
                "ruleId": d.code.as_str(),
                "level": match d.severity() { Severity::Error => "error", Severity::Warning => "warning" },
                "message": { "text": message },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": path },
                    "region": { "startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column }
                }}]
            }));
        }
    }
    serde_json::to_string_pretty(&sarif_log(rules, results)).unwrap_or_else(|_| "{}".into())
}

/// A SARIF 2.1.0 log of one run of spoor: its rules (diagnostic codes, or hunts) and results.
/// Diagnostics and a pack's findings both go out in it.
pub fn sarif_log(rules: Vec<serde_json::Value>, results: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": { "driver": { "name": "spoor", "informationUri": SPOOR_URI, "rules": rules } },
            "results": results
        }]
    })
}

/// Where SARIF consumers send a reader who wants to know what spoor is.
pub const SPOOR_URI: &str = "https://github.com/spoor-hunt/spoor";
