//! Binary Windows event log files (`.evtx`), read with the `evtx` crate: its chunks are parsed on
//! every core and given back in file order. A chunk or record that cannot be read is reported
//! with its number, and the rest of the file is read: dirty and recovered files are normal in
//! forensics. A record's "line" is its number in the file, from its header (as evtx_dump prints
//! it); exported files renumber their records, so it can differ from the event's `EventRecordID`.

use std::io::{Read, Seek};

use evtx::{EvtxParser, ParserSettings};

use super::record::{self, Record};
use super::{HELD_PART, ScriptBlocks, tables};
use crate::event::Event;

/// What a file begins with.
pub const SIGNATURE: &[u8] = b"ElfFile\0";

/// One record read, and what became of it: `number` is the record's number, or 0 for a chunk
/// that could not be read (its reason names the chunk).
pub struct Item {
    pub number: u64,
    pub outcome: Outcome,
}

pub enum Outcome {
    /// The record's row.
    Stored(Event<'static>),
    /// Read and kept back: a part of a PowerShell script block, whose row comes with its last
    /// part ([`HELD_PART`]).
    Skipped(&'static str),
    Rejected(String),
    /// The row of a script block whose last parts never came, joined from the parts there were
    /// when the file ended. Its parts were counted as read (and skipped) already.
    Joined(Event<'static>),
}

/// A record as a parser worker leaves it: its row, or a script block's part to join in order.
enum Parsed {
    Row(Event<'static>),
    Part(Record<'static>),
}

/// Reads every record of an EVTX file in file order, giving each to `each`. `Err` when the file
/// is not an EVTX file at all (its header cannot be read).
pub fn read<R, E>(source: R, each: impl FnMut(Item) -> Result<(), E>) -> Result<Result<(), E>, String>
where
    R: Read + Seek + Send + 'static,
{
    let settings = ParserSettings::new().num_threads(0);
    let mut parser = EvtxParser::from_read_seek(source)
        .map_err(|e| format!("not a readable EVTX file: {}", describe(&e)))?
        .with_configuration(settings);
    // Rendered to JSON text on the parser's workers, and read into a record and its row there
    // too: the ingest thread, which builds the tables and writes Parquet, is the busiest.
    let records = parser.serialized_records(|record| {
        let record = record?;
        let number = record.event_record_id;
        let json = record.into_json_bytes()?.data;
        Ok((number, parse(&json)))
    });
    let items = records.map(|item| match item {
        Ok(read) => read,
        Err(e) => (error_number(&e).unwrap_or(0), Err(describe(&e))),
    });
    Ok(deliver(items, each))
}

/// Gives each record read to `each` in file order, joining script blocks' parts as they come.
fn deliver<E>(
    items: impl Iterator<Item = (u64, Result<Parsed, String>)>,
    mut each: impl FnMut(Item) -> Result<(), E>,
) -> Result<(), E> {
    let mut blocks = ScriptBlocks::default();
    let mut last = 0;
    for (number, parsed) in items {
        last = last.max(number);
        let outcome = match parsed {
            Ok(Parsed::Row(event)) => Outcome::Stored(event),
            Ok(Parsed::Part(part)) => match blocks.accept(part) {
                Some(block) => tables::to_event(block).map_or_else(Outcome::Rejected, Outcome::Stored),
                None => Outcome::Skipped(HELD_PART),
            },
            Err(reason) => Outcome::Rejected(reason),
        };
        each(Item { number, outcome })?;
    }
    for block in blocks.finish() {
        let outcome = tables::to_event(block).map_or_else(Outcome::Rejected, Outcome::Joined);
        each(Item { number: last, outcome })?;
    }
    Ok(())
}

/// A record's JSON text as its row, or as a script block's part, kept whole to be joined on the
/// reading thread, where the records come in file order.
fn parse(json: &[u8]) -> Result<Parsed, String> {
    let record = record::from_evtx_json_bytes(json)?;
    if ScriptBlocks::is_part(&record) {
        return Ok(Parsed::Part(record.into_owned()));
    }
    tables::to_event(record).map(Parsed::Row)
}

/// The record number an error names, if it names one.
fn error_number(e: &evtx::err::EvtxError) -> Option<u64> {
    match e {
        evtx::err::EvtxError::FailedToParseRecord { record_id, .. } => Some(*record_id),
        _ => None,
    }
}

/// The error and its causes, in one line ("Failed to parse chunk number 3: invalid magic").
fn describe(e: &dyn std::error::Error) -> String {
    let mut out = format!("EVTX: {e}");
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct reader gives every record of real EVTX files exactly what the JSON tree
    /// reader gives it.
    #[test]
    fn records_read_directly_equal_those_read_through_a_json_tree() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/windows/evtx");
        let sysmon = zstd::decode_all(std::fs::File::open(data.join("sysmon.evtx.zst")).unwrap()).unwrap();
        let files = [
            std::fs::read(data.join("Security_short_selected.evtx")).unwrap(),
            std::fs::read(data.join("new-user-security.evtx")).unwrap(),
            sysmon,
        ];
        let mut compared = 0;
        for bytes in files {
            let mut parser = EvtxParser::from_buffer(bytes).unwrap();
            // sysmon.evtx's chunks 9-16 are zeroed: their error is another test's.
            for record in parser.records_json().filter_map(Result::ok) {
                let json = record.data;
                let tree: serde_json::Value = serde_json::from_str(&json).unwrap();
                let through_tree = record::from_evtx_json(&tree["Event"]).map(|r| format!("{r:?}"));
                let direct = record::from_evtx_json_bytes(json.as_bytes()).map(|r| format!("{r:?}"));
                assert_eq!(direct, through_tree, "{json}");
                compared += 1;
            }
        }
        assert!(compared > 300, "{compared}");
    }

    /// A 4104 event as the `evtx` crate renders it (the shape of a real one, its text cut).
    fn script_block(record: u64, number: i64, total: i64, id: &str, text: &str) -> String {
        format!(
            r##"{{"Event":{{"System":{{"Provider":{{"#attributes":{{"Name":"Microsoft-Windows-PowerShell"}}}},"EventID":4104,"TimeCreated":{{"#attributes":{{"SystemTime":"2020-08-26T05:09:28.8455215Z"}}}},"EventRecordID":{record},"Channel":"Microsoft-Windows-PowerShell/Operational","Computer":"DESKTOP-RIPCLIP"}},"EventData":{{"MessageNumber":{number},"MessageTotal":{total},"ScriptBlockText":"{text}","ScriptBlockId":"{id}","Path":""}}}}}}"##
        )
    }

    /// Script blocks split over several records are stored as one row when their last part
    /// comes, each part before it counted as read and skipped; a block whose last parts never
    /// came is stored from what there was when the file ended.
    #[test]
    fn script_block_parts_are_joined_in_file_order() {
        let records = [
            (10, script_block(10, 1, 2, "a", "Invoke-")),
            (11, script_block(11, 1, 1, "b", "whoami")),
            (12, script_block(12, 2, 2, "a", "Expression")),
            (13, script_block(13, 1, 3, "c", "cut ")),
            (14, script_block(14, 2, 3, "c", "short")),
        ];
        let items = records.iter().map(|(n, json)| (*n, parse(json.as_bytes())));
        let mut seen = Vec::new();
        deliver(items, |item| -> Result<(), ()> {
            let (kind, text) = match &item.outcome {
                Outcome::Stored(e) => ("stored", e.get_text("powershell.file.script_block_text").map(str::to_string)),
                Outcome::Joined(e) => ("joined", e.get_text("powershell.file.script_block_text").map(str::to_string)),
                Outcome::Skipped(reason) => ("skipped", Some(reason.to_string())),
                Outcome::Rejected(reason) => ("rejected", Some(reason.clone())),
            };
            seen.push((item.number, kind, text.unwrap_or_default()));
            Ok(())
        })
        .unwrap();
        let held = HELD_PART.to_string();
        assert_eq!(
            seen,
            [
                (10, "skipped", held.clone()),
                (11, "stored", "whoami".to_string()),
                (12, "stored", "Invoke-Expression".to_string()),
                (13, "skipped", held.clone()),
                (14, "skipped", held),
                (14, "joined", "cut short".to_string()),
            ]
        );
    }

    /// On a real block Windows split in two (a Mordor export's 4104 events, as the `evtx` crate
    /// would render them), an EVTX file's reader stores what the line reader stores.
    #[test]
    fn a_real_split_block_is_joined_as_the_line_reader_joins_it() {
        use crate::formats::LineParser;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/data/windows/mordor/metasploit_getsystem_rtcpef.json");
        let text = std::fs::read_to_string(path).unwrap();
        let script_blocks = |e: &Event| e.get_text("powershell.file.script_block_text").map(str::to_string);

        let mut lines = super::super::Lines::default();
        let mut from_lines = Vec::new();
        for line in text.lines() {
            let mut out = Vec::new();
            lines.parse(line, &mut out).unwrap();
            from_lines.extend(out.iter().filter_map(script_blocks));
        }
        assert!(lines.finish().is_empty());

        let rendered: Vec<(u64, String)> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["EventID"] == 4104)
            .enumerate()
            .map(|(i, v)| {
                let event = serde_json::json!({"Event": {
                    "System": {
                        "Provider": {"#attributes": {"Name": v["SourceName"]}},
                        "EventID": 4104,
                        "TimeCreated": {"#attributes": {"SystemTime": v["@timestamp"]}},
                        "EventRecordID": i + 1,
                        "Channel": v["Channel"],
                        "Computer": v["Hostname"],
                    },
                    "EventData": {
                        "MessageNumber": v["MessageNumber"],
                        "MessageTotal": v["MessageTotal"],
                        "ScriptBlockText": v["ScriptBlockText"],
                        "ScriptBlockId": v["ScriptBlockId"],
                        "Path": v["Path"],
                    },
                }});
                (i as u64 + 1, event.to_string())
            })
            .collect();
        let items = rendered.iter().map(|(n, json)| (*n, parse(json.as_bytes())));
        let mut from_evtx = Vec::new();
        deliver(items, |item| -> Result<(), ()> {
            if let Outcome::Stored(e) | Outcome::Joined(e) = &item.outcome {
                from_evtx.extend(script_blocks(e));
            }
            Ok(())
        })
        .unwrap();

        assert_eq!(from_evtx, from_lines);
        assert!(from_evtx.iter().any(|t| t.len() > 20_000), "the two parts, 11,517 and 8,613 characters, joined");
    }
}
