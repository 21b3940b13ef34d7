//! File-driven tests of the hunting language, in sqllogictest's format: each file in
//! `tests/language/` loads events, runs hunts and holds the rows (or the error) each must give.
//!
//! Statements a file can hold (besides `query`):
//! - `events <table>` then one JSON object per line: rows of one of spoor's tables (real schema;
//!   `log.file.path`/`log.file.line` default to this file and line).
//! - `lookup <name>` then JSON rows: a lookup table (an IOC list), schema inferred.
//! - `set now <RFC 3339 time>`, `set window <start> <end>`, `set param <name> <value>`.
//!
//! `SPOOR_BLESS=1 cargo test --test language` rewrites the expected results (sqllogictest's
//! `--complete`); review the diff before committing it.

use std::path::{Path, PathBuf};

use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::{DateTime, Utc};
use datafusion::prelude::SessionContext;
use spoor::dsl::fixtures::{Rows, add_events, add_lookup};
use spoor::dsl::{ParamValues, RunOptions};
use sqllogictest::{DBOutput, DefaultColumnType};

struct Hunts {
    file: String,
    ctx: SessionContext,
    options: RunOptions,
    params: ParamValues,
}

#[derive(Debug)]
struct Failure(String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

fn time(text: &str) -> Result<DateTime<Utc>, Failure> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Failure(format!("bad time `{text}`: {e}")))
}

impl Hunts {
    fn new(file: &Path) -> Hunts {
        Hunts {
            file: file.display().to_string(),
            ctx: SessionContext::new_with_config(spoor::core::session::config()),
            options: RunOptions { now: time("2026-04-01T00:00:00Z").unwrap_or_default(), window: None },
            params: ParamValues::new(),
        }
    }

    async fn statement(&mut self, text: &str) -> Result<(), Failure> {
        let mut lines = text.lines();
        let head = lines.next().unwrap_or_default().trim();
        let words: Vec<&str> = head.split_whitespace().collect();
        let rows = || Rows {
            origin: &self.file,
            rows: lines.clone().enumerate().map(|(i, l)| (i + 2, l)).filter(|(_, l)| !l.trim().is_empty()).collect(),
        };
        match words.as_slice() {
            ["events", table] => {
                add_events(&self.ctx, table, &rows()).await.map(|_| ()).map_err(|e| Failure(e.to_string()))
            }
            ["lookup", name] => {
                add_lookup(&self.ctx, name, &rows()).await.map(|_| ()).map_err(|e| Failure(e.to_string()))
            }
            ["set", "now", t] => {
                self.options.now = time(t)?;
                Ok(())
            }
            ["set", "window", start, end] => {
                self.options.window = Some((time(start)?, time(end)?));
                Ok(())
            }
            ["set", "param", name, value @ ..] => {
                self.params.insert(name.to_string(), value.join(" "));
                Ok(())
            }
            _ => Err(Failure(format!("unknown statement `{head}`"))),
        }
    }

    async fn query(&mut self, text: &str) -> Result<Vec<Vec<String>>, Failure> {
        let compiled =
            spoor::dsl::compile(&self.ctx, text, &self.params, &self.options).await.map_err(|e| match e {
                spoor::dsl::Error::Hunt(d) => Failure(
                    d.iter()
                        .map(|d| {
                            format!(
                                "{} {}{}",
                                d.code,
                                d.message,
                                d.hint.as_ref().map(|h| format!(" (hint: {h})")).unwrap_or_default()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                e => Failure(e.to_string()),
            })?;
        let batches = spoor::dsl::run::run(&self.ctx, &compiled).await.map_err(|e| Failure(e.to_string()))?;
        let options = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        for batch in &batches {
            let formatters: Vec<ArrayFormatter<'_>> = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<_, _>>()
                .map_err(|e| Failure(e.to_string()))?;
            for row in 0..batch.num_rows() {
                rows.push(
                    formatters
                        .iter()
                        .map(|f| {
                            let s = f.value(row).to_string();
                            if s.is_empty() { "(empty)".to_string() } else { s }
                        })
                        .collect(),
                );
            }
        }
        Ok(rows)
    }
}

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for Hunts {
    type Error = Failure;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, text: &str) -> Result<DBOutput<DefaultColumnType>, Failure> {
        let head = text.trim_start().split_whitespace().next().unwrap_or_default();
        if matches!(head, "events" | "lookup" | "set") {
            self.statement(text).await?;
            return Ok(DBOutput::StatementComplete(0));
        }
        let rows = self.query(text).await?;
        let width = rows.first().map_or(1, Vec::len);
        Ok(DBOutput::Rows { types: vec![DefaultColumnType::Any; width], rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "spoor"
    }
}

fn files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/language");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "slt")).collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let bless = std::env::var_os("SPOOR_BLESS").is_some();
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut failed = Vec::new();
    let mut passed = 0;
    for file in files() {
        let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let path = file.clone();
        let mut runner = sqllogictest::Runner::new(move || {
            let path = path.clone();
            async move { Ok(Hunts::new(&path)) }
        });
        let result = if bless {
            runner
                .update_test_file(
                    &file,
                    " ",
                    sqllogictest::default_validator,
                    sqllogictest::default_normalizer,
                    sqllogictest::default_column_validator,
                )
                .await
                .map_err(|e| e.to_string())
        } else {
            runner.run_file_async(&file).await.map_err(|e| e.display(true).to_string())
        };
        match result {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(e) => {
                println!("test {name} ... FAILED\n{e}");
                failed.push(name);
            }
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len()
    );
    if !failed.is_empty() || passed == 0 {
        std::process::exit(1);
    }
}
