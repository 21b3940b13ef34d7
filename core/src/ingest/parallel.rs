//! One large file's lines, parsed on several threads.
//!
//! A reader thread cuts the file into blocks of whole lines, numbered, each already checked for
//! length and UTF-8, and gives each block a copy of the parser as it stands at the block's first
//! line ([`LineParser::fork`]). Worker threads turn blocks into batches and counts, each with
//! builders of its own ([`Rows`]). The ingest's thread takes their results in the blocks' order
//! and hands the batches to the store's encoder, so the rows, their order, the line numbers and
//! the summary are those of reading the file on one thread; only where batches are cut differs.
//!
//! Memory: at most two blocks more than there are threads are read and not yet written
//! ([`in_flight`]), each [`IngestOptions::block_bytes`] of text and its rows.
//!
//! Assets learned from a file's rows (a DHCP lease naming a host) name the rows after them. A
//! worker knows what its own blocks taught, not the others': once a block teaches something,
//! the blocks after it are parsed again on the ingest's thread, in order. The logs that teach
//! by their names are read before the others, and alone, so this is rare.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use chrono::NaiveDate;

use super::{FileContext, FileSummary, IngestOptions, Progress, Rows, Sink, input_stopped, parse_line, why_unreadable};
use crate::error::{Error, Result};
use crate::formats::LineParser;
use crate::input::{Line, Lines};
use crate::schema::Table;

/// How many threads to parse a file with: 1 unless the options allow more, the file has more
/// than two blocks' worth of bytes and its parser can fork.
pub(super) fn threads(options: &IngestOptions, bytes: u64, parser: &dyn LineParser) -> usize {
    let threads = allowed(options);
    let large = bytes > 2 * options.block_bytes as u64;
    if threads > 1 && large && parser.fork().is_some() { threads } else { 1 }
}

/// The threads the options allow: their count, or one per core for 0.
pub(super) fn allowed(options: &IngestOptions) -> usize {
    match options.threads {
        0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        n => n,
    }
}

/// Blocks read and not yet written, at most.
fn in_flight(threads: usize) -> usize {
    // One being cut, one per worker, one written: more would only hold more rows.
    threads + 2
}

/// Lines of a file, their text one after another.
struct Block {
    text: String,
    lines: Vec<Item>,
}

enum Item {
    /// A line of text: its number and where it is in the block's text.
    Text { number: u64, start: usize, end: usize },
    /// A line that is not text (too long, not UTF-8): its number, why, and what its reject keeps.
    Unreadable { number: u64, reason: String, raw: String },
}

/// A block, parsed, and the parser it started with (to parse it again).
struct Done {
    block: Block,
    parser: Box<dyn LineParser>,
    parsed: Result<Parsed>,
}

/// A block's rows and counts.
struct Parsed {
    summary: FileSummary,
    batches: Vec<(Table, NaiveDate, RecordBatch)>,
    /// What the block taught of the assets, in order.
    learned: Vec<(String, String)>,
}

/// Where reading stopped: the last line's number, and the error that stopped it early.
struct Ended {
    last_line: u64,
    error: Option<std::io::Error>,
    /// Blocks handed over: each must be written.
    blocks: u64,
}

/// [`super::read_lines`] on `threads` threads. The parser must fork.
#[allow(clippy::too_many_arguments)]
pub(super) fn read_lines<R: BufRead + Send>(
    lines: Lines<R>,
    parser: &mut dyn LineParser,
    threads: usize,
    options: &IngestOptions,
    context: &FileContext,
    counter: &AtomicU64,
    summary: &mut FileSummary,
    sink: &mut Sink,
    progress: &dyn Progress,
) -> Result<u64> {
    // The channels live in the scope: however it ends, each thread's partner goes away and
    // the thread stops waiting.
    let ended = std::thread::scope(|scope| {
        let (blocks, to_parse) = sync_channel::<(u64, Block, Box<dyn LineParser>)>(threads);
        // Shared by the workers, and gone with the last of them: a reader waiting to hand over
        // a block then learns that no one will take it.
        let to_parse = Arc::new(Mutex::new(to_parse));
        let (results, parsed) = sync_channel::<(u64, Done)>(threads);
        // A block is read only with a slot, given back once its rows are written: this bounds
        // what is held when one block takes long and the blocks after it are done.
        let (slots, free_slots) = sync_channel::<()>(in_flight(threads));
        for _ in 0..in_flight(threads) {
            slots.send(()).expect("the channel holds this many");
        }
        let spawn = |name: &str| std::thread::Builder::new().name(format!("spoor-{name}"));
        let not_started = |e: std::io::Error| Error::Internal(format!("cannot start a thread: {e}"));
        let reader = spawn("lines")
            .spawn_scoped(scope, move || cut_blocks(lines, parser, options, &free_slots, &blocks))
            .map_err(not_started)?;
        for _ in 0..threads {
            let (to_parse, results, mut rows) = (Arc::clone(&to_parse), results.clone(), sink.rows.fork());
            let worker = move || {
                loop {
                    // The lock is held only to take a block, not to parse it.
                    let next = to_parse.lock().map(|blocks| blocks.recv());
                    let Ok(Ok((sequence, block, parser))) = next else { break };
                    let parsed = match parser.fork() {
                        Some(mut fork) => parse_block(&block, fork.as_mut(), context, &mut rows),
                        None => Err(Error::Internal("a parser forked once, then would not".into())),
                    };
                    if results.send((sequence, Done { block, parser, parsed })).is_err() {
                        break;
                    }
                }
            };
            spawn("parse").spawn_scoped(scope, worker).map_err(not_started)?;
        }
        drop((results, to_parse));
        let written = write_in_order(parsed, slots, context, summary, sink, counter, progress);
        // On an error the channels the reader and workers wait on are closed, so they end.
        let ended = reader.join().map_err(|_| Error::Internal("the line reader panicked".into()));
        match (written, ended) {
            (Ok(written), Ok(ended)) if written != ended.blocks => Err(Error::Internal(format!(
                "{} blocks of lines were read and {written} written: a parsing thread stopped",
                ended.blocks
            ))),
            (written, ended) => written.and(ended),
        }
    })?;
    if let Some(error) = &ended.error {
        input_stopped(ended.last_line, error, context, summary, &mut sink.rows);
        sink.write_full()?;
    }
    Ok(ended.last_line)
}

/// Cuts the lines into blocks of about `block_bytes` of text, each with a fork of the parser as
/// it stands at its first line, until the lines end or no one takes blocks any more.
fn cut_blocks<R: BufRead>(
    mut lines: Lines<R>,
    parser: &mut dyn LineParser,
    options: &IngestOptions,
    free_slots: &Receiver<()>,
    blocks: &SyncSender<(u64, Block, Box<dyn LineParser>)>,
) -> Ended {
    let ended = |lines: &Lines<R>, error, blocks| Ended { last_line: lines.line_number(), error, blocks };
    let mut sequence = 0;
    // Each block starts with the room it will take: grown from empty, its text was copied about
    // twice over as it doubled (2 % of an ECS ingest's CPU). A block ends at the first line that
    // takes it to `block_bytes`, so it holds less than that plus the longest line seen.
    let (mut longest_line, mut lines_a_block) = (0, 0);
    loop {
        let Ok(()) = free_slots.recv() else { return ended(&lines, None, sequence) };
        let Some(fork) = parser.fork() else {
            return ended(&lines, Some(std::io::Error::other("its parser forked once, then would not")), sequence);
        };
        let text = String::with_capacity(options.block_bytes + longest_line);
        let mut block = Block { text, lines: Vec::with_capacity(lines_a_block) };
        let mut error = None;
        let mut at_end = false;
        while block.text.len() < options.block_bytes {
            let (number, line) = match lines.next_line() {
                None => {
                    at_end = true;
                    break;
                }
                Some(Err(e)) => {
                    error = Some(e);
                    break;
                }
                Some(Ok(item)) => item,
            };
            if let Some((reason, raw)) = why_unreadable(&line, options) {
                block.lines.push(Item::Unreadable { number, reason, raw });
            } else if let Line::Text(text) = line
                && !text.trim().is_empty()
            {
                parser.observe(text);
                longest_line = longest_line.max(text.len());
                let start = block.text.len();
                block.text.push_str(text);
                block.lines.push(Item::Text { number, start, end: block.text.len() });
            }
        }
        lines_a_block = block.lines.len();
        if !block.lines.is_empty() {
            if blocks.send((sequence, block, fork)).is_err() {
                return ended(&lines, None, sequence);
            }
            sequence += 1;
        }
        if at_end || error.is_some() {
            return ended(&lines, error, sequence);
        }
    }
}

/// A block's lines into rows, as [`super::read_lines`] does them one by one.
fn parse_block(block: &Block, parser: &mut dyn LineParser, context: &FileContext, rows: &mut Rows) -> Result<Parsed> {
    let mut summary = FileSummary::default();
    for item in &block.lines {
        match item {
            Item::Text { number, start, end } => {
                let text = &block.text[*start..*end];
                parse_line(parser, text, &context.origin(*number), &mut summary, rows)?;
            }
            Item::Unreadable { number, reason, raw } => {
                summary.read += 1;
                rows.reject(&mut summary, &context.origin(*number), reason, raw);
            }
        }
    }
    rows.flush_all();
    let learned = rows.learned.as_mut().map(std::mem::take).unwrap_or_default();
    Ok(Parsed { summary, batches: std::mem::take(&mut rows.full), learned })
}

/// Takes the blocks' results in order: counts into the summary, batches to the store. Returns
/// how many it wrote, or the first error (dropping what it holds).
fn write_in_order(
    parsed: Receiver<(u64, Done)>,
    slots: SyncSender<()>,
    context: &FileContext,
    summary: &mut FileSummary,
    sink: &mut Sink,
    counter: &AtomicU64,
    progress: &dyn Progress,
) -> Result<u64> {
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    // Set once a block taught something of the assets: the workers did not know it.
    let mut taught = false;
    for (sequence, done) in parsed {
        waiting.insert(sequence, done);
        while let Some(mut done) = waiting.remove(&next) {
            let block = if taught {
                parse_block(&done.block, done.parser.as_mut(), context, &mut sink.rows)?
            } else {
                done.parsed?
            };
            taught |= !block.learned.is_empty();
            summary.absorb(block.summary);
            sink.rows.remember(block.learned);
            for (table, date, batch) in block.batches {
                sink.writer.write(table, date, &batch)?;
            }
            progress.bytes_read(counter.load(Ordering::Relaxed));
            // The reader may have stopped: no one to give the slot to.
            let _ = slots.send(());
            next += 1;
        }
    }
    Ok(next)
}
