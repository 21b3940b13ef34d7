//! Binary Windows event log files (`.evtx`), read with the `evtx` crate: its chunks are parsed on
//! every core and given back in file order. A chunk or record that cannot be read is reported
//! with its number, and the rest of the file is read: dirty and recovered files are normal in
//! forensics. A record's "line" is its number in the file, from its header (as evtx_dump prints
//! it); exported files renumber their records, so it can differ from the event's `EventRecordID`.

use std::io::{Read, Seek};

use evtx::{EvtxParser, ParserSettings};

use super::record::{self, Record};

/// What a file begins with.
pub const SIGNATURE: &[u8] = b"ElfFile\0";

/// One record read, or why it could not be: `number` is the record's number, or 0 for a chunk
/// that could not be read (its message names the chunk).
pub struct Item {
    pub number: u64,
    pub record: Result<Record, String>,
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
    // Parsed to JSON on the parser's workers; read into a record there too.
    let records = parser.serialized_records(|record| {
        let record = record?;
        let number = record.event_record_id;
        let value = record.into_json_value()?.data;
        let read = match value.get("Event") {
            Some(event) => record::from_evtx_json(event),
            None => Err("the record has no <Event> element".to_string()),
        };
        Ok(Item { number, record: read })
    });
    for item in records {
        let read = match item {
            Ok(read) => read,
            Err(e) => Item { number: error_number(&e).unwrap_or(0), record: Err(describe(&e)) },
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
