//! The Parquet store: `<store>/<table>/date=YYYY-MM-DD/part-<id>.parquet`, in a directory or
//! under a prefix of an object store ([`crate::location`]).
//!
//! Appends only ever add files. A file is written under a hidden temporary name and renamed into
//! place when the whole ingest commits (after its manifest record, see [`crate::manifest`]), so
//! readers never see a partial file and a crashed ingest leaves nothing but temporary files, which
//! the next writer removes. One writer at a time: a lock file (`.lock`) keeps a second ingest
//! waiting until the first has committed; in an object store, a lease on the `.lock` object does
//! ([`crate::lock::Lease`]). An ingest into an object store encodes each file on local disk (the
//! OS temporary directory) and uploads it, under its temporary name, when it is complete.

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::error::{Error, Result};
use crate::location::{Listed, Location};
use crate::lock::{self, Lease, ProcessLock, WhenHeld};
use crate::manifest::{self, Record, Source};
use crate::schema::Table;

/// Names of files (and objects) not yet committed begin with this.
pub const TEMP_PREFIX: &str = ".tmp-";
/// Files an encoder keeps open, a table's day each. Past this many, the one written to least
/// recently is finished, and its day's next rows start another file. An open file costs little
/// once its row group is written out ([`ENCODER_BUFFER_BYTES`]); closing files instead splits a
/// day over many: the benchmark's EVTX files cycle through 42 tables' days, and eight open
/// files made 344 files of them.
const MAX_OPEN_FILES: usize = 64;
/// What the rows waiting in an encoder's open files may hold. Past it, the largest holder
/// writes out what it holds: its row group in progress ends early (or a file's rows held back
/// start compressing). Rows are held for fewer bytes on disk and faster reads, never for
/// correctness, so memory can decide: without a bound, each open file's row group grew to
/// [`ROW_GROUP_ROWS`] rows however many files were open.
const ENCODER_BUFFER_BYTES: usize = 16 * 1024 * 1024;
/// What a column's writer holds while a row group is in progress besides its pages, which
/// Parquet's count leaves out: a zstd compression and decompression context (about 2.4 MiB a
/// file of a Windows table, measured).
const COLUMN_WRITER_BYTES: usize = 16 * 1024;
const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Rows a data page holds at most (Parquet's default is 20,000). Hunts mostly keep few rows: a
/// label's filter picks them, then their other columns are read, and a page that holds none of
/// them is skipped whole (by the page index) instead of being decompressed. Over 5 M process
/// events, a filter keeping 542 rows read 406 ms of pages with 20,000 rows a page; issue 31's
/// five queries ran 10-30 % faster with 2,048 (docs/performance.md), the store 2 % larger.
const PAGE_ROWS: usize = 2048;
/// Files of fewer rows are written uncompressed. Reading a zstd column chunk starts with making
/// a zstd context (Parquet's reader makes a compressor and a decompressor per chunk), which costs
/// more than decompressing a few kilobytes; small tables such as `audit` (a few rows a day) are
/// read by many hunts, so that cost was most of their scan. Compressing them saves little space
/// (the benchmark fleet's store is 95 MB either way: its large tables' files are over the limit).
const SMALL_FILE_ROWS: usize = 8 * 1024;

/// Columns whose values rarely repeat within a file. Parquet's dictionary encoding would hash
/// every value only to find that out (a 64k-row group of timestamps fills a dictionary of 64k
/// entries); plain encoding and zstd store them as small, at a fraction of the cost.
fn mostly_distinct(column: &str) -> bool {
    matches!(column, "@timestamp" | "log.file.line" | "event.id")
        || column.ends_with("entity_id")
        || column.contains(".hash.")
}

/// Free text, searched for words and patterns and never by range: its minimum and maximum would
/// never let a query skip a file, and computing them compares every long value.
fn free_text(column: &str) -> bool {
    column == "message" || column.ends_with("command_line")
}

#[derive(Debug, Clone)]
pub struct Store {
    /// What the user named: a path, or a URL.
    named: PathBuf,
    location: Location,
}

/// A committed file of the store.
pub type StoredFile = Listed;

impl Store {
    /// Opens the store at `root` (a directory, created if needed, or an `s3://`, `gs://` or
    /// `az://` URL), finishing, as [`Store::open_existing`] does, an ingest that was killed while
    /// making its files visible.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store> {
        let named = root.into();
        let location = Location::parse(&named)?;
        location.create()?;
        let store = Store { named, location };
        let _ = manifest::roll_forward(&store.location);
        Ok(store)
    }

    /// Opens an existing store; a missing one is an error (for read-only commands).
    /// The files of an ingest that committed but was killed before making them all visible are
    /// made visible first (where the store is writable), so a reader never sees half an ingest.
    pub fn open_existing(root: impl Into<PathBuf>) -> Result<Store> {
        let named = root.into();
        let location = Location::parse(&named)?;
        if !location.exists()? {
            return Err(Error::User(format!(
                "no store at {}: create one with `spoor ingest <logs> --store {}`",
                named.display(),
                named.display()
            )));
        }
        let store = Store { named, location };
        // Best effort: a read-only store is still readable, only without this repair.
        let _ = manifest::roll_forward(&store.location);
        Ok(store)
    }

    /// The store's directory, or its URL, as it was named.
    pub fn root(&self) -> &Path {
        &self.named
    }

    /// Where the store lives, for the operations it is read and written with.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The committed Parquet files of a table, with their sizes; paths relative to the store.
    pub fn stored_files(&self, table: Table) -> Result<Vec<StoredFile>> {
        let mut files = self.location.list(table.name())?;
        files.retain(|file| {
            let name = file.path.rsplit('/').next().unwrap_or("");
            name.ends_with(".parquet") && !name.starts_with('.') && file.path.matches('/').count() == 2
        });
        Ok(files)
    }

    /// The committed Parquet files of a table: paths on disk, or URLs.
    pub fn files(&self, table: Table) -> Result<Vec<PathBuf>> {
        Ok(self.stored_files(table)?.iter().map(|f| self.location.display(&f.path)).collect())
    }

    /// Tables that have at least one committed file.
    pub fn tables(&self) -> Result<Vec<Table>> {
        let mut out = Vec::new();
        for table in Table::ALL {
            if !self.stored_files(table)?.is_empty() {
                out.push(table);
            }
        }
        Ok(out)
    }

    /// Takes the store's write lock (calling `waiting` with the holder's process id if another
    /// writer has it, then waiting for it), finishes what a crashed writer committed and removes
    /// what it did not. The writer encodes Parquet on `encoders` threads.
    pub fn writer(&self, waiting: &dyn Fn(&str), encoders: usize) -> Result<StoreWriter> {
        let lock = self.lock(waiting)?;
        manifest::roll_forward(&self.location)?;
        self.remove_temporaries()?;
        let now = Utc::now();
        let id = format!("{}-{:08x}", now.format("%Y%m%dT%H%M%S%6f"), std::process::id());
        StoreWriter::start(self.clone(), id, lock, encoders)
    }

    fn lock(&self, waiting: &dyn Fn(&str)) -> Result<StoreLock> {
        match &self.location {
            Location::Directory(root) => {
                let path = root.join(".lock");
                match lock::acquire(&path, WhenHeld::Wait(waiting)) {
                    Ok(Ok(held)) => Ok(StoreLock::Process(held)),
                    Ok(Err(_)) => Err(Error::Internal("a lock taken by waiting was not held".into())),
                    Err(e) => Err(Error::io(&path, e)),
                }
            }
            Location::Objects(objects) => Ok(StoreLock::Lease(Lease::acquire(objects, ".lock", waiting)?)),
        }
    }

    /// Temporary files left by a crashed writer: with the lock held, no other writer is using them.
    fn remove_temporaries(&self) -> Result<()> {
        for table in Table::ALL {
            for file in self.location.list(table.name())? {
                if file.path.rsplit('/').next().is_some_and(|name| name.starts_with(TEMP_PREFIX)) {
                    self.location.delete(&file.path)?;
                }
            }
        }
        Ok(())
    }
}

/// A writer's hold on the store, released when dropped.
enum StoreLock {
    Process(#[allow(dead_code)] ProcessLock),
    Lease(Lease),
}

impl StoreLock {
    /// That the lock is still held, just before a commit (a lease can expire; a process lock
    /// cannot).
    fn confirm(&self) -> Result<()> {
        match self {
            StoreLock::Process(_) => Ok(()),
            StoreLock::Lease(lease) => lease.confirm(),
        }
    }
}

/// Where a store file (relative to the store) is kept before its ingest commits.
pub fn temp_path(target: &str) -> String {
    match target.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/{TEMP_PREFIX}{name}"),
        None => format!("{TEMP_PREFIX}{target}"),
    }
}

struct OpenFile {
    table: Table,
    contents: Contents,
    /// Where its bytes are written on this machine: the temporary file in the store's
    /// directory, or one in the ingest's local spool when the store is in an object store.
    local: PathBuf,
    /// Its temporary and final names in the store.
    temp: String,
    target: String,
    /// When it was last written to, by its encoder's count of batches.
    last_written: u64,
}

/// A file's rows are held back until there are enough of them to know it is not a small file
/// ([`SMALL_FILE_ROWS`]), which is written without compression.
enum Contents {
    /// `bytes`: the batches' memory, summed as they come.
    Few {
        batches: Vec<RecordBatch>,
        rows: usize,
        bytes: usize,
    },
    Many(Box<ArrowWriter<File>>),
}

impl OpenFile {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match &mut self.contents {
            Contents::Many(writer) => writer.write(batch).map_err(|e| Error::parquet(&self.local, e)),
            Contents::Few { batches, rows, bytes } => {
                batches.push(batch.clone());
                *rows += batch.num_rows();
                *bytes += batch.get_array_memory_size();
                if *rows >= SMALL_FILE_ROWS {
                    self.compress()?;
                }
                Ok(())
            }
        }
    }

    /// Starts writing the rows held back, compressed: the file is not a small one after all.
    fn compress(&mut self) -> Result<()> {
        if let Contents::Few { batches, .. } = &self.contents {
            // Level 1: most of zstd's ratio on log text at a fraction of level 3's cost.
            let zstd = Compression::ZSTD(ZstdLevel::try_new(1).expect("1 is a valid zstd level"));
            self.contents = Contents::Many(create_writer(self.table, &self.local, batches, zstd)?);
        }
        Ok(())
    }

    /// Memory the rows waiting here hold: the batches held back, or the row group in progress.
    fn held_bytes(&self) -> usize {
        match &self.contents {
            Contents::Few { bytes, .. } => *bytes,
            Contents::Many(writer) if writer.in_progress_rows() > 0 => {
                writer.memory_size() + self.table.columns().len() * COLUMN_WRITER_BYTES
            }
            Contents::Many(_) => 0,
        }
    }

    /// Writes out what [`Self::held_bytes`] counts: the batches held back are compressed, the row
    /// group in progress ends.
    fn write_out(&mut self) -> Result<()> {
        match &mut self.contents {
            Contents::Few { .. } => self.compress(),
            Contents::Many(writer) => writer.flush().map_err(|e| Error::parquet(&self.local, e)),
        }
    }

    /// Writes the footer, and syncs the file or uploads it under its temporary name. Returns the
    /// temporary and final names. `last` says no more of its table's day can come in this
    /// ingest: only then is a file of few rows known to be small, and left uncompressed.
    fn finish(mut self, location: &Location, last: bool) -> Result<Written> {
        if !last {
            self.compress()?;
        }
        let writer = match self.contents {
            Contents::Many(writer) => writer,
            Contents::Few { batches, .. } => {
                create_writer(self.table, &self.local, &batches, Compression::UNCOMPRESSED)?
            }
        };
        let handle = writer.into_inner().map_err(|e| Error::parquet(&self.local, e))?;
        match location {
            Location::Directory(_) => handle.sync_all().map_err(|e| Error::io(&self.local, e))?,
            Location::Objects(_) => {
                drop(handle);
                let uploaded = location.upload(&self.local, &self.temp);
                let _ = fs::remove_file(&self.local);
                uploaded?;
            }
        }
        Ok((self.temp, self.target))
    }
}

/// Creates the file at `temp` and writes the rows held back.
fn create_writer(
    table: Table,
    temp: &Path,
    batches: &[RecordBatch],
    compression: Compression,
) -> Result<Box<ArrowWriter<File>>> {
    let file = File::create(temp).map_err(|e| Error::io(temp, e))?;
    let mut writer = ArrowWriter::try_new(file, table.schema(), Some(properties(table, compression)))
        .map_err(|e| Error::parquet(temp, e))?;
    for batch in batches {
        writer.write(batch).map_err(|e| Error::parquet(temp, e))?;
    }
    Ok(Box::new(writer))
}

fn properties(table: Table, compression: Compression) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_data_page_row_count_limit(PAGE_ROWS);
    for column in table.columns().iter().filter(|c| mostly_distinct(c.name)) {
        props = props.set_column_dictionary_enabled(ColumnPath::from(column.name), false);
    }
    for column in table.columns().iter().filter(|c| free_text(c.name)) {
        props = props.set_column_statistics_enabled(ColumnPath::from(column.name), EnabledStatistics::None);
    }
    for path in nested_leaves(table) {
        props = props.set_column_statistics_enabled(path, EnabledStatistics::None);
    }
    props.build()
}

/// The Parquet columns of lists' items and maps' keys and values. A hunt asks whether a list
/// holds a value or what a map holds under a key, which their minimum and maximum never
/// answer; computing them compares every item (`zeek.fields` holds seven a Zeek DNS row).
fn nested_leaves(table: Table) -> Vec<ColumnPath> {
    let Ok(parquet) = parquet::arrow::ArrowSchemaConverter::new().convert(&table.schema()) else {
        return Vec::new();
    };
    parquet.columns().iter().map(|column| column.path().clone()).filter(|path| path.parts().len() > 1).collect()
}

/// Writes batches into new Parquet files, made visible together by [`StoreWriter::commit`].
///
/// Encoding and compressing Parquet costs about as much as parsing the logs, so it runs on
/// threads of their own ([`Encoder`]s): the ingest thread hands each batch to one and goes on
/// parsing. A batch goes to the encoder that took its table and day last, so a partition's rows
/// stay in one file, unless that encoder is behind (its few batches in waiting are there) and
/// another has room: then the partition has a file per encoder that took some of it. With one
/// encoder per two parsing threads, encoding scales with the cores as parsing does.
pub struct StoreWriter {
    store: Store,
    id: String,
    encoders: Vec<EncoderThread>,
    /// The encoder that took each table and day last.
    home: HashMap<(Table, NaiveDate), usize>,
    /// Set when the writer is dropped without committing: the encoders remove what they wrote.
    abandoned: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The store's write lock, held until the writer is committed or dropped.
    lock: StoreLock,
}

/// One encoder's thread and the channel to it.
struct EncoderThread {
    /// To the encoder; `None` once it was told to finish.
    batches: Option<std::sync::mpsc::SyncSender<(Table, NaiveDate, RecordBatch)>>,
    /// The files it wrote, or why it stopped.
    done: Option<std::thread::JoinHandle<Result<Vec<Written>>>>,
}

/// A file complete in the store: its temporary and its final name.
type Written = (String, String);

/// Batches in flight between the ingest thread and each encoder.
const BATCHES_IN_FLIGHT: usize = 4;

impl StoreWriter {
    /// Starts `encoders` encoder threads (at least one).
    fn start(store: Store, id: String, lock: StoreLock, encoders: usize) -> Result<StoreWriter> {
        let abandoned = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let count = encoders.max(1) as u32;
        let encoders = (0..count)
            .map(|lane| {
                let spool = match &store.location {
                    Location::Directory(_) => None,
                    Location::Objects(_) => Some(
                        tempfile::Builder::new()
                            .prefix("spoor-spool-")
                            .tempdir()
                            .map_err(|e| Error::io(&std::env::temp_dir(), e))?,
                    ),
                };
                // Encoder `lane` numbers its files lane + 1, lane + 1 + count, ...: names unique
                // in the ingest without the encoders speaking to each other.
                let encoder = Encoder {
                    store: store.clone(),
                    id: id.clone(),
                    spool,
                    next_file: lane + 1,
                    file_step: count,
                    open: HashMap::new(),
                    finished: Vec::new(),
                    batches: 0,
                    buffer_bytes: ENCODER_BUFFER_BYTES,
                };
                EncoderThread::start(encoder, abandoned.clone())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(StoreWriter { store, id, encoders, home: HashMap::new(), abandoned, lock })
    }

    /// This ingest's id: its manifest record's name, and part of every file it writes.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Appends a batch whose rows all fall on `date` (UTC).
    pub fn write(&mut self, table: Table, date: NaiveDate, batch: &RecordBatch) -> Result<()> {
        use std::sync::mpsc::TrySendError;
        // A partition new to the writer starts where the one before it did not.
        let home = self.home.get(&(table, date)).copied().unwrap_or(self.home.len() % self.encoders.len());
        let count = self.encoders.len();
        let mut item = (table, date, batch.clone());
        // Its home first, then the others, to whichever has room; if none has, wait for home.
        for lane in (0..count).map(|i| (home + i) % count) {
            let Some(batches) = &self.encoders[lane].batches else { continue };
            match batches.try_send(item) {
                Ok(()) => {
                    self.home.insert((table, date), lane);
                    return Ok(());
                }
                Err(TrySendError::Full(back)) => item = back,
                // The encoder stopped: its error says why.
                Err(TrySendError::Disconnected(_)) => return self.finish_encoding().map(drop),
            }
        }
        let sent = self.encoders[home].batches.as_ref().map(|batches| batches.send(item));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => self.finish_encoding().map(drop),
        }
    }

    /// Tells the encoders there is no more, and waits for the files they wrote. If one failed,
    /// what the others wrote is removed and its error returned.
    fn finish_encoding(&mut self) -> Result<Vec<Written>> {
        for encoder in &mut self.encoders {
            drop(encoder.batches.take());
        }
        let outcomes: Vec<Result<Vec<Written>>> = self.encoders.iter_mut().map(EncoderThread::join).collect();
        let mut written = Vec::new();
        let mut failed = None;
        for outcome in outcomes {
            match outcome {
                Ok(files) => written.extend(files),
                Err(e) => failed = failed.or(Some(e)),
            }
        }
        match failed {
            None => Ok(written),
            Some(e) => {
                for (temp, _) in &written {
                    let _ = self.store.location.delete(temp);
                }
                Err(e)
            }
        }
    }

    /// Commits the ingest: records the sources read and the files written in the manifest, then
    /// makes the files visible. Returns their paths (or URLs).
    pub fn commit(mut self, sources: Vec<Source>) -> Result<Vec<PathBuf>> {
        let finished = self.finish_encoding()?;
        if sources.is_empty() && finished.is_empty() {
            return Ok(Vec::new());
        }
        let record = Record {
            ingest: self.id.clone(),
            committed: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            sources,
            files: finished.iter().map(|(_, target)| target.clone()).collect(),
        };
        pause_for_tests("ingest-written");
        if let Err(lost) = self.lock.confirm() {
            for (temp, _) in &finished {
                let _ = self.store.location.delete(temp);
            }
            return Err(lost);
        }
        // Should this fail, the files stay: the next writer makes them visible if the record
        // was written after all (an object store's answer can be lost), or removes them.
        manifest::write(&self.store.location, &record)?;
        pause_for_tests("ingest-recorded");
        let mut out = Vec::with_capacity(finished.len());
        for (temp, target) in finished {
            // `false`: a reader rolled this committed file forward first.
            self.store.location.rename(&temp, &target)?;
            out.push(self.store.location.display(&target));
            pause_for_tests("file-renamed");
        }
        manifest::mark_placed(&self.store.location, &record.ingest)?;
        Ok(out)
    }
}

impl Drop for StoreWriter {
    /// A writer dropped without commit (an error, a panic elsewhere) stops its encoders, which
    /// remove the temporary files they wrote, before the store's lock is let go.
    fn drop(&mut self) {
        if self.encoders.iter().any(|e| e.done.is_some()) {
            self.abandoned.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = self.finish_encoding();
        }
    }
}

impl EncoderThread {
    fn start(mut encoder: Encoder, abandoned: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Result<Self> {
        let (batches, received) = std::sync::mpsc::sync_channel(BATCHES_IN_FLIGHT);
        let done = std::thread::Builder::new()
            .name("spoor-parquet".into())
            .spawn(move || {
                // Ends at the first error (dropping `received`, so the next batch sent says so),
                // or when the writer stops sending.
                let written =
                    received.into_iter().try_for_each(|(table, date, batch)| encoder.write(table, date, &batch));
                let abandoned = abandoned.load(std::sync::atomic::Ordering::SeqCst);
                match written.and_then(|()| if abandoned { Ok(()) } else { encoder.finish_all() }) {
                    Ok(()) if !abandoned => Ok(std::mem::take(&mut encoder.finished)),
                    outcome => {
                        // Nothing of an ingest that does not commit stays behind.
                        encoder.remove_all();
                        outcome.map(|()| Vec::new())
                    }
                }
            })
            .map_err(|e| Error::Internal(format!("cannot start a Parquet encoder thread: {e}")))?;
        Ok(EncoderThread { batches: Some(batches), done: Some(done) })
    }

    /// Waits for the encoder, told to finish, to end.
    fn join(&mut self) -> Result<Vec<Written>> {
        match self.done.take().map(std::thread::JoinHandle::join) {
            Some(Ok(written)) => written,
            Some(Err(_)) => Err(Error::Internal("a Parquet encoder thread panicked".into())),
            None => Err(Error::Internal("a Parquet encoder was already finished".into())),
        }
    }
}

/// The encoder's side of a [`StoreWriter`]: the files open per table and day.
struct Encoder {
    store: Store,
    id: String,
    /// Where files for an object store are encoded before they are uploaded.
    spool: Option<tempfile::TempDir>,
    /// The number of the next file it creates, and how far apart its numbers are.
    next_file: u32,
    file_step: u32,
    open: HashMap<(Table, NaiveDate), OpenFile>,
    finished: Vec<Written>,
    /// Batches written so far: the clock of [`OpenFile::last_written`].
    batches: u64,
    /// What its open files may hold ([`ENCODER_BUFFER_BYTES`]).
    buffer_bytes: usize,
}

impl Encoder {
    fn write(&mut self, table: Table, date: NaiveDate, batch: &RecordBatch) -> Result<()> {
        if !self.open.contains_key(&(table, date)) {
            if self.open.len() >= MAX_OPEN_FILES {
                self.finish_least_recent()?;
            }
            let file = self.create(table, date)?;
            self.open.insert((table, date), file);
        }
        self.batches += 1;
        let file = self.open.get_mut(&(table, date)).expect("inserted above");
        file.last_written = self.batches;
        file.write(batch)?;
        self.keep_within_buffer()
    }

    /// Finishes the file written to least recently.
    fn finish_least_recent(&mut self) -> Result<()> {
        let oldest = self.open.iter().min_by_key(|(_, file)| file.last_written).map(|(key, _)| *key);
        if let Some(file) = oldest.and_then(|key| self.open.remove(&key)) {
            self.finished.push(file.finish(&self.store.location, false)?);
        }
        Ok(())
    }

    /// Has the largest holders write out what they hold until the open files hold no more than
    /// the encoder's buffer. Runs after every batch: each file's holding is asked once.
    fn keep_within_buffer(&mut self) -> Result<()> {
        let mut holders: Vec<(usize, &mut OpenFile)> =
            self.open.values_mut().map(|file| (file.held_bytes(), file)).collect();
        let mut held: usize = holders.iter().map(|(bytes, _)| bytes).sum();
        holders.sort_unstable_by_key(|(bytes, _)| std::cmp::Reverse(*bytes));
        for (bytes, file) in holders {
            if held <= self.buffer_bytes || bytes == 0 {
                break;
            }
            held -= bytes;
            file.write_out()?;
            // Rows held back that start compressing are held again, encoded, in a row group.
            if held + file.held_bytes() > self.buffer_bytes {
                file.write_out()?;
            }
            held += file.held_bytes();
        }
        Ok(())
    }

    fn create(&mut self, table: Table, date: NaiveDate) -> Result<OpenFile> {
        let dir = format!("{}/date={date}", table.name());
        let target = format!("{dir}/part-{}-{:04}.parquet", self.id, self.next_file);
        self.next_file += self.file_step;
        let temp = temp_path(&target);
        let local = match (&self.spool, &self.store.location) {
            (Some(spool), _) => spool.path().join(&temp),
            (None, location) => location.display(&temp),
        };
        if let Some(parent) = local.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let contents = Contents::Few { batches: Vec::new(), rows: 0, bytes: 0 };
        Ok(OpenFile { table, contents, local, temp, target, last_written: 0 })
    }

    /// Finishes every open file at the end of the ingest.
    fn finish_all(&mut self) -> Result<()> {
        for (_, file) in self.open.drain() {
            self.finished.push(file.finish(&self.store.location, true)?);
        }
        Ok(())
    }

    /// Removes the temporary files of an ingest that does not commit.
    fn remove_all(&mut self) {
        for (_, file) in self.open.drain() {
            drop(file.contents);
            // Absent while its rows were still held back.
            let _ = fs::remove_file(&file.local);
        }
        for (temp, _) in self.finished.drain(..) {
            let _ = self.store.location.delete(&temp);
        }
    }
}

/// Crash tests stop the process here (`SPOOR_TEST_PAUSE_AT=<point>` in its environment) and kill it.
pub fn pause_for_tests(point: &str) {
    if std::env::var("SPOOR_TEST_PAUSE_AT").is_ok_and(|p| p == point) {
        eprintln!("spoor: paused at {point}");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

/// The UTC date of a microsecond timestamp, for partitioning.
pub fn partition_date(micros: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_micros(micros).map(|t| t.date_naive()).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Origin, TableBuilder};
    use arrow::array::AsArray;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    /// `rows` DNS rows of `day` (2026-03-3x), numbered from `first` in `log.file.line`.
    fn batch(day: u32, first: u64, rows: u64) -> RecordBatch {
        batch_on(march(day), first, rows)
    }

    fn batch_on(date: NaiveDate, first: u64, rows: u64) -> RecordBatch {
        let at = date.and_hms_opt(12, 0, 0).unwrap().and_utc();
        let mut builder = TableBuilder::new(Table::Dns, at);
        for line in first..first + rows {
            let mut event = Event::new(Table::Dns).at(Some(at));
            event.text("dns.question.name", Some(format!("host-{}.example", line % 97)));
            builder.append(&event, at.timestamp_micros(), &Origin { format: "zeek", path: "dns.log", line });
        }
        builder.finish()
    }

    fn lines_in(files: &[PathBuf]) -> Vec<i64> {
        let mut lines = Vec::new();
        for path in files {
            let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap().build().unwrap();
            for batch in reader {
                let batch = batch.unwrap();
                let column = batch.column_by_name("log.file.line").unwrap();
                lines.extend(column.as_primitive::<arrow::datatypes::Int64Type>().values().iter().copied());
            }
        }
        lines.sort_unstable();
        lines
    }

    fn encoder(store: &Store, buffer_bytes: usize) -> Encoder {
        let (id, spool, open, finished) = ("test".to_string(), None, HashMap::new(), Vec::new());
        Encoder {
            store: store.clone(),
            id,
            spool,
            next_file: 1,
            file_step: 1,
            open,
            finished,
            batches: 0,
            buffer_bytes,
        }
    }

    fn march(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
    }

    /// The store paths of an encoder's finished files, with their first column's compression.
    fn finished(store: &Store, encoder: &Encoder) -> Vec<(PathBuf, Compression, usize)> {
        let reader = |path: &PathBuf| {
            let file = File::open(path).unwrap();
            parquet::file::reader::SerializedFileReader::new(file).unwrap()
        };
        encoder
            .finished
            .iter()
            .map(|(temp, _)| store.location.display(temp))
            .map(|path| {
                use parquet::file::reader::FileReader;
                let metadata = reader(&path).metadata().clone();
                let compression = metadata.row_group(0).column(0).compression();
                (path, compression, metadata.num_row_groups())
            })
            .collect()
    }

    /// Lists' items and maps' keys and values have no statistics; other columns keep theirs.
    #[test]
    fn nested_columns_are_written_without_statistics() {
        let props = properties(Table::Dns, Compression::UNCOMPRESSED);
        let leaves: Vec<String> = nested_leaves(Table::Dns).iter().map(ColumnPath::string).collect();
        assert_eq!(
            leaves,
            [
                "dns.header_flags.list.item",
                "dns.answers.list.item",
                "dns.resolved_ip.list.item",
                "winlog.event_data.entries.keys",
                "winlog.event_data.entries.values",
                "zeek.fields.entries.keys",
                "zeek.fields.entries.values"
            ]
        );
        for leaf in nested_leaves(Table::Dns) {
            assert_eq!(props.statistics_enabled(&leaf), EnabledStatistics::None, "{leaf}");
        }
        let name = ColumnPath::from("dns.question.name");
        assert_eq!(props.statistics_enabled(&name), EnabledStatistics::Page);
    }

    /// More days than open files, one of them in every other batch: that day stays in one file
    /// (the file written to least recently is the one finished), every row is stored once, and
    /// a small file finished before the end is compressed, as its day may go on in another.
    #[test]
    fn the_file_written_to_least_recently_is_finished_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // No bound on what the files hold: that is the next test's.
        let mut encoder = encoder(&store, usize::MAX);
        let (mut line, mut written) = (0, Vec::new());
        let busy = march(31);
        for day in 1..=MAX_OPEN_FILES as u64 + 2 {
            let other = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(day);
            for (date, rows) in [(busy, 50), (other, 10)] {
                encoder.write(Table::Dns, date, &batch_on(date, line, rows)).unwrap();
                written.extend(line as i64..(line + rows) as i64);
                line += rows;
            }
        }
        let early = finished(&store, &encoder);
        assert_eq!(early.len(), 3, "the first three days were finished to open the last three");
        assert!(early.iter().all(|(_, compression, _)| matches!(compression, Compression::ZSTD(_))));
        encoder.finish_all().unwrap();
        let files = finished(&store, &encoder);
        let busy: Vec<_> = files.iter().filter(|(path, ..)| path.to_string_lossy().contains("2026-03-31")).collect();
        assert_eq!(busy.len(), 1, "{files:?}");
        assert_eq!(busy[0].1, Compression::UNCOMPRESSED, "rows finished at the end, and few: a small file");
        assert_eq!(files.len(), MAX_OPEN_FILES + 3);
        let paths: Vec<_> = files.into_iter().map(|(path, ..)| path).collect();
        assert_eq!(lines_in(&paths), written);
    }

    /// Past the encoder's buffer, the largest holder writes out: rows held back are compressed,
    /// a row group in progress ends. Nothing is lost.
    #[test]
    fn open_files_write_out_what_they_hold_past_the_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut encoder = encoder(&store, 1);
        for (n, day) in [1, 2, 1, 2, 1].into_iter().enumerate() {
            encoder.write(Table::Dns, march(day), &batch(day, n as u64 * 100, 100)).unwrap();
        }
        assert!(encoder.open.values().all(|file| file.held_bytes() == 0));
        encoder.finish_all().unwrap();
        let mut files = finished(&store, &encoder);
        files.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(files.iter().all(|(_, compression, _)| matches!(compression, Compression::ZSTD(_))));
        let groups: Vec<_> = files.iter().map(|(_, _, groups)| *groups).collect();
        assert_eq!(groups, [3, 2], "a row group a batch: {files:?}");
        let paths: Vec<_> = files.into_iter().map(|(path, ..)| path).collect();
        assert_eq!(lines_in(&paths), (0..500).collect::<Vec<_>>());
    }

    #[test]
    fn batches_spread_over_encoders_are_each_stored_once_and_files_are_named_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut writer = store.writer(&|_| {}, 3).unwrap();
        let (batches, rows) = (60, 2000);
        let day = |i: u64| 30 + (i % 2) as u32;
        let made: Vec<_> = (0..batches).map(|i| batch(day(i), i * rows, rows)).collect();
        for (i, batch) in (0..batches).zip(&made) {
            // Sent faster than one encoder encodes: the others take what it has no room for.
            writer.write(Table::Dns, NaiveDate::from_ymd_opt(2026, 3, day(i)).unwrap(), batch).unwrap();
        }
        let files = writer.commit(Vec::new()).unwrap();
        let names: std::collections::HashSet<_> = files.iter().map(|f| f.file_name().unwrap().to_owned()).collect();
        assert_eq!(names.len(), files.len(), "every file has a name of its own: {files:?}");
        assert!(files.len() > 2, "two days, and more than one encoder took them: {files:?}");
        let expected: Vec<i64> = (0..(batches * rows) as i64).collect();
        assert_eq!(lines_in(&files), expected, "every row stored once");
    }

    #[test]
    fn a_writer_dropped_without_commit_leaves_no_file_of_any_encoder() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut writer = store.writer(&|_| {}, 3).unwrap();
        let made: Vec<_> = (0..30).map(|i| batch(30, i * 2000, 2000)).collect();
        for batch in &made {
            writer.write(Table::Dns, NaiveDate::from_ymd_opt(2026, 3, 30).unwrap(), batch).unwrap();
        }
        drop(writer);
        let left: Vec<_> = walk(dir.path()).into_iter().filter(|p| p.to_string_lossy().contains("parquet")).collect();
        assert!(left.is_empty(), "{left:?}");
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
