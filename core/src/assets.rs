//! An asset map: which host has which address. Network sensors (Zeek) see addresses, not hosts;
//! given a map, ingest names the client host of their rows (`host.name`, from `source.ip`) so
//! that hunts keyed on hosts see one host whether EDR or the network saw it.
//!
//! The map is a CSV file with a header: an `ip` column (or `address`, `source.ip`) and a host
//! column (`host`, `host.name`, `hostname` or `name`); other columns are ignored. Addresses are
//! compared in canonical form; host names are lowercased, as every `host.name` is.
//!
//! Ingest also learns the map from what the sensor saw hosts say of themselves ([`Assets::learn`]):
//! DHCP leases, Windows machine accounts' Kerberos requests and NTLM workstation names. The
//! user's CSV wins over what is learned; of two learned names for one address, the later wins
//! (leases move).

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
    learned: HashMap<String, String>,
}

/// Zeek logs that name hosts by address ([`Assets::learn`]), by the names Zeek gives their
/// files (`dhcp.log`, `kerberos.2026-03-31-00-00-00.log.gz`, `NASHUA_kerberos.log`): ingest
/// reads them first, so the names they teach reach the other logs of the same ingest.
pub fn teaches(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    ["dhcp", "kerberos", "ntlm"].iter().any(|log| name.contains(log))
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
        Ok(Assets { by_ip, learned: HashMap::new() })
    }

    pub fn len(&self) -> usize {
        self.by_ip.len() + self.learned.keys().filter(|ip| !self.by_ip.contains_key(*ip)).count()
    }

    pub fn is_empty(&self) -> bool {
        self.by_ip.is_empty() && self.learned.is_empty()
    }

    /// The host at an address: the user's map first, then what was learned.
    pub fn host(&self, ip: &str) -> Option<&str> {
        self.by_ip.get(ip).or_else(|| self.learned.get(ip)).map(String::as_str)
    }

    /// Learns a host's address from a Zeek row in which a host names itself:
    /// - `dhcp`: the lease's `assigned_addr` (else `client_addr`) is `client_fqdn`'s, else
    ///   `host_name`'s (with `domain` where the lease has one);
    /// - `kerberos`: a request by a Windows machine account (`client` `NAME$/REALM`) comes from
    ///   host `name.realm` (how Windows names it: `UTICA$/DMEVALS.LOCAL` is
    ///   `utica.dmevals.local`); users' requests name no host;
    /// - `ntlm`: the workstation `hostname` (with `domainname`) authenticating from `id.orig_h`.
    ///
    /// Returns what it learned: the address (canonical) and the host.
    pub fn learn(&mut self, event: &Event) -> Option<(String, String)> {
        if event.table != crate::schema::Table::Zeek {
            return None;
        }
        let Some(Value::Map(fields)) = event.get("zeek.fields") else { return None };
        let field = |name: &str| {
            fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_ref()).filter(|v| !v.is_empty() && *v != "-")
        };
        let source = event.get_text("source.ip");
        let fqdn = |host: &str, domain: Option<&str>| match domain {
            Some(d) if !host.contains('.') => format!("{host}.{d}"),
            _ => host.to_string(),
        };
        let (ip, host) = match event.get_text("event.code") {
            Some("dhcp") => {
                let ip = field("assigned_addr").or(field("client_addr")).filter(|ip| *ip != "0.0.0.0");
                let host = field("client_fqdn")
                    .map(str::to_string)
                    .or_else(|| field("host_name").map(|h| fqdn(h, field("domain"))));
                (ip, host)
            }
            Some("kerberos") => {
                let host = field("client").and_then(|client| {
                    let (account, realm) = client.split_once('/')?;
                    let name = account.strip_suffix('$')?;
                    Some(fqdn(name, Some(realm)))
                });
                (source, host)
            }
            Some("ntlm") => (source, field("hostname").map(|h| fqdn(h, field("domainname")))),
            _ => return None,
        };
        let (ip, host) = (ip?, host?);
        let address = canonical_ip(ip.trim().into()).into_owned();
        let host = host.trim().to_lowercase();
        self.remember(address.clone(), host.clone());
        Some((address, host))
    }

    /// Records what [`Assets::learn`] learned elsewhere (on another thread reading the same
    /// file): the later of two names for an address wins.
    pub fn remember(&mut self, address: String, host: String) {
        self.learned.insert(address, host);
    }

    /// The event with its client's host named, when it has no host name and the map knows its
    /// `source.ip`; `None` when there is nothing to add.
    pub fn named<'a>(&self, event: &Event<'a>) -> Option<Event<'a>> {
        if self.is_empty() || event.get("host.name").is_some() {
            return None;
        }
        let Some(Value::Text(ip)) = event.get("source.ip") else { return None };
        let host = self.host(ip.as_ref())?;
        let mut named = event.clone();
        named.text("host.name", Some(host.to_string()));
        Some(named)
    }
}
