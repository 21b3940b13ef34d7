//! The ingest manifest: which source files each ingest read (by path, size and content hash) and
//! which Parquet files it committed, one record per ingest under `<store>/_manifest/`.
//!
//! The record is the commit point of an ingest: its Parquet files are complete (synced, or
//! uploaded) before it is written, and renamed into place after. A crash before the record leaves only temporary
//! files, which the next writer removes; a crash after it leaves files the next writer renames
//! into place (`roll_forward`). So an ingest is all or nothing, and re-running an interrupted one
//! neither loses nor duplicates records.
//!
//! The record also lets ingest recognise its inputs: a file whose content was ingested before is
//! skipped, a file that grew with its old content intact is read from where the last ingest
//! stopped, and a file whose content changed otherwise is read again whole (and said so).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::location::{Created, Location};

pub const DIR: &str = "_manifest";

/// One source file as one ingest read it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Source {
    /// Absolute path when read.
    pub path: String,
    /// Bytes of the file read: `0..size`, hashed as `blake3`.
    pub size: u64,
    /// Modification time (ns since the epoch) when read; with the size, lets an unchanged file be
    /// recognised without hashing it again.
    pub modified_ns: Option<u64>,
    pub blake3: String,
    /// Lines read in all (line formats), so an appended part is numbered on from there.
    pub lines: u64,
    pub format: String,
    /// The first byte this ingest read: 0, or where the previous ingest of a grown file stopped.
    pub offset: u64,
}

/// What one ingest committed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub ingest: String,
    /// RFC 3339, UTC.
    pub committed: String,
    pub sources: Vec<Source>,
    /// Parquet files, relative to the store's root.
    pub files: Vec<String>,
}

/// How an input file relates to what was ingested before.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Known {
    /// Never seen: read it whole.
    #[default]
    New,
    /// The same content was ingested before (under this path or another): skip it.
    Same { path: String, ingest: String },
    /// The file grew and its old content is unchanged: read from `previous.size` on.
    Appended { previous: Source },
    /// The same path held other content before: read it whole again.
    Changed { previous: Source },
}

/// A file's identity, measured before it is read.
#[derive(Debug, Clone)]
pub struct Identity {
    pub path: String,
    pub size: u64,
    pub modified_ns: Option<u64>,
    /// Hash of `0..size`; `None` when the size and time showed the file unchanged, or when the
    /// hash is not needed to classify the file (no content of its size was read before) and is
    /// taken while the file is read instead ([`crate::input::HashTap`]).
    pub blake3: Option<String>,
}

/// Every record of a store, indexed by path and by content.
#[derive(Debug, Default)]
pub struct Manifest {
    /// The latest source read from each path.
    by_path: HashMap<String, (Source, String)>,
    /// size → hash → (path, ingest) of every content read whole or completed by appends. Keyed by
    /// size first so that a file whose size no earlier content had need not be hashed to classify.
    by_content: HashMap<u64, HashMap<String, (String, String)>>,
}

impl Manifest {
    /// Reads every committed record of the store at `location`.
    pub fn load(location: &Location) -> Result<Manifest> {
        let mut manifest = Manifest::default();
        for record in records(location)? {
            for source in &record.sources {
                manifest.remember(source, &record.ingest);
            }
        }
        Ok(manifest)
    }

    /// Adds a source read by the ingest in progress, so a second copy in the same run is skipped.
    pub fn remember(&mut self, source: &Source, ingest: &str) {
        self.by_content
            .entry(source.size)
            .or_default()
            .insert(source.blake3.clone(), (source.path.clone(), ingest.to_string()));
        self.by_path.insert(source.path.clone(), (source.clone(), ingest.to_string()));
    }

    /// Measures `path` and says what it is, hashing it first only when that can tell: when content
    /// of the same size was read before, or the file may have grown from what was read.
    pub fn classify(&self, path: &Path) -> std::io::Result<(Identity, Known)> {
        let absolute = std::path::absolute(path)?.to_string_lossy().into_owned();
        let metadata = fs::metadata(path)?;
        let size = metadata.len();
        let modified_ns = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as u64);
        let previous = self.by_path.get(&absolute);
        if let Some((source, ingest)) = previous
            && source.size == size
            && source.modified_ns.is_some()
            && source.modified_ns == modified_ns
        {
            let known = Known::Same { path: source.path.clone(), ingest: ingest.clone() };
            return Ok((Identity { path: absolute, size, modified_ns, blake3: None }, known));
        }
        let prefix = previous.map(|(s, _)| s.size).filter(|&s| s < size);
        let same_size = self.by_content.get(&size);
        if prefix.is_none() && same_size.is_none() {
            let known = match previous {
                None => Known::New,
                Some((source, _)) => Known::Changed { previous: source.clone() },
            };
            return Ok((Identity { path: absolute, size, modified_ns, blake3: None }, known));
        }
        let (hash, prefix_hash) = hash_file(path, size, prefix)?;
        let identity = Identity { path: absolute, size, modified_ns, blake3: Some(hash.clone()) };
        if let Some((path, ingest)) = same_size.and_then(|contents| contents.get(&hash)) {
            return Ok((identity, Known::Same { path: path.clone(), ingest: ingest.clone() }));
        }
        let known = match previous {
            None => Known::New,
            Some((source, _)) if prefix_hash.as_deref() == Some(source.blake3.as_str()) => {
                Known::Appended { previous: source.clone() }
            }
            Some((source, _)) => Known::Changed { previous: source.clone() },
        };
        Ok((identity, known))
    }
}

/// The BLAKE3 hash of `0..size` of a file, and of `0..prefix` when asked, in one read.
fn hash_file(path: &Path, size: u64, prefix: Option<u64>) -> std::io::Result<(String, Option<String>)> {
    let mut file = File::open(path)?.take(size);
    let mut hasher = blake3::Hasher::new();
    let mut prefix_hash = None;
    let mut buf = vec![0u8; 256 * 1024];
    let mut done = 0u64;
    loop {
        let want = match prefix {
            Some(p) if prefix_hash.is_none() => buf.len().min((p - done) as usize),
            _ => buf.len(),
        };
        if want == 0 {
            prefix_hash = Some(hasher.finalize().to_hex().to_string());
            continue;
        }
        let n = file.read(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        done += n as u64;
    }
    if done < size {
        return Err(std::io::Error::other(format!("the file shrank while being read ({done} of {size} bytes)")));
    }
    Ok((hasher.finalize().to_hex().to_string(), prefix_hash))
}

/// The committed records, oldest first (ingest ids begin with their start time).
pub fn records(location: &Location) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for listed in location.list(DIR)? {
        let name = listed.path.rsplit('/').next().unwrap_or("");
        if !name.ends_with(".json") || name.starts_with('.') {
            continue;
        }
        out.push(read(location, &listed.path)?);
    }
    Ok(out)
}

fn read(location: &Location, path: &str) -> Result<Record> {
    serde_json::from_slice(&location.read(path)?).map_err(|e| {
        Error::User(format!(
            "{}: not an ingest record this spoor can read ({e}); the store's manifest was edited or damaged",
            location.display(path).display()
        ))
    })
}

/// Writes a record durably, as a new file or object: the moment the ingest commits.
pub fn write(location: &Location, record: &Record) -> Result<()> {
    let name = format!("{DIR}/{}.json", record.ingest);
    let text = serde_json::to_vec_pretty(record).map_err(|e| Error::Internal(e.to_string()))?;
    match location.create_new(&name, text)? {
        Created::Created => Ok(()),
        Created::AlreadyExists => Err(Error::Internal(format!(
            "{}: an ingest record of this id exists already",
            location.display(&name).display()
        ))),
    }
}

/// The marker written beside an ingest's record once all its files are in place.
fn placed(ingest: &str) -> String {
    format!("{DIR}/{ingest}.placed")
}

/// Says that every file of `ingest` is in place: [`roll_forward`] has nothing left to do for it.
pub fn mark_placed(location: &Location, ingest: &str) -> Result<()> {
    location.create_new(&placed(ingest), Vec::new()).map(drop)
}

/// Finishes committed ingests that a crash interrupted: moves their files into place. Returns
/// the files moved.
///
/// Only the manifest is listed, never the tables: an ingest whose record has no `.placed`
/// marker beside it is one whose files may not all be in place (a writer killed while making
/// them visible, or one of a spoor from before the markers), and only its files are looked at,
/// then marked. On a store that cannot be written the marker cannot be left, and the check is
/// made again at the next open.
pub fn roll_forward(location: &Location) -> Result<Vec<PathBuf>> {
    let names: std::collections::HashSet<String> = location
        .list(DIR)?
        .into_iter()
        .filter_map(|listed| listed.path.rsplit('/').next().map(str::to_string))
        .collect();
    let mut moved = Vec::new();
    for name in &names {
        let Some(ingest) = name.strip_suffix(".json").filter(|i| !i.starts_with('.')) else { continue };
        if names.contains(&format!("{ingest}.placed")) {
            continue;
        }
        let record = read(location, &format!("{DIR}/{name}"))?;
        for file in &record.files {
            let temp = crate::store::temp_path(file);
            // Neither there: nothing to move (the file was removed since). `false`: another
            // process moved it first.
            if location.contains(&temp)? && location.rename(&temp, file)? {
                moved.push(location.display(file));
            }
        }
        mark_placed(location, ingest)?;
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roll_forward_moves_an_unplaced_ingests_files_then_leaves_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::Directory(dir.path().into());
        let file = "process/date=2026-03-31/part-1.parquet";
        fs::create_dir_all(dir.path().join("process/date=2026-03-31")).unwrap();
        fs::write(dir.path().join(crate::store::temp_path(file)), b"rows").unwrap();
        let source = Source {
            path: "/logs/a.ndjson".into(),
            size: 4,
            modified_ns: None,
            blake3: String::new(),
            lines: 1,
            format: "ecs".into(),
            offset: 0,
        };
        let mut committed = record("1", source.clone());
        committed.files = vec![file.into()];
        write(&location, &committed).unwrap();
        // An ingest of a spoor from before the markers, whose file is in place.
        let mut old = record("0", source);
        old.files = vec!["dns/date=2026-03-30/part-0.parquet".into()];
        fs::create_dir_all(dir.path().join("dns/date=2026-03-30")).unwrap();
        fs::write(dir.path().join(&old.files[0]), b"rows").unwrap();
        write(&location, &old).unwrap();

        let moved = roll_forward(&location).unwrap();
        assert_eq!(moved, vec![dir.path().join(file)]);
        assert_eq!(fs::read(dir.path().join(file)).unwrap(), b"rows");
        assert!(dir.path().join("_manifest/0.placed").is_file() && dir.path().join("_manifest/1.placed").is_file());
        // Placed ingests' records are not read again: a damaged one goes unnoticed here.
        fs::write(dir.path().join("_manifest/1.json"), b"{").unwrap();
        assert!(roll_forward(&location).unwrap().is_empty());
    }

    fn record(ingest: &str, source: Source) -> Record {
        Record { ingest: ingest.into(), committed: "2026-11-28T00:00:00Z".into(), sources: vec![source], files: vec![] }
    }

    fn source_of(path: &Path, lines: u64) -> Source {
        let size = fs::metadata(path).unwrap().len();
        let (hash, _) = hash_file(path, size, None).unwrap();
        let abs = std::path::absolute(path).unwrap().to_string_lossy().into_owned();
        Source { path: abs, size, modified_ns: None, blake3: hash, lines, format: "ecs".into(), offset: 0 }
    }

    #[test]
    fn same_content_appended_and_changed_files_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        fs::write(&log, "one\ntwo\n").unwrap();
        write(&Location::Directory(dir.path().into()), &record("1", source_of(&log, 2))).unwrap();
        let manifest = Manifest::load(&Location::Directory(dir.path().into())).unwrap();

        let copy = dir.path().join("copy.log");
        fs::copy(&log, &copy).unwrap();
        assert!(matches!(manifest.classify(&copy).unwrap().1, Known::Same { ingest, .. } if ingest == "1"));
        assert!(matches!(manifest.classify(&log).unwrap().1, Known::Same { .. }));

        fs::write(&log, "one\ntwo\nthree\n").unwrap();
        assert!(matches!(manifest.classify(&log).unwrap().1, Known::Appended { previous } if previous.lines == 2));

        fs::write(&log, "uno\ntwo\nthree\n").unwrap();
        assert!(matches!(manifest.classify(&log).unwrap().1, Known::Changed { .. }));

        assert_eq!(manifest.classify(&dir.path().join("copy.log")).unwrap().0.size, 8);
        fs::write(dir.path().join("new.log"), "x\n").unwrap();
        let (identity, known) = manifest.classify(&dir.path().join("new.log")).unwrap();
        assert_eq!(known, Known::New);
        assert_eq!(identity.blake3, None, "no content of its size was read before: hashed while read");
    }

    #[test]
    fn a_damaged_record_is_named() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(DIR)).unwrap();
        fs::write(dir.path().join(DIR).join("x.json"), "{").unwrap();
        let err = Manifest::load(&Location::Directory(dir.path().into())).unwrap_err().to_string();
        assert!(err.contains("x.json") && err.contains("damaged"), "{err}");
    }
}
