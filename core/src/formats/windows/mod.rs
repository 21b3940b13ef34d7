//! Windows event logs, in every shape hunters hold them: binary `.evtx` files, JSON lines of any
//! exporter, rendered XML (and Sysmon for Linux's XML, which [`super::syslog`] finds in syslog).
//!
//! - [`record`]: each shape read into one [`record::Record`] (envelope and event data);
//! - [`tables`]: records to rows, by provider and event id; nothing is skipped for want of a
//!   table (events no category table holds go to `windows`), and data no column holds is kept in
//!   `winlog.event_data`;
//! - [`ScriptBlocks`]: PowerShell 4104 script blocks that Windows split over several events,
//!   joined back into one;
//! - [`evtx`]: binary EVTX files, read with the `evtx` crate on every core.

pub mod evtx;
pub mod record;
pub mod tables;

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;

use super::util;
use super::{LineParser, Verdict};
use crate::event::Event;
use record::Record;

/// Why a split script block's part is not a row of its own.
pub const HELD_PART: &str =
    "part of a PowerShell script block split over several events: stored joined with the others";

/// Windows events as JSON lines (any exporter's shape) or as rendered XML, one per line.
#[derive(Default)]
pub struct Lines {
    blocks: ScriptBlocks,
}

impl LineParser for Lines {
    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let trimmed = line.trim_start();
        let record = if trimmed.starts_with('{') {
            let v: Json = serde_json::from_str(line).map_err(|e| util::json_error(&e))?;
            record::from_json(&v)?
        } else if let Some(start) = trimmed.find("<Event") {
            record::from_xml(&trimmed[start..], false)?
        } else {
            return Err("neither a JSON object nor an <Event> element".into());
        };
        match self.blocks.accept(record) {
            Some(record) => {
                out.push(tables::to_event(record)?);
                Ok(Verdict::Stored)
            }
            None => Ok(Verdict::Skipped(HELD_PART)),
        }
    }

    fn finish(&mut self) -> Vec<Result<Event<'static>, String>> {
        self.blocks.finish().into_iter().map(tables::to_event).collect()
    }
}

/// Joins PowerShell 4104 events that carry one script block in parts (`MessageNumber` of
/// `MessageTotal`, same `ScriptBlockId`): the joined block is given out when its last part
/// arrives, in part order; blocks still missing parts at the end are given out by
/// [`ScriptBlocks::finish`] with the parts there are.
#[derive(Default)]
pub struct ScriptBlocks {
    pending: HashMap<(Option<String>, String), BTreeMap<i64, Record<'static>>>,
}

impl ScriptBlocks {
    /// The record to store now, or `None` when it is a part held back.
    pub fn accept(&mut self, record: Record<'static>) -> Option<Record<'static>> {
        if !Self::is_part(&record) {
            return Some(record);
        }
        let total = record.data.int("MessageTotal").unwrap_or(1);
        let key = (record.computer.clone(), record.data.text("ScriptBlockId").unwrap_or_default());
        let number = record.data.int("MessageNumber").unwrap_or(0);
        let parts = self.pending.entry(key.clone()).or_default();
        parts.insert(number, record);
        if (parts.len() as i64) < total {
            return None;
        }
        let parts = self.pending.remove(&key).expect("inserted above");
        Some(join(parts))
    }

    /// Whether a record is one part of a script block split over several events.
    pub fn is_part(record: &Record) -> bool {
        record.event_id == 4104
            && record.data.int("MessageTotal").unwrap_or(1) > 1
            && record.data.get("ScriptBlockId").is_some()
    }

    /// Blocks whose parts never all arrived (a capture cut short), joined from what came.
    pub fn finish(&mut self) -> Vec<Record<'static>> {
        let mut pending: Vec<_> = self.pending.drain().collect();
        pending.sort_by(|a, b| a.0.cmp(&b.0));
        pending.into_iter().map(|(_, parts)| join(parts)).collect()
    }
}

/// One record with the parts' texts in order, the first part's envelope.
fn join(parts: BTreeMap<i64, Record<'static>>) -> Record<'static> {
    let mut text = String::new();
    let mut parts = parts.into_values();
    let mut first = parts.next().expect("a block has at least one part");
    text.push_str(first.data.get("ScriptBlockText").unwrap_or_default());
    for part in parts {
        text.push_str(part.data.get("ScriptBlockText").unwrap_or_default());
    }
    first.data.set("ScriptBlockText", text);
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: i64, text: &str) -> Record<'static> {
        let mut record = Record { event_id: 4104, computer: Some("h".into()), ..Default::default() };
        for (k, v) in
            [("MessageNumber", number.to_string()), ("MessageTotal", "3".into()), ("ScriptBlockId", "b".into())]
        {
            record.data.push(k, v);
        }
        record.data.push("ScriptBlockText", text.to_string());
        record
    }

    #[test]
    fn split_script_blocks_are_joined_in_part_order() {
        let mut blocks = ScriptBlocks::default();
        assert!(blocks.accept(part(2, "B")).is_none());
        assert!(blocks.accept(part(1, "A")).is_none());
        let joined = blocks.accept(part(3, "C")).expect("the last part completes the block");
        assert_eq!(joined.data.get("ScriptBlockText"), Some("ABC"));
        assert!(blocks.finish().is_empty());

        assert!(blocks.accept(part(1, "A")).is_none());
        let cut = blocks.finish();
        assert_eq!(cut.len(), 1, "a block cut short is still stored");
        assert_eq!(cut[0].data.get("ScriptBlockText"), Some("A"));
    }
}
