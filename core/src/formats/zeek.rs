//! Zeek logs: the TSV format with its `#fields`/`#types` header, and JSON lines in the three
//! shapes seen in the wild (`_path` with dotted `id.orig_h`; `@stream` with underscore
//! `id_orig_h`; bare records). `dns` logs go to the `dns` table, `conn` logs to `network`.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::util::{self, parse_int};
use super::{LineParser, Verdict};
use crate::event::Event;
use crate::schema::Table;

/// A Zeek record's fields by their dotted Zeek names.
trait Record {
    fn get(&self, name: &str) -> Option<Cow<'_, str>>;
    fn list(&self, name: &str) -> Vec<String>;
    fn time(&self) -> Option<chrono::DateTime<chrono::Utc>>;
}

fn map_record<'r>(log: &str, r: &dyn Record) -> Result<Option<Event<'r>>, String> {
    let table = match log {
        "dns" => Table::Dns,
        "conn" => Table::Network,
        _ => return Ok(None),
    };
    let time = r.time().ok_or("no valid ts")?;
    let get = |name: &str| r.get(name).map(|v| v.into_owned());
    let int = |name: &str| r.get(name).and_then(|v| parse_int(&v));
    let mut e = Event::new(table).at(Some(time));
    e.text("event.code", Some(log.to_owned()))
        .text("event.id", get("uid"))
        .ip("source.ip", get("id.orig_h"))
        .int("source.port", int("id.orig_p"))
        .ip("destination.ip", get("id.resp_h"))
        .int("destination.port", int("id.resp_p"))
        .lower("network.transport", get("proto"));
    if table == Table::Dns {
        let answers: Vec<String> =
            r.list("answers").iter().map(|a| a.trim_end_matches('.').to_ascii_lowercase()).collect();
        let resolved: Vec<Cow<'r, str>> = answers
            .iter()
            .filter_map(|a| a.parse::<std::net::IpAddr>().ok())
            .map(|ip| Cow::Owned(ip.to_string()))
            .collect();
        e.text("event.action", Some("query"))
            .int("dns.id", int("trans_id"))
            .lower("dns.question.name", get("query").map(|q| util::without_root_dot(q.into())))
            .text("dns.question.type", get("qtype_name"))
            .text("dns.response_code", get("rcode_name"))
            .list("dns.answers", answers.into_iter().map(Cow::Owned).collect())
            .list("dns.resolved_ip", resolved);
    } else {
        let duration =
            r.get("duration").and_then(|d| d.parse::<f64>().ok()).filter(|d| d.is_finite() && *d >= 0.0 && *d < 1e9);
        e.text("event.action", Some("connection"))
            .lower("network.protocol", get("service"))
            .int("source.bytes", int("orig_bytes"))
            .int("destination.bytes", int("resp_bytes"))
            .int("event.duration", duration.map(|d| (d * 1e9) as i64));
    }
    Ok(Some(e))
}

fn verdict<'r>(log: &str, mapped: Option<Event<'r>>, out: &mut Vec<Event<'r>>) -> Verdict {
    match mapped {
        Some(e) => {
            out.push(e);
            Verdict::Stored
        }
        None => Verdict::Skipped(match log {
            "http" => "zeek http log: no table",
            "ssl" => "zeek ssl log: no table",
            _ => "zeek log with no table",
        }),
    }
}

/// Zeek TSV: header lines set the separators and fields for the data lines after them.
pub struct Tsv {
    separator: String,
    set_separator: String,
    empty: String,
    unset: String,
    path: String,
    fields: Vec<String>,
    /// Position of each field, and the log the header describes: worked out once per header.
    index: std::collections::HashMap<String, usize>,
    log: String,
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
            index: Default::default(),
            log: String::new(),
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

struct TsvRecord<'a> {
    tsv: &'a Tsv,
    values: Vec<&'a str>,
}

impl Record for TsvRecord<'_> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        let i = *self.tsv.index.get(name)?;
        let v = self.values[i];
        (v != self.tsv.unset && v != self.tsv.empty).then_some(Cow::Borrowed(v))
    }

    fn list(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(v) => v.split(self.tsv.set_separator.as_str()).map(str::to_owned).collect(),
            None => Vec::new(),
        }
    }

    fn time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.get("ts").and_then(|t| util::parse_time(&t))
    }
}

impl LineParser for Tsv {
    fn carries_state(&self) -> bool {
        true
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
                _ => {}
            }
            self.index = self.fields.iter().enumerate().map(|(i, f)| (f.clone(), i)).collect();
            self.log = infer_log(&self.path, &|f| self.index.contains_key(f));
            return Ok(Verdict::Skipped("zeek header"));
        }
        if self.fields.is_empty() {
            return Err("data line before any #fields header".into());
        }
        let values: Vec<&str> = line.split(self.separator.as_str()).collect();
        if values.len() != self.fields.len() {
            return Err(format!("{} values, but the #fields header names {}", values.len(), self.fields.len()));
        }
        let record = TsvRecord { tsv: self, values };
        let mapped = map_record(&self.log, &record)?;
        Ok(verdict(&self.log, mapped, out))
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
    } else {
        String::new()
    }
}

struct JsonRecord<'a>(&'a Json);

impl JsonRecord<'_> {
    fn field(&self, name: &str) -> Option<&Json> {
        let object = self.0.as_object()?;
        object.get(name).or_else(|| object.get(&name.replace('.', "_")))
    }
}

impl Record for JsonRecord<'_> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        match self.field(name)? {
            Json::String(s) => Some(Cow::Borrowed(s)),
            Json::Number(n) => Some(Cow::Owned(n.to_string())),
            Json::Bool(b) => Some(Cow::Borrowed(if *b { "T" } else { "F" })),
            _ => None,
        }
    }

    fn list(&self, name: &str) -> Vec<String> {
        match self.field(name) {
            Some(Json::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
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
}

#[derive(Default)]
pub struct JsonLines;

impl LineParser for JsonLines {
    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let v: Json = serde_json::from_str(line).map_err(|e| util::json_error(&e))?;
        if !v.is_object() {
            return Err("not a JSON object".into());
        }
        let named = util::text_any(&v, &["_path", "@stream"]).map(|p| p.into_owned()).unwrap_or_default();
        let record = JsonRecord(&v);
        let log = infer_log(&named, &|f| record.field(f).is_some());
        // `@system` names the sensor, not a host that took part: it is not `host.name`.
        let mapped = map_record(&log, &record)?;
        Ok(verdict(&log, mapped, out))
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
