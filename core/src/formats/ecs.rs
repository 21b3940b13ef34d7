//! Elastic Common Schema NDJSON: Elastic Endpoint, Auditbeat, Packetbeat and anything that writes
//! ECS. Events are routed to a table by `event.category`; a whole Elasticsearch hit
//! (`{"_source": {...}}`) is read through its `_source`. Field names are already ours.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::util::{self, field, text};
use super::{LineParser, Verdict};
use crate::event::Event;
use crate::schema::Table;

#[derive(Default)]
pub struct Ecs;

fn has(value: &Json, path: &str, wanted: &str) -> bool {
    match field(value, path) {
        Some(Json::String(s)) => s == wanted,
        Some(Json::Array(items)) => items.iter().any(|i| i.as_str() == Some(wanted)),
        _ => false,
    }
}

fn route(v: &Json) -> Result<Table, &'static str> {
    if field(v, "dns.question.name").is_some() {
        return Ok(Table::Dns);
    }
    if has(v, "event.category", "process") {
        let started = has(v, "event.type", "start") || field(v, "event.type").is_none();
        return if started { Ok(Table::Process) } else { Err("ECS process event that is not a start") };
    }
    for (category, table) in [("network", Table::Network), ("file", Table::File), ("registry", Table::Registry)] {
        if has(v, "event.category", category) {
            return Ok(table);
        }
    }
    Err("ECS event of a category with no table")
}

/// Copies the named ECS fields that are plain text.
fn copy_text<'r>(e: &mut Event<'r>, v: &Json, names: &[&str]) {
    for name in names {
        e.text(name, text(v, name).map(|t| Cow::Owned(t.into_owned())));
    }
}

fn copy_int(e: &mut Event, v: &Json, names: &[&str]) {
    for name in names {
        e.int(name, util::int(v, name));
    }
}

impl LineParser for Ecs {
    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let doc: Json = serde_json::from_str(line).map_err(|e| util::json_error(&e))?;
        let v = field(&doc, "_source").filter(|s| s.is_object()).unwrap_or(&doc);
        let table = match route(v) {
            Ok(t) => t,
            Err(reason) => return Ok(Verdict::Skipped(reason)),
        };
        let time = util::time(v, "@timestamp").ok_or("no valid @timestamp")?;
        let mut e = Event::new(table).at(Some(time));
        e.lower("host.name", util::text_any(v, &["host.name", "host.hostname"]).as_deref());
        copy_text(&mut e, v, &["event.code", "user.name", "process.entity_id", "process.executable"]);
        copy_int(&mut e, v, &["process.pid"]);
        let executable = text(v, "process.executable");
        let name =
            text(v, "process.name").or_else(|| executable.as_deref().map(|x| Cow::Owned(util::basename(x).to_owned())));
        e.text("process.name", name.map(|n| Cow::Owned(n.into_owned())));

        match table {
            Table::Process => {
                let command_line = text(v, "process.command_line").map(|c| c.into_owned()).or_else(|| {
                    let args = util::strings(v, "process.args");
                    (!args.is_empty()).then(|| args.join(" "))
                });
                e.text("event.action", Some("start")).text("process.command_line", command_line);
                copy_text(
                    &mut e,
                    v,
                    &[
                        "user.domain",
                        "process.working_directory",
                        "process.parent.entity_id",
                        "process.parent.executable",
                        "process.parent.command_line",
                    ],
                );
                e.lower("process.hash.sha256", text(v, "process.hash.sha256").as_deref())
                    .lower("process.hash.md5", text(v, "process.hash.md5").as_deref());
                copy_int(&mut e, v, &["process.parent.pid"]);
                let parent_exe = text(v, "process.parent.executable");
                let parent_name = text(v, "process.parent.name")
                    .or_else(|| parent_exe.as_deref().map(|x| Cow::Owned(util::basename(x).to_owned())));
                e.text("process.parent.name", parent_name.map(|n| Cow::Owned(n.into_owned())));
            }
            Table::Network => {
                e.text("event.action", Some("connection"));
                e.lower("network.transport", text(v, "network.transport").as_deref())
                    .lower("network.protocol", text(v, "network.protocol").as_deref())
                    .lower("network.direction", text(v, "network.direction").as_deref())
                    .ip("source.ip", text(v, "source.ip").as_deref())
                    .ip("destination.ip", text(v, "destination.ip").as_deref())
                    .lower("destination.domain", text(v, "destination.domain").as_deref());
                copy_int(
                    &mut e,
                    v,
                    &["source.port", "destination.port", "source.bytes", "destination.bytes", "event.duration"],
                );
                copy_text(&mut e, v, &["event.id"]);
            }
            Table::File => {
                let action = if has(v, "event.type", "deletion") {
                    "deletion"
                } else if has(v, "event.type", "creation") {
                    "creation"
                } else if text(v, "event.action").is_some_and(|a| a.contains("rename")) {
                    "rename"
                } else {
                    "modification"
                };
                let path = text(v, "file.path");
                let file_name =
                    text(v, "file.name").or_else(|| path.as_deref().map(|p| Cow::Owned(util::basename(p).to_owned())));
                let extension = text(v, "file.extension").map(|x| x.to_ascii_lowercase()).or_else(|| {
                    file_name.as_deref().and_then(|n| n.rsplit_once('.')).map(|(_, x)| x.to_ascii_lowercase())
                });
                e.text("event.action", Some(action))
                    .text("file.path", path.map(|p| Cow::Owned(p.into_owned())))
                    .text("file.name", file_name.map(|n| Cow::Owned(n.into_owned())))
                    .text("file.extension", extension)
                    .lower("file.hash.sha256", text(v, "file.hash.sha256").as_deref())
                    .lower("file.hash.md5", text(v, "file.hash.md5").as_deref());
                copy_int(&mut e, v, &["file.size"]);
            }
            Table::Registry => {
                let action = match text(v, "event.type").as_deref().or(text(v, "event.action").as_deref()) {
                    Some(t) if t.contains("delet") => "key_delete",
                    Some(t) if t.contains("creat") => "key_create",
                    _ => "value_set",
                };
                let strings = util::strings(v, "registry.data.strings");
                e.text("event.action", Some(action))
                    .text("registry.data.strings", (!strings.is_empty()).then(|| strings.join("\n")));
                copy_text(
                    &mut e,
                    v,
                    &["registry.path", "registry.hive", "registry.key", "registry.value", "registry.data.type"],
                );
            }
            Table::Dns => {
                let mut answers: Vec<Cow<'r, str>> = Vec::new();
                if let Some(Json::Array(items)) = field(v, "dns.answers") {
                    for a in items {
                        if let Some(data) = text(a, "data") {
                            answers.push(Cow::Owned(data.to_ascii_lowercase()));
                        }
                    }
                }
                let resolved: Vec<Cow<'r, str>> = util::strings(v, "dns.resolved_ip")
                    .iter()
                    .map(|ip| Cow::Owned(crate::event::canonical_ip(ip).into_owned()))
                    .collect();
                e.text("event.action", Some("query"))
                    .lower(
                        "dns.question.name",
                        text(v, "dns.question.name").as_deref().map(|q| q.trim_end_matches('.')),
                    )
                    .text("dns.question.type", text(v, "dns.question.type").map(|t| Cow::Owned(t.to_ascii_uppercase())))
                    .text("dns.response_code", text(v, "dns.response_code").map(|t| Cow::Owned(t.to_ascii_uppercase())))
                    .list("dns.answers", answers)
                    .list("dns.resolved_ip", resolved)
                    .ip("source.ip", text(v, "source.ip").as_deref())
                    .ip("destination.ip", text(v, "destination.ip").as_deref())
                    .lower("network.transport", text(v, "network.transport").as_deref());
                copy_int(&mut e, v, &["dns.id", "source.port", "destination.port"]);
                copy_text(&mut e, v, &["event.id"]);
            }
            _ => unreachable!("route() returns only ECS tables"),
        }
        out.push(e);
        Ok(Verdict::Stored)
    }
}
