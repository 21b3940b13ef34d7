//! osquery result logs (the filesystem logger's `osqueryd.results.log`): differential rows
//! (`"action": "added"` with `columns`), batched differentials (`diffResults.added`) and snapshots
//! (`"action": "snapshot"` with a `snapshot` array). The query name says which osquery table the
//! rows come from: `process_events` and `processes` fill `process`, `socket_events` and
//! `process_open_sockets` fill `network`, `file_events` fills `file`. Rows `removed` from a
//! differential are not events and are skipped.

use serde_json::Value as Json;

use super::util::{self, basename, parse_int};
use super::{LineParser, Verdict};
use crate::event::Event;
use crate::schema::Table;

#[derive(Default, Clone)]
pub struct Osquery;

/// Which osquery table a scheduled query reads, from its name (`pack_x_process_events` too).
fn source_table(name: &str) -> Option<(&'static str, Table)> {
    const KNOWN: &[(&str, Table)] = &[
        ("process_events", Table::Process),
        ("bpf_process_events", Table::Process),
        ("es_process_events", Table::Process),
        ("processes", Table::Process),
        ("socket_events", Table::Network),
        ("bpf_socket_events", Table::Network),
        ("process_open_sockets", Table::Network),
        ("file_events", Table::File),
    ];
    KNOWN.iter().filter(|(k, _)| name.ends_with(k)).max_by_key(|(k, _)| k.len()).copied()
}

fn row_event<'r>(
    source: &str,
    table: Table,
    row: &Json,
    host: Option<&str>,
    fallback: Option<chrono::DateTime<chrono::Utc>>,
) -> Event<'r> {
    let get = |k: &str| util::text(row, k).map(|v| v.into_owned()).filter(|v| !v.is_empty());
    let int = |k: &str| get(k).and_then(|v| parse_int(&v));
    // Evented tables carry the event's own `time`; snapshots only the query's time.
    let time = get("time").and_then(|t| util::parse_time(&t)).or(fallback);
    let mut e = Event::new(table).at(time);
    e.text("event.code", Some(source.to_owned())).lower("host.name", host.map(str::to_owned));
    let path = get("path");
    let name = get("name").or_else(|| path.as_deref().map(|p| basename(p).to_owned()));
    let name = name.map(|n| util::program_name(n.into(), path.as_deref()).into_owned());
    e.int("process.pid", int("pid")).text("process.executable", path).text("process.name", name);
    match table {
        Table::Process => {
            e.text("event.action", Some("start"))
                .text("process.command_line", get("cmdline"))
                .text("process.working_directory", get("cwd"))
                .int("process.parent.pid", int("parent"))
                .text("user.name", get("username"));
        }
        Table::Network => {
            let transport = match get("protocol").as_deref() {
                Some("6") => Some("tcp"),
                Some("17") => Some("udp"),
                _ => None,
            };
            let direction = match get("action").as_deref() {
                Some("connect") => Some("outbound"),
                Some("accept") => Some("inbound"),
                _ => None,
            };
            e.text("event.action", Some("connection"))
                .text("network.transport", transport)
                .text("network.direction", direction)
                .ip("source.ip", get("local_address"))
                .int("source.port", int("local_port"))
                .ip("destination.ip", get("remote_address"))
                .int("destination.port", int("remote_port"));
        }
        Table::File => {
            let target = get("target_path");
            let action = match get("action").as_deref() {
                Some("CREATED") => "creation",
                Some("DELETED") => "deletion",
                Some("MOVED_FROM") | Some("MOVED_TO") => "rename",
                _ => "modification",
            };
            let file_name = target.as_deref().map(|p| basename(p).to_owned());
            let extension = file_name.as_deref().and_then(|n| n.rsplit_once('.')).map(|(_, x)| x.to_ascii_lowercase());
            e.text("event.action", Some(action))
                .text("file.path", target)
                .text("file.name", file_name)
                .text("file.extension", extension)
                .lower("file.hash.sha256", get("sha256"))
                .lower("file.hash.md5", get("md5"))
                .int("file.size", int("size"));
        }
        _ => {}
    }
    e
}

impl LineParser for Osquery {
    fn fork(&self) -> Option<Box<dyn LineParser>> {
        Some(Box::new(self.clone()))
    }

    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let v: Json = serde_json::from_str(line).map_err(|e| util::json_error(&e))?;
        let name = util::text(&v, "name").ok_or("no query `name`: not an osquery result")?;
        let Some((source, table)) = source_table(&name) else {
            return Ok(Verdict::Skipped("osquery query of a table with no spoor table"));
        };
        let host = util::text_any(&v, &["decorations.hostname", "hostIdentifier"]);
        let when = util::time(&v, "unixTime").or_else(|| {
            util::text(&v, "calendarTime").and_then(|c| {
                chrono::DateTime::parse_from_str(&c.replace(" UTC", " +0000"), "%a %b %e %H:%M:%S %Y %z")
                    .ok()
                    .map(|t| t.to_utc())
            })
        });
        let rows: Vec<&Json> = match util::text(&v, "action").as_deref() {
            Some("added") => v.get("columns").into_iter().collect(),
            Some("removed") => return Ok(Verdict::Skipped("osquery row removed from a differential")),
            Some("snapshot") => {
                v.get("snapshot").and_then(Json::as_array).map(|a| a.iter().collect()).unwrap_or_default()
            }
            _ => match v.pointer("/diffResults/added").and_then(Json::as_array) {
                Some(added) => added.iter().collect(),
                None => return Err("neither `columns`, `snapshot` nor `diffResults`".into()),
            },
        };
        if rows.is_empty() {
            return Ok(Verdict::Skipped("osquery result with no added rows"));
        }
        for row in rows {
            if !row.is_object() {
                return Err("an osquery row that is not an object".into());
            }
            out.push(row_event(source, table, row, host.as_deref(), when));
        }
        Ok(Verdict::Stored)
    }
}
