//! One cycle of a job: finish what a crashed cycle left, ingest new input files, hunt the data
//! that arrived since the last cycle (with the look-back its sequences need), deliver the
//! findings not delivered before, then record the new watermark.
//!
//! The order makes a crash at any point harmless: an ingest commits as a whole, with the inputs it
//! read in the store's manifest (a crashed one left nothing, or everything, and the next cycle
//! reads only the inputs the manifest does not know); findings are recorded as
//! pending before any sink sees them and each sink's acceptance is recorded as it happens (a
//! crash resumes with the sinks that had not accepted); the watermark moves only once every
//! sink has accepted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::config::Job;
use super::sinks::{self, Delivery};
use super::state::{Commit, Pending, State, StateDir};
use crate::core::ingest::IngestOptions;
use crate::core::manifest::Known;
use crate::core::store::pause_for_tests;
use crate::dsl::RunOptions;
use crate::pack::{Finding, Outcome, Pack, PackHunt};
use crate::{Error, Result, Store};

/// What a cycle did, for the log and the exit code.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("spoor-job-run-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let root = env!("CARGO_MANIFEST_DIR");
/// std::fs::write(dir.join("job.toml"), format!("store = 'store'\npack = '{root}/examples/pack'\n\
///     [ingest]\npaths = ['{root}/tests/data/windows/mordor/empire_launcher_vbs.json']\n\
///     [[sink]]\ntype = 'ndjson'\npath = 'findings.ndjson'\n")).unwrap();
/// let job = spoor::job::Job::load(&dir.join("job.toml"))?;
/// let report = spoor::job::run_once(&job)?;
/// assert_eq!((report.cycle, report.ingested.len(), report.findings_by_hunt["example.script-host-powershell"]), (1, 1, 2));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), spoor::Error>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct CycleReport {
    /// The cycle's number (1 for the first).
    pub cycle: u64,
    /// Findings of an interrupted earlier cycle delivered first.
    pub recovered: usize,
    /// Input files ingested: (path, records stored, records rejected, error).
    pub ingested: Vec<(String, u64, u64, Option<String>)>,
    /// Input files that changed after they were ingested (not read again).
    pub changed_inputs: Vec<String>,
    /// Store files written since the last cycle.
    pub new_store_files: usize,
    /// Rows of the new data.
    pub new_rows: u64,
    /// Event-time range of the new data (µs).
    pub data_range: Option<(i64, i64)>,
    /// Hunts read events from here on (µs).
    pub window_start: Option<i64>,
    /// New rows older than the window: later than the allowed lateness, not hunted.
    pub too_late: u64,
    /// Findings per hunt, delivered or not.
    pub findings_by_hunt: BTreeMap<String, usize>,
    /// Findings delivered by this cycle (not counting `recovered`).
    pub delivered: usize,
    /// Findings found again and not sent (delivered before, or suppressed).
    pub repeats: usize,
    /// How long the cycle took.
    pub elapsed_ms: u128,
}

/// A test hook: `SPOOR_TEST_PAUSE_AT=<point>` stops the process at that point (it sleeps,
/// for the test to kill it with SIGKILL) so crash recovery can be tested at each step. The
/// points: `after-ingest` (files committed, not yet recorded), `after-prepare` (findings
/// pending), `delivered-<n>` (sink n has them, not yet recorded), `acknowledged-<n>`.
/// Microseconds far in the future: the open end of a job's window.
const OPEN_END: i64 = 253_402_300_799_000_000; // 9999-12-31T23:59:59Z

fn time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// Runs one cycle of `job`: ingest what is new, hunt it, deliver new findings, then commit the state.
pub fn run_cycle(job: &Job, hunts: &Hunts, dir: &StateDir, runtime: &tokio::runtime::Runtime) -> Result<CycleReport> {
    let started = Instant::now();
    let mut state = dir.load()?;
    let mut report = CycleReport::default();
    let store = Store::open(&job.store)?;

    if state.pending.is_some() {
        report.recovered = deliver_pending(job, &hunts.pack, &mut state, dir)?;
    }
    ingest_new(job, &store, &mut report)?;

    let files = store_files(&store)?;
    let new: Vec<&String> = files.iter().filter(|name| !state.store_files.contains(*name)).collect();
    report.cycle = state.cycles + 1;
    report.new_store_files = new.len();
    if new.is_empty() {
        report.elapsed_ms = started.elapsed().as_millis();
        return Ok(report);
    }
    let mut range: Option<(i64, i64)> = None;
    let mut file_ranges = Vec::with_capacity(new.len());
    for name in &new {
        let (rows, file_range) = time_range(&StoreFile::open(&store, name)?)?;
        report.new_rows += rows;
        if let Some((lo, hi)) = file_range {
            range = Some(range.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
        file_ranges.push(file_range);
    }
    report.data_range = range;
    let (new_min, new_max) = range.unwrap_or((0, 0));
    let lookback = job.lookback.num_microseconds().unwrap_or(i64::MAX / 4);
    let lateness = job.lateness.num_microseconds().unwrap_or(i64::MAX / 4);
    let floor = state.event_watermark.map_or(new_min, |w| new_min.max(w.saturating_sub(lateness)));
    let start = floor.saturating_sub(lookback);
    report.window_start = Some(start);
    for (name, file_range) in new.iter().zip(&file_ranges) {
        if file_range.is_some_and(|(lo, _)| lo < start) {
            report.too_late += rows_before(&StoreFile::open(&store, name)?, start)?;
        }
    }

    let found = runtime.block_on(hunt(job, hunts, &store, start))?;
    let now = Utc::now().timestamp_micros();
    let suppress = job.suppress.and_then(|d| d.num_microseconds());
    let mut fresh = Vec::new();
    let mut commit = Commit {
        event_watermark: Some(state.event_watermark.map_or(new_max, |w| w.max(new_max))),
        store_files: new.iter().map(|name| (*name).clone()).collect(),
        sent: BTreeMap::new(),
        suppressed: BTreeMap::new(),
        forget_before: None,
    };
    let watermark = commit.event_watermark.unwrap_or(new_max);
    // Ids bounded before the earliest start a later window can have cannot be found again.
    commit.forget_before = Some(watermark.saturating_sub(lateness).saturating_sub(lookback.saturating_mul(2)));
    for f in found {
        *report.findings_by_hunt.entry(f.hunt.to_string()).or_default() += 1;
        if state.sent.contains_key(&f.id) || commit.sent.contains_key(&f.id) {
            report.repeats += 1;
            continue;
        }
        let bound = f
            .timestamp
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map_or(new_max, |t| t.timestamp_micros());
        commit.sent.insert(f.id.clone(), bound);
        let key = suppression_key(&f);
        if let Some(span) = suppress {
            let last = state.suppressed.get(&key).or(commit.suppressed.get(&key));
            if last.is_some_and(|at| now - at < span) {
                report.repeats += 1;
                continue;
            }
            commit.suppressed.insert(key, now);
        }
        fresh.push(f);
    }
    // Most severe first, as `spoor pack run` lists them.
    fresh.sort_by_key(|f| crate::pack::render::rank(&f.severity));
    report.delivered = fresh.len();
    state.pending = Some(Pending {
        cycle: report.cycle,
        findings: fresh,
        delivered: BTreeSet::new(),
        offsets: BTreeMap::new(),
        commit,
    });
    dir.save(&state)?;
    pause_for_tests("after-prepare");
    deliver_pending(job, &hunts.pack, &mut state, dir)?;
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// Hunt id and entities: what `suppress` treats as the same finding.
fn suppression_key(f: &Finding) -> String {
    let entities: Vec<String> = f.entities.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}|{}", f.hunt, entities.join("|"))
}

/// The job's hunts: the pack cut down to those the job names (the whole pack when it names
/// none), with each one's parameters. Made once, when the job starts, so a selection that
/// matches nothing stops the job at once.
pub struct Hunts {
    /// The pack, cut down to the job's hunts.
    pub pack: Pack,
    /// Each hunt's parameters, by id.
    pub params: BTreeMap<String, crate::dsl::ParamValues>,
}

/// The hunts of `pack` that `job` names, with their parameters; an error when a selection matches none.
pub fn select(job: &Job, mut pack: Pack) -> Result<Hunts> {
    let mut params: BTreeMap<String, crate::dsl::ParamValues> = BTreeMap::new();
    if job.hunts.is_empty() {
        return Ok(Hunts { pack, params });
    }
    for selection in &job.hunts {
        let matching: Vec<&PackHunt> = pack.hunts.iter().filter(|h| selection.pattern.matches(h)).collect();
        if matching.is_empty() {
            return Err(Error::User(format!(
                "{}: no hunt of {} matches {} (`spoor pack docs --pack {}` lists them)",
                job.file.display(),
                pack.root.display(),
                selection.pattern,
                pack.root.display()
            )));
        }
        for hunt in matching {
            params.entry(hunt.id().to_string()).or_default().extend(selection.params.clone());
        }
    }
    pack.hunts.retain(|h| params.contains_key(h.id()));
    Ok(Hunts { pack, params })
}

async fn hunt(job: &Job, hunts: &Hunts, store: &Store, start: i64) -> Result<Vec<Finding>> {
    // Each selection's parameters, scoped to the hunts it chose.
    let params = hunts
        .params
        .iter()
        .flat_map(|(id, values)| values.iter().map(move |(name, value)| (format!("{id}.{name}"), value.clone())))
        .collect();
    let options = crate::HuntOptions {
        params,
        run: RunOptions { now: Utc::now(), window: Some((time(start), time(OPEN_END))) },
        iocs: job.iocs.clone(),
        limits: job.limits,
        cluster: job.cluster.clone(),
        ..Default::default()
    };
    let mut found = Vec::new();
    for run in store.run_pack(&hunts.pack, &options).await? {
        match run.outcome {
            Outcome::Ran { findings, .. } => found.extend(findings),
            Outcome::Skipped { .. } => {}
            Outcome::Failed(e) => {
                tracing::error!(hunt = run.hunt.id(), "{e}");
                return Err(e);
            }
        }
    }
    Ok(found)
}

/// Delivers the pending cycle to every sink that has not accepted it, then commits it.
/// Returns the number of findings.
fn deliver_pending(job: &Job, pack: &Pack, state: &mut State, dir: &StateDir) -> Result<usize> {
    let Some(pending) = state.pending.clone() else { return Ok(0) };
    let ids: BTreeSet<&str> = pending.findings.iter().map(|f| &*f.hunt).collect();
    let hunts: Vec<&PackHunt> = pack.hunts.iter().filter(|h| ids.contains(h.id())).collect();
    let delivery = Delivery { job: &job.name, cycle: pending.cycle, findings: &pending.findings, hunts: &hunts };
    for (i, sink) in job.sinks.iter().enumerate() {
        if pending.delivered.contains(&i) || pending.findings.is_empty() {
            continue;
        }
        let offset = match pending.offsets.get(&i) {
            Some(offset) => Some(*offset),
            None => {
                let offset = sinks::append_offset(sink);
                if let (Some(o), Some(p)) = (offset, state.pending.as_mut()) {
                    p.offsets.insert(i, o);
                    dir.save(state)?;
                }
                offset
            }
        };
        sinks::deliver(sink, &delivery, offset).map_err(|e| {
            Error::Delivery(format!(
                "sink {} failed: {e}; cycle {}'s {} finding(s) stay pending and are delivered by the next cycle",
                sink.describe(),
                pending.cycle,
                pending.findings.len()
            ))
        })?;
        pause_for_tests(&format!("delivered-{i}"));
        if let Some(p) = state.pending.as_mut() {
            p.delivered.insert(i);
        }
        dir.save(state)?;
        pause_for_tests(&format!("acknowledged-{i}"));
    }
    state.apply(pending.commit);
    dir.save(state)?;
    Ok(pending.findings.len())
}

/// Store files by path relative to the store.
fn store_files(store: &Store) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for table in crate::core::Table::ALL {
        out.extend(store.core().stored_files(table)?.into_iter().map(|file| file.path));
    }
    Ok(out)
}

/// Ingests the input files: the store's manifest skips those read before and reads only the new
/// part of those that grew.
fn ingest_new(job: &Job, store: &Store, report: &mut CycleReport) -> Result<()> {
    if job.ingest.is_empty() {
        return Ok(());
    }
    let mut paths = crate::core::walk::all_files(&job.ingest, |_| true)?;
    if let Some(roots) = &job.confined_to {
        paths.retain(|path| match roots.check("input file", path) {
            Ok(_) => true,
            Err(refused) => {
                tracing::warn!("{refused}");
                false
            }
        });
    }
    let options = IngestOptions { format: job.ingest_format, ..Default::default() };
    let summary = store.ingest(&paths, &options)?;
    pause_for_tests("after-ingest");
    for f in &summary.files {
        match &f.known {
            Known::Same { .. } => continue,
            Known::Changed { .. } => report.changed_inputs.push(f.path.display().to_string()),
            Known::New | Known::Appended { .. } => {}
        }
        report.ingested.push((
            f.path.display().to_string(),
            f.stored,
            f.rejected,
            f.error.as_ref().map(|e| e.to_string()),
        ));
    }
    Ok(())
}

/// A store file to read footers and columns of: on disk, read where it is; in an object store,
/// fetched whole (a cycle reads only the files that are new since the last).
struct StoreFile {
    name: PathBuf,
    contents: Contents,
}

enum Contents {
    Disk(std::fs::File),
    Fetched(bytes::Bytes),
}

impl StoreFile {
    fn open(store: &Store, relative: &str) -> Result<StoreFile> {
        let location = store.core().location();
        let name = location.display(relative);
        let contents = match location.directory() {
            Some(_) => Contents::Disk(std::fs::File::open(&name).map_err(Error::io(&name))?),
            None => Contents::Fetched(location.read(relative)?),
        };
        Ok(StoreFile { name, contents })
    }

    /// A reader for Parquet's readers, which take theirs by value.
    fn reader(&self) -> Result<Contents> {
        Ok(match &self.contents {
            Contents::Disk(file) => Contents::Disk(file.try_clone().map_err(Error::io(&self.name))?),
            Contents::Fetched(bytes) => Contents::Fetched(bytes.clone()),
        })
    }
}

impl parquet::file::reader::Length for Contents {
    fn len(&self) -> u64 {
        match self {
            Contents::Disk(file) => file.len(),
            Contents::Fetched(bytes) => bytes.len() as u64,
        }
    }
}

impl parquet::file::reader::ChunkReader for Contents {
    type T = Box<dyn std::io::Read + Send>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(match self {
            Contents::Disk(file) => Box::new(file.get_read(start)?),
            Contents::Fetched(bytes) => Box::new(bytes.get_read(start)?),
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        match self {
            Contents::Disk(file) => file.get_bytes(start, length),
            Contents::Fetched(bytes) => bytes.get_bytes(start, length),
        }
    }
}

/// A store file's rows and the range of its `@timestamp` (from the Parquet footer's statistics).
fn time_range(file: &StoreFile) -> Result<(u64, Option<(i64, i64)>)> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::file::statistics::Statistics;
    let reader = SerializedFileReader::new(file.reader()?).map_err(|e| store_file(&file.name, e))?;
    let meta = reader.metadata();
    let rows = u64::try_from(meta.file_metadata().num_rows()).unwrap_or(0);
    let column = meta.file_metadata().schema_descr().columns().iter().position(|c| c.path().string() == "@timestamp");
    let mut range: Option<(i64, i64)> = None;
    if let Some(column) = column {
        for group in meta.row_groups() {
            if let Some(Statistics::Int64(s)) = group.column(column).statistics()
                && let (Some(lo), Some(hi)) = (s.min_opt(), s.max_opt())
            {
                range = Some(range.map_or((*lo, *hi), |(a, b)| (a.min(*lo), b.max(*hi))));
            }
        }
    }
    Ok((rows, range))
}

/// Rows of a store file whose `@timestamp` is before `start`.
fn rows_before(file: &StoreFile, start: i64) -> Result<u64> {
    use arrow::array::AsArray;
    use arrow::datatypes::TimestampMicrosecondType;
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file.reader()?).map_err(|e| store_file(&file.name, e))?;
    let Some(index) = builder.parquet_schema().columns().iter().position(|c| c.path().string() == "@timestamp") else {
        return Ok(0);
    };
    let mask = ProjectionMask::leaves(builder.parquet_schema(), [index]);
    let reader = builder.with_projection(mask).build().map_err(|e| store_file(&file.name, e))?;
    let mut count = 0;
    for batch in reader {
        let batch = batch.map_err(|e| store_file(&file.name, e))?;
        if let Some(times) = batch.column(0).as_primitive_opt::<TimestampMicrosecondType>() {
            count += times.iter().flatten().filter(|t| *t < start).count() as u64;
        }
    }
    Ok(count)
}

/// A store file that cannot be read as Parquet: damaged, or not written by spoor.
fn store_file(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::User(format!("{}: not a readable store file: {e}", path.display()))
}
