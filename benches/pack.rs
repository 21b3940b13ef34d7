//! The hunt pack over a large generated fleet: `cargo bench --bench pack` (release build).
//!
//! Generates the demo scenario with `SPOOR_BENCH_FLEET` busy hosts added (default 1,550: about
//! five million process events, with their DNS, network, CI jobs and lockfiles) under
//! `SPOOR_BENCH_DIR` (default `$HOME/.cache/spoor/bench`), ingests it once (both are reused by
//! later runs), then times every hunt of `hunts/` over the store: compile and run, best and
//! median of `SPOOR_BENCH_RUNS` (default 3). Each hunt's rows are written as NDJSON next to
//! the store, for `benches/duckdb_compare.py` to check DuckDB's answers against.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chrono::Utc;
use spoor::core::{IngestOptions, Store};
use spoor::dsl::{ParamValues, RunOptions};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn bench_dir() -> PathBuf {
    std::env::var_os("SPOOR_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/spoor/bench"))
}

fn generate(root: &Path, data: &Path, fleet: usize) {
    if data.join("audit").is_dir() {
        println!("reusing {}", data.display());
        return;
    }
    let started = Instant::now();
    let status = Command::new("python3")
        .arg(root.join("scripts/scenario.py"))
        .arg("--out")
        .arg(data)
        .arg("--fleet")
        .arg(fleet.to_string())
        .status()
        .expect("python3 runs scripts/scenario.py");
    assert!(status.success(), "the generator failed");
    println!("generated in {:.1} s", started.elapsed().as_secs_f64());
}

fn ingest(data: &Path, store_dir: &Path) -> Store {
    let done = store_dir.join(".ingested");
    if done.is_file() {
        println!("reusing {}", store_dir.display());
        return Store::open_existing(store_dir).expect("the store opens");
    }
    let _ = std::fs::remove_dir_all(store_dir);
    let store = Store::open(store_dir).expect("a store");
    let started = Instant::now();
    let summary =
        spoor::core::ingest(&store, &[data.to_path_buf()], &IngestOptions::default(), &spoor::core::ingest::Quiet)
            .expect("the fleet ingests");
    let seconds = started.elapsed().as_secs_f64();
    let bytes = summary.total(|f| f.bytes);
    println!(
        "ingested {} records ({:.0} MB) in {seconds:.1} s: {:.1} MB/s",
        summary.total(|f| f.stored),
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / seconds
    );
    for (table, rows) in summary.rows() {
        println!("  {:<10} {rows:>10}", table.name());
    }
    std::fs::write(&done, "").expect("the marker is written");
    store
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo bench` passes `--bench`; a name filter may follow.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fleet: usize = env_or("SPOOR_BENCH_FLEET", 1550);
    let runs: usize = env_or("SPOOR_BENCH_RUNS", 3).max(1);
    let dir = bench_dir().join(format!("fleet-{fleet}"));
    generate(root, &dir.join("data"), fleet);
    let store = ingest(&dir.join("data"), &dir.join("store"));
    let results = dir.join("spoor-results");
    std::fs::create_dir_all(&results).expect("the results directory");

    let pack = spoor::pack::load(&root.join("hunts")).unwrap_or_else(|e| panic!("{e}"));
    // The session a pack run hunts in: the store's tables and the pack's indicators.
    let options = RunOptions { now: Utc::now(), window: None };
    let front = spoor::Store::open_existing(store.root()).expect("the store");
    let ctx = front
        .session(&spoor::HuntOptions { iocs: pack.iocs.clone(), run: options.clone(), ..Default::default() })
        .await
        .expect("a session");
    println!("\n| hunt | rows | best ms | median ms |\n|---|---:|---:|---:|");
    for hunt in &pack.hunts {
        if filter.as_ref().is_some_and(|f| !hunt.id().contains(f.as_str())) {
            continue;
        }
        let mut times = Vec::new();
        let mut batches = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            let compiled = spoor::dsl::compile(&ctx, &hunt.text, &ParamValues::new(), &options)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", hunt.id()));
            batches = spoor::dsl::run::run(&ctx, &compiled).await.unwrap_or_else(|e| panic!("{}: {e}", hunt.id()));
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        if std::env::var_os("SPOOR_BENCH_PHASES").is_some() {
            phases(&ctx, &hunt.text, &options, runs).await;
        }
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        println!("| `{}` | {rows} | {:.0} | {:.0} |", hunt.id(), times[0], times[times.len() / 2]);
        let file = std::fs::File::create(results.join(format!("{}.ndjson", hunt.id()))).expect("a results file");
        let mut writer = arrow::json::LineDelimitedWriter::new(file);
        for b in &batches {
            writer.write(b).expect("rows are written");
        }
        writer.finish().expect("rows are written");
        let timing = serde_json::json!({ "hunt": hunt.id(), "rows": rows, "best_ms": times[0], "median_ms": times[times.len() / 2] });
        std::fs::write(results.join(format!("{}.timing.json", hunt.id())), timing.to_string())
            .expect("timing is written");
    }
}

/// Where a hunt's time goes (`SPOOR_BENCH_PHASES=1`): compile (parse, resolve, lower), prepare
/// (logical optimization while the `let`s computed once are computed, then physical planning)
/// and execution, best of `runs` each.
async fn phases(ctx: &datafusion::prelude::SessionContext, text: &str, options: &RunOptions, runs: usize) {
    let mut best = [f64::MAX; 3];
    for _ in 0..runs {
        let started = Instant::now();
        let compiled = spoor::dsl::compile(ctx, text, &ParamValues::new(), options).await.expect("compiles");
        let compiled_at = Instant::now();
        let prepared = spoor::dsl::run::prepared(ctx, &compiled.plan).await.expect("prepares");
        let prepared_at = Instant::now();
        datafusion::physical_plan::collect(std::sync::Arc::clone(&prepared.plan), ctx.task_ctx()).await.expect("runs");
        let laps = [compiled_at - started, prepared_at - compiled_at, prepared_at.elapsed()];
        for (best, lap) in best.iter_mut().zip(laps) {
            *best = best.min(lap.as_secs_f64() * 1e3);
        }
    }
    let [compile, prepare, run] = best;
    println!("    compile {compile:.1} ms, prepare {prepare:.1} ms, run {run:.1} ms");
}
