//! The ingest flow: files → format detection → parser → table builders → Parquet store.
//!
//! Every record read ends in exactly one of three counts, per file: stored (it became one or more
//! rows), skipped (well formed, but no table holds it: a Zeek header, a Sysmon image load), or
//! rejected (malformed; the reason and the raw text go to the `_rejects` table). A file that cannot
//! be read at all is reported with the reason and ingest goes on with the next one.
//!
//! An ingest commits as a whole, recording the files it read in the store's manifest
//! ([`crate::manifest`]): a file read before is skipped, a file that grew is read from where the
//! last ingest stopped, and an interrupted ingest can simply be run again.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::event::{Event, Origin};
use crate::formats::{self, Format, Parser, ParserOptions, Verdict};
use crate::input::{self, Decompression, Line, Lines};
use crate::manifest::{Identity, Known, Manifest, Source};
use crate::schema::Table;
use crate::store::{Store, StoreWriter};

mod parallel;
mod rows;
use rows::Rows;

/// Distinct reasons kept per file in the summary; the rest are counted under one line.
const MAX_REASONS: usize = 20;

#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Skip detection and read every file as this format.
    pub format: Option<Format>,
    /// Read every file as NDJSON through this mapping (sets the format to `mapped`).
    pub mapping: Option<crate::formats::mapping::Mapping>,
    /// The CI job id for CI logs (default: the log file's name).
    pub ci_job: Option<String>,
    /// Longer lines are rejected without being held in memory.
    pub max_line_bytes: usize,
    /// Whole-document formats (lockfiles) larger than this are rejected.
    pub max_document_bytes: usize,
    /// A compressed file that inflates past these limits is cut off there, with an error.
    pub decompression: Decompression,
    /// Read every file whole, even those the manifest says were ingested before.
    pub again: bool,
    /// Names the client host of network sensors' rows by address (see [`crate::assets`]).
    pub assets: Option<crate::assets::Assets>,
    /// Threads that parse a large file's lines (0: one per core; 1: every file on the ingest's
    /// own thread). See [`parallel`].
    pub threads: usize,
    /// A file is parsed in parallel in blocks of about this much text, when it has more than
    /// two blocks' worth and its format allows it.
    pub block_bytes: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            format: None,
            mapping: None,
            ci_job: None,
            max_line_bytes: 16 * 1024 * 1024,
            max_document_bytes: 256 * 1024 * 1024,
            decompression: Decompression::default(),
            again: false,
            assets: None,
            threads: 0,
            // A block's rows take several times its text (a Zeek row's fields as a map): small
            // blocks keep the rows waiting to be written few.
            block_bytes: 2 * 1024 * 1024,
        }
    }
}

/// What happened to one input file.
#[derive(Debug, Clone, Default)]
pub struct FileSummary {
    pub path: PathBuf,
    pub format: Option<Format>,
    /// What the manifest knew of the file: new, ingested before (and skipped), grown, changed.
    pub known: Known,
    /// Bytes read from disk (compressed size for compressed files).
    pub bytes: u64,
    pub read: u64,
    pub stored: u64,
    pub skipped: u64,
    pub rejected: u64,
    /// Rows written per table (a record can become several rows).
    pub rows: BTreeMap<Table, u64>,
    /// Why records were rejected: how often, and the first line each reason was met on.
    pub reject_reasons: BTreeMap<String, Tally>,
    pub skip_reasons: BTreeMap<String, Tally>,
    /// Audit events stored whose action spoor does not recognize (no `audit.activity`), by
    /// action: hunts still match them by `event.action`, but not by meaning.
    pub unrecognized_actions: BTreeMap<String, Tally>,
    /// Why the file could not be read, or stopped being readable part way.
    pub error: Option<String>,
    /// Threads that parsed its records (more than one for a large file of some formats).
    pub threads: usize,
}

/// How many records met one reason, and the line of the first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub first_line: u64,
}

impl FileSummary {
    /// Counts a record read well but kept in no table, with the reason printed in the summary.
    fn skip(&mut self, reason: &str, line: u64) {
        self.skipped += 1;
        Self::count_reason(&mut self.skip_reasons, reason, line);
    }

    fn count_reason(map: &mut BTreeMap<String, Tally>, reason: &str, line: u64) {
        Self::add_reason(map, reason, Tally { count: 1, first_line: line });
    }

    fn add_reason(map: &mut BTreeMap<String, Tally>, reason: &str, tally: Tally) {
        let key = if map.len() < MAX_REASONS || map.contains_key(reason) { reason } else { "(other reasons)" };
        let kept = map.entry(key.to_string()).or_insert(Tally { count: 0, first_line: tally.first_line });
        kept.count += tally.count;
    }

    /// Adds the counts of the file's next part, read on another thread ([`parallel`]).
    fn absorb(&mut self, part: FileSummary) {
        self.read += part.read;
        self.stored += part.stored;
        self.skipped += part.skipped;
        self.rejected += part.rejected;
        for (table, rows) in part.rows {
            *self.rows.entry(table).or_default() += rows;
        }
        let reasons = [
            (&mut self.reject_reasons, part.reject_reasons),
            (&mut self.skip_reasons, part.skip_reasons),
            (&mut self.unrecognized_actions, part.unrecognized_actions),
        ];
        for (kept, more) in reasons {
            // In the order they were first met, as if counted one record at a time.
            let mut more: Vec<_> = more.into_iter().collect();
            more.sort_by_key(|(_, tally)| tally.first_line);
            for (reason, tally) in more {
                Self::add_reason(kept, &reason, tally);
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct IngestSummary {
    pub files: Vec<FileSummary>,
    pub elapsed: Duration,
    /// The Parquet files this ingest added to the store.
    pub written: Vec<PathBuf>,
}

impl IngestSummary {
    pub fn rows(&self) -> BTreeMap<Table, u64> {
        let mut out = BTreeMap::new();
        for f in &self.files {
            for (t, n) in &f.rows {
                *out.entry(*t).or_default() += n;
            }
        }
        out
    }

    pub fn total(&self, count: impl Fn(&FileSummary) -> u64) -> u64 {
        self.files.iter().map(count).sum()
    }
}

/// Told of progress, for a progress bar. Both methods may be called often.
pub trait Progress {
    /// Another process is writing to the store; this ingest waits for it.
    fn waiting_for_writer(&self, _holder: &str) {}
    fn start_file(&self, _path: &Path, _bytes: u64) {}
    fn bytes_read(&self, _total_for_file: u64) {}
}

/// No progress reporting.
pub struct Quiet;
impl Progress for Quiet {}

/// Ingests files and directories (recursively, hidden files skipped) into the store.
pub fn ingest(
    store: &Store,
    inputs: &[PathBuf],
    options: &IngestOptions,
    progress: &dyn Progress,
) -> Result<IngestSummary> {
    let started = Instant::now();
    if options.format == Some(Format::Mapped) && options.mapping.is_none() {
        return Err(Error::User("--format mapped needs a mapping: give one with --mapping <file.toml>".into()));
    }
    // Directories walked in name order; the logs that teach the asset map first.
    let mut files = crate::walk::all_files(inputs, |_| true)?;
    files.sort_by_key(|path| !crate::assets::teaches(path));
    // The manifest is read under the write lock, so an ingest that waited sees what the one
    // before it committed.
    let assets = options.assets.clone().unwrap_or_default();
    // One Parquet encoder per two parsing threads: encoding Zeek's rows costs about as much as
    // parsing them (ECS's a third), so on many cores one encoder would be the limit. On 2 cores
    // a second encoder measured no faster (both cores were busy) and held 140 MiB more.
    let encoders = parallel::allowed(options).div_ceil(2);
    let writer = store.writer(&|holder| progress.waiting_for_writer(holder), encoders)?;
    let mut sink = Sink::new(writer, assets);
    let mut manifest = if options.again { Manifest::default() } else { Manifest::load(store.location())? };
    let mut summary = IngestSummary::default();
    let mut sources = Vec::new();
    for path in files {
        let archive = crate::archive::kind(&path, options.decompression).ok().flatten();
        let (summaries, source) = match archive {
            Some(kind) => ingest_archive(&path, kind, options, &manifest, &mut sink, progress)?,
            None => {
                let (summary, source) = ingest_file(&Input::file(&path), options, &manifest, &mut sink, progress)?;
                (vec![summary], source)
            }
        };
        if let Some(source) = source {
            manifest.remember(&source, sink.writer.id());
            sources.push(source);
        }
        summary.files.extend(summaries);
    }
    summary.written = sink.commit(sources)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// A file to read, and what its rows call it.
struct Input<'a> {
    /// Where its bytes are: the file given, or an archive member's copy.
    path: &'a Path,
    /// What rows and summaries call it: the path given, or `archive.zip!member.json`.
    name: String,
    /// The name of its directory (a lockfile's project when the lockfile names none).
    directory: Option<String>,
    /// The default CI job id of a CI log: the file's name without `.log`.
    stem: Option<String>,
    /// Tracked by the store's manifest itself, or through the archive it came in.
    tracked: bool,
}

impl<'a> Input<'a> {
    fn file(path: &'a Path) -> Self {
        let directory = path
            .canonicalize()
            .ok()
            .and_then(|p| p.parent().and_then(|d| d.file_name()).map(|d| d.to_string_lossy().into_owned()));
        Input { path, name: path.display().to_string(), directory, stem: file_stem(path), tracked: true }
    }

    /// A member of `archive` named `member`, unpacked to `path`.
    fn member(archive: &Path, member: &str, path: &'a Path) -> Self {
        let inside = Path::new(member);
        let directory = inside
            .parent()
            .and_then(|d| d.file_name())
            .map(|d| d.to_string_lossy().into_owned())
            .or_else(|| Input::file(archive).directory);
        Input {
            path,
            name: format!("{}!{member}", archive.display()),
            directory,
            stem: file_stem(inside),
            tracked: false,
        }
    }

    /// Its identity and what the manifest knows of it; a member is new each time it is read
    /// (its archive is what the manifest knows).
    fn classify(&self, manifest: &Manifest) -> std::io::Result<(Identity, Known)> {
        if self.tracked {
            return manifest.classify(self.path);
        }
        let size = std::fs::metadata(self.path)?.len();
        // No hash to take: the manifest records the archive, not its members.
        let identity = Identity { path: self.name.clone(), size, modified_ns: None, blake3: Some(String::new()) };
        Ok((identity, Known::New))
    }
}

/// Ingests every member of an archive; the archive as a whole is what the manifest records, so
/// one read before is skipped, and a changed one is read again whole.
fn ingest_archive(
    path: &Path,
    kind: crate::archive::Kind,
    options: &IngestOptions,
    manifest: &Manifest,
    sink: &mut Sink,
    progress: &dyn Progress,
) -> Result<(Vec<FileSummary>, Option<Source>)> {
    let mut whole = FileSummary { path: path.to_path_buf(), ..Default::default() };
    let (identity, known) = match manifest.classify(path) {
        Ok(classified) => classified,
        Err(e) => {
            whole.error = Some(format!("{}: cannot read: {e}", path.display()));
            return Ok((vec![whole], None));
        }
    };
    whole.known = known.clone();
    if let Known::Same { .. } = known {
        return Ok((vec![whole], None));
    }
    let unpacked = tempfile::tempdir().map_err(|e| Error::io(&std::env::temp_dir(), e))?;
    let mut members = Vec::new();
    let walked = crate::archive::for_each_member(path, kind, options.decompression, unpacked.path(), |member| {
        let summary = match member {
            Ok(member) => {
                ingest_file(&Input::member(path, &member.name, &member.file), options, manifest, sink, progress)?.0
            }
            Err((name, reason)) => {
                let name = format!("{}!{name}", path.display());
                FileSummary { error: Some(format!("{name}: {reason}")), path: name.into(), ..Default::default() }
            }
        };
        members.push(summary);
        Ok::<(), Error>(())
    });
    match walked {
        Ok(outcome) => outcome?,
        Err(reason) => {
            whole.error = Some(format!("{}: {reason}", path.display()));
            members.push(whole);
            return Ok((members, None));
        }
    }
    let (size, blake3) = match identity.blake3 {
        Some(hash) => (identity.size, hash),
        None => input::HashTap::default().finish(path, 0, identity.size).map_err(|e| Error::io(path, e))?,
    };
    let source = Source {
        path: identity.path,
        size,
        modified_ns: identity.modified_ns,
        blake3,
        lines: 0,
        format: format!("{kind:?}").to_lowercase(),
        offset: 0,
    };
    Ok((members, Some(source)))
}

/// Ingests one file (or its appended part); returns what happened and, when the file is one
/// the manifest tracks and was read, its manifest entry.
fn ingest_file(
    input: &Input,
    options: &IngestOptions,
    manifest: &Manifest,
    sink: &mut Sink,
    progress: &dyn Progress,
) -> Result<(FileSummary, Option<Source>)> {
    let path = input.path;
    let mut summary = FileSummary { path: PathBuf::from(&input.name), ..Default::default() };
    let display = input.name.clone();
    let (identity, known) = match input.classify(manifest) {
        Ok(classified) => classified,
        Err(e) => {
            summary.error = Some(format!("{display}: cannot read: {e}"));
            return Ok((summary, None));
        }
    };
    summary.known = known.clone();
    if let Known::Same { .. } = known {
        return Ok((summary, None));
    }
    progress.start_file(path, identity.size);
    let file_time = identity.modified_ns.map(|ns| DateTime::<Utc>::from_timestamp_nanos(ns as i64));

    let format = match chosen_format(input, options, &known) {
        Ok(format) => format,
        Err(error) => {
            summary.error = Some(error);
            return Ok((summary, None));
        }
    };
    summary.format = Some(format);
    // Where to start: after what the last ingest read of a grown file (documents are read whole:
    // a grown lockfile is a new snapshot, not an appendix).
    let (offset, first_line) = match &known {
        Known::Appended { previous } if !format.is_document() => (previous.size, previous.lines),
        Known::Appended { previous } => {
            summary.known = Known::Changed { previous: previous.clone() };
            (0, 0)
        }
        _ => (0, 0),
    };
    let mut source = Source {
        path: identity.path.clone(),
        size: identity.size,
        modified_ns: identity.modified_ns,
        blake3: identity.blake3.clone().unwrap_or_default(),
        lines: 0,
        format: format.name().to_string(),
        offset,
    };
    // A file the manifest did not need to hash is hashed as it is read.
    let tap = identity.blake3.is_none().then(input::HashTap::default);
    let opened = match &tap {
        Some(tap) => input::open_hashed(path, identity.size, options.decompression, tap.clone()),
        None => input::open_range(path, offset, identity.size - offset, options.decompression),
    };
    let (_, reader, counter) = match opened {
        Ok(r) => r,
        Err(e) => {
            summary.error = Some(format!("{display}: cannot open: {e}"));
            return Ok((summary, None));
        }
    };
    let parser_options = ParserOptions {
        ci_job: options.ci_job.clone().or_else(|| input.stem.clone()),
        file_time,
        directory: input.directory.clone(),
        mapping: options.mapping.clone(),
    };
    let context = FileContext { format: format.name(), path: &display };
    let parser = format.parser(&parser_options).map_err(Error::User)?;
    match parser {
        Parser::Lines(mut parser) => {
            if offset > 0 && parser.carries_state() {
                replay(path, offset, options, parser.as_mut());
            }
            let lines = Lines::new(reader, options.max_line_bytes).numbered_after(first_line);
            let threads = parallel::threads(options, identity.size - offset, parser.as_ref());
            let parser = parser.as_mut();
            summary.threads = threads;
            source.lines = if threads > 1 {
                parallel::read_lines(lines, parser, threads, options, &context, &counter, &mut summary, sink, progress)?
            } else {
                read_lines(lines, parser, options, &context, &counter, &mut summary, sink, progress)?
            };
        }
        Parser::Evtx => {
            let outcome = read_evtx(path, reader, options, &context, &mut summary, sink)?;
            let read = match outcome {
                // Read from the file itself, not through the hashing reader.
                Ok(EvtxRead::FromFile) => 0,
                Ok(EvtxRead::Decompressed) => counter.load(Ordering::Relaxed),
                Err(reason) => {
                    summary.error = Some(format!("{display}: {reason}"));
                    0
                }
            };
            summary.bytes = identity.size;
            progress.bytes_read(summary.bytes);
            return Ok(sealed(summary, source, tap, read));
        }
        Parser::Document(mut parser) => {
            let text = match input::read_document(reader, options.max_document_bytes) {
                Ok(Ok(document)) => {
                    for (line, reason) in &document.bad_lines {
                        summary.read += 1;
                        sink.reject(&mut summary, &context.origin(*line), reason, "")?;
                    }
                    document.text
                }
                Ok(Err(reason)) => {
                    summary.read += 1;
                    sink.reject(&mut summary, &context.origin(1), &reason, "")?;
                    summary.bytes = counter.load(Ordering::Relaxed);
                    let read = summary.bytes;
                    return Ok(sealed(summary, source, tap, read));
                }
                Err(e) => {
                    summary.error = Some(format!("{display}: {e}"));
                    return Ok(sealed(summary, source, tap, counter.load(Ordering::Relaxed)));
                }
            };
            read_document(&text, parser.as_mut(), &context, &mut summary, sink)?;
        }
    }
    summary.bytes = counter.load(Ordering::Relaxed);
    progress.bytes_read(summary.bytes);
    let read = summary.bytes;
    Ok(sealed(summary, source, tap, read))
}

/// The format to read a file as: the one asked for (a mapping reads `mapped`), the one a grown
/// file was read as before, else the one its content shows. `Err` says why there is none.
fn chosen_format(input: &Input, options: &IngestOptions, known: &Known) -> std::result::Result<Format, String> {
    let display = &input.name;
    let previous = match known {
        Known::Appended { previous } => Format::from_name(&previous.format),
        _ => None,
    };
    match options.format.or(previous) {
        _ if options.mapping.is_some() => Ok(Format::Mapped),
        Some(format) => Ok(format),
        None => match sniff(input.path, options) {
            Ok(Some(format)) => Ok(format),
            Ok(None) => Err(format!(
                "{display}: format not recognised from its content; name it with --format (see `spoor formats`)"
            )),
            Err(e) => Err(format!("{display}: {e}")),
        },
    }
}

/// A line format's records, line by line, into the sink: each stored, skipped with its reason or
/// rejected with it (too long, not UTF-8, not parsed). Returns the number of the last line read.
#[allow(clippy::too_many_arguments)]
fn read_lines<R: std::io::BufRead>(
    mut lines: Lines<R>,
    parser: &mut dyn formats::LineParser,
    options: &IngestOptions,
    context: &FileContext,
    counter: &std::sync::atomic::AtomicU64,
    summary: &mut FileSummary,
    sink: &mut Sink,
    progress: &dyn Progress,
) -> Result<u64> {
    loop {
        let (number, line) = match lines.next_line() {
            None => break,
            Some(Ok(item)) => item,
            Some(Err(e)) => {
                input_stopped(lines.line_number(), &e, context, summary, &mut sink.rows);
                sink.write_full()?;
                break;
            }
        };
        if number % 1024 == 0 {
            progress.bytes_read(counter.load(Ordering::Relaxed));
        }
        let origin = context.origin(number);
        if let Some((reason, raw)) = why_unreadable(&line, options) {
            summary.read += 1;
            sink.rows.reject(summary, &origin, &reason, &raw);
        } else if let Line::Text(text) = line
            && !text.trim().is_empty()
        {
            parse_line(parser, text, &origin, summary, &mut sink.rows)?;
        }
        sink.write_full()?;
    }
    // Rows held for records that never came (a script block cut short) are stored at the
    // file's last line.
    let last = context.origin(lines.line_number());
    for held in parser.finish() {
        match held {
            Ok(event) => sink.store_held(summary, &event, &last)?,
            Err(reason) => {
                summary.read += 1;
                sink.reject(summary, &last, &reason, "")?;
            }
        }
    }
    Ok(lines.line_number())
}

/// Reading a file failed after line `after`: the file's error, and a reject where it stopped.
fn input_stopped(
    after: u64,
    error: &std::io::Error,
    context: &FileContext,
    summary: &mut FileSummary,
    rows: &mut Rows,
) {
    let reason = format!("input stopped after line {after}: {error}");
    summary.error = Some(format!("{}: {reason}", context.path));
    summary.read += 1;
    rows.reject(summary, &context.origin(after + 1), &reason, "");
}

/// One line of text, parsed into rows: stored, skipped with its reason or rejected with it.
fn parse_line(
    parser: &mut dyn formats::LineParser,
    text: &str,
    origin: &Origin,
    summary: &mut FileSummary,
    rows: &mut Rows,
) -> Result<()> {
    summary.read += 1;
    let mut events = Vec::new();
    match parser.parse(text, &mut events) {
        Ok(Verdict::Stored) => rows.store(summary, &events, origin, text)?,
        Ok(Verdict::Skipped(reason)) => summary.skip(reason, origin.line),
        Err(reason) => rows.reject(summary, origin, &reason, text),
    }
    Ok(())
}

/// Why a line that is not text cannot be parsed, and what of it its reject keeps; `None` for text.
fn why_unreadable(line: &Line, options: &IngestOptions) -> Option<(String, String)> {
    let unreadable = match line {
        Line::Text(_) => return None,
        Line::TooLong { len, head } => (
            format!("line is {len} bytes, longer than the limit of {} (--max-line-bytes)", options.max_line_bytes),
            String::from_utf8_lossy(head).into_owned(),
        ),
        Line::NotUtf8 { valid_up_to, raw } => (
            format!("invalid UTF-8 at byte {} of the line", valid_up_to + 1),
            String::from_utf8_lossy(raw).into_owned(),
        ),
    };
    Some(unreadable)
}

/// A whole document's records (a lockfile's packages, a registry document's versions) into the
/// sink, each at its own line.
fn read_document(
    text: &str,
    parser: &mut dyn formats::DocumentParser,
    context: &FileContext,
    summary: &mut FileSummary,
    sink: &mut Sink,
) -> Result<()> {
    let mut entries = Vec::new();
    match parser.parse(text, &mut entries) {
        Ok(()) => {
            for (line, reason) in parser.skipped() {
                summary.read += 1;
                summary.skip(reason, line);
            }
            for entry in entries {
                summary.read += 1;
                let origin = context.origin(entry.line);
                match entry.event {
                    Ok(event) => {
                        let mut rows = vec![event];
                        rows.extend(entry.also);
                        sink.store(summary, &rows, &origin, "")?
                    }
                    Err(reason) => sink.reject(summary, &origin, &reason, "")?,
                }
            }
        }
        Err(reason) => {
            summary.read += 1;
            sink.reject(summary, &context.origin(1), &reason, text)?;
        }
    }
    Ok(())
}

/// How an EVTX file was read: from the file (seeking, as the parser wants), or decompressed
/// into memory first (`.evtx.gz`, `.evtx.zst`).
enum EvtxRead {
    FromFile,
    Decompressed,
}

/// Reads an EVTX file's records into the sink; `Err` when it is not a readable EVTX file.
fn read_evtx(
    path: &Path,
    reader: Box<dyn std::io::BufRead + Send>,
    options: &IngestOptions,
    context: &FileContext,
    summary: &mut FileSummary,
    sink: &mut Sink,
) -> Result<std::result::Result<EvtxRead, String>> {
    let mut store = |item: formats::windows::evtx::Item| -> Result<()> {
        use formats::windows::evtx::Outcome;
        let origin = context.origin(item.number);
        // A joined script block's parts were read, and counted, as the records they came in.
        if !matches!(item.outcome, Outcome::Joined(_)) {
            summary.read += 1;
        }
        match item.outcome {
            Outcome::Stored(event) => sink.store(summary, std::slice::from_ref(&event), &origin, ""),
            Outcome::Joined(event) => sink.store_held(summary, &event, &origin),
            Outcome::Skipped(reason) => {
                summary.skip(reason, item.number);
                Ok(())
            }
            Outcome::Rejected(reason) => sink.reject(summary, &origin, &reason, ""),
        }
    };
    let mut head = [0u8; 8];
    let plain = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok()
        && head.as_slice() == formats::windows::evtx::SIGNATURE;
    let (outcome, how) = if plain {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        (formats::windows::evtx::read(std::io::BufReader::new(file), &mut store), EvtxRead::FromFile)
    } else {
        // A compressed EVTX file: the parser seeks, so it is read into memory, within the
        // document size limit.
        let mut bytes = Vec::new();
        let limit = options.max_document_bytes as u64;
        if let Err(e) = reader.take(limit + 1).read_to_end(&mut bytes) {
            return Ok(Err(format!("cannot decompress: {e}")));
        }
        if bytes.len() as u64 > limit {
            return Ok(Err(format!(
                "a compressed EVTX file is read into memory, and this one is larger than {limit} bytes \
                 (--max-document-bytes); decompress it first"
            )));
        }
        (formats::windows::evtx::read(std::io::Cursor::new(bytes), &mut store), EvtxRead::Decompressed)
    };
    match outcome {
        Ok(stored) => stored.map(|()| Ok(how)),
        Err(reason) => Ok(Err(reason)),
    }
}

/// Completes a source's manifest entry with the hash taken while reading, if one was taken.
/// A file that shrank meanwhile is recorded as the bytes there were; one that cannot be read to
/// its end is not recorded, with the reason (its rows stay: they were read, and a later ingest
/// reads the file again).
fn sealed(
    mut summary: FileSummary,
    mut source: Source,
    tap: Option<input::HashTap>,
    read: u64,
) -> (FileSummary, Option<Source>) {
    let Some(tap) = tap else { return (summary, Some(source)) };
    match tap.finish(&summary.path, read, source.size) {
        Ok((hashed, hash)) => {
            source.size = hashed;
            source.blake3 = hash;
            (summary, Some(source))
        }
        Err(e) => {
            let display = summary.path.display();
            summary.error.get_or_insert_with(|| format!("{display}: cannot read to its end: {e}"));
            (summary, None)
        }
    }
}

/// Feeds a stateful parser (Zeek's `#fields` header, a CI log's current step) the part of a file
/// read before, storing nothing, so the appended part is parsed as it would be in the whole file.
fn replay(path: &Path, end: u64, options: &IngestOptions, parser: &mut dyn formats::LineParser) {
    let Ok((_, reader, _)) = input::open_range(path, 0, end, options.decompression) else { return };
    let mut lines = Lines::new(reader, options.max_line_bytes);
    while let Some(Ok((_, line))) = lines.next_line() {
        if let Line::Text(text) = line {
            let _ = parser.parse(text, &mut Vec::new());
        }
    }
}

fn file_stem(path: &Path) -> Option<String> {
    path.file_stem().and_then(|s| s.to_str()).map(|s| s.trim_end_matches(".log").to_string())
}

/// Reads the first 64 KiB (decompressed) and asks the detector.
fn sniff(path: &Path, options: &IngestOptions) -> std::io::Result<Option<Format>> {
    let (_, reader, _) = input::open(path, options.decompression)?;
    let mut head = Vec::with_capacity(64 * 1024);
    // A read error after some bytes (a truncated stream) is reported when the file is parsed;
    // detection goes by what could be read.
    if let Err(e) = reader.take(64 * 1024).read_to_end(&mut head)
        && head.is_empty()
    {
        return Err(e);
    }
    let text = match std::str::from_utf8(&head) {
        Ok(t) => t,
        // The cut may fall inside a character; a real encoding error shows up when parsing.
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""),
    };
    Ok(formats::detect::detect(path, text))
}

struct FileContext<'a> {
    format: &'a str,
    path: &'a str,
}

impl<'a> FileContext<'a> {
    fn origin(&self, line: u64) -> Origin<'a> {
        Origin { format: self.format, path: self.path, line }
    }
}

/// Routes rows to per-(table, day) builders ([`Rows`]) and full batches to the store.
struct Sink {
    writer: StoreWriter,
    rows: Rows,
}

impl Sink {
    fn new(writer: StoreWriter, assets: crate::assets::Assets) -> Self {
        Sink { writer, rows: Rows::new(Utc::now(), assets) }
    }

    /// Stores the events of one record, or rejects the record if any of them has no timestamp.
    fn store(&mut self, summary: &mut FileSummary, events: &[Event], origin: &Origin, raw: &str) -> Result<()> {
        self.rows.store(summary, events, origin, raw)?;
        self.write_full()
    }

    fn reject(&mut self, summary: &mut FileSummary, origin: &Origin, reason: &str, raw: &str) -> Result<()> {
        self.rows.reject(summary, origin, reason, raw);
        self.write_full()
    }

    /// Stores the row of records held back and counted when they were read (a script block's
    /// parts, joined).
    fn store_held(&mut self, summary: &mut FileSummary, event: &Event, origin: &Origin) -> Result<()> {
        if let Some(timestamp) = event.timestamp {
            self.rows.append(event, timestamp, origin);
            *summary.rows.entry(event.table).or_default() += 1;
        }
        self.write_full()
    }

    /// Writes the batches the builders completed.
    fn write_full(&mut self) -> Result<()> {
        for (table, date, batch) in self.rows.full.drain(..) {
            self.writer.write(table, date, &batch)?;
        }
        Ok(())
    }

    fn commit(mut self, sources: Vec<Source>) -> Result<Vec<PathBuf>> {
        self.rows.flush_all();
        self.write_full()?;
        self.writer.commit(sources)
    }
}
