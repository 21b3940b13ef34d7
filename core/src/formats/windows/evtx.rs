//! Binary Windows event log files (`.evtx`), read with the `evtx` crate: its chunks are parsed on
//! every core and given back in file order. A chunk or record that cannot be read is reported
//! with its number, and the rest of the file is read: dirty and recovered files are normal in
//! forensics. A record's "line" is its number in the file, from its header (as evtx_dump prints
//! it); exported files renumber their records, so it can differ from the event's `EventRecordID`.

use std::io::{Read, Seek};

use evtx::{EvtxParser, ParserSettings};

use super::{record, tables};
use crate::event::Event;

/// What a file begins with.
pub const SIGNATURE: &[u8] = b"ElfFile\0";

/// One record read as its row, or why it could not be: `number` is the record's number, or 0
/// for a chunk that could not be read (its message names the chunk).
pub struct Item {
    pub number: u64,
    pub event: Result<Event<'static>, String>,
}

/// Reads every record of an EVTX file in file order, giving each to `each`. `Err` when the file
/// is not an EVTX file at all (its header cannot be read).
pub fn read<R, E>(source: R, mut each: impl FnMut(Item) -> Result<(), E>) -> Result<Result<(), E>, String>
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
        Ok(Item { number, event: record::from_evtx_json_bytes(&json).and_then(tables::to_event) })
    });
    for item in records {
        let read = match item {
            Ok(read) => read,
            Err(e) => Item { number: error_number(&e).unwrap_or(0), event: Err(describe(&e)) },
        };
        if let Err(e) = each(read) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(()))
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
}
