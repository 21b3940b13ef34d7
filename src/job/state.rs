//! A job's state between cycles, in its state directory: `state.json` (replaced atomically:
//! written to a temporary file, synced, renamed, the directory synced) and `lock` (held while a
//! process runs the job, so a second one stops instead of corrupting the state).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::pack::Finding;
use crate::{Error, Result};

// 2: inputs are known from the store's ingest manifest, no longer from the job's state.
const VERSION: u32 = 2;

/// What a job remembers between cycles (`state.json` in its state directory).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// The state file's format version.
    pub version: u32,
    /// Cycles completed.
    pub cycles: u64,
    /// The newest event time (µs) among the data already hunted.
    pub event_watermark: Option<i64>,
    /// Store files (relative to the store) whose rows have been hunted.
    pub store_files: BTreeSet<String>,
    /// Ids of findings delivered, with the event time (µs) that bounds when they can recur.
    pub sent: BTreeMap<String, i64>,
    /// Hunt and entities of findings delivered → when (µs, wall clock), for `suppress`.
    pub suppressed: BTreeMap<String, i64>,
    /// A cycle whose findings are being delivered: what it found and what it will commit.
    pub pending: Option<Pending>,
}

/// A cycle caught between finding and committing: delivered again after a crash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// The cycle's number.
    pub cycle: u64,
    /// What it found.
    pub findings: Vec<Finding>,
    /// Sinks (by position in the job file) that accepted the findings.
    pub delivered: BTreeSet<usize>,
    /// For append-only file sinks: their length before this cycle wrote, so a retry after a
    /// crash truncates back to it instead of appending twice.
    pub offsets: BTreeMap<usize, u64>,
    /// What its success records.
    pub commit: Commit,
}

/// What a cycle's success records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commit {
    /// The newest event time (µs) hunted.
    pub event_watermark: Option<i64>,
    /// Store files whose rows were hunted.
    pub store_files: BTreeSet<String>,
    /// Finding id → the event time bounding its recurrence.
    pub sent: BTreeMap<String, i64>,
    /// Hunt and entities of findings delivered → when (µs), for `suppress`.
    pub suppressed: BTreeMap<String, i64>,
    /// Sent ids bounded before this (µs) can no longer be found again and are forgotten.
    pub forget_before: Option<i64>,
}

/// The state directory, locked for this process.
pub struct StateDir {
    dir: PathBuf,
    // Released when dropped (or when the process dies, even by kill -9).
    _lock: crate::core::lock::ProcessLock,
}

impl StateDir {
    /// Creates the directory if needed and takes its lock; a job already running elsewhere is
    /// an error naming the process.
    pub fn lock(dir: &Path, job: &str) -> Result<StateDir> {
        fs::create_dir_all(dir).map_err(Error::io(dir))?;
        let path = dir.join("lock");
        let lock = match crate::core::lock::acquire(&path, crate::core::lock::WhenHeld::GiveUp) {
            Ok(Ok(lock)) => lock,
            Ok(Err(holder)) => {
                return Err(Error::User(format!(
                    "job `{job}` is already running (process {holder}; lock {}): wait for it or stop it",
                    path.display()
                )));
            }
            Err(e) => return Err(Error::io(&path)(e)),
        };
        Ok(StateDir { dir: dir.to_path_buf(), _lock: lock })
    }

    fn path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The state, or a new one when there is none yet.
    pub fn load(&self) -> Result<State> {
        let path = self.path();
        match fs::read_to_string(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State { version: VERSION, ..State::default() }),
            Err(e) => Err(Error::io(&path)(e)),
            Ok(text) => {
                let state: State = serde_json::from_str(&text).map_err(|e| {
                    Error::User(format!("{}: not a job state this spoor can read: {e}", path.display()))
                })?;
                if state.version != VERSION {
                    return Err(Error::User(format!(
                        "{}: state version {} (this spoor writes {VERSION})",
                        path.display(),
                        state.version
                    )));
                }
                Ok(state)
            }
        }
    }

    /// Replaces the state on disk: either the old or the new one survives a crash, never a mix.
    pub fn save(&self, state: &State) -> Result<()> {
        let path = self.path();
        let temp = self.dir.join(".state.json.tmp");
        let text = serde_json::to_vec(state).map_err(|e| Error::Internal(format!("job state as JSON: {e}")))?;
        let mut file = File::create(&temp).map_err(Error::io(&temp))?;
        file.write_all(&text).map_err(Error::io(&temp))?;
        file.sync_all().map_err(Error::io(&temp))?;
        fs::rename(&temp, &path).map_err(Error::io(&path))?;
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(Error::io(&self.dir))
    }
}

impl State {
    /// Applies a delivered cycle's commit.
    pub fn apply(&mut self, commit: Commit) {
        self.event_watermark = commit.event_watermark.max(self.event_watermark);
        self.store_files.extend(commit.store_files);
        self.sent.extend(commit.sent);
        self.suppressed.extend(commit.suppressed);
        if let Some(before) = commit.forget_before {
            self.sent.retain(|_, bound| *bound >= before);
        }
        self.cycles += 1;
        self.pending = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_process_cannot_take_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let held = StateDir::lock(dir.path(), "axios").unwrap();
        // Another open file description of the same lock file conflicts, as another process'.
        let err = StateDir::lock(dir.path(), "axios").err().unwrap().to_string();
        assert!(err.contains("job `axios` is already running (process"), "{err}");
        drop(held);
        StateDir::lock(dir.path(), "axios").unwrap();
    }

    #[test]
    fn state_round_trips_and_forgets_old_ids() {
        let dir = tempfile::tempdir().unwrap();
        let state_dir = StateDir::lock(dir.path(), "j").unwrap();
        let mut state = state_dir.load().unwrap();
        state.sent.insert("old".into(), 10);
        state.apply(Commit {
            event_watermark: Some(500),
            store_files: ["process/date=2026-03-31/part-1.parquet".to_string()].into(),
            sent: [("new".to_string(), 400)].into(),
            suppressed: BTreeMap::new(),
            forget_before: Some(100),
        });
        state_dir.save(&state).unwrap();
        let back = state_dir.load().unwrap();
        assert_eq!(back.cycles, 1);
        assert_eq!(back.event_watermark, Some(500));
        assert_eq!(back.sent.keys().collect::<Vec<_>>(), ["new"]);
        fs::write(dir.path().join("state.json"), "{ not json").unwrap();
        assert!(state_dir.load().unwrap_err().to_string().contains("not a job state this spoor can read"));
    }
}
