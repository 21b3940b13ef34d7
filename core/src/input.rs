//! Reading input files: transparent gzip/zstd decompression and bounded line splitting.
//!
//! Lines longer than the limit, and lines that are not UTF-8, are reported rather than read, so one
//! hostile record costs a bounded amount of memory and never hides the records after it.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub(crate) fn sniff(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => Compression::None,
        }
    }
}

/// Counts the compressed bytes consumed, for progress and throughput, and hashes them when asked.
pub struct Counted<R> {
    inner: R,
    pub bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    hash: Option<HashTap>,
}

/// The BLAKE3 hash of a file's raw bytes, taken as they are read for parsing, so that a new file
/// is read from disk once rather than once to identify it and once to parse it.
#[derive(Clone, Default)]
pub struct HashTap(std::sync::Arc<std::sync::Mutex<blake3::Hasher>>);

impl HashTap {
    /// The hash of `0..size`, and how many bytes that was (fewer when the file shrank). The parser
    /// may have stopped early (a corrupt gzip stream, an oversized document); the rest is read
    /// here, so the hash always covers the bytes the manifest records.
    pub fn finish(self, path: &Path, read: u64, size: u64) -> io::Result<(u64, String)> {
        let mut hasher = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut hashed = read;
        if read < size {
            let mut file = File::open(path)?;
            file.seek(io::SeekFrom::Start(read))?;
            hashed += io::copy(&mut file.take(size - read), &mut *hasher)?;
        }
        Ok((hashed, hasher.finalize().to_hex().to_string()))
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(HashTap(hasher)) = &self.hash {
            hasher.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).update(&buf[..n]);
        }
        self.bytes.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// How far a compressed file may inflate: a small file that inflates to terabytes must not keep
/// ingest busy for hours, nor fill the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decompression {
    /// Decompressed bytes per file.
    pub max_bytes: u64,
    /// Decompressed bytes per compressed byte, checked once past [`RATIO_FLOOR`]: deflate cannot
    /// exceed about 1032:1, so a real gzip log never comes near 1000:1; a bomb does.
    pub max_ratio: u64,
}

/// Below this much output, any ratio is allowed (a small file of repeated lines compresses well).
pub const RATIO_FLOOR: u64 = 256 * 1024 * 1024;

impl Default for Decompression {
    fn default() -> Self {
        Decompression { max_bytes: 64 * 1024 * 1024 * 1024, max_ratio: 1000 }
    }
}

/// Stops a decompressor that produces more than the limits allow.
struct Bounded<R> {
    inner: R,
    produced: u64,
    limits: Decompression,
    compressed: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let limits = self.limits;
        if self.produced >= limits.max_bytes {
            return Err(io::Error::other(format!(
                "decompressed size exceeds the limit of {} bytes (raise it with --max-decompressed)",
                limits.max_bytes
            )));
        }
        let compressed = self.compressed.load(std::sync::atomic::Ordering::Relaxed).max(1);
        if self.produced > RATIO_FLOOR && self.produced / compressed > limits.max_ratio {
            return Err(io::Error::other(format!(
                "{compressed} compressed bytes inflated to {} bytes, more than {}:1 (a decompression bomb?); \
                 raise the limit with --max-ratio",
                self.produced, limits.max_ratio
            )));
        }
        let want = buf.len().min((limits.max_bytes - self.produced).min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        self.produced += n as u64;
        Ok(n)
    }
}

type Opened = (Compression, Box<dyn BufRead + Send>, std::sync::Arc<std::sync::atomic::AtomicU64>);

/// Opens a file, decompressing gzip and zstd by their magic bytes.
pub fn open(path: &Path, limits: Decompression) -> io::Result<Opened> {
    open_range(path, 0, u64::MAX, limits)
}

/// Opens bytes `offset..offset + len` of a file (the part appended since the last ingest, or the
/// part that was hashed), decompressing them as [`open`] does.
pub fn open_range(path: &Path, offset: u64, len: u64, limits: Decompression) -> io::Result<Opened> {
    open_tapped(path, offset, len, limits, None)
}

/// Opens the first `len` bytes of a file, hashing the raw bytes into `tap` as they are read.
pub fn open_hashed(path: &Path, len: u64, limits: Decompression, tap: HashTap) -> io::Result<Opened> {
    open_tapped(path, 0, len, limits, Some(tap))
}

fn open_tapped(path: &Path, offset: u64, len: u64, limits: Decompression, hash: Option<HashTap>) -> io::Result<Opened> {
    let bytes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut file = File::open(path)?;
    if offset > 0 {
        file.seek(io::SeekFrom::Start(offset))?;
    }
    let file = Counted { inner: file.take(len), bytes: bytes.clone(), hash };
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let compression = Compression::sniff(reader.fill_buf()?);
    let bounded = |inner: Box<dyn Read + Send>| Bounded { inner, produced: 0, limits, compressed: bytes.clone() };
    let boxed: Box<dyn BufRead + Send> = match compression {
        Compression::None => Box::new(reader),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            256 * 1024,
            bounded(Box::new(flate2::bufread::MultiGzDecoder::new(reader))),
        )),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            256 * 1024,
            bounded(Box::new(zstd::stream::read::Decoder::with_buffer(reader)?)),
        )),
    };
    Ok((compression, boxed, bytes))
}

/// One line, or why it could not be read as one.
#[derive(Debug)]
pub enum Line<'a> {
    Text(&'a str),
    TooLong { len: usize, head: &'a [u8] },
    NotUtf8 { valid_up_to: usize, raw: &'a [u8] },
}

/// Splits a reader into lines of at most `max_len` bytes, numbering them from 1.
pub struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
    max_len: usize,
    /// Bytes of the line lent out last time, consumed on the next call.
    pending: usize,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R, max_len: usize) -> Self {
        Lines { reader, buf: Vec::with_capacity(4096), line: 0, max_len, pending: 0 }
    }

    /// The next line and its number, `None` at the end of input.
    pub fn next_line(&mut self) -> Option<io::Result<(u64, Line<'_>)>> {
        if self.pending > 0 {
            self.reader.consume(self.pending);
            self.pending = 0;
        }
        // Fast path: the whole line is already in the reader's buffer; lend it without a copy.
        let found = match self.reader.fill_buf() {
            Ok([]) => return None,
            Ok(available) => memchr::memchr(b'\n', available),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => None,
            Err(e) => return Some(Err(e)),
        };
        if let Some(end) = found.filter(|&end| end <= self.max_len + 1) {
            self.pending = end + 1;
            self.line += 1;
            let available = match self.reader.fill_buf() {
                Ok(a) => a,
                Err(e) => return Some(Err(e)),
            };
            let mut line = &available[..end];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            if line.len() > self.max_len {
                return Some(Ok((self.line, Line::TooLong { len: line.len(), head: &line[..self.max_len] })));
            }
            return Some(Ok((self.line, classify(line))));
        }
        self.buf.clear();
        let mut total = 0usize;
        let mut saw_any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Some(Err(e)),
            };
            if available.is_empty() {
                break;
            }
            saw_any = true;
            let (chunk, done) = match memchr_newline(available) {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            let room = self.max_len.saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            total += chunk.len();
            let consumed = done.unwrap_or(available.len());
            self.reader.consume(consumed);
            if done.is_some() {
                break;
            }
        }
        if !saw_any {
            return None;
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\r') && total <= self.max_len {
            self.buf.pop();
            total -= 1;
        }
        if total > self.max_len {
            return Some(Ok((self.line, Line::TooLong { len: total, head: &self.buf })));
        }
        Some(Ok((self.line, classify(&self.buf))))
    }

    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// Numbers the lines on after `line`: for the part of a file appended since the last ingest.
    pub fn numbered_after(mut self, line: u64) -> Self {
        self.line = line;
        self
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

fn classify(bytes: &[u8]) -> Line<'_> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Line::Text(text),
        Err(e) => Line::NotUtf8 { valid_up_to: e.valid_up_to(), raw: bytes },
    }
}

/// A whole document, and the lines of it that were not UTF-8 (blanked in `text`, so the other
/// lines keep their numbers): (line number, reason).
pub struct Document {
    pub text: String,
    pub bad_lines: Vec<(u64, String)>,
}

/// Reads a whole document (lockfile, package metadata, audit log) of at most `max_len` bytes.
/// A line that is not UTF-8 costs only itself: one bad record in a JSON-lines audit log must not
/// hide the others.
pub fn read_document(mut reader: impl Read, max_len: usize) -> io::Result<Result<Document, String>> {
    let mut buf = Vec::new();
    reader.by_ref().take(max_len as u64 + 1).read_to_end(&mut buf)?;
    if buf.len() > max_len {
        return Ok(Err(format!("document larger than {max_len} bytes")));
    }
    let buf = match String::from_utf8(buf) {
        Ok(text) => return Ok(Ok(Document { text, bad_lines: Vec::new() })),
        Err(e) => e.into_bytes(),
    };
    let mut text = String::with_capacity(buf.len());
    let mut bad_lines = Vec::new();
    for (index, line) in buf.split_inclusive(|&b| b == b'\n').enumerate() {
        match std::str::from_utf8(line) {
            Ok(valid) => text.push_str(valid),
            Err(e) => {
                bad_lines
                    .push((index as u64 + 1, format!("invalid UTF-8 at byte {} of the line", e.valid_up_to() + 1)));
                if line.ends_with(b"\n") {
                    text.push('\n');
                }
            }
        }
    }
    Ok(Ok(Document { text, bad_lines }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_tap_covers_the_whole_file_even_when_reading_stopped_early() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.log");
        let content: Vec<u8> = (0..1_000_000u32).flat_map(|i| i.to_le_bytes()).collect();
        std::fs::write(&path, &content).unwrap();
        let size = content.len() as u64;
        let whole = blake3::hash(&content).to_hex().to_string();

        let tap = HashTap::default();
        let (_, mut reader, counter) = open_hashed(&path, size, Decompression::default(), tap.clone()).unwrap();
        reader.fill_buf().unwrap();
        let read = counter.load(std::sync::atomic::Ordering::Relaxed);
        assert!(read > 0 && read < size, "only the first buffer was read ({read} bytes)");
        drop(reader);
        assert_eq!(tap.finish(&path, read, size).unwrap(), (size, whole));

        let tap = HashTap::default();
        let (_, mut reader, _) = open_hashed(&path, size, Decompression::default(), tap.clone()).unwrap();
        io::copy(&mut reader, &mut io::sink()).unwrap();
        let (hashed, hash) = tap.finish(&path, size, size).unwrap();
        assert_eq!((hashed, hash), (size, blake3::hash(&content).to_hex().to_string()));

        std::fs::write(&path, &content[..1000]).unwrap();
        let (hashed, hash) = HashTap::default().finish(&path, 0, size).unwrap();
        assert_eq!((hashed, hash), (1000, blake3::hash(&content[..1000]).to_hex().to_string()), "a file that shrank");
    }

    fn collect(input: &[u8], max: usize) -> Vec<String> {
        let mut lines = Lines::new(input, max);
        let mut out = Vec::new();
        while let Some(item) = lines.next_line() {
            let (n, line) = item.unwrap();
            out.push(match line {
                Line::Text(t) => format!("{n}:{t}"),
                Line::TooLong { len, .. } => format!("{n}:too long {len}"),
                Line::NotUtf8 { valid_up_to, .. } => format!("{n}:not utf8 at {valid_up_to}"),
            });
        }
        out
    }

    #[test]
    fn splits_lines_and_strips_crlf() {
        assert_eq!(collect(b"a\r\nb\n\nc", 10), ["1:a", "2:b", "3:", "4:c"]);
    }

    #[test]
    fn long_lines_and_bad_utf8_do_not_hide_the_next_line() {
        assert_eq!(
            collect(b"0123456789abc\nok\n\xff\xfe\nend\n", 10),
            ["1:too long 13", "2:ok", "3:not utf8 at 0", "4:end"]
        );
    }

    #[test]
    fn sniffs_compression() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Compression::Zstd);
        assert_eq!(Compression::sniff(b"{}"), Compression::None);
    }
}
