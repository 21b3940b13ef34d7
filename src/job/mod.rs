//! Scheduled hunt jobs: a job file names a store, hunts, a schedule and sinks; each cycle hunts
//! the data that arrived since the last one and delivers each finding exactly once.
//!
//! Inside: `config` reads the job file (TOML) into a [`Job`]; `state` keeps watermarks,
//! delivered finding ids and the pending cycle, saved atomically, and the lock that keeps a
//! second process off the job; `cycle` runs one cycle, safe to kill at any point; `sinks`
//! deliver to stdout, an NDJSON file, a Parquet directory, a SARIF file or a webhook.
//!
//! [`run_once`] runs one cycle (for cron, systemd timers, Kubernetes CronJobs); [`serve`] runs
//! cycles on the schedule until SIGINT or SIGTERM, finishing the cycle in progress.
//!
//! ```
//! let text = "store = 'store'\npack = 'hunts'\nhunts = ['c2.*']\nschedule = '*/10 * * * *'\n\
//!             [[sink]]\ntype = 'webhook'\nurl = 'https://siem.example/alerts'\n";
//! let job = spoor::job::Job::parse("/etc/spoor/c2.toml".as_ref(), text)?;
//! assert_eq!((job.name.as_str(), job.sinks[0].describe().as_str()), ("c2", "webhook https://siem.example/alerts"));
//! # Ok::<(), spoor::Error>(())
//! ```

mod config;
mod cycle;
mod sinks;
mod state;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use config::{HuntPattern, HuntSelection, Job, Schedule, SinkConfig, StdoutFormat, WebhookConfig};
pub use cycle::CycleReport;

use crate::{Error, Result};
use state::StateDir;

fn runtime() -> Result<tokio::runtime::Runtime> {
    crate::core::session::runtime().map_err(|e| Error::Internal(format!("cannot start the query runtime: {e}")))
}

/// The job's hunts and its locked state directory.
fn open(job: &Job) -> Result<(cycle::Hunts, StateDir)> {
    let mapping = crate::sigma::mapping(job.sigma_mapping.as_deref())?;
    let pack = crate::pack::load_with(&job.pack, &mapping)?;
    if let Some(note) = crate::sigma::skipped_note(&pack) {
        tracing::warn!("{note}");
    }
    let hunts = cycle::select(job, pack)?;
    let dir = StateDir::lock(&job.state_dir, &job.name)?;
    Ok((hunts, dir))
}

/// Runs one cycle and logs its summary.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("spoor-job-run-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let root = env!("CARGO_MANIFEST_DIR");
/// std::fs::write(dir.join("job.toml"), format!("store = 'store'\npack = '{root}/examples/pack'\n\
///     [ingest]\npaths = ['{root}/tests/data/windows/mordor/empire_launcher_vbs.json']\n\
///     [[sink]]\ntype = 'ndjson'\npath = 'findings.ndjson'\n")).unwrap();
/// let job = spoor::job::Job::load(&dir.join("job.toml"))?;
/// let first = spoor::job::run_once(&job)?;
/// assert_eq!(first.delivered, 2);
/// assert_eq!(std::fs::read_to_string(dir.join("findings.ndjson")).unwrap().lines().count(), 2);
/// // Nothing new arrived: nothing is hunted or delivered again.
/// let second = spoor::job::run_once(&job)?;
/// assert_eq!((second.new_store_files, second.delivered), (0, 0));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), spoor::Error>(())
/// ```
pub fn run_once(job: &Job) -> Result<CycleReport> {
    let (hunts, dir) = open(job)?;
    let runtime = runtime()?;
    let report = cycle::run_cycle(job, &hunts, &dir, &runtime)?;
    log(job, &report);
    Ok(report)
}

/// Runs cycles on the job's schedule until SIGINT or SIGTERM. A failed cycle is logged and
/// the next one retries (its findings stay pending); the signal lets a running cycle finish.
///
/// Not run as a test: it returns only on a signal.
///
/// ```no_run
/// let job = spoor::job::Job::load("jobs/axios.toml".as_ref())?;
/// spoor::job::serve(&job)?; // until SIGINT or SIGTERM
/// # Ok::<(), spoor::Error>(())
/// ```
pub fn serve(job: &Job) -> Result<()> {
    let (hunts, dir) = open(job)?;
    let runtime = runtime()?;
    let stop = Arc::new(AtomicBool::new(false));
    let wake = Arc::new(tokio::sync::Notify::new());
    {
        let (stop, wake) = (stop.clone(), wake.clone());
        runtime.spawn(async move {
            let name = wait_for_signal().await;
            tracing::info!(signal = name, "stopping after the cycle in progress");
            stop.store(true, Ordering::SeqCst);
            wake.notify_one();
        });
    }
    tracing::info!(job = %job.name, store = %job.store.display(), "serving");
    while !stop.load(Ordering::SeqCst) {
        match cycle::run_cycle(job, &hunts, &dir, &runtime) {
            Ok(report) => log(job, &report),
            Err(e) => tracing::error!(job = %job.name, error = %e, "cycle failed"),
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let now = chrono::Utc::now();
        let next = job.schedule.next(now)?;
        tracing::debug!(next = %next.to_rfc3339(), "waiting for the next cycle");
        let wait = (next - now).to_std().unwrap_or_default();
        runtime.block_on(async {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = wake.notified() => {}
            }
        });
    }
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}

fn micros(t: Option<i64>) -> String {
    t.and_then(chrono::DateTime::from_timestamp_micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| "-".into())
}

/// The per-cycle summary, as one structured log event (and warnings for what needs a look).
fn log(job: &Job, r: &CycleReport) {
    for (path, stored, rejected, error) in &r.ingested {
        match error {
            Some(e) => tracing::warn!(file = %path, error = %e, "input not ingested"),
            None => tracing::info!(file = %path, stored, rejected, "ingested"),
        }
    }
    for path in &r.changed_inputs {
        tracing::warn!(file = %path, "input changed after it was ingested (not only grew): read again whole");
    }
    if r.too_late > 0 {
        tracing::warn!(rows = r.too_late, before = %micros(r.window_start), "rows arrived later than the allowed lateness and were not hunted");
    }
    let per_hunt: Vec<String> = r.findings_by_hunt.iter().map(|(h, n)| format!("{h}={n}")).collect();
    tracing::info!(
        job = %job.name,
        cycle = r.cycle,
        new_files = r.new_store_files,
        rows = r.new_rows,
        data_from = %micros(r.data_range.map(|d| d.0)),
        data_to = %micros(r.data_range.map(|d| d.1)),
        window_from = %micros(r.window_start),
        findings = %per_hunt.join(","),
        delivered = r.delivered,
        recovered = r.recovered,
        repeats = r.repeats,
        ms = r.elapsed_ms as u64,
        "cycle done"
    );
}
