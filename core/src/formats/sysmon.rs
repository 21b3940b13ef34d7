//! Sysmon (Windows and Linux) and Windows Security 4688 process events.
//!
//! Sysmon's event data has the same field names however it is shipped; three front ends read the
//! shipping shapes and one mapping ([`map_event`]) turns the data into rows:
//! - `sysmon`: flat Windows-event JSON as NXLog or Logstash write it (`EventID`, `Image`, ... at
//!   the top level; the Mordor datasets),
//! - `winlogbeat`: `winlog.event_id` with the data under `winlog.event_data`,
//! - `sysmon-linux`: Sysmon for Linux's XML `<Event>`, inside a syslog line or inside a JSON row
//!   whose `SyslogMessage` holds it (Azure Sentinel's `Syslog` table).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use quick_xml::events::Event as Xml;
use serde_json::Value as Json;

use super::util::{self, basename, hash_from_list, parse_int, split_user};
use super::{LineParser, Verdict};
use crate::event::Event;
use crate::schema::Table;

/// Event data by field name.
trait Data {
    fn get(&self, name: &str) -> Option<Cow<'_, str>>;
}

struct JsonData<'a>(&'a Json);

impl Data for JsonData<'_> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        util::text(self.0, name)
    }
}

struct PairData(Vec<(String, String)>);

impl Data for PairData {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| Cow::Borrowed(v.as_str()))
    }
}

/// What the envelope around the event data tells: the event id, host and time.
struct Envelope<'a> {
    event_id: i64,
    host: Option<Cow<'a, str>>,
    time: Option<DateTime<Utc>>,
}

/// Maps one event to a row, or says why it has none.
fn map_event<'r>(envelope: Envelope<'_>, data: &dyn Data) -> Result<Option<Event<'r>>, String> {
    let get = |name: &str| data.get(name).map(|v| v.into_owned()).filter(|v| !v.is_empty() && v != "-");
    // Sysmon's own UtcTime is the event time; the shipper's timestamp can be off by a time zone.
    let time = get("UtcTime").and_then(|t| util::parse_time(&t)).or(envelope.time);
    let Some(time) = time else {
        return Err("no event time (UtcTime, @timestamp or TimeCreated)".into());
    };
    let table = match envelope.event_id {
        1 | 4688 => Table::Process,
        3 => Table::Network,
        11 | 23 | 26 => Table::File,
        12..=14 => Table::Registry,
        22 => Table::Dns,
        _ => return Ok(None),
    };
    let mut e = Event::new(table).at(Some(time));
    e.text("event.code", Some(envelope.event_id.to_string()));
    e.lower("host.name", envelope.host.map(Cow::into_owned));

    let image = get("Image");
    let user = get("User");
    let (domain, user_name) = match &user {
        Some(u) => {
            let (d, n) = split_user(u);
            (d.map(str::to_owned), Some(n.to_owned()))
        }
        None => (None, None),
    };
    if table != Table::Process || envelope.event_id == 1 {
        e.text("process.entity_id", get("ProcessGuid"))
            .int("process.pid", get("ProcessId").and_then(|p| parse_int(&p)))
            .text("process.name", image.as_deref().map(|i| basename(i).to_owned()))
            .text("process.executable", image.clone())
            .text("user.name", user_name);
    }
    match envelope.event_id {
        1 => {
            let parent = get("ParentImage");
            let hashes = get("Hashes").unwrap_or_default();
            e.text("event.action", Some("start"))
                .text("user.domain", domain)
                .text("process.command_line", get("CommandLine"))
                .text("process.working_directory", get("CurrentDirectory"))
                .text("process.hash.sha256", hash_from_list(&hashes, "SHA256"))
                .text("process.hash.md5", hash_from_list(&hashes, "MD5"))
                .text("process.parent.entity_id", get("ParentProcessGuid"))
                .int("process.parent.pid", get("ParentProcessId").and_then(|p| parse_int(&p)))
                .text("process.parent.name", parent.as_deref().map(|p| basename(p).to_owned()))
                .text("process.parent.executable", parent)
                .text("process.parent.command_line", get("ParentCommandLine"));
        }
        4688 => {
            // Windows Security process creation: no entity ids, hex pids, parent by name only.
            let image = get("NewProcessName");
            let parent = get("ParentProcessName");
            let user = get("TargetUserName").or_else(|| get("SubjectUserName"));
            let domain = get("TargetDomainName").or_else(|| get("SubjectDomainName"));
            e.text("event.action", Some("start"))
                .text("user.name", user)
                .text("user.domain", domain)
                .int("process.pid", get("NewProcessId").and_then(|p| parse_int(&p)))
                .text("process.name", image.as_deref().map(|i| basename(i).to_owned()))
                .text("process.executable", image)
                .text("process.command_line", get("CommandLine"))
                .int("process.parent.pid", get("ProcessId").and_then(|p| parse_int(&p)))
                .text("process.parent.name", parent.as_deref().map(|p| basename(p).to_owned()))
                .text("process.parent.executable", parent);
        }
        3 => {
            let outbound = get("Initiated").and_then(|i| util::parse_bool(&i));
            e.text("event.action", Some("connection"))
                .lower("network.transport", get("Protocol"))
                .text("network.direction", outbound.map(|o| if o { "outbound" } else { "inbound" }))
                .ip("source.ip", get("SourceIp"))
                .int("source.port", get("SourcePort").and_then(|p| parse_int(&p)))
                .ip("destination.ip", get("DestinationIp"))
                .int("destination.port", get("DestinationPort").and_then(|p| parse_int(&p)))
                .lower("destination.domain", get("DestinationHostname"));
        }
        11 | 23 | 26 => {
            let path = get("TargetFilename");
            let hashes = get("Hashes").unwrap_or_default();
            let name = path.as_deref().map(|p| basename(p).to_owned());
            let extension = name.as_deref().and_then(|n| n.rsplit_once('.')).map(|(_, x)| x.to_ascii_lowercase());
            e.text("event.action", Some(if envelope.event_id == 11 { "creation" } else { "deletion" }))
                .text("file.path", path)
                .text("file.name", name)
                .text("file.extension", extension)
                .text("file.hash.sha256", hash_from_list(&hashes, "SHA256"))
                .text("file.hash.md5", hash_from_list(&hashes, "MD5"));
        }
        12..=14 => {
            let action = match get("EventType").as_deref() {
                Some("CreateKey") => "key_create",
                Some("DeleteKey") | Some("DeleteValue") => "key_delete",
                Some("RenameKey") => "rename",
                _ if envelope.event_id == 13 => "value_set",
                _ if envelope.event_id == 14 => "rename",
                _ => "key_create",
            };
            let target = get("TargetObject");
            // A value event names `key\value`; a key event names the key alone.
            let is_value = envelope.event_id == 13 || get("EventType").is_some_and(|t| t.ends_with("Value"));
            let (hive, key, value) = target.as_deref().map(|t| split_registry_path(t, is_value)).unwrap_or_default();
            let details = get("Details");
            let data_type = details.as_deref().and_then(registry_data_type);
            e.text("event.action", Some(action))
                .text("registry.hive", hive)
                .text("registry.key", key)
                .text("registry.value", value)
                .text("registry.data.strings", details)
                .text("registry.data.type", data_type)
                .text("registry.path", target);
        }
        22 => {
            let (answers, ips) = dns_results(&get("QueryResults").unwrap_or_default());
            e.text("event.action", Some("query"))
                .lower("dns.question.name", get("QueryName").map(|q| util::without_root_dot(q.into())))
                .text("dns.response_code", get("QueryStatus").map(|s| dns_status(&s)))
                .list("dns.answers", answers.into_iter().map(Cow::Owned).collect())
                .list("dns.resolved_ip", ips.into_iter().map(Cow::Owned).collect());
        }
        _ => unreachable!("filtered by the table match above"),
    }
    Ok(Some(e))
}

/// `HKLM\SOFTWARE\...\Run\Updater` → (`HKLM`, `SOFTWARE\...\Run`, `Updater`).
fn split_registry_path(path: &str, names_a_value: bool) -> (Option<String>, Option<String>, Option<String>) {
    let (hive, rest) = path.split_once('\\').unwrap_or((path, ""));
    let hive = match hive.to_ascii_uppercase().as_str() {
        "HKEY_LOCAL_MACHINE" => "HKLM".to_string(),
        "HKEY_USERS" => "HKU".to_string(),
        "HKEY_CURRENT_USER" => "HKCU".to_string(),
        "HKEY_CLASSES_ROOT" => "HKCR".to_string(),
        other => other.to_string(),
    };
    let (key, value) = match rest.rsplit_once('\\') {
        Some((k, v)) if names_a_value => (Some(k.to_string()), Some(v.to_string())),
        _ => (Some(rest.to_string()), None),
    };
    (Some(hive), key, value)
}

/// Sysmon writes `DWORD (0x00000089)`, `Binary Data`, or the string itself.
fn registry_data_type(details: &str) -> Option<&'static str> {
    if details.starts_with("DWORD") {
        Some("REG_DWORD")
    } else if details.starts_with("QWORD") {
        Some("REG_QWORD")
    } else if details == "Binary Data" {
        Some("REG_BINARY")
    } else {
        None
    }
}

/// Sysmon's QueryStatus is a Windows DNS status code.
fn dns_status(status: &str) -> String {
    match status.trim() {
        "0" => "NOERROR",
        "9001" => "FORMERR",
        "9002" => "SERVFAIL",
        "9003" => "NXDOMAIN",
        "9004" => "NOTIMP",
        "9005" => "REFUSED",
        "9501" => "NODATA",
        other => return other.to_string(),
    }
    .to_string()
}

/// `type:  5 github.map.fastly.net;::ffff:151.101.208.133;` → answers and resolved IPs.
/// IPv4-mapped addresses are given as IPv4, the form IOC lists use.
fn dns_results(results: &str) -> (Vec<String>, Vec<String>) {
    let mut answers = Vec::new();
    let mut ips = Vec::new();
    for item in results.split(';').map(str::trim).filter(|i| !i.is_empty() && *i != "-") {
        if let Some(rest) = item.strip_prefix("type:") {
            // `type:  5 name`: a record that is not an address (5 = CNAME).
            if let Some(name) = rest.split_whitespace().nth(1) {
                answers.push(name.to_ascii_lowercase());
            }
            continue;
        }
        match item.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                let ip = match ip {
                    std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4).unwrap_or(ip),
                    v4 => v4,
                };
                answers.push(ip.to_string());
                ips.push(ip.to_string());
            }
            Err(_) => answers.push(item.to_ascii_lowercase()),
        }
    }
    (answers, ips)
}

fn verdict<'r>(mapped: Option<Event<'r>>, out: &mut Vec<Event<'r>>, event_id: i64) -> Verdict {
    match mapped {
        Some(e) => {
            out.push(e);
            Verdict::Stored
        }
        None => Verdict::Skipped(skip_reason(event_id)),
    }
}

fn skip_reason(event_id: i64) -> &'static str {
    match event_id {
        5 => "sysmon 5 (process terminated): no table",
        7 => "sysmon 7 (image loaded): no table",
        10 => "sysmon 10 (process access): no table",
        _ => "event id with no table",
    }
}

/// Flat Windows-event JSON (NXLog, Logstash, the Mordor datasets).
#[derive(Default)]
pub struct FlatJson;

impl LineParser for FlatJson {
    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let v: Json = serde_json::from_str(line).map_err(|e| util::json_error(&e))?;
        let event_id = util::int(&v, "EventID").ok_or("no EventID")?;
        let envelope = Envelope {
            event_id,
            host: util::text_any(&v, &["Hostname", "Computer", "host.name"]),
            time: util::time(&v, "@timestamp").or_else(|| util::time(&v, "TimeCreated")),
        };
        let mapped = map_event(envelope, &JsonData(&v))?;
        Ok(verdict(mapped, out, event_id))
    }
}

/// Winlogbeat / Elastic Agent Windows events: `winlog.event_data`.
#[derive(Default)]
pub struct Winlogbeat;

impl LineParser for Winlogbeat {
    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let v: Json = serde_json::from_str(line).map_err(|e| util::json_error(&e))?;
        let event_id =
            util::int(&v, "winlog.event_id").or_else(|| util::int(&v, "event.code")).ok_or("no winlog.event_id")?;
        let data = util::field(&v, "winlog.event_data").ok_or("no winlog.event_data")?;
        let envelope = Envelope {
            event_id,
            host: util::text_any(&v, &["winlog.computer_name", "host.name", "host.hostname"]),
            time: util::time(&v, "@timestamp"),
        };
        let mapped = map_event(envelope, &JsonData(data))?;
        Ok(verdict(mapped, out, event_id))
    }
}

/// Sysmon for Linux: the XML event in a syslog line, or in a JSON row's `SyslogMessage`.
#[derive(Default)]
pub struct LinuxXml;

impl LineParser for LinuxXml {
    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let (xml, host, time) = if line.trim_start().starts_with('{') {
            let v: Json = serde_json::from_str(line).map_err(|e| util::json_error(&e))?;
            let Some(message) = util::text(&v, "SyslogMessage") else {
                return Err("no SyslogMessage".into());
            };
            let host = util::text_any(&v, &["HostName", "Computer"]).map(|h| h.into_owned());
            let time = util::time(&v, "EventTime").or_else(|| util::time(&v, "TimeGenerated"));
            (message.into_owned(), host, time)
        } else {
            (line.to_string(), None, None)
        };
        let Some(start) = xml.find("<Event>").or_else(|| xml.find("<Event ")) else {
            return Ok(Verdict::Skipped("syslog line without a Sysmon <Event>"));
        };
        let parsed = parse_event_xml(&xml[start..])?;
        let envelope = Envelope {
            event_id: parsed.event_id.ok_or("no <EventID> in the event")?,
            host: parsed.computer.or(host).map(Cow::Owned),
            time: parsed.system_time.as_deref().and_then(util::parse_time).or(time),
        };
        let event_id = envelope.event_id;
        let mapped = map_event(envelope, &parsed.data)?;
        Ok(verdict(mapped, out, event_id))
    }
}

struct XmlEvent {
    event_id: Option<i64>,
    computer: Option<String>,
    system_time: Option<String>,
    data: PairData,
}

fn parse_event_xml(xml: &str) -> Result<XmlEvent, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    // Sysmon for Linux writes command lines with a bare `&` (`0>&1`): read it as text.
    reader.config_mut().allow_dangling_amp = true;
    let mut out = XmlEvent { event_id: None, computer: None, system_time: None, data: PairData(Vec::new()) };
    let mut current: Option<String> = None; // element name, or `Data:<Name>`
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("malformed Sysmon XML at byte {}: {e}", reader.error_position()))?
        {
            Xml::Start(tag) | Xml::Empty(tag) => {
                let name = String::from_utf8_lossy(tag.name().as_ref()).into_owned();
                let attr = |key: &[u8]| {
                    tag.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == key)
                        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
                };
                match name.as_str() {
                    "TimeCreated" => out.system_time = attr(b"SystemTime"),
                    "Data" => {
                        let field = attr(b"Name").unwrap_or_default();
                        out.data.0.push((field.clone(), String::new()));
                        current = Some(format!("Data:{field}"));
                    }
                    _ => current = Some(name),
                }
            }
            Xml::Text(text) => {
                let text = text.xml_content().map_err(|e| format!("malformed Sysmon XML text: {e}"))?.into_owned();
                match current.as_deref() {
                    Some("EventID") => out.event_id = parse_int(&text),
                    Some("Computer") => out.computer = Some(text),
                    Some(d) if d.starts_with("Data:") => {
                        if let Some(last) = out.data.0.last_mut() {
                            last.1.push_str(&text);
                        }
                    }
                    _ => {}
                }
            }
            Xml::GeneralRef(reference) => {
                // `&amp;` and friends inside data values arrive as separate references.
                if let (Some(d), Some(last)) = (current.as_deref(), out.data.0.last_mut())
                    && d.starts_with("Data:")
                {
                    if let Ok(Some(c)) = reference.resolve_char_ref() {
                        last.1.push(c);
                    } else {
                        let name = String::from_utf8_lossy(&reference).into_owned();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(resolved) => last.1.push_str(resolved),
                            None => last.1.push_str(&format!("&{name};")),
                        }
                    }
                }
            }
            Xml::End(_) => current = None,
            Xml::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_results_split_names_and_addresses() {
        let (answers, ips) = dns_results("type:  5 github.map.fastly.net;::ffff:151.101.208.133;");
        assert_eq!(answers, ["github.map.fastly.net", "151.101.208.133"]);
        assert_eq!(ips, ["151.101.208.133"]);
    }

    #[test]
    fn registry_paths_split_into_hive_key_value() {
        let (h, k, v) = split_registry_path("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\wt", true);
        assert_eq!(h.as_deref(), Some("HKLM"));
        assert_eq!(k.as_deref(), Some("SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run"));
        assert_eq!(v.as_deref(), Some("wt"));
    }

    #[test]
    fn xml_data_values_are_unescaped() {
        let xml = r#"<Event><System><EventID>1</EventID><Computer>h</Computer></System><EventData><Data Name="CommandLine">a &amp;&amp; b &lt;c&gt; &#x41; 0>&1</Data></EventData></Event>"#;
        let e = parse_event_xml(xml).unwrap();
        assert_eq!(e.data.get("CommandLine").as_deref(), Some("a && b <c> A 0>&1"));
        assert_eq!(e.event_id, Some(1));
    }
}
