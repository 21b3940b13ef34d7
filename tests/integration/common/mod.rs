//! Helpers shared by the end-to-end tests: ingest into a fresh store, query it as text.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use spoor::core::ingest::{IngestOptions, IngestSummary, Quiet};
use spoor::core::{Store, ingest, session};

pub fn documented(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/documented").join(rel)
}

pub fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus").join(rel)
}

pub struct Ingested {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub summary: IngestSummary,
}

pub fn ingest_with(paths: &[PathBuf], options: IngestOptions) -> Ingested {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    let summary = ingest(&store, paths, &options, &Quiet).unwrap();
    for f in &summary.files {
        assert_eq!(f.read, f.stored + f.skipped + f.rejected, "every record is accounted for in {}", f.path.display());
    }
    Ingested { _dir: dir, store, summary }
}

pub fn ingest_files(paths: &[PathBuf]) -> Ingested {
    ingest_with(paths, IngestOptions::default())
}

/// Runs SQL over the store and renders every cell as text (nulls as `NULL`), row by row.
pub fn query(store: &Store, sql: &str) -> Vec<Vec<String>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let ctx = session::context(store).await.unwrap();
        let batches: Vec<RecordBatch> = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let options = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        for batch in batches {
            let formatters: Vec<_> =
                batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap()).collect();
            for row in 0..batch.num_rows() {
                rows.push(formatters.iter().map(|f| f.value(row).to_string()).collect());
            }
        }
        rows
    })
}

pub fn one_row(store: &Store, sql: &str) -> Vec<String> {
    let rows = query(store, sql);
    assert_eq!(rows.len(), 1, "expected one row from {sql}, got {rows:?}");
    rows.into_iter().next().unwrap()
}

/// Expected rows written as string arrays, in the shape `query` returns.
pub fn rows<const N: usize>(expected: &[[&str; N]]) -> Vec<Vec<String>> {
    expected.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

/// Runs the `spoor` binary: exit code, stdout, stderr.
pub fn spoor(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spoor")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file under `dir`, at any depth.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Reads the child's stderr until a line contains `wanted` (then drains the rest in the
/// background, so the child never blocks on a full pipe). Kills the child and panics if it
/// exits first, or after two minutes.
pub fn wait_for_stderr(child: &mut std::process::Child, wanted: &str) {
    use std::io::BufRead;
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr piped"));
    let mut line = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 || std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("spoor ended before printing `{wanted}`");
        }
        if line.contains(wanted) {
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return;
        }
    }
}
