//! Zeek logs: the TSV format with its `#fields`/`#types` header, and JSON lines in the three
//! shapes seen in the wild (`_path` with dotted `id.orig_h`; `@stream` with underscore
//! `id_orig_h`; bare records). `dns` logs go to the `dns` table, `conn` to `network`, `http` to
//! `http`, `ssl` and `x509` to `tls`, `files` to `file`, and every other log to `zeek`; no
//! record is skipped. A record's fields that no column holds are kept in `zeek.fields`.

use std::borrow::Cow;
use std::cell::RefCell;

use serde_json::Value as Json;

use super::util::{self, parse_int};
use super::{LineParser, Verdict};
use crate::event::{Event, canonical_ip, lowercase};
use crate::schema::Table;

/// A Zeek record's fields by their dotted Zeek names; `'r` is what the values borrow from (a
/// TSV line's text, so rows take them without a copy).
trait Record<'r> {
    fn get(&self, name: &'static str) -> Option<Cow<'r, str>>;
    fn list(&self, name: &'static str) -> Vec<Cow<'r, str>>;
    fn time(&self) -> Option<chrono::DateTime<chrono::Utc>>;
    /// Every field with a value that is not one of `read`, as text (lists joined by `,`), in
    /// the record's order.
    fn unread(&self, read: &[&'static str]) -> Vec<(Cow<'static, str>, Cow<'r, str>)>;
}

/// Reads a record's fields, remembering which were read: the rest go to `zeek.fields`.
struct Reader<'a, 'r> {
    record: &'a dyn Record<'r>,
    read: RefCell<Vec<&'static str>>,
}

impl<'r> Reader<'_, 'r> {
    fn text(&self, name: &'static str) -> Option<Cow<'r, str>> {
        self.read.borrow_mut().push(name);
        self.record.get(name)
    }

    fn int(&self, name: &'static str) -> Option<i64> {
        self.text(name).and_then(|v| parse_int(&v))
    }

    fn bool(&self, name: &'static str) -> Option<bool> {
        self.text(name).and_then(|v| util::parse_bool(&v))
    }

    fn list(&self, name: &'static str) -> Vec<Cow<'r, str>> {
        self.read.borrow_mut().push(name);
        self.record.list(name)
    }

    fn time(&self, name: &'static str) -> Option<chrono::DateTime<chrono::Utc>> {
        self.text(name).and_then(|t| util::parse_time(&t))
    }

    fn rest(&self) -> Vec<(Cow<'static, str>, Cow<'r, str>)> {
        let mut read = self.read.borrow_mut();
        read.extend(["ts", "_path", "@stream", "_write_ts"]);
        self.record.unread(&read)
    }
}

/// How many distinct field names [`interned`] keeps: Zeek's own scripts use a few hundred; a
/// file that names more (hostile, or generated) gets copies past this, not unbounded memory.
const INTERNED_NAMES: usize = 4096;

/// A TSV header's field name as `'static` text, kept once for the life of the process: every
/// unread field of every row is keyed by one, which would otherwise be a copy per row.
fn interned(name: &str) -> Cow<'static, str> {
    static NAMES: std::sync::Mutex<Option<std::collections::HashSet<&'static str>>> = std::sync::Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let names = names.get_or_insert_with(Default::default);
    if let Some(kept) = names.get(name) {
        return Cow::Borrowed(kept);
    }
    if names.len() >= INTERNED_NAMES {
        return Cow::Owned(name.to_string());
    }
    let kept: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(kept);
    Cow::Borrowed(kept)
}

/// A Zeek boolean as text, as Zeek's JSON writes it (its TSV writes `T`/`F`): one spelling for
/// both, and the one Sigma rules for Zeek compare with (`rejected: 'true'`).
fn boolean(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// Whether a field read as `name` is `key`: a JSON record may name `id.orig_h` as `id_orig_h`.
fn same_name(name: &str, key: &str) -> bool {
    name.len() == key.len() && name.bytes().zip(key.bytes()).all(|(a, b)| a == b || a == b'.' && b == b'_')
}

fn map_record<'r>(log: &str, record: &dyn Record<'r>) -> Result<Event<'r>, String> {
    let table = match log {
        "dns" => Table::Dns,
        "conn" => Table::Network,
        "http" => Table::Http,
        "ssl" | "x509" => Table::Tls,
        "files" => Table::File,
        _ => Table::Zeek,
    };
    let time = record.time().ok_or("no valid ts")?;
    let r = Reader { record, read: RefCell::new(Vec::with_capacity(32)) };
    let mut e = Event::new(table).at(Some(time));
    e.text("event.code", Some(log.to_owned())).text("event.id", r.text("uid"));
    if table != Table::File && log != "x509" {
        e.ip("source.ip", r.text("id.orig_h"))
            .int("source.port", r.int("id.orig_p"))
            .ip("destination.ip", r.text("id.resp_h"))
            .int("destination.port", r.int("id.resp_p"));
    }
    match log {
        "dns" => {
            let answers: Vec<Cow<'r, str>> =
                r.list("answers").into_iter().map(|a| lowercase(util::without_root_dot(a))).collect();
            let resolved: Vec<Cow<'r, str>> = answers
                .iter()
                .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
                .map(|ip| canonical_ip(ip.clone()))
                .collect();
            e.text("event.action", Some("query"))
                .lower("network.transport", r.text("proto"))
                .int("dns.id", r.int("trans_id"))
                .lower("dns.question.name", r.text("query").map(|q| util::without_root_dot(q).into_owned()))
                .text("dns.question.type", r.text("qtype_name"))
                .text("dns.question.class", question_class(&r, record))
                .text("dns.response_code", r.text("rcode_name"))
                .list("dns.header_flags", header_flags(&r))
                .list("dns.answers", answers)
                .list("dns.resolved_ip", resolved)
                // Kept under its own name too: Sigma rules compare Zeek's seconds with numbers.
                .int("event.duration", nanoseconds(record.get("rtt")));
        }
        "conn" => {
            e.text("event.action", Some("connection"))
                .lower("network.transport", r.text("proto"))
                .lower("network.protocol", r.text("service"))
                .int("source.bytes", r.int("orig_bytes"))
                .int("destination.bytes", r.int("resp_bytes"))
                .int("event.duration", nanoseconds(r.text("duration")));
        }
        "http" => {
            let host = r.text("host").map(|h| h.to_ascii_lowercase());
            let uri = r.text("uri");
            let port = record.get("id.resp_p").and_then(|p| parse_int(&p));
            let full = match (&host, &uri) {
                (Some(h), Some(u)) => Some(match port {
                    Some(80) | None => format!("http://{h}{u}"),
                    Some(p) => format!("http://{h}:{p}{u}"),
                }),
                _ => None,
            };
            e.text("event.action", Some("request"))
                .text("http.request.method", r.text("method"))
                .text("url.domain", host)
                .text("url.original", uri)
                .text("url.full", full)
                .text("http.request.referrer", r.text("referrer"))
                .text("user_agent.original", r.text("user_agent"))
                .int("http.response.status_code", r.int("status_code"))
                .int("http.request.body.bytes", r.int("request_body_len"))
                .int("http.response.body.bytes", r.int("response_body_len"))
                .text("http.response.mime_type", r.list("resp_mime_types").into_iter().next())
                .text("user.name", r.text("username"));
        }
        "ssl" => {
            let leaf =
                r.list("cert_chain_fps").into_iter().next().or_else(|| r.text("cert_chain_fuids")).map(Cow::into_owned);
            e.text("event.action", Some("handshake"))
                .text("tls.version", r.text("version"))
                .text("tls.cipher", r.text("cipher"))
                .lower("tls.server_name", r.text("server_name"))
                .bool("tls.established", r.bool("established"))
                .bool("tls.resumed", r.bool("resumed"))
                .text("tls.next_protocol", r.text("next_protocol"))
                .text("tls.client.ja3", r.text("ja3"))
                .text("tls.client.ja4", r.text("ja4"))
                .text("tls.server.ja3s", r.text("ja3s"));
            certificate_hash(&mut e, leaf);
        }
        "x509" => {
            e.text("event.action", Some("certificate"))
                .text("tls.server.x509.subject.distinguished_name", r.text("certificate.subject"))
                .text("tls.server.x509.issuer.distinguished_name", r.text("certificate.issuer"))
                .time("tls.server.x509.not_before", r.time("certificate.not_valid_before"))
                .time("tls.server.x509.not_after", r.time("certificate.not_valid_after"))
                .text("tls.server.x509.serial_number", r.text("certificate.serial"))
                .list("tls.server.x509.alternative_names", r.list("san.dns"));
            certificate_hash(&mut e, r.text("fingerprint").map(Cow::into_owned));
        }
        "files" => {
            let name = r.text("filename");
            e.text("event.action", Some("transfer"))
                .text("file.name", name.as_deref().map(|n| util::basename(n).to_string()))
                .text("file.path", name)
                .lower("file.hash.md5", r.text("md5"))
                .lower("file.hash.sha1", r.text("sha1"))
                .lower("file.hash.sha256", r.text("sha256"))
                .int("file.size", r.int("seen_bytes").or_else(|| r.int("total_bytes")));
        }
        _ => {
            e.text("event.action", Some("record"));
        }
    }
    e.map("zeek.fields", r.rest());
    Ok(e)
}

/// An interval in seconds (`0.000870`), as nanoseconds.
fn nanoseconds(seconds: Option<Cow<'_, str>>) -> Option<i64> {
    let seconds = seconds?.parse::<f64>().ok()?;
    (seconds.is_finite() && (0.0..1e9).contains(&seconds)).then(|| (seconds * 1e9).round() as i64)
}

/// The DNS header's flags that are set, as ECS spells them (Zeek gives each as a `T`/`F` field).
fn header_flags<'r>(r: &Reader<'_, 'r>) -> Vec<Cow<'r, str>> {
    ["AA", "TC", "RD", "RA"].into_iter().filter(|&flag| r.bool(flag) == Some(true)).map(Cow::Borrowed).collect()
}

/// The query's class as ECS and DNS's own records spell it (`IN`), from Zeek's number; a class
/// with no such name keeps Zeek's (`qclass_name`, which stays in `zeek.fields` too), else its
/// number.
fn question_class<'r>(r: &Reader<'_, 'r>, record: &dyn Record<'r>) -> Option<Cow<'r, str>> {
    let number = r.text("qclass");
    let known = match number.as_deref() {
        Some("1") => "IN",
        Some("3") => "CH",
        Some("4") => "HS",
        Some("254") => "NONE",
        Some("255") => "ANY",
        _ => return record.get("qclass_name").or(number),
    };
    Some(Cow::Borrowed(known))
}

/// A certificate's fingerprint, as SHA-256 or SHA-1 by its length (Zeek's default changed).
fn certificate_hash(e: &mut Event<'_>, fingerprint: Option<String>) {
    let Some(fp) = fingerprint.map(|f| f.to_ascii_lowercase()) else { return };
    match fp.len() {
        64 => e.text("tls.server.hash.sha256", Some(fp)),
        40 => e.text("tls.server.hash.sha1", Some(fp)),
        _ => e,
    };
}

/// Zeek TSV: header lines set the separators and fields for the data lines after them.
#[derive(Clone)]
pub struct Tsv {
    separator: String,
    set_separator: String,
    empty: String,
    unset: String,
    path: String,
    fields: Vec<String>,
    /// The fields' names, interned for rows' `zeek.fields` keys.
    names: Vec<Cow<'static, str>>,
    /// Which fields the `#types` header says are `bool`: kept as `true`/`false`, not `T`/`F`.
    booleans: Vec<bool>,
    /// Position of each field, and the log the header describes: worked out once per header.
    index: std::collections::HashMap<String, usize>,
    log: String,
    /// The positions the mapping asked for, by the address and length of the (static) name it
    /// asked with: the same few names for every line, found without hashing them each time.
    asked: RefCell<Asked>,
    /// Which values a record's mapping read (kept for its room).
    read: RefCell<Vec<bool>>,
    /// Where each value of the line being read starts and ends (kept for its room).
    spans: Vec<(usize, usize)>,
}

impl Default for Tsv {
    fn default() -> Self {
        Tsv {
            separator: "\t".into(),
            set_separator: ",".into(),
            empty: "(empty)".into(),
            unset: "-".into(),
            path: String::new(),
            fields: Vec::new(),
            names: Vec::new(),
            booleans: Vec::new(),
            index: Default::default(),
            log: String::new(),
            asked: RefCell::new(Asked::default()),
            read: RefCell::new(Vec::new()),
            spans: Vec::new(),
        }
    }
}

/// Field positions by the name asked for (its address and length), in the order asked: each
/// record asks for the same names in the same order, so the next one asked is usually `next`.
#[derive(Default, Clone)]
struct Asked {
    names: Vec<((usize, usize), Option<usize>)>,
    next: usize,
}

impl Tsv {
    fn position(&self, name: &'static str) -> Option<usize> {
        let key = (name.as_ptr() as usize, name.len());
        let mut asked = self.asked.borrow_mut();
        let found = match asked.names.get(asked.next) {
            Some(&(k, _)) if k == key => Some(asked.next),
            _ => asked.names.iter().position(|&(k, _)| k == key),
        };
        let at = found.unwrap_or_else(|| {
            let position = self.index.get(name).copied();
            asked.names.push((key, position));
            asked.names.len() - 1
        });
        asked.next = at + 1;
        asked.names[at].1
    }

    /// Whether a value is there: not Zeek's mark of an unset or an empty field.
    fn is_set(&self, value: &str) -> bool {
        // Byte by byte, not `==`: most values differ in length, and the rest are short.
        let same = |mark: &str| value.len() == mark.len() && value.bytes().zip(mark.bytes()).all(|(a, b)| a == b);
        !same(&self.unset) && !same(&self.empty)
    }

    /// Cuts a data line into its values, in `spans`.
    fn split(&mut self, line: &str) {
        self.spans.clear();
        match self.separator.as_bytes() {
            // Zeek's separator is a tab: one byte (an escaped byte above 0x7f is two).
            &[one] => {
                let mut start = 0;
                for end in memchr::memchr_iter(one, line.as_bytes()) {
                    self.spans.push((start, end));
                    start = end + 1;
                }
                self.spans.push((start, line.len()));
            }
            _ => {
                for value in line.split(self.separator.as_str()) {
                    let start = value.as_ptr() as usize - line.as_ptr() as usize;
                    self.spans.push((start, start + value.len()));
                }
            }
        }
    }
}

/// `\x09` and friends, as Zeek writes the separator.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\\x") {
        out.push_str(&rest[..i]);
        let hex = rest.get(i + 2..i + 4).and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push_str("\\x");
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A data line, cut at the spans of its [`Tsv`].
struct TsvRecord<'t, 'r> {
    tsv: &'t Tsv,
    line: &'r str,
}

impl<'r> TsvRecord<'_, 'r> {
    fn value(&self, i: usize) -> &'r str {
        let (start, end) = self.tsv.spans[i];
        &self.line[start..end]
    }

    /// The named field's text, borrowed from the line, if it is set.
    fn text(&self, name: &'static str) -> Option<&'r str> {
        let v = self.value(self.tsv.position(name)?);
        self.tsv.is_set(v).then_some(v)
    }
}

impl<'r> Record<'r> for TsvRecord<'_, 'r> {
    fn get(&self, name: &'static str) -> Option<Cow<'r, str>> {
        self.text(name).map(Cow::Borrowed)
    }

    fn list(&self, name: &'static str) -> Vec<Cow<'r, str>> {
        match self.text(name) {
            Some(v) => v.split(self.tsv.set_separator.as_str()).map(Cow::Borrowed).collect(),
            None => Vec::new(),
        }
    }

    fn time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.get("ts").and_then(|t| util::parse_time(&t))
    }

    fn unread(&self, read: &[&'static str]) -> Vec<(Cow<'static, str>, Cow<'r, str>)> {
        let mut skip = self.tsv.read.borrow_mut();
        skip.clear();
        skip.resize(self.tsv.spans.len(), false);
        for name in read {
            if let Some(i) = self.tsv.position(name) {
                skip[i] = true;
            }
        }
        (0..self.tsv.spans.len())
            .filter(|&i| !skip[i])
            .map(|i| (i, self.value(i)))
            .filter(|(_, v)| self.tsv.is_set(v))
            .map(|(i, v)| {
                let value = match self.tsv.booleans.get(i) {
                    Some(true) => util::parse_bool(v).map_or(v, |b| boolean(b)),
                    _ => v,
                };
                (self.tsv.names[i].clone(), Cow::Borrowed(value))
            })
            .collect()
    }
}

impl LineParser for Tsv {
    fn carries_state(&self) -> bool {
        true
    }

    fn fork(&self) -> Option<Box<dyn LineParser>> {
        Some(Box::new(self.clone()))
    }

    /// Header lines change how the lines after them read.
    fn observe(&mut self, line: &str) {
        if line.starts_with('#') {
            let _ = self.parse(line, &mut Vec::new());
        }
    }

    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        if let Some(header) = line.strip_prefix('#') {
            if let Some(sep) = header.strip_prefix("separator ") {
                self.separator = unescape(sep.trim());
                return Ok(Verdict::Skipped("zeek header"));
            }
            let mut parts = header.split(self.separator.as_str());
            let key = parts.next().unwrap_or("");
            let rest: Vec<&str> = parts.collect();
            let first = rest.first().map(|s| s.to_string()).unwrap_or_default();
            match key {
                "set_separator" => self.set_separator = unescape(&first),
                "empty_field" => self.empty = first,
                "unset_field" => self.unset = first,
                "path" => self.path = first,
                "fields" => self.fields = rest.iter().map(|s| s.to_string()).collect(),
                "types" => self.booleans = rest.iter().map(|t| *t == "bool").collect(),
                _ => {}
            }
            self.index = self.fields.iter().enumerate().map(|(i, f)| (f.clone(), i)).collect();
            *self.asked.get_mut() = Asked::default();
            self.names = self.fields.iter().map(|f| interned(f)).collect();
            self.log = infer_log(&self.path, &|f| self.index.contains_key(f));
            return Ok(Verdict::Skipped("zeek header"));
        }
        if self.fields.is_empty() {
            return Err("data line before any #fields header".into());
        }
        self.split(line);
        if self.spans.len() != self.fields.len() {
            return Err(format!("{} values, but the #fields header names {}", self.spans.len(), self.fields.len()));
        }
        let record = TsvRecord { tsv: self, line };
        out.push(map_record(&self.log, &record)?);
        Ok(Verdict::Stored)
    }
}

/// The log a record belongs to: named by `_path`/`@stream`/`#path`, else told by its fields.
fn infer_log(named: &str, has: &dyn Fn(&str) -> bool) -> String {
    if !named.is_empty() {
        return named.to_string();
    }
    if has("query") || has("qtype_name") {
        "dns".into()
    } else if has("conn_state") || has("orig_bytes") {
        "conn".into()
    } else if has("method") && has("uri") {
        "http".into()
    } else if has("server_name") && has("cipher") {
        "ssl".into()
    } else if has("fingerprint") && has("certificate.subject") {
        "x509".into()
    } else if has("fuid") && has("mime_type") {
        "files".into()
    } else {
        String::new()
    }
}

struct JsonRecord<'a>(&'a Json);

impl<'a> JsonRecord<'a> {
    fn field(&self, name: &str) -> Option<&'a Json> {
        let object = self.0.as_object()?;
        object.get(name).or_else(|| object.get(&name.replace('.', "_")))
    }
}

impl<'a> Record<'a> for JsonRecord<'a> {
    fn get(&self, name: &'static str) -> Option<Cow<'a, str>> {
        match self.field(name)? {
            Json::String(s) => Some(Cow::Borrowed(s)),
            Json::Number(n) => Some(Cow::Owned(n.to_string())),
            Json::Bool(b) => Some(Cow::Borrowed(boolean(*b))),
            _ => None,
        }
    }

    fn list(&self, name: &'static str) -> Vec<Cow<'a, str>> {
        match self.field(name) {
            Some(Json::Array(items)) => items.iter().filter_map(|i| i.as_str().map(Cow::Borrowed)).collect(),
            _ => Vec::new(),
        }
    }

    fn time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self.field("ts")? {
            Json::String(s) => util::parse_time(s),
            Json::Number(n) => util::epoch(n.as_f64()?),
            _ => None,
        }
    }

    fn unread(&self, read: &[&'static str]) -> Vec<(Cow<'static, str>, Cow<'a, str>)> {
        let Some(object) = self.0.as_object() else { return Vec::new() };
        object
            .iter()
            .filter(|(k, _)| !read.iter().any(|n| same_name(n, k)))
            .filter_map(|(k, v)| {
                let text = match v {
                    Json::String(s) => Cow::Borrowed(s.as_str()),
                    Json::Number(n) => Cow::Owned(n.to_string()),
                    Json::Bool(b) => Cow::Borrowed(boolean(*b)),
                    Json::Array(items) => Cow::Owned(
                        items
                            .iter()
                            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                    _ => return None,
                };
                // The row is copied whole (`into_owned`) once read: no use interning its keys.
                Some((Cow::Owned(k.clone()), text))
            })
            .collect()
    }
}

#[derive(Default, Clone)]
pub struct JsonLines;

impl LineParser for JsonLines {
    fn fork(&self) -> Option<Box<dyn LineParser>> {
        Some(Box::new(self.clone()))
    }

    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let v: Json = serde_json::from_str(line).map_err(|e| util::json_error(&e))?;
        if !v.is_object() {
            return Err("not a JSON object".into());
        }
        let named = util::text_any(&v, &["_path", "@stream"]).map(|p| p.into_owned()).unwrap_or_default();
        let record = JsonRecord(&v);
        let log = infer_log(&named, &|f| record.field(f).is_some());
        // `@system` names the sensor, not a host that took part: it is not `host.name`.
        out.push(map_record(&log, &record)?.into_owned());
        Ok(Verdict::Stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_the_separator() {
        assert_eq!(unescape("\\x09"), "\t");
        assert_eq!(unescape("\\x2c"), ",");
        assert_eq!(unescape("\\xZZ"), "\\xZZ");
    }

    #[test]
    fn a_header_that_lies_about_its_fields_rejects_the_line() {
        let mut tsv = Tsv::default();
        let mut out = Vec::new();
        tsv.parse("#fields\tts\tuid\tquery", &mut out).unwrap();
        let err = tsv.parse("1521911720.865716\tC1", &mut out).unwrap_err();
        assert_eq!(err, "2 values, but the #fields header names 3");
    }
}
