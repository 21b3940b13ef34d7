//! File-driven hunt tests, in sqllogictest's format. The language's own tests
//! (`tests/language/*.slt`) and every hunt's fixtures in the pack (`hunts/<family>/<hunt>.slt`,
//! run by `spoor test`) are files of this kind: they load events, run hunts and hold the rows
//! (or the error) each must give.
//!
//! Statements a file can hold (besides `query`):
//! - `events <table>` then one JSON object per line: rows of one of spoor's tables (real schema;
//!   `log.file.path`/`log.file.line` default to this file and line).
//! - `lookup <name>` then JSON rows: a lookup table (an IOC list), schema inferred.
//! - `iocs <file or dir>...`: IOC files (CSV, JSON, STIX, OSV), relative to this file, added to
//!   the `iocs` table (a pack's fixtures start with the pack's own).
//! - `set now <RFC 3339 time>`, `set window <start> <end>`, `set param <name> <value>`.
//!
//! A query whose whole text is `hunt` runs the hunt file the test belongs to (a fixture's
//! `.hunt` sibling). Blessing (`bless: true`) rewrites the expected results, like sqllogictest's
//! `--complete`.

use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::{DateTime, Utc};
use datafusion::prelude::SessionContext;
use sqllogictest::{DBOutput, DefaultColumnType};

use crate::dsl::fixtures::{Rows, add_events, add_lookup};
use crate::dsl::{ParamValues, RunOptions};

/// What the examples in spoor's documentation hunt: a store in a temporary directory (removed
/// when it is dropped) holding real captures that ship with spoor, OTRF's Empire VBS launcher
/// (Sysmon, Security and PowerShell events of one Windows host) and Zeek DNS of OTRF's APT29 day 1.
pub fn sample_store() -> crate::Result<SampleStore> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("spoor-sample-{}-{n}", std::process::id()));
    let store = crate::Store::open(&dir)?;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let files = [
        data.join("windows/mordor/empire_launcher_vbs.json"),
        data.join("corpus/dns/zeek/apt29_day1_SCRANTON_dns.json"),
    ];
    store.ingest(&files, &Default::default())?;
    Ok(SampleStore { store, dir })
}

/// The pack of the documentation's examples (`examples/pack`): one hunt, which finds PowerShell
/// under a script host in [`sample_store`].
pub fn example_pack() -> crate::Result<crate::pack::Pack> {
    crate::pack::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pack"))
}

/// A [`crate::Store`] whose directory goes when it is dropped.
pub struct SampleStore {
    store: crate::Store,
    dir: PathBuf,
}

impl std::ops::Deref for SampleStore {
    type Target = crate::Store;
    fn deref(&self) -> &crate::Store {
        &self.store
    }
}

impl std::ops::DerefMut for SampleStore {
    fn deref_mut(&mut self) -> &mut crate::Store {
        &mut self.store
    }
}

impl Drop for SampleStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One test file and what it needs besides its own text.
#[derive(Debug, Clone)]
pub struct TestFile {
    /// The `.slt` file.
    pub path: PathBuf,
    /// The hunt a `hunt` query runs.
    pub hunt: Option<PathBuf>,
    /// Indicator files registered as `iocs` before the first statement (a pack's `iocs/`).
    pub iocs: Vec<PathBuf>,
    /// Files the test names (`iocs <file>`) must be under this directory: the pack's root, or
    /// the test's own directory.
    pub root: PathBuf,
}

/// How a file is run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Mode {
    /// Each query's rows compared with the file's.
    #[default]
    Check,
    /// The file's expected rows rewritten with what the queries give now (sqllogictest's
    /// `--complete`): review the diff.
    Bless,
    /// As `Check`, the queries run on the Ballista cluster whose scheduler is at this address
    /// (`df://host:50050`), their events sent along as in-memory tables: a cluster must give the
    /// rows a laptop gives.
    Cluster(String),
}

/// The `.slt` files of a directory, sorted by name.
pub fn files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|x| x == "slt") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Runs one file; on failure, the error names the record and shows expected and actual rows.
pub async fn run(test: &TestFile, mode: &Mode) -> Result<(), String> {
    let iocs = test.iocs.clone();
    let roots = crate::core::confine::Roots::new(
        std::slice::from_ref(&test.root),
        "a test names only files under its pack (or its own directory)",
    )?;
    let hunt = match &test.hunt {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => None,
    };
    let (path, file) = (test.path.clone(), test.path.clone());
    let cluster = match mode {
        Mode::Cluster(address) => Some(address.clone()),
        Mode::Check | Mode::Bless => None,
    };
    let mut runner = sqllogictest::Runner::new(move || {
        let (path, hunt, iocs, roots, cluster) =
            (path.clone(), hunt.clone(), iocs.clone(), roots.clone(), cluster.clone());
        async move { Engine::new(&path, hunt, iocs, roots, cluster.as_deref()).await }
    });
    if *mode == Mode::Bless {
        // sqllogictest would record a statement that fails (a bad fixture row) as expected to
        // fail: a blessing never does that, the file is put back and the failure reported.
        let before = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let result = runner
            .update_test_file(
                &file,
                " ",
                sqllogictest::default_validator,
                sqllogictest::default_normalizer,
                sqllogictest::default_column_validator,
            )
            .await
            .map_err(|e| e.to_string());
        let after = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        if after.matches("statement error").count() > before.matches("statement error").count() {
            std::fs::write(&file, before).map_err(|e| format!("{}: {e}", file.display()))?;
            return Err(format!(
                "{}: a statement failed, so nothing was blessed:\n{}",
                file.display(),
                failed_statement(&after)
            ));
        }
        result
    } else {
        runner.run_file_async(&file).await.map_err(|e| e.display(false).to_string())
    }
}

/// The first `statement error` block of a blessed file, to show what failed.
fn failed_statement(text: &str) -> String {
    let start = text.find("statement error").unwrap_or(0);
    text[start..].lines().take(3).collect::<Vec<_>>().join("\n")
}

struct Engine {
    file: String,
    dir: PathBuf,
    hunt: Option<String>,
    /// The files behind the `iocs` table so far.
    iocs: Vec<PathBuf>,
    roots: crate::core::confine::Roots,
    ctx: SessionContext,
    options: RunOptions,
    params: ParamValues,
}

/// Why a fixture failed.
#[derive(Debug)]
pub struct Failure(String);

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

fn register_iocs(ctx: &SessionContext, files: &[PathBuf]) -> Result<(), Failure> {
    crate::core::iocs::register(ctx, files).map(|_| ()).map_err(|e| Failure(e.to_string()))
}

impl Engine {
    async fn new(
        file: &Path,
        hunt: Option<String>,
        iocs: Vec<PathBuf>,
        roots: crate::core::confine::Roots,
        cluster: Option<&str>,
    ) -> Result<Engine, Failure> {
        let ctx = match cluster {
            None => SessionContext::new_with_config(crate::core::session::config()),
            Some(address) => {
                let runtime = crate::core::session::runtime_env(None).map_err(|e| Failure(e.to_string()))?;
                let state = crate::core::session::state(crate::core::session::config(), runtime);
                crate::store::on_cluster(address, state).await.map_err(|e| Failure(e.to_string()))?
            }
        };
        if !iocs.is_empty() {
            register_iocs(&ctx, &iocs)?;
        }
        Ok(Engine {
            // The file's name, not its path: expected rows must not depend on where tests run.
            file: file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
            hunt,
            iocs,
            roots,
            ctx,
            options: RunOptions { now: time("2026-04-01T00:00:00Z")?, window: None },
            params: ParamValues::new(),
        })
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
            ["iocs", paths @ ..] if !paths.is_empty() => {
                for path in paths {
                    let path = self.roots.check("iocs", &self.dir.join(path)).map_err(Failure)?;
                    self.iocs.push(path);
                }
                register_iocs(&self.ctx, &self.iocs)
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
        let text = match (text.trim(), &self.hunt) {
            ("hunt", Some(hunt)) => hunt.clone(),
            ("hunt", None) => return Err(Failure("`hunt` runs the test's hunt file, and this test has none".into())),
            _ => text.to_string(),
        };
        let compiled =
            crate::dsl::compile(&self.ctx, &text, &self.params, &self.options).await.map_err(|e| match e {
                crate::dsl::Error::Hunt(d) => Failure(
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
        let batches = crate::dsl::run::run(&self.ctx, &compiled).await.map_err(|e| Failure(e.to_string()))?;
        rows(&batches).map_err(Failure)
    }
}

/// Rows as sqllogictest compares them: `NULL` for null, `(empty)` for an empty string.
fn rows(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, String> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<ArrayFormatter<'_>> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
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

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for Engine {
    type Error = Failure;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, text: &str) -> Result<DBOutput<DefaultColumnType>, Failure> {
        let head = text.split_whitespace().next().unwrap_or_default();
        if matches!(head, "events" | "lookup" | "set" | "iocs") {
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
