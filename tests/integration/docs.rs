//! The language reference cannot drift: every ```hunt block in `docs/language.md` is compiled
//! and run on the sample events in `tests/data/language/examples.events`, and the ```rows block
//! after it must be exactly what the hunt finds. `SPOOR_BLESS=1` rewrites the rows blocks (review
//! the diff: the rows are the documentation).

use std::path::Path;

use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;
use spoor::dsl::fixtures::{Rows, add_events, add_lookup};
use spoor::dsl::{ParamValues, RunOptions};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

async fn sample_session() -> SessionContext {
    let ctx = SessionContext::new_with_config(spoor::core::session::config());
    let path = "tests/data/language/examples.events";
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((_, line)) = lines.next() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (kind, name) = match words.as_slice() {
            [kind @ ("events" | "lookup"), name] => (*kind, *name),
            _ => continue,
        };
        let mut rows = Vec::new();
        while let Some((n, l)) = lines.next_if(|(_, l)| !l.trim().is_empty()) {
            rows.push((n + 1, l));
        }
        let rows = Rows { origin: path, rows };
        let added =
            if kind == "events" { add_events(&ctx, name, &rows).await } else { add_lookup(&ctx, name, &rows).await };
        added.unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    ctx
}

async fn rows(ctx: &SessionContext, hunt: &str) -> Result<Vec<String>, String> {
    let now = chrono::DateTime::parse_from_rfc3339("2026-04-01T00:00:00Z").unwrap().to_utc();
    let options = RunOptions { now, window: None };
    let compiled = spoor::dsl::compile(ctx, hunt, &ParamValues::new(), &options).await.map_err(|e| match e {
        spoor::dsl::Error::Hunt(d) => spoor::dsl::render::pretty(&d, hunt, "example", false),
        e => e.to_string(),
    })?;
    let batches = spoor::dsl::run::run(ctx, &compiled).await.map_err(|e| e.to_string())?;
    let options = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for batch in &batches {
        if out.is_empty() {
            out.push(batch.schema().fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(" | "));
        }
        let formatters: Vec<_> =
            batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap()).collect();
        for row in 0..batch.num_rows() {
            out.push(formatters.iter().map(|f| f.value(row).to_string()).collect::<Vec<_>>().join(" | "));
        }
    }
    if out.is_empty() {
        out.push("(no rows)".into());
    }
    Ok(out)
}

#[tokio::test]
async fn every_example_in_the_language_reference_runs_and_gives_its_rows() {
    let path = root().join("docs/language.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let ctx = sample_session().await;
    let bless = std::env::var_os("SPOOR_BLESS").is_some();
    let lines: Vec<&str> = doc.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut failures = Vec::new();
    let mut examples = 0;
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "```hunt" {
            out.push(lines[i].to_string());
            i += 1;
            continue;
        }
        let start = i + 1;
        let end = (start..lines.len()).find(|&j| lines[j].trim() == "```").expect("closed hunt block");
        let hunt = lines[start..end].join("\n");
        out.extend(lines[i..=end].iter().map(|l| l.to_string()));
        i = end + 1;
        examples += 1;
        let got = match rows(&ctx, &hunt).await {
            Ok(rows) => rows,
            Err(e) => {
                failures.push(format!("line {start}: the example does not run:\n{hunt}\n{e}"));
                continue;
            }
        };
        // An optional ```rows block right after (one blank line allowed) holds the expected rows.
        let mut j = i;
        if j < lines.len() && lines[j].trim().is_empty() && lines.get(j + 1).is_some_and(|l| l.trim() == "```rows") {
            j += 1;
        }
        if lines.get(j).is_some_and(|l| l.trim() == "```rows") {
            let rows_end = (j + 1..lines.len()).find(|&k| lines[k].trim() == "```").expect("closed rows block");
            let expected: Vec<&str> = lines[j + 1..rows_end].to_vec();
            if expected != got.iter().map(String::as_str).collect::<Vec<_>>() {
                failures.push(format!(
                    "line {start}: rows differ\n{hunt}\nexpected:\n{}\ngot:\n{}",
                    expected.join("\n"),
                    got.join("\n")
                ));
            }
            out.extend(lines[i..j].iter().map(|l| l.to_string()));
            out.push("```rows".into());
            out.extend(got);
            out.push("```".into());
            i = rows_end + 1;
        }
    }
    if bless {
        std::fs::write(&path, out.join("\n") + "\n").unwrap();
        failures.retain(|f| !f.contains("rows differ"));
    }
    assert!(examples >= 20, "docs/language.md has only {examples} examples");
    assert!(failures.is_empty(), "{} of {examples} examples fail:\n\n{}", failures.len(), failures.join("\n\n"));
}
