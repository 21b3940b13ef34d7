//! Linux audit logs: auditd's raw `audit.log`, laurel's JSON events ([`Laurel`]), and audit
//! records that syslog carries one at a time ([`syslog_record`]: auoms's whole-event records,
//! audisp's forwarded ones). All three become the same rows.
//!
//! The kernel writes one event as several records (`type=SYSCALL`, `EXECVE`, `CWD`, `PATH`,
//! `SOCKADDR`, `PROCTITLE`, `EOE`), each a line, tied by the `msg=audit(<time>:<serial>)` they
//! share; records of different events may interleave. The file is read whole and the records
//! joined by serial: one event is one record of the summary, at the line of its first record.
//! - an `execve` (an `EXECVE` record) is a process start: arguments hex-decoded where auditd
//!   encoded them, split arguments (`a1_len`, `a1[0]`, `a1[1]`) joined, `PROCTITLE` when there
//!   is no `EXECVE`; `pid`, `ppid`, `uid`, `exe`, `comm` from `SYSCALL`, `cwd` from `CWD`;
//! - a `SOCKADDR` with an IPv4/IPv6 address is a connection (`connect`) or a listening socket;
//! - `PATH` records of type `CREATE` and `DELETE` are file creation and deletion;
//! - and every record of every event (logins, configuration changes, ... too) is a row of
//!   `auditd`, with all its fields under auditd's names, at the line of its event's first
//!   record: nothing is skipped.
//!
//! Host names are not in audit.log unless auditd writes `node=` (its `name_format`); without
//! it, rows have no `host.name`.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use serde_json::Value as Json;

use super::util::{self, basename};
use super::{DocumentParser, Entry, LineParser, Verdict};
use crate::event::Event;
use crate::schema::Table;

/// Whether a line is an audit record (`type=... msg=audit(...)`, maybe behind `node=...`).
pub fn is_record(line: &str) -> bool {
    let line = line.strip_prefix("node=").map_or(line, |rest| rest.split_once(' ').map_or("", |(_, r)| r));
    line.starts_with("type=") && line.contains(" msg=audit(")
}

/// One record: its type and fields, in order.
struct Record<'t> {
    kind: &'t str,
    fields: Vec<(&'t str, Cow<'t, str>)>,
}

impl Record<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_ref()).filter(|v| *v != "?" && *v != "(null)")
    }

    /// A program's executable (field `exe`) and name: the executable's file name, else the
    /// command name (field `comm`, which the kernel cuts at 15 characters).
    fn program(&self, exe: &str, comm: &str) -> (Option<String>, Option<String>) {
        let executable = self.get(exe).map(str::to_string);
        let name =
            executable.as_deref().map(|x| basename(x).to_string()).or_else(|| self.get(comm).map(str::to_string));
        (executable, name)
    }
}

/// The records of one event, and where it starts.
struct Gathered<'t> {
    /// `time:serial`, as `msg=audit(...)` gives it.
    id: &'t str,
    line: u64,
    time: Option<DateTime<Utc>>,
    node: Option<&'t str>,
    records: Vec<Record<'t>>,
}

#[derive(Default)]
pub struct AuditLog;

impl DocumentParser for AuditLog {
    fn parse<'r>(&mut self, text: &'r str, out: &mut Vec<Entry<'r>>) -> Result<(), String> {
        let mut events: Vec<Gathered> = Vec::new();
        let mut by_id: HashMap<&str, usize> = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let number = index as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            let (node, rest) = match line.strip_prefix("node=") {
                Some(rest) => rest.split_once(' ').map_or((None, ""), |(n, r)| (Some(n), r)),
                None => (None, line),
            };
            let Some((id, kind, body)) = header(rest) else {
                out.push(Entry::new(number, Err("not an audit record (type=... msg=audit(time:serial): ...)".into())));
                continue;
            };
            let record = Record { kind, fields: fields(body, kind == "EXECVE") };
            let at = *by_id.entry(id).or_insert_with(|| {
                let time = event_time(id);
                events.push(Gathered { id, line: number, time, node, records: Vec::new() });
                events.len() - 1
            });
            events[at].records.push(record);
        }
        for gathered in events {
            let Some(time) = gathered.time else {
                out.push(Entry::new(gathered.line, Err("the record's msg=audit(...) has no valid time".into())));
                continue;
            };
            // Each record a row of `auditd` (an event has one at least), and the event a row of
            // its own table where it is an exec, a connection or a file change.
            let mut rows = record_rows(&gathered, time).into_iter();
            let Some(first) = rows.next() else { continue };
            let also = rows.chain(to_event(&gathered, time)).collect();
            out.push(Entry { line: gathered.line, event: Ok(first), also });
        }
        Ok(())
    }
}

/// The time of an event's id, `<epoch seconds>:<serial>`.
fn event_time(id: &str) -> Option<DateTime<Utc>> {
    id.split_once(':').and_then(|(seconds, _)| util::parse_time(seconds))
}

/// `type=SYSCALL msg=audit(1364481363.243:24287): rest` → (`1364481363.243:24287`, `SYSCALL`, rest).
/// auoms writes `audit(...)` without `msg=`.
fn header(line: &str) -> Option<(&str, &str, &str)> {
    let rest = line.strip_prefix("type=")?;
    let (kind, rest) = rest.split_once(' ')?;
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("msg=").unwrap_or(rest).strip_prefix("audit(")?;
    let (id, body) = rest.split_once("):")?;
    Some((id, kind, body))
}

/// `key=value` pairs: values plain, `"quoted"`, or `'nested key=value ...'` (a user-space
/// message, whose pairs are read in place). auditd's enriched fields follow a `\x1d`.
fn fields(body: &str, execve: bool) -> Vec<(&str, Cow<'_, str>)> {
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        rest = rest.trim_start_matches([' ', '\x1d']);
        let Some(eq) = rest.find('=') else { break };
        let key = &rest[..eq];
        if key.contains(' ') {
            // A stray word: skip to the next token.
            rest = rest.split_once(' ').map_or("", |(_, r)| r);
            continue;
        }
        let value = &rest[eq + 1..];
        let (raw, after) = match value.as_bytes().first() {
            Some(b'"') => match value[1..].find('"') {
                Some(end) => (Cow::Borrowed(&value[1..1 + end]), &value[end + 2..]),
                None => (Cow::Borrowed(&value[1..]), ""),
            },
            Some(b'\'') => {
                let end = value[1..].find('\'').map_or(value.len(), |e| e + 1);
                out.extend(fields(&value[1..end.min(value.len())], false));
                rest = value.get(end + 1..).unwrap_or("");
                continue;
            }
            _ => {
                let end = value.find([' ', '\x1d']).unwrap_or(value.len());
                let text = &value[..end];
                let decoded = if encoded(key, execve) { decode_hex(text) } else { None };
                (decoded.map_or(Cow::Borrowed(text), Cow::Owned), &value[end..])
            }
        };
        out.push((key, raw));
        rest = after;
    }
    out
}

/// Fields auditd writes hex-encoded when their text has spaces, quotes or control characters:
/// names and paths, and an `EXECVE` record's arguments (a `SYSCALL` record's `a0`-`a3` are
/// numbers in hex, not text).
fn encoded(key: &str, execve: bool) -> bool {
    matches!(key, "proctitle" | "name" | "cwd" | "comm" | "exe" | "path" | "data" | "acct" | "cmd")
        || execve
            && key.starts_with('a')
            && key[1..].bytes().next().is_some_and(|b| b.is_ascii_digit())
            && !key.contains("_len")
}

/// Hex text as UTF-8 (lossy), NULs as spaces (`proctitle` separates arguments by NUL).
fn decode_hex(text: &str) -> Option<String> {
    if text.len() < 2 || !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes = hex_bytes(text)?;
    let trimmed: Vec<u8> = bytes.iter().map(|&b| if b == 0 { b' ' } else { b }).collect();
    Some(String::from_utf8_lossy(&trimmed).trim_end().to_string())
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

fn record<'a, 't>(g: &'a Gathered<'t>, kind: &str) -> Option<&'a Record<'t>> {
    g.records.iter().find(|r| r.kind == kind)
}

fn to_event(g: &Gathered, time: DateTime<Utc>) -> Option<Event<'static>> {
    let syscall = record(g, "SYSCALL");
    let sockaddr = record(g, "SOCKADDR").and_then(|r| {
        r.get("saddr").and_then(socket_address).or_else(|| {
            // laurel's decoded `SADDR`.
            let inet = matches!(r.get("SADDR.saddr_fam"), Some("inet" | "inet6"));
            let port = r.get("SADDR.port").and_then(util::parse_int)?;
            inet.then(|| r.get("SADDR.addr").map(|a| (a.to_string(), port))).flatten()
        })
    });
    let table = if record(g, "EXECVE").is_some() || syscall.is_some_and(|s| s.get("syscall") == Some("execve")) {
        Table::Process
    } else if sockaddr.is_some() {
        Table::Network
    } else if g.records.iter().any(|r| r.kind == "PATH" && matches!(r.get("nametype"), Some("CREATE" | "DELETE"))) {
        Table::File
    } else {
        return None;
    };
    let mut e = Event::new(table).at(Some(time));
    e.text("event.code", Some(g.records[0].kind.to_string())).lower("host.name", g.node.map(str::to_string));
    if let Some(s) = syscall {
        let (exe, name) = s.program("exe", "comm");
        e.int("process.pid", s.get("pid").and_then(util::parse_int))
            .text("process.name", name)
            .text("process.executable", exe);
        if table == Table::Process {
            // laurel names the parent (`PPID.exe`, `PPID.comm`), which raw records do not.
            let (parent_exe, parent_name) = s.program("PPID.exe", "PPID.comm");
            e.text("user.id", s.get("uid").map(str::to_string))
                .text("user.name", s.get("UID").map(str::to_string))
                .int("process.parent.pid", s.get("ppid").and_then(util::parse_int))
                .text("process.parent.name", parent_name)
                .text("process.parent.executable", parent_exe);
        } else {
            e.text("user.name", s.get("UID").map(str::to_string));
        }
    }
    match table {
        Table::Process => {
            let command_line = record(g, "EXECVE")
                .map(arguments)
                .or_else(|| record(g, "PROCTITLE").and_then(|p| p.get("proctitle")).map(str::to_string));
            e.text("event.action", Some("start"))
                .text("process.command_line", command_line)
                .text("process.working_directory", record(g, "CWD").and_then(|c| c.get("cwd")).map(str::to_string));
        }
        Table::Network => {
            let (ip, port) = sockaddr.expect("checked above");
            let call = syscall.and_then(|s| s.get("syscall")).unwrap_or("");
            let outbound = !matches!(call, "bind" | "49" | "accept" | "43" | "accept4" | "288" | "listen" | "50");
            e.text("event.action", Some("connection"))
                .text("network.direction", Some(if outbound { "outbound" } else { "inbound" }));
            if outbound {
                e.ip("destination.ip", Some(ip)).int("destination.port", Some(port));
            } else {
                e.ip("source.ip", Some(ip)).int("source.port", Some(port));
            }
        }
        _ => {
            let path =
                g.records.iter().find(|r| r.kind == "PATH" && matches!(r.get("nametype"), Some("CREATE" | "DELETE")));
            let path = path.expect("checked above");
            let action = if path.get("nametype") == Some("CREATE") { "creation" } else { "deletion" };
            let mut name = path.get("name").map(str::to_string);
            // A relative name is relative to the working directory.
            if let (Some(n), Some(cwd)) = (&name, record(g, "CWD").and_then(|c| c.get("cwd")))
                && !n.starts_with('/')
            {
                name = Some(format!("{}/{n}", cwd.trim_end_matches('/')));
            }
            let file_name = name.as_deref().map(|n| basename(n).to_string());
            let extension = file_name.as_deref().and_then(|n| n.rsplit_once('.')).map(|(_, x)| x.to_ascii_lowercase());
            e.text("event.action", Some(action))
                .text("file.path", name)
                .text("file.name", file_name)
                .text("file.extension", extension);
        }
    }
    Some(e)
}

/// The command line of an `EXECVE` record: `a0`, `a1`, ... in order, split arguments
/// (`a1_len=`, `a1[0]=`, `a1[1]=`) joined.
fn arguments(execve: &Record) -> String {
    arguments_by_position(execve).into_iter().map(|(_, value)| value).collect::<Vec<_>>().join(" ")
}

/// An `EXECVE` record's arguments in order, each under its name (`a0`, `a1`, ...); an argument
/// auditd split (`a1_len`, `a1[0]`, `a1[1]`) joined back.
fn arguments_by_position(execve: &Record) -> Vec<(String, String)> {
    let count = execve.get("argc").and_then(util::parse_int).unwrap_or(0).clamp(0, 100_000) as usize;
    let mut args = Vec::with_capacity(count);
    for i in 0..count {
        let whole = format!("a{i}");
        if let Some(value) = execve.get(&whole) {
            args.push((whole, value.to_string()));
            continue;
        }
        let prefix = format!("a{i}[");
        let mut parts: Vec<(usize, &str)> = execve
            .fields
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(prefix.as_str())?.strip_suffix(']')?.parse().ok().map(|n| (n, v.as_ref()))
            })
            .collect();
        parts.sort_by_key(|(n, _)| *n);
        args.push((whole, parts.into_iter().map(|(_, v)| v).collect()));
    }
    args
}

/// `saddr` of a `SOCKADDR` record: an IPv4 or IPv6 address and port (`0200...`: family 2, port,
/// address; `0A00...`: family 10). Other families (local sockets, netlink) give `None`.
fn socket_address(saddr: &str) -> Option<(String, i64)> {
    let bytes = hex_bytes(saddr)?;
    let family = u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]);
    let port = i64::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]));
    match family {
        2 => {
            let a: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
            Some((std::net::Ipv4Addr::from(a).to_string(), port))
        }
        10 => {
            let a: [u8; 16] = bytes.get(8..24)?.try_into().ok()?;
            let ip = std::net::Ipv6Addr::from(a);
            Some((ip.to_ipv4_mapped().map_or_else(|| ip.to_string(), |v4| v4.to_string()), port))
        }
        _ => None,
    }
}

/// Whether a JSON object is a laurel event: an `ID` of `time:serial` and records under their
/// types' names (`SYSCALL`, `EXECVE`, `PATH`, ...).
pub fn is_laurel_event(v: &Json) -> bool {
    let Some(object) = v.as_object() else { return false };
    let id = object.get("ID").and_then(Json::as_str).is_some_and(|id| id.contains(':') && id.contains('.'));
    let record_type = |key: &str| key.len() > 2 && key.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
    id && object.keys().any(|k| k != "ID" && k != "NODE" && record_type(k))
}

/// laurel's JSON (its `json-format.md`): one object per event, `ID` its `time:serial`, `NODE`
/// the host where laurel was told to write it, and each record under its type: `SYSCALL`,
/// `EXECVE`, `CWD`, `PROCTITLE` one object, `PATH`, `SOCKADDR` and the others lists of them.
/// laurel has already joined and decoded what the raw parser does: `EXECVE.ARGV` and
/// `PROCTITLE.ARGV` are lists of arguments, `SOCKADDR.SADDR` a decoded address. Its enrichment
/// `SYSCALL.PPID` names the parent (`exe`, `comm`), which raw audit records do not. Nested
/// objects keep their keys dotted in `auditd.fields` (`PPID.exe`); numbers are text, as laurel
/// wrote them (`0o100755`, `0x55c0...`).
#[derive(Default, Clone)]
pub struct Laurel;

impl LineParser for Laurel {
    fn fork(&self) -> Option<Box<dyn LineParser>> {
        Some(Box::new(self.clone()))
    }

    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let v: Json = serde_json::from_str(line).map_err(|e| util::json_error(&e))?;
        let Some(object) = v.as_object() else { return Err("not a JSON object".into()) };
        let Some(id) = object.get("ID").and_then(Json::as_str) else {
            return Err("no ID (the event's time:serial)".into());
        };
        let Some(time) = event_time(id) else {
            return Err(format!("ID `{id}` has no valid time"));
        };
        // Each record's fields as text, flattened; the records borrow them below.
        let mut flat: Vec<(&str, Vec<(String, String)>)> = Vec::new();
        for (kind, value) in object {
            if kind == "ID" || kind == "NODE" {
                continue;
            }
            let items = match value {
                Json::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for item in items {
                if let Json::Object(map) = item {
                    let mut fields = Vec::new();
                    laurel_fields(kind, "", map, &mut fields);
                    flat.push((kind, fields));
                }
            }
        }
        let records = flat
            .iter()
            .map(|(kind, fields)| Record {
                kind,
                fields: fields.iter().map(|(k, v)| (k.as_str(), Cow::Borrowed(v.as_str()))).collect(),
            })
            .collect();
        let node = object.get("NODE").and_then(Json::as_str);
        let gathered = Gathered { id, line: 0, time: Some(time), node, records };
        let rows = record_rows(&gathered, time);
        if rows.is_empty() {
            return Err("the event holds no record".into());
        }
        out.extend(rows);
        out.extend(to_event(&gathered, time));
        Ok(Verdict::Stored)
    }
}

/// A laurel record's fields as text: `ARGV` lists back to `a0`, `a1`, ... (`EXECVE`) or to
/// `proctitle` (`PROCTITLE`; `SYSCALL.ARGV` repeats `a0`-`a3`), nested objects under dotted
/// keys, lists joined by `, `, nulls left out.
fn laurel_fields(kind: &str, prefix: &str, map: &serde_json::Map<String, Json>, out: &mut Vec<(String, String)>) {
    let text = |v: &Json| match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (key, value) in map {
        match (key.as_str(), value) {
            ("ARGV", Json::Array(args)) if prefix.is_empty() => match kind {
                "EXECVE" => out.extend(args.iter().enumerate().map(|(i, a)| (format!("a{i}"), text(a)))),
                "PROCTITLE" => out.push(("proctitle".into(), args.iter().map(text).collect::<Vec<_>>().join(" "))),
                _ => {}
            },
            (_, Json::Null) => {}
            (_, Json::Object(inner)) => laurel_fields(kind, &format!("{prefix}{key}."), inner, out),
            (_, Json::Array(items)) => {
                out.push((format!("{prefix}{key}"), items.iter().map(text).collect::<Vec<_>>().join(", ")))
            }
            (_, other) => out.push((format!("{prefix}{key}"), text(other))),
        }
    }
}

/// An audit record in a syslog message (after any `audispd:` or `node=...` prefix): its row of
/// `auditd` and, for a successful auoms `AUOMS_EXECVE`, the process start; `None` when the
/// message holds no audit record. `host` and `time` are the syslog row's, used where the record
/// names none.
///
/// auoms writes one record per event, the exec's `SYSCALL`, `EXECVE`, `CWD` and `PATH` fields
/// together, and quotes neither the quotes inside a value nor `proctitle`: a value runs to the
/// next ` key=` (so a command line holding ` name=value` is cut there; auoms gives no way to
/// tell). A failed exec (`success=no`, such as a shell looking for `bash` along the `PATH`) is
/// a row of `auditd` only: no process started.
pub fn syslog_record(
    message: &str,
    host: Option<&str>,
    time: Option<DateTime<Utc>>,
) -> Option<Result<Vec<Event<'static>>, String>> {
    let start = message.find("type=")?;
    let (id, kind, body) = header(&message[start..])?;
    let auoms = kind.starts_with("AUOMS_");
    let record = Record { kind, fields: if auoms { loose_fields(body) } else { fields(body, kind == "EXECVE") } };
    let node = record.get("node").or(host).map(str::to_string);
    let Some(time) = event_time(id).or(time) else {
        return Some(Err("the audit record has no valid time".into()));
    };
    let node = node.as_deref();
    let gathered = Gathered { id, line: 0, time: Some(time), node, records: vec![record] };
    let mut events = record_rows(&gathered, time);
    if kind == "AUOMS_EXECVE" && gathered.records[0].get("success") == Some("yes") {
        events.push(auoms_exec(&gathered.records[0], node, time));
    }
    Some(Ok(events))
}

/// auoms's `key=value` pairs: a value runs to the next ` key=` (a word of letters, digits and
/// `_` before `=`), quoted or not; surrounding quotes are taken off.
fn loose_fields(body: &str) -> Vec<(&str, Cow<'_, str>)> {
    let is_key = |word: &str| {
        word.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    // Where each pair starts: a key at the start or after a space.
    let mut starts = Vec::new();
    let mut word_start = 0;
    for (i, b) in body.bytes().enumerate() {
        match b {
            b' ' => word_start = i + 1,
            b'=' if i > word_start && is_key(&body[word_start..i]) => {
                if starts.last().is_none_or(|&(s, _)| s != word_start) {
                    starts.push((word_start, i));
                }
                word_start = usize::MAX;
            }
            _ => {}
        }
    }
    let mut out = Vec::with_capacity(starts.len());
    for (n, &(key_start, eq)) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map_or(body.len(), |&(next, _)| next);
        let value = body[eq + 1..end].trim_end();
        let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        out.push((&body[key_start..eq], Cow::Borrowed(value)));
    }
    out
}

/// A successful `AUOMS_EXECVE` as a process start.
fn auoms_exec(r: &Record, host: Option<&str>, time: DateTime<Utc>) -> Event<'static> {
    let (exe, name) = r.program("exe", "comm");
    let command_line = r.get("cmdline").or_else(|| r.get("proctitle")).map(str::to_string);
    let mut e = Event::new(Table::Process).at(Some(time));
    e.text("event.action", Some("start"))
        .text("event.code", Some(r.kind.to_string()))
        .lower("host.name", host.map(str::to_string))
        .int("process.pid", r.get("pid").and_then(util::parse_int))
        .int("process.parent.pid", r.get("ppid").and_then(util::parse_int))
        .text("process.name", name)
        .text("process.executable", exe)
        .text("process.command_line", command_line)
        .text("process.working_directory", r.get("cwd").map(str::to_string))
        .text("user.name", r.get("user").map(str::to_string))
        .text("user.id", r.get("uid").map(str::to_string));
    e
}

/// Every record of an event as a row of `auditd`, with all its fields under auditd's names (an
/// `EXECVE` record's split arguments joined, as [`arguments`] gives them).
fn record_rows(g: &Gathered, time: DateTime<Utc>) -> Vec<Event<'static>> {
    let mut rows = Vec::with_capacity(g.records.len());
    for record in &g.records {
        let mut pairs: Vec<(Cow<'static, str>, Cow<'static, str>)> = Vec::with_capacity(record.fields.len());
        for (key, value) in &record.fields {
            let key = (*key).to_string();
            // auditd writes `?` and `(null)` for a field with no value.
            if pairs.iter().any(|(k, _)| *k == key) || matches!(value.as_ref(), "?" | "(null)") {
                continue;
            }
            pairs.push((Cow::Owned(key), Cow::Owned(value.to_string())));
        }
        if record.kind == "EXECVE" {
            // `a1_len=10 a1[0]=... a1[1]=...`: the argument itself, as `a1`.
            let args = arguments_by_position(record);
            pairs.retain(|(k, _)| !k.contains('[') && !k.ends_with("_len"));
            for (name, value) in args {
                if !pairs.iter().any(|(k, _)| *k == name) {
                    pairs.push((Cow::Owned(name), Cow::Owned(value)));
                }
            }
        }
        let mut e = Event::new(Table::Auditd).at(Some(time));
        e.text("event.action", Some("record"))
            .text("event.code", Some(record.kind.to_string()))
            .text("event.id", Some(g.id.to_string()))
            .lower("host.name", g.node.map(str::to_string))
            .map("auditd.fields", pairs);
        rows.push(e);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_arguments_are_decoded_and_split_ones_joined() {
        let r = Record {
            kind: "EXECVE",
            fields: fields(r#"argc=3 a0="perl" a1="-e" a2_len=10 a2[0]=7573652053 a2[1]=6F636B6574"#, true),
        };
        assert_eq!(arguments(&r), "perl -e use Socket");
        assert_eq!(decode_hex("2F62696E2F7368002D63"), Some("/bin/sh -c".into()));
        assert_eq!(decode_hex("1234"), Some("\u{12}4".into()));
    }

    #[test]
    fn socket_addresses_decode() {
        assert_eq!(socket_address("02001F90C0A8020A0000000000000000"), Some(("192.168.2.10".into(), 8080)));
        assert_eq!(socket_address("01002F746D702F736F636B"), None, "a local socket");
    }

    #[test]
    fn auoms_values_run_to_the_next_key() {
        let body = r#"pid=17790 comm="bash" exe="/bin/bash" path_name=["/bin/bash","/lib64/ld.so"] argc=3 cmdline="bash -c "{echo,YmFzaA==}|{base64,-d}|{bash,-i}"" proctitle=/usr/bin/java -Dx.file=/opt/a -Dy redactors= containerid="#;
        let f = loose_fields(body);
        let get = |k: &str| f.iter().find(|(key, _)| *key == k).map(|(_, v)| v.as_ref());
        assert_eq!(get("cmdline"), Some(r#"bash -c "{echo,YmFzaA==}|{base64,-d}|{bash,-i}""#));
        assert_eq!(get("proctitle"), Some("/usr/bin/java -Dx.file=/opt/a -Dy"));
        assert_eq!(get("path_name"), Some(r#"["/bin/bash","/lib64/ld.so"]"#));
        assert_eq!((get("comm"), get("redactors"), get("containerid")), (Some("bash"), Some(""), Some("")));
    }

    #[test]
    fn nested_messages_are_read_in_place() {
        let f = fields(
            "pid=1 uid=0 msg='op=PAM:session_open acct=\"root\" exe=\"/usr/sbin/sshd\" res=success'\x1dUID=\"root\"",
            false,
        );
        let keys: Vec<&str> = f.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["pid", "uid", "op", "acct", "exe", "res", "UID"]);
    }
}
