//! Records into batches: each record's rows appended to the builder of their table and day, or
//! the record rejected as a row of `_rejects`, with the file's counts kept in its summary.
//!
//! The ingest thread has one [`Rows`]; so has each thread that parses blocks of a file in
//! parallel ([`super::parallel`]). Complete batches wait in [`Rows::full`] for whoever writes
//! them to the store.

use std::collections::HashMap;

use arrow::array::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};

use super::FileSummary;
use crate::assets::Assets;
use crate::error::{Error, Result};
use crate::event::{Event, Origin, TableBuilder};
use crate::formats;
use crate::schema::Table;
use crate::store::partition_date;

/// How much of a rejected record is kept.
const REJECT_RAW_BYTES: usize = 4096;
/// Batches are cut at this many rows or this many bytes (by [`TableBuilder::approx_bytes`]),
/// whichever comes first.
const BATCH_ROWS: usize = 8 * 1024;
const BATCH_BYTES: usize = 8 * 1024 * 1024;
/// All builders together hold at most this much before every one is flushed: data spread over
/// many days must not grow memory with the number of days. The builders' real footprint is up
/// to twice their count (an array's room grows by doubling, and a builder keeps its last
/// batch's room), and the batches cut wait in the encoders' files ([`crate::store`]) as well.
/// 96 MiB (counting text only) held 320-340 MiB at the peak of the Sigma benchmark's EVTX
/// ingest; 24 MiB, with the encoders' bound, 177-187 MiB in as much time. On the EVTX
/// benchmark's 200 files it is 10-25 % slower (docs/performance.md): not yet explained.
const BUFFERED_BYTES: usize = 24 * 1024 * 1024;

pub(super) struct Rows {
    builders: HashMap<(Table, NaiveDate), TableBuilder>,
    /// Text held in all builders, by their own estimate.
    buffered: usize,
    /// When this ingest started: every row's `event.ingested`, and a reject's time.
    ingested: DateTime<Utc>,
    /// The user's asset map, and what the sensors' own logs teach as they pass.
    assets: Assets,
    /// What [`Assets::learn`] learned, in order, since the last time it was taken; kept by a
    /// fork only, for the `Rows` it came from.
    pub learned: Option<Vec<(String, String)>>,
    /// Batches complete, in the order they were cut, each with its table and day.
    pub full: Vec<(Table, NaiveDate, RecordBatch)>,
}

impl Rows {
    pub fn new(ingested: DateTime<Utc>, assets: Assets) -> Self {
        Rows { builders: HashMap::new(), buffered: 0, ingested, assets, learned: None, full: Vec::new() }
    }

    /// Another `Rows` of the same ingest, starting from what this one knows of the assets, and
    /// keeping what it learns for it ([`Rows::remember`]).
    pub fn fork(&self) -> Rows {
        Rows { learned: Some(Vec::new()), ..Rows::new(self.ingested, self.assets.clone()) }
    }

    /// Takes in what another thread learned of the assets.
    pub fn remember(&mut self, learned: Vec<(String, String)>) {
        for (address, host) in learned {
            self.assets.remember(address, host);
        }
    }

    /// Stores the events of one record, or rejects the record if any of them has no timestamp.
    pub fn store(&mut self, summary: &mut FileSummary, events: &[Event], origin: &Origin, raw: &str) -> Result<()> {
        if events.is_empty() {
            return Err(Error::Internal(format!(
                "{}: a parser said it stored a record but produced no rows",
                origin.format
            )));
        }
        if events.iter().any(|e| e.timestamp.is_none()) {
            self.reject(summary, origin, "no valid timestamp", raw);
            return Ok(());
        }
        for event in events {
            let timestamp = event.timestamp.expect("checked above");
            if let (Some(learned), Some(journal)) = (self.assets.learn(event), &mut self.learned) {
                journal.push(learned);
            }
            let named = self.assets.named(event);
            self.append(named.as_ref().unwrap_or(event), timestamp, origin);
            *summary.rows.entry(event.table).or_default() += 1;
            if event.table == Table::Audit && event.get("audit.activity").is_none() {
                let action = event.get_text("event.action").unwrap_or("(no action)");
                FileSummary::count_reason(&mut summary.unrecognized_actions, action, origin.line);
            }
        }
        summary.stored += 1;
        Ok(())
    }

    pub fn reject(&mut self, summary: &mut FileSummary, origin: &Origin, reason: &str, raw: &str) {
        summary.rejected += 1;
        FileSummary::count_reason(&mut summary.reject_reasons, reason, origin.line);
        let mut event = Event::new(Table::Rejects);
        event
            .text("error.message", Some(reason))
            .text("event.original", Some(formats::util::truncate(raw, REJECT_RAW_BYTES)));
        let now = self.ingested.timestamp_micros();
        self.append(&event, now, origin)
    }

    pub fn append(&mut self, event: &Event, timestamp: i64, origin: &Origin) {
        let date = partition_date(timestamp);
        let key = (event.table, date);
        let builder = self.builders.entry(key).or_insert_with(|| TableBuilder::new(event.table, self.ingested));
        let before = builder.approx_bytes();
        builder.append(event, timestamp, origin);
        self.buffered += builder.approx_bytes() - before;
        if builder.len() >= BATCH_ROWS || builder.approx_bytes() >= BATCH_BYTES {
            self.buffered -= builder.approx_bytes();
            self.full.push((key.0, key.1, builder.finish()));
        }
        if self.buffered >= BUFFERED_BYTES {
            self.flush_all();
        }
    }

    /// Cuts a batch of every builder's rows, in the order of tables and days.
    pub fn flush_all(&mut self) {
        // A builder with rows since the last flush keeps its room for the rows to come (a worker
        // flushes after every block); days not seen since are let go, or builders would pile up.
        self.builders.retain(|_, builder| !builder.is_empty());
        let mut keys: Vec<_> = self.builders.keys().copied().collect();
        keys.sort();
        for key in keys {
            let builder = self.builders.get_mut(&key).expect("key taken from the map");
            self.full.push((key.0, key.1, builder.finish()));
        }
        self.buffered = 0;
    }
}
