//! An asset map: which host has which address. Network sensors (Zeek) see addresses, not hosts;
//! given a map, ingest names the client host of their rows (`host.name`, from `source.ip`) so
//! that hunts keyed on hosts see one host whether EDR or the network saw it.
//!
//! The map is a CSV file with a header: an `ip` column (or `address`, `source.ip`) and a host
//! column (`host`, `host.name`, `hostname` or `name`); other columns are ignored. Addresses are
//! compared in canonical form; host names are lowercased, as every `host.name` is.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Field, Schema};

use crate::error::{Error, Result};
use crate::event::{Event, Value, canonical_ip};

#[derive(Debug, Clone, Default)]
pub struct Assets {
    by_ip: HashMap<String, String>,
}

const IP_COLUMNS: &[&str] = &["ip", "address", "source.ip", "ip_address"];
const HOST_COLUMNS: &[&str] = &["host", "host.name", "hostname", "name"];

impl Assets {
    /// Reads a map from a CSV file; a problem names the file and what to change.
    pub fn load(path: &Path) -> Result<Assets> {
        let user = |message: String| Error::User(format!("{}: {message}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = std::io::BufReader::new(file);
        let format = arrow::csv::reader::Format::default().with_header(true);
        let (inferred, _) =
            format.infer_schema(&mut reader, Some(100)).map_err(|e| user(format!("not a CSV file: {e}")))?;
        let find = |names: &[&str]| {
            inferred.fields().iter().position(|f| names.iter().any(|n| f.name().trim().eq_ignore_ascii_case(n)))
        };
        let (Some(ip), Some(host)) = (find(IP_COLUMNS), find(HOST_COLUMNS)) else {
            return Err(user(format!(
                "an asset map needs a header with an address column ({}) and a host column ({})",
                IP_COLUMNS.join(", "),
                HOST_COLUMNS.join(", ")
            )));
        };
        // Every column as text: an address or a host name is never a number.
        let schema = Schema::new(
            inferred.fields().iter().map(|f| Field::new(f.name(), DataType::Utf8, true)).collect::<Vec<_>>(),
        );
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let reader = arrow::csv::ReaderBuilder::new(Arc::new(schema))
            .with_format(format)
            .build(file)
            .map_err(|e| user(e.to_string()))?;
        let mut by_ip = HashMap::new();
        for batch in reader {
            let batch = batch.map_err(|e| user(e.to_string()))?;
            let (ips, hosts) = (batch.column(ip).as_string::<i32>(), batch.column(host).as_string::<i32>());
            for row in 0..batch.num_rows() {
                if ips.is_null(row) || hosts.is_null(row) {
                    continue;
                }
                let address = canonical_ip(ips.value(row).trim().into()).into_owned();
                by_ip.insert(address, hosts.value(row).trim().to_lowercase());
            }
        }
        Ok(Assets { by_ip })
    }

    pub fn len(&self) -> usize {
        self.by_ip.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_ip.is_empty()
    }

    /// The event with its client's host named, when it has no host name and the map knows its
    /// `source.ip`; `None` when there is nothing to add.
    pub fn named<'a>(&self, event: &Event<'a>) -> Option<Event<'a>> {
        if event.get("host.name").is_some() {
            return None;
        }
        let Some(Value::Text(ip)) = event.get("source.ip") else { return None };
        let host = self.by_ip.get(ip.as_ref())?;
        let mut named = event.clone();
        named.text("host.name", Some(host.clone()));
        Some(named)
    }
}
