//! Elastic Common Schema NDJSON: Elastic Endpoint, Auditbeat, Packetbeat and anything that writes
//! ECS. Events are routed to a table by `event.category`; a whole Elasticsearch hit
//! (`{"_source": {...}}`) is read through its `_source`. Field names are already ours.
//!
//! ECS is the format of bulk exports, so it is read into typed structs that borrow from the line
//! rather than into a JSON tree: no map per object, no allocation per string. Documents written
//! with flattened keys (`"process.name": ...`) are nested first and then read the same way.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::Value as Json;

use super::util;
use super::{LineParser, Verdict};
use crate::event::Event;
use crate::schema::Table;

#[derive(Default, Clone)]
pub struct Ecs;

/// A scalar read as text: strings (borrowed where the JSON has no escapes), numbers, booleans.
#[derive(Debug, Clone, Default)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(if v { "true" } else { "false" })))
            }
            /// Some shippers write a keyword as a one-element array: the first value is taken.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text<'de>, A::Error> {
                let first = seq.next_element::<Text<'de>>()?.unwrap_or_default();
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(first)
            }
        }
        d.deserialize_any(V)
    }
}

/// An integer written as a number or as a decimal string.
#[derive(Debug, Clone, Copy)]
struct Int(Option<i64>);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(Some(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                Ok(Int(i64::try_from(v).ok()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int, E> {
                Ok(Int((v.fract() == 0.0 && v.abs() < 9e18).then_some(v as i64)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Int, E> {
                Ok(Int(util::parse_int(v)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A keyword field that ECS allows as one value or an array (`event.category`, `event.type`).
#[derive(Debug, Clone, Default)]
struct Many<'a>(Vec<Text<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Many<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Many<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or an array of values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Many<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Option<Text<'de>>>()? {
                    out.extend(item);
                }
                Ok(Many(out))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Many<'de>, E> {
                Ok(Many(vec![Text(Cow::Borrowed(v))]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Many<'de>, E> {
                Ok(Many(vec![Text(Cow::Owned(v.to_owned()))]))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Many<'de>, E> {
                Ok(Many(vec![Text(Cow::Owned(v))]))
            }
        }
        d.deserialize_any(V)
    }
}

impl Many<'_> {
    fn has(&self, wanted: &str) -> bool {
        self.0.iter().any(|t| t.0 == wanted)
    }
}

type T<'a> = Option<Text<'a>>;

#[derive(Deserialize, Default)]
struct Doc<'a> {
    #[serde(rename = "@timestamp", borrow)]
    timestamp: T<'a>,
    #[serde(borrow, default)]
    event: EventFields<'a>,
    #[serde(borrow)]
    host: Option<Host<'a>>,
    #[serde(borrow)]
    user: Option<User<'a>>,
    #[serde(borrow)]
    process: Option<Process<'a>>,
    #[serde(borrow)]
    source: Option<Endpoint<'a>>,
    #[serde(borrow)]
    destination: Option<Endpoint<'a>>,
    #[serde(borrow)]
    network: Option<Network<'a>>,
    #[serde(borrow)]
    file: Option<File<'a>>,
    #[serde(borrow)]
    registry: Option<Registry<'a>>,
    #[serde(borrow)]
    dns: Option<Dns<'a>>,
    /// A whole Elasticsearch hit: the document is inside.
    #[serde(rename = "_source")]
    hit: Option<de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
struct EventFields<'a> {
    #[serde(borrow, default)]
    category: Many<'a>,
    #[serde(borrow, rename = "type")]
    kind: Option<Many<'a>>,
    #[serde(borrow)]
    action: T<'a>,
    #[serde(borrow)]
    code: T<'a>,
    #[serde(borrow)]
    id: T<'a>,
    duration: Option<Int>,
}

#[derive(Deserialize)]
struct Host<'a> {
    #[serde(borrow)]
    name: T<'a>,
    #[serde(borrow)]
    hostname: T<'a>,
}

#[derive(Deserialize)]
struct User<'a> {
    #[serde(borrow)]
    name: T<'a>,
    #[serde(borrow)]
    domain: T<'a>,
}

#[derive(Deserialize)]
struct Hash<'a> {
    #[serde(borrow)]
    sha256: T<'a>,
    #[serde(borrow)]
    md5: T<'a>,
}

#[derive(Deserialize)]
struct Process<'a> {
    #[serde(borrow)]
    entity_id: T<'a>,
    pid: Option<Int>,
    #[serde(borrow)]
    name: T<'a>,
    #[serde(borrow)]
    executable: T<'a>,
    #[serde(borrow)]
    command_line: T<'a>,
    #[serde(borrow)]
    args: Option<Many<'a>>,
    #[serde(borrow)]
    working_directory: T<'a>,
    #[serde(borrow)]
    hash: Option<Hash<'a>>,
    #[serde(borrow)]
    parent: Option<Box<Process<'a>>>,
}

#[derive(Deserialize)]
struct Endpoint<'a> {
    #[serde(borrow)]
    ip: T<'a>,
    port: Option<Int>,
    #[serde(borrow)]
    domain: T<'a>,
    bytes: Option<Int>,
}

#[derive(Deserialize)]
struct Network<'a> {
    #[serde(borrow)]
    transport: T<'a>,
    #[serde(borrow)]
    protocol: T<'a>,
    #[serde(borrow)]
    direction: T<'a>,
}

#[derive(Deserialize)]
struct File<'a> {
    #[serde(borrow)]
    path: T<'a>,
    #[serde(borrow)]
    name: T<'a>,
    #[serde(borrow)]
    extension: T<'a>,
    size: Option<Int>,
    #[serde(borrow)]
    hash: Option<Hash<'a>>,
}

#[derive(Deserialize)]
struct RegistryData<'a> {
    #[serde(borrow, default)]
    strings: Many<'a>,
    #[serde(borrow, rename = "type")]
    kind: T<'a>,
}

#[derive(Deserialize)]
struct Registry<'a> {
    #[serde(borrow)]
    path: T<'a>,
    #[serde(borrow)]
    hive: T<'a>,
    #[serde(borrow)]
    key: T<'a>,
    #[serde(borrow)]
    value: T<'a>,
    #[serde(borrow)]
    data: Option<RegistryData<'a>>,
}

#[derive(Deserialize)]
struct Question<'a> {
    #[serde(borrow)]
    name: T<'a>,
    #[serde(borrow, rename = "type")]
    kind: T<'a>,
    #[serde(borrow)]
    class: T<'a>,
}

#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(borrow)]
    data: T<'a>,
}

#[derive(Deserialize)]
struct Dns<'a> {
    #[serde(borrow)]
    question: Option<Question<'a>>,
    #[serde(borrow)]
    response_code: T<'a>,
    #[serde(borrow, default)]
    answers: Vec<Answer<'a>>,
    #[serde(borrow, default)]
    resolved_ip: Many<'a>,
    #[serde(borrow, default)]
    header_flags: Many<'a>,
    id: Option<Int>,
}

fn s<'a>(t: &T<'a>) -> Option<Cow<'a, str>> {
    t.as_ref().map(|t| t.0.clone())
}

fn int(i: &Option<Int>) -> Option<i64> {
    i.and_then(|i| i.0)
}

fn route(doc: &Doc) -> Result<Table, &'static str> {
    if doc.dns.as_ref().and_then(|d| d.question.as_ref()).and_then(|q| q.name.as_ref()).is_some() {
        return Ok(Table::Dns);
    }
    let category = &doc.event.category;
    if category.has("process") {
        let started = doc.event.kind.as_ref().is_none_or(|k| k.has("start"));
        return if started { Ok(Table::Process) } else { Err("ECS process event that is not a start") };
    }
    for (name, table) in [("network", Table::Network), ("file", Table::File), ("registry", Table::Registry)] {
        if category.has(name) {
            return Ok(table);
        }
    }
    Err("ECS event of a category with no table")
}

/// `{"process.name": "x", "host": {"name": "h"}}` → `{"process": {"name": "x"}, "host": {...}}`.
fn nest(value: Json) -> Json {
    let Json::Object(map) = value else { return value };
    let mut out = serde_json::Map::new();
    for (key, child) in map {
        let child = nest(child);
        let mut parts = key.split('.').peekable();
        let mut target = &mut out;
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                match (target.get_mut(part), child) {
                    (Some(Json::Object(existing)), Json::Object(more)) => existing.extend(more),
                    (_, child) => {
                        target.insert(part.to_owned(), child);
                    }
                }
                break;
            }
            let entry = target.entry(part.to_owned()).or_insert_with(|| Json::Object(Default::default()));
            if !entry.is_object() {
                *entry = Json::Object(Default::default());
            }
            target = entry.as_object_mut().expect("made an object above");
        }
    }
    Json::Object(out)
}

fn map<'r>(doc: &Doc<'r>, table: Table) -> Result<Event<'r>, String> {
    let time = doc.timestamp.as_ref().and_then(|t| util::parse_time(&t.0)).ok_or("no valid @timestamp")?;
    let mut e = Event::new(table).at(Some(time));
    let host = doc.host.as_ref().and_then(|h| h.name.as_ref().or(h.hostname.as_ref()));
    e.lower("host.name", host.map(|h| h.0.clone())).text("event.code", s(&doc.event.code));
    if let Some(user) = &doc.user {
        e.text("user.name", s(&user.name));
        if table == Table::Process {
            e.text("user.domain", s(&user.domain));
        }
    }
    if let Some(p) = &doc.process {
        let name = s(&p.name).or_else(|| p.executable.as_ref().map(|x| Cow::Owned(util::basename(&x.0).to_owned())));
        let name = name.map(|n| util::program_name(n, p.executable.as_ref().map(|x| x.0.as_ref())));
        e.text("process.entity_id", s(&p.entity_id))
            .int("process.pid", int(&p.pid))
            .text("process.name", name)
            .text("process.executable", s(&p.executable));
    }
    match table {
        Table::Process => {
            e.text("event.action", Some("start"));
            if let Some(p) = &doc.process {
                let command_line = s(&p.command_line).or_else(|| {
                    let args = p.args.as_ref().filter(|a| !a.0.is_empty())?;
                    Some(Cow::Owned(args.0.iter().map(|a| a.0.as_ref()).collect::<Vec<_>>().join(" ")))
                });
                e.text("process.command_line", command_line).text("process.working_directory", s(&p.working_directory));
                if let Some(h) = &p.hash {
                    e.lower("process.hash.sha256", s(&h.sha256)).lower("process.hash.md5", s(&h.md5));
                }
                if let Some(parent) = &p.parent {
                    let name = s(&parent.name)
                        .or_else(|| parent.executable.as_ref().map(|x| Cow::Owned(util::basename(&x.0).to_owned())));
                    let name = name.map(|n| util::program_name(n, parent.executable.as_ref().map(|x| x.0.as_ref())));
                    e.text("process.parent.entity_id", s(&parent.entity_id))
                        .int("process.parent.pid", int(&parent.pid))
                        .text("process.parent.name", name)
                        .text("process.parent.executable", s(&parent.executable))
                        .text("process.parent.command_line", s(&parent.command_line));
                }
            }
        }
        Table::Network => {
            e.text("event.action", Some("connection"))
                .text("event.id", s(&doc.event.id))
                .int("event.duration", int(&doc.event.duration));
            endpoints(&mut e, doc);
            if let Some(n) = &doc.network {
                e.lower("network.protocol", s(&n.protocol)).lower("network.direction", s(&n.direction));
            }
            if let Some(d) = &doc.destination {
                e.lower("destination.domain", s(&d.domain));
            }
            e.int("source.bytes", doc.source.as_ref().and_then(|x| int(&x.bytes)))
                .int("destination.bytes", doc.destination.as_ref().and_then(|x| int(&x.bytes)));
        }
        Table::File => {
            let kind = doc.event.kind.as_ref();
            let action = if kind.is_some_and(|k| k.has("deletion")) {
                "deletion"
            } else if kind.is_some_and(|k| k.has("creation")) {
                "creation"
            } else if doc.event.action.as_ref().is_some_and(|a| a.0.contains("rename")) {
                "rename"
            } else {
                "modification"
            };
            e.text("event.action", Some(action));
            if let Some(f) = &doc.file {
                let name = s(&f.name).or_else(|| f.path.as_ref().map(|p| Cow::Owned(util::basename(&p.0).to_owned())));
                let extension = s(&f.extension)
                    .map(|x| x.to_ascii_lowercase())
                    .or_else(|| name.as_deref().and_then(|n| n.rsplit_once('.')).map(|(_, x)| x.to_ascii_lowercase()));
                e.text("file.path", s(&f.path))
                    .text("file.name", name)
                    .text("file.extension", extension)
                    .int("file.size", int(&f.size));
                if let Some(h) = &f.hash {
                    e.lower("file.hash.sha256", s(&h.sha256)).lower("file.hash.md5", s(&h.md5));
                }
            }
        }
        Table::Registry => {
            let kind = doc.event.kind.as_ref();
            let said = |w: &str| {
                kind.is_some_and(|k| k.0.iter().any(|t| t.0.contains(w)))
                    || doc.event.action.as_ref().is_some_and(|a| a.0.contains(w))
            };
            let action = if said("delet") {
                "key_delete"
            } else if said("creat") {
                "key_create"
            } else {
                "value_set"
            };
            e.text("event.action", Some(action));
            if let Some(r) = &doc.registry {
                e.text("registry.path", s(&r.path))
                    .text("registry.hive", s(&r.hive))
                    .text("registry.key", s(&r.key))
                    .text("registry.value", s(&r.value));
                if let Some(d) = &r.data {
                    let strings = (!d.strings.0.is_empty())
                        .then(|| d.strings.0.iter().map(|t| t.0.as_ref()).collect::<Vec<_>>().join("\n"));
                    e.text("registry.data.strings", strings).text("registry.data.type", s(&d.kind));
                }
            }
        }
        Table::Dns => {
            e.text("event.action", Some("query")).text("event.id", s(&doc.event.id));
            endpoints(&mut e, doc);
            if let Some(d) = &doc.dns {
                let question = d.question.as_ref();
                let name = question.and_then(|q| q.name.as_ref()).map(|n| util::without_root_dot(n.0.clone()));
                let answers = d
                    .answers
                    .iter()
                    .filter_map(|a| a.data.as_ref())
                    .map(|a| Cow::Owned(a.0.to_ascii_lowercase()))
                    .collect();
                let resolved = d.resolved_ip.0.iter().map(|ip| crate::event::canonical_ip(ip.0.clone())).collect();
                e.lower("dns.question.name", name)
                    .text(
                        "dns.question.type",
                        question.and_then(|q| q.kind.as_ref()).map(|t| Cow::Owned(t.0.to_ascii_uppercase())),
                    )
                    .text("dns.question.class", question.and_then(|q| s(&q.class)))
                    .text("dns.response_code", d.response_code.as_ref().map(|c| Cow::Owned(c.0.to_ascii_uppercase())))
                    .list("dns.header_flags", d.header_flags.0.iter().map(|f| f.0.clone()).collect())
                    .list("dns.answers", answers)
                    .list("dns.resolved_ip", resolved)
                    .int("dns.id", int(&d.id));
            }
        }
        _ => unreachable!("route() returns only ECS tables"),
    }
    Ok(e)
}

/// Source and destination address, port and transport: the same in network and dns rows.
fn endpoints<'r>(e: &mut Event<'r>, doc: &Doc<'r>) {
    if let Some(x) = &doc.source {
        e.ip("source.ip", s(&x.ip)).int("source.port", int(&x.port));
    }
    if let Some(x) = &doc.destination {
        e.ip("destination.ip", s(&x.ip)).int("destination.port", int(&x.port));
    }
    if let Some(n) = &doc.network {
        e.lower("network.transport", s(&n.transport));
    }
}

fn parse_value<'r>(value: &'r Json, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
    let doc = Doc::deserialize(value).map_err(|e| format!("not an ECS document: {e}"))?;
    finish(doc, out)
}

fn finish<'r>(doc: Doc<'r>, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
    match route(&doc) {
        Ok(table) => {
            out.push(map(&doc, table)?);
            Ok(Verdict::Stored)
        }
        Err(reason) => Ok(Verdict::Skipped(reason)),
    }
}

impl LineParser for Ecs {
    fn fork(&self) -> Option<Box<dyn LineParser>> {
        Some(Box::new(self.clone()))
    }

    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let doc: Doc<'r> = serde_json::from_str(line)
            .map_err(|e| if e.is_data() { format!("not an ECS document: {e}") } else { util::json_error(&e) })?;
        let flattened = doc.event.category.0.is_empty() && doc.dns.is_none();
        if doc.hit.is_none() && !flattened {
            return finish(doc, out);
        }
        // An Elasticsearch hit, or flattened keys: read as a tree, nest it, read again. Rows then
        // own their text, since the tree does not outlive this call.
        let tree: Json = serde_json::from_str(line).map_err(|e| util::json_error(&e))?;
        let tree = match tree {
            Json::Object(mut map) if map.get("_source").is_some_and(Json::is_object) => {
                map.remove("_source").unwrap_or_default()
            }
            other => other,
        };
        let nested = nest(tree);
        let mut borrowed = Vec::new();
        let verdict = parse_value(&nested, &mut borrowed)?;
        for event in borrowed {
            let owned: Event<'static> = event.into_owned();
            out.push(owned);
        }
        Ok(verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_keys_are_nested() {
        let v: Json =
            serde_json::from_str(r#"{"process.name":"a","process":{"pid":1},"host.name":"h","x":2}"#).unwrap();
        assert_eq!(nest(v), serde_json::json!({"process":{"name":"a","pid":1},"host":{"name":"h"},"x":2}));
    }

    #[test]
    fn flattened_documents_are_read_like_nested_ones() {
        let mut out = Vec::new();
        let line = r#"{"@timestamp":"2026-03-31T00:41:02Z","event.category":"process","process.name":"curl","process.pid":"7","host.name":"H"}"#;
        assert_eq!(Ecs.parse(line, &mut out), Ok(Verdict::Stored));
        assert_eq!(out[0].get_text("process.name"), Some("curl"));
        assert_eq!(out[0].get_text("host.name"), Some("h"));
        assert_eq!(out[0].get("process.pid"), Some(&crate::event::Value::Int(7)));
    }
}
