//! Findings for a terminal: one compact block per finding that fits the width it is given
//! (severity, hunt, time and entities on one line; the row's other fields, its process tree
//! and where the evidence is under it), coloured when asked.
//!
//! ```
//! # #[tokio::main] async fn main() -> spoor::Result<()> {
//! # let store = spoor::testing::sample_store()?;
//! # let pack = spoor::testing::example_pack()?;
//! let runs = store.run_pack(&pack, &Default::default()).await?;
//! use spoor::pack::render::terminal::{Style, render};
//! print!("{}", render(&runs, Style { width: Style::PIPE_WIDTH, colour: false }));
//! # Ok(()) }
//! ```

use serde_json::Value;

use super::{HuntRun, Outcome, by_severity};
use crate::pack::Finding;

/// How to draw findings.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let style = spoor::pack::render::terminal::Style { width: 80, colour: false };
/// let text = spoor::pack::render::terminal::render(&runs, style);
/// assert!(text.lines().all(|line| line.chars().count() <= 80));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Columns a line may take.
    pub width: usize,
    /// Whether to colour with ANSI escapes.
    pub colour: bool,
}

impl Style {
    /// The width used when the output is not a terminal.
    ///
    /// ```
    /// assert_eq!(spoor::pack::render::terminal::Style::PIPE_WIDTH, 100);
    /// ```
    pub const PIPE_WIDTH: usize = 100;
}

/// Entities in the order a hunter reads them: who, what was installed, where it called.
const ENTITY_ORDER: &[&str] = &["host", "user", "package", "project", "ci_job", "domain", "ip", "file"];

/// How many evidence locations a block lists before it says how many more there are.
const EVIDENCE_SHOWN: usize = 2;

/// Findings grouped by severity and hunt, each a block of a few lines.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let style = spoor::pack::render::terminal::Style { width: 100, colour: true };
/// let text = spoor::pack::render::terminal::render(&runs, style);
/// assert!(text.contains("\u{1b}[")); // ANSI colour
/// assert!(text.contains("at ") && text.contains("empire_launcher_vbs.json:107"));
/// # Ok(()) }
/// ```
pub fn render(runs: &[HuntRun<'_>], style: Style) -> String {
    let mut out = String::new();
    for run in by_severity(runs) {
        let Outcome::Ran { findings, batches, .. } = &run.outcome else { continue };
        let n = findings.len();
        let severity = run.hunt.severity().to_uppercase();
        let head = fit(
            &format!(
                "{severity} {} · {n} finding{} · {}",
                run.hunt.id(),
                if n == 1 { "" } else { "s" },
                run.hunt.meta.title.as_deref().unwrap_or_default()
            ),
            style.width,
        );
        // Colour the severity word only, after fitting (escapes take no columns).
        let head = match head.strip_prefix(&severity) {
            Some(rest) => format!("{}{rest}", paint(&severity, severity_colour(run.hunt.severity()), style)),
            None => head,
        };
        out.push_str(&head);
        out.push('\n');
        if let Some(author) = &run.hunt.meta.author {
            out.push_str(&fit(&format!("  by {author}"), style.width));
            out.push('\n');
        }
        let columns: Vec<String> =
            batches.first().map(|b| b.schema().fields().iter().map(|f| f.name().clone()).collect()).unwrap_or_default();
        for finding in findings {
            block(&mut out, finding, &columns, style);
        }
        out.push('\n');
    }
    out
}

/// One finding: its time and entities, the fields the entities do not already say, the process
/// tree, and the evidence.
fn block(out: &mut String, f: &Finding, columns: &[String], style: Style) {
    let row = f.fields.to_map();
    let mut first: Vec<String> = Vec::new();
    // A sequence's rows have a time per step: the first step's stands for the finding.
    let time_column = match &f.timestamp {
        Some(_) => Some("@timestamp"),
        None => columns
            .iter()
            .map(String::as_str)
            .find(|c| c.ends_with(".@timestamp") && row.get(*c).is_some_and(Value::is_string)),
    };
    if let Some(time) = time_column.and_then(|c| row.get(c)).and_then(Value::as_str) {
        first.push(short_time(time));
    }
    let entities: Vec<String> = ENTITY_ORDER
        .iter()
        .filter_map(|k| f.entities.get(*k).map(|v| format!("{} {v}", k.replace('_', " "))))
        .collect();
    first.push(entities.join(" · "));
    line(out, "  ", &first.join("  "), style, None);

    let shown: Vec<&str> = f.entities.values().map(String::as_str).collect();
    let mut fields = Vec::new();
    for name in columns {
        let Some(value) = row.get(name).filter(|v| !v.is_null()) else { continue };
        let value = text(value);
        // What the first line says already, and where the evidence is (said last).
        if Some(name.as_str()) == time_column
            || f.entity_columns.contains(name)
            || shown.contains(&value.as_str())
            || name.ends_with("log.file.path")
            || name.ends_with("log.file.line")
            || in_tree(f, name)
            || value.is_empty()
        {
            continue;
        }
        fields.push(format!("{name}: {}", value.replace(['\n', '\r'], " ")));
    }
    for packed in pack_items(&fields, style.width.saturating_sub(4)) {
        line(out, "    ", &packed, style, None);
    }
    if let Some(tree) = f.process_tree_text() {
        for l in tree.lines() {
            line(out, "    ", l, style, None);
        }
    }
    for e in f.evidence.iter().take(EVIDENCE_SHOWN) {
        let room = style.width.saturating_sub(7);
        line(out, "    ", &format!("at {}", fit_left(&e.to_string(), room)), style, Some(DIM));
    }
    if f.evidence.len() > EVIDENCE_SHOWN {
        line(out, "    ", &format!("and {} more", f.evidence.len() - EVIDENCE_SHOWN), style, Some(DIM));
    }
}

/// Whether a column is one the process tree shows (a step's name or command line).
fn in_tree(f: &Finding, column: &str) -> bool {
    !f.process_tree.is_empty() && (column.ends_with("process.name") || column.ends_with("process.command_line"))
}

fn line(out: &mut String, indent: &str, text: &str, style: Style, colour: Option<&str>) {
    let text = fit(text, style.width.saturating_sub(indent.chars().count()));
    out.push_str(indent);
    match colour {
        Some(c) => out.push_str(&paint(&text, c, style)),
        None => out.push_str(&text),
    }
    out.push('\n');
}

/// Items joined by ` · ` into as few lines of `width` as they fill; an item wider than a line
/// gets a line of its own (and is cut there).
fn pack_items(items: &[String], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for item in items {
        let needed = current.chars().count() + 3 + item.chars().count();
        if current.is_empty() {
            current = item.clone();
        } else if needed <= width {
            current.push_str(" · ");
            current.push_str(item);
        } else {
            lines.push(std::mem::take(&mut current));
            current = item.clone();
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// `text` cut to `width` columns, ending in `…` when cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` cut to `width` columns from the left (a path keeps its file name), starting with `…`.
fn fit_left(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        return text.to_string();
    }
    let tail: String = text.chars().skip(n - width.saturating_sub(1)).collect();
    format!("…{tail}")
}

/// `2026-03-31T00:40:08.060Z` as `2026-03-31 00:40:08Z`: seconds are enough to read a story.
fn short_time(time: &str) -> String {
    let (date_time, zone) = match time.find('.') {
        Some(dot) => {
            let zone_at = time[dot..].find(|c: char| !c.is_ascii_digit() && c != '.').map(|i| dot + i);
            (&time[..dot], zone_at.map(|i| &time[i..]).unwrap_or(""))
        }
        None => (time, ""),
    };
    format!("{}{zone}", date_time.replacen('T', " ", 1))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

const DIM: &str = "2";

fn severity_colour(severity: &str) -> &'static str {
    match severity {
        "critical" => "1;31",
        "high" => "31",
        "medium" => "33",
        "low" => "36",
        _ => DIM,
    }
}

fn paint(text: &str, code: &str, style: Style) -> String {
    if style.colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_the_width_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(fit_left("/a/b/c/file.log:12", 10), "…le.log:12");
        assert_eq!(fit_left("file.log:12", 20), "file.log:12");
    }

    #[test]
    fn fields_fill_lines_and_a_wide_one_takes_its_own() {
        let items: Vec<String> =
            ["a: 1", "b: 2", "c: a long value here", "d: 4"].iter().map(|s| s.to_string()).collect();
        assert_eq!(pack_items(&items, 12), ["a: 1 · b: 2", "c: a long value here", "d: 4"]);
    }

    #[test]
    fn times_are_shown_to_the_second_with_their_zone() {
        assert_eq!(short_time("2026-03-31T00:40:08.060Z"), "2026-03-31 00:40:08Z");
        assert_eq!(short_time("2026-03-31T00:40:08.5+02:00"), "2026-03-31 00:40:08+02:00");
        assert_eq!(short_time("2026-03-31T00:41:00Z"), "2026-03-31 00:41:00Z");
    }
}
