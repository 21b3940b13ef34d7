//! Account and registry events for the `audit` table.
//!
//! - `audit-log`: account audit logs, one JSON object per line or a JSON array (a REST API
//!   page; Google's Reports API page with its `items`), in the shapes of [`SHAPES`]: GitHub
//!   organisation and enterprise audit logs, Okta System Log, Google Workspace Reports API
//!   activities, GitLab audit events, and any registry or mirror log that names an `action`
//!   (`npm.email_change`, with `data.old_email` / `data.new_email`). The source's own action name
//!   stays in `event.action`; what it means is in `audit.activity` where spoor recognizes it
//!   (`crate::audit_activities`, data), and the file's summary counts the actions it does not.
//! - `npm-metadata`: npm registry package metadata (the "packument" of `GET /<package>`): one
//!   `publish` row per version, with the publisher's name and email (`_npmUser`), the
//!   publish time, the install-time scripts and the dependencies. With it, "the publisher's email
//!   changed between two versions" is a query.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::util::{self, Lines};
use super::{DocumentParser, Entry};
use crate::audit_activities;
use crate::event::Event;
use crate::schema::Table;

/// Where one source's audit records keep each field: candidate paths, the first present wins.
/// Paths are dotted; a number indexes an array (`target.0.alternateId`) and `name[key=value]`
/// picks the element of array `name` whose `key` is `value` (Google's event parameters).
pub struct Shape {
    pub provider: &'static str,
    /// Paths of which one says a record of this shape is the provider's (GitHub's
    /// `_document_id`); where a shape has some and a record none, the provider is the action's
    /// namespace (`npm` of `npm.email_change`). Empty: every record is the provider's.
    marks: &'static [&'static str],
    /// Paths a record of this shape always has.
    pub detect: &'static [&'static str],
    action: &'static [&'static str],
    /// Where the action is only "what changed" (GitLab's `details.change`: `email`), read as
    /// `change_<what>`.
    change: &'static [&'static str],
    time: &'static [&'static str],
    actor: &'static [&'static str],
    actor_email: &'static [&'static str],
    target: &'static [&'static str],
    old_value: &'static [&'static str],
    new_value: &'static [&'static str],
    ip: &'static [&'static str],
    country: &'static [&'static str],
    user_agent: &'static [&'static str],
    organization: &'static [&'static str],
    package: &'static [&'static str],
    version: &'static [&'static str],
    outcome: &'static [&'static str],
}

const NONE: &[&str] = &[];

/// The shapes, most specific first; the last reads any record with an action and an actor.
pub const SHAPES: &[Shape] = &[
    Shape {
        provider: "okta",
        marks: NONE,
        detect: &["eventType", "published"],
        action: &["eventType"],
        change: NONE,
        time: &["published"],
        actor: &["actor.alternateId", "actor.displayName", "actor.id"],
        actor_email: &["actor.alternateId"],
        target: &["target.0.alternateId", "target.0.displayName"],
        old_value: &["debugContext.debugData.oldValue"],
        new_value: &["debugContext.debugData.newValue"],
        ip: &["client.ipAddress", "request.ipChain.0.ip"],
        country: &["client.geographicalContext.country"],
        user_agent: &["client.userAgent.rawUserAgent"],
        organization: NONE,
        package: NONE,
        version: NONE,
        outcome: &["outcome.result"],
    },
    Shape {
        provider: "google_workspace",
        marks: NONE,
        detect: &["id.time", "events"],
        // The API's `events` is a list; exports that split it (Elastic's) keep one object.
        action: &["events.0.name", "events.name"],
        change: NONE,
        time: &["id.time"],
        actor: &["actor.email", "actor.profileId"],
        actor_email: &["actor.email"],
        target: &[
            "events.0.parameters[name=USER_EMAIL].value",
            "events.0.parameters[name=affected_email_address].value",
            "events.parameters[name=USER_EMAIL].value",
            "events.parameters[name=affected_email_address].value",
        ],
        old_value: &["events.0.parameters[name=OLD_VALUE].value", "events.parameters[name=OLD_VALUE].value"],
        new_value: &["events.0.parameters[name=NEW_VALUE].value", "events.parameters[name=NEW_VALUE].value"],
        ip: &["ipAddress"],
        country: NONE,
        user_agent: NONE,
        organization: &["id.customerId"],
        package: NONE,
        version: NONE,
        outcome: NONE,
    },
    Shape {
        provider: "gitlab",
        marks: NONE,
        detect: &["author_id", "entity_type"],
        action: &["event_name", "event_type", "details.event_name", "details.custom_message"],
        change: &["details.change"],
        time: &["created_at"],
        actor: &["details.author_name", "author_name"],
        actor_email: &["details.author_email"],
        target: &["details.target_details", "target_details", "details.entity_path", "entity_path"],
        old_value: &["details.from"],
        new_value: &["details.to"],
        ip: &["details.ip_address", "ip_address"],
        country: NONE,
        user_agent: NONE,
        organization: NONE,
        package: NONE,
        version: NONE,
        outcome: NONE,
    },
    // GitHub's audit log, and the logs of registries and their mirrors.
    Shape {
        provider: "github",
        marks: &["_document_id", "actor_location", "business", "org", "repo", "@timestamp"],
        detect: &["action", "actor"],
        action: &["action"],
        change: NONE,
        time: &["@timestamp", "created_at", "timestamp", "time", "date"],
        actor: &["actor", "actor.name", "actor.login"],
        actor_email: &["actor_email", "actor.email", "email"],
        target: &["user", "target_login", "target", "target.name", "data.user", "data.username"],
        old_value: &["old_email", "old_value", "data.old_email", "data.old_value", "data.old", "data.from", "from"],
        new_value: &[
            "new_email",
            "new_value",
            "data.new_email",
            "data.new_value",
            "data.new",
            "data.to",
            "to",
            "email",
        ],
        ip: &["actor_ip", "ip", "ip_address", "data.ip"],
        country: &["actor_location.country_code", "actor_location.country"],
        user_agent: &["user_agent", "data.user_agent"],
        organization: &["org", "business", "enterprise", "organization"],
        package: &["package", "package_name", "data.package", "data.package_name"],
        version: &["version", "package_version", "data.version"],
        outcome: &["outcome", "result"],
    },
];

/// A field by path, with array indexes and `name[key=value]` selectors (see [`Shape`]).
fn pick<'v>(v: &'v Json, path: &str) -> Option<&'v Json> {
    let plain = !path.contains('[') && !path.split('.').any(|s| s.bytes().all(|b| b.is_ascii_digit()));
    if plain {
        return util::field(v, path);
    }
    let mut current = v;
    for segment in path.split('.') {
        current = match segment.find('[') {
            None => match current {
                Json::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => current.get(segment)?,
            },
            Some(open) => {
                let (name, selector) = segment.split_at(open);
                let (key, wanted) = selector.trim_matches(['[', ']']).split_once('=')?;
                let list = if name.is_empty() { current } else { current.get(name)? };
                list.as_array()?.iter().find(|item| item.get(key).and_then(Json::as_str) == Some(wanted))?
            }
        };
    }
    Some(current)
}

/// The first candidate path present, as text.
fn first<'v>(v: &'v Json, paths: &[&str]) -> Option<Cow<'v, str>> {
    paths.iter().find_map(|p| match pick(v, p)? {
        Json::String(s) if !s.is_empty() => Some(Cow::Borrowed(s.as_str())),
        Json::Number(n) => Some(Cow::Owned(n.to_string())),
        Json::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    })
}

fn owned<'r>(v: Option<Cow<'_, str>>) -> Option<Cow<'r, str>> {
    v.map(|v| Cow::Owned(v.into_owned()))
}

/// The shape a record has, if any.
pub fn shape_of(v: &Json) -> Option<&'static Shape> {
    SHAPES.iter().find(|s| s.detect.iter().all(|p| pick(v, p).is_some()))
}

/// The source's name for what happened: its action, or `change_<what>` where it only says what
/// changed.
fn action_of<'v>(v: &'v Json, shape: &Shape) -> Option<Cow<'v, str>> {
    first(v, shape.action).or_else(|| first(v, shape.change).map(|what| Cow::Owned(format!("change_{what}"))))
}

fn audit_event<'r>(v: &Json) -> Result<Event<'r>, String> {
    let shape = shape_of(v).ok_or(
        "not an audit event: no `action` and `actor` (GitHub, registries), `eventType` and `published` (Okta), \
         `id.time` and `events` (Google Workspace) or `author_id` and `entity_type` (GitLab)",
    )?;
    let action = action_of(v, shape).ok_or("no action: nothing says what happened")?;
    let time = shape
        .time
        .iter()
        .find_map(|p| match pick(v, p)? {
            Json::String(s) => util::parse_time(s),
            Json::Number(n) => util::epoch(n.as_f64()?),
            _ => None,
        })
        .ok_or_else(|| format!("no valid time in {}", shape.time.join(", ")))?;
    let activity = audit_activities::recognize(&action);
    let marked = shape.marks.is_empty() || shape.marks.iter().any(|p| pick(v, p).is_some());
    let provider = first(v, &["provider", "event.provider", "source"]).map(Cow::into_owned).unwrap_or_else(|| {
        match action.split_once('.') {
            _ if marked => shape.provider.to_string(),
            Some((namespace, _)) => namespace.to_ascii_lowercase(),
            None => "unknown".to_string(),
        }
    });
    let new_value = first(v, shape.new_value).map(Cow::into_owned);
    let mut e = Event::new(Table::Audit).at(Some(time));
    e.text("event.action", Some(action.into_owned()))
        .text("event.provider", Some(provider))
        .text("audit.activity", activity.map(|a| a.name.as_str()))
        .text("event.category", activity.map(|a| a.category.as_str()))
        .text("event.type", activity.map(|a| a.kind.as_str()))
        .text("user.name", owned(first(v, shape.actor)))
        .lower("user.email", first(v, shape.actor_email).filter(|e| e.contains('@')).map(Cow::into_owned))
        .text("user.target.name", owned(first(v, shape.target)))
        .lower("audit.old_value", first(v, shape.old_value).map(Cow::into_owned))
        .ip("source.ip", first(v, shape.ip).map(Cow::into_owned))
        .text("source.geo.country_iso_code", owned(first(v, shape.country)))
        .text("user_agent.original", owned(first(v, shape.user_agent)))
        .text("organization.name", owned(first(v, shape.organization)))
        .text("package.name", owned(first(v, shape.package)))
        .text("package.version", owned(first(v, shape.version)))
        .text("event.outcome", first(v, shape.outcome).map(|o| o.to_ascii_lowercase()));
    if activity.and_then(|a| a.changes.as_deref()) == Some("email") {
        e.lower("user.changes.email", new_value.clone());
    }
    e.lower("audit.new_value", new_value);
    e.map("audit.fields", fields_of(v));
    Ok(e)
}

/// Every field of a record under its own dotted name (`actor.alternateId`), as text, so that a
/// rule written for the source's names (Sigma's Okta and GitHub rules) reads it. An array's
/// elements share its name (`target.displayName`), their values joined by `, `; a list of
/// `name`/`value` pairs (Google's event parameters) is read as the map it stands for
/// (`events.parameters.SETTING_NAME`).
fn fields_of<'r>(record: &Json) -> Vec<(Cow<'r, str>, Cow<'r, str>)> {
    fn walk(v: &Json, path: &str, out: &mut Vec<(String, String)>) {
        let under = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
        match v {
            Json::Null => {}
            Json::Object(fields) => fields.iter().for_each(|(k, v)| walk(v, &under(k), out)),
            Json::Array(items) => {
                for item in items {
                    match parameter(item) {
                        Some((name, value)) => walk(value, &under(name), out),
                        None => walk(item, path, out),
                    }
                }
            }
            Json::String(s) => add(out, path, s.clone()),
            Json::Number(n) => add(out, path, n.to_string()),
            Json::Bool(b) => add(out, path, b.to_string()),
        }
    }
    fn add(out: &mut Vec<(String, String)>, path: &str, value: String) {
        match out.iter_mut().find(|(k, _)| k == path) {
            Some((_, joined)) => {
                joined.push_str(", ");
                joined.push_str(&value);
            }
            None => out.push((path.to_string(), value)),
        }
    }
    /// `{"name": N, "value": V}` (or `intValue`, `boolValue`, `multiValue`, ...): N and V.
    fn parameter(item: &Json) -> Option<(&str, &Json)> {
        let fields = item.as_object()?;
        let name = fields.get("name")?.as_str()?;
        let mut values = fields.iter().filter(|(k, _)| *k != "name");
        let (key, value) = values.next()?;
        (values.next().is_none() && key.to_ascii_lowercase().ends_with("value")).then_some((name, value))
    }
    let mut out = Vec::new();
    walk(record, "", &mut out);
    out.into_iter().map(|(k, v)| (Cow::Owned(k), Cow::Owned(v))).collect()
}

pub struct AuditLog;

impl DocumentParser for AuditLog {
    fn parse<'r>(&mut self, text: &'r str, out: &mut Vec<Entry<'r>>) -> Result<(), String> {
        let start = text.trim_start();
        // A page of a REST API: an array, or Google's `{"kind": ..., "items": [...]}`.
        let page = if start.starts_with('[') {
            Some(serde_json::from_str::<Json>(text).map_err(|e| format!("not valid JSON: {e}"))?)
        } else if start.starts_with('{') && text.lines().filter(|l| !l.trim().is_empty()).count() > 1 {
            serde_json::from_str::<Json>(text).ok().filter(|d| d.get("items").is_some_and(Json::is_array))
        } else {
            None
        };
        if let Some(page) = page {
            let entries = match &page {
                Json::Array(items) => items.as_slice(),
                _ => page.get("items").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default(),
            };
            let lines = Lines::new(text);
            let mut from = 0;
            for entry in entries {
                // Entries appear in order: each one's line is that of its action's value, the
                // first occurrence after the previous entry's.
                let action = shape_of(entry).and_then(|s| action_of(entry, s)).unwrap_or(Cow::Borrowed("{"));
                let (line, at) = lines.find(&format!("\"{action}\""), from);
                from = at + 1;
                out.push(Entry::new(line, audit_event(entry)));
            }
            return Ok(());
        }
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let event =
                serde_json::from_str::<Json>(line).map_err(|e| util::json_error(&e)).and_then(|v| audit_event(&v));
            out.push(Entry::new(index as u64 + 1, event));
        }
        Ok(())
    }
}

/// Lifecycle stages npm runs at install time: the ones a malicious package uses.
const INSTALL_STAGES: &[&str] = &["preinstall", "install", "postinstall", "prepare"];

pub struct NpmMetadata;

impl DocumentParser for NpmMetadata {
    fn parse<'r>(&mut self, text: &'r str, out: &mut Vec<Entry<'r>>) -> Result<(), String> {
        let doc: Json = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let package = doc.get("name").and_then(Json::as_str).ok_or("no `name`: not npm package metadata")?;
        let versions =
            doc.get("versions").and_then(Json::as_object).ok_or("no `versions`: not npm package metadata")?;
        let times = doc.get("time").and_then(Json::as_object);
        let lines = Lines::new(text);
        let versions_at = text.find("\"versions\"").unwrap_or(0);
        for (version, meta) in versions {
            let (line, _) = lines.find(&format!("\"{version}\": {{"), versions_at);
            let time = times.and_then(|t| t.get(version)).and_then(Json::as_str).and_then(util::parse_time);
            let Some(time) = time else {
                out.push(Entry::new(line, Err(format!("{package}@{version}: no publish time in `time`"))));
                continue;
            };
            let scripts: Vec<Cow<'r, str>> = meta
                .get("scripts")
                .and_then(Json::as_object)
                .map(|s| {
                    s.iter()
                        .filter(|(stage, _)| INSTALL_STAGES.contains(&stage.as_str()))
                        .map(|(stage, command)| Cow::Owned(format!("{stage}: {}", command.as_str().unwrap_or(""))))
                        .collect()
                })
                .unwrap_or_default();
            let dependencies: Vec<Cow<'r, str>> = meta
                .get("dependencies")
                .and_then(Json::as_object)
                .map(|d| {
                    d.iter()
                        .map(|(name, range)| Cow::Owned(format!("{name}@{}", range.as_str().unwrap_or(""))))
                        .collect()
                })
                .unwrap_or_default();
            let mut e = Event::new(Table::Audit).at(Some(time));
            let activity = audit_activities::recognize("publish");
            e.text("event.action", Some("publish"))
                .text("event.provider", Some("npm"))
                .text("audit.activity", activity.map(|a| a.name.as_str()))
                .text("event.category", activity.map(|a| a.category.as_str()))
                .text("event.type", activity.map(|a| a.kind.as_str()))
                .text("user.name", owned(util::text(meta, "_npmUser.name")))
                .lower("user.email", util::text(meta, "_npmUser.email").map(Cow::into_owned))
                .text("package.name", Some(package.to_owned()))
                .text("package.version", Some(version.clone()))
                .list("package.scripts", scripts)
                .list("package.dependencies", dependencies);
            out.push(Entry::new(line, Ok(e)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Event<'static> {
        audit_event(&serde_json::from_str(json).unwrap()).unwrap()
    }

    #[test]
    fn paths_reach_into_arrays_and_select_by_name() {
        let v: Json = serde_json::from_str(
            r#"{"target": [{"alternateId": "a@x"}], "events": [{"parameters": [{"name": "USER_EMAIL", "value": "u@x"}]}]}"#,
        )
        .unwrap();
        assert_eq!(pick(&v, "target.0.alternateId"), Some(&Json::from("a@x")));
        assert_eq!(pick(&v, "events.0.parameters[name=USER_EMAIL].value"), Some(&Json::from("u@x")));
        assert_eq!(pick(&v, "events.0.parameters[name=NEW_VALUE].value"), None);
    }

    #[test]
    fn a_registry_email_change_keeps_its_name_and_gains_its_meaning() {
        let e = event(
            r#"{"time": "2026-03-30T20:41:00Z", "action": "npm.email_change", "actor": "jasonsaayman", "data": {"old_email": "Jason@Example.com", "new_email": "ifstap@proton.me"}}"#,
        );
        assert_eq!(e.get_text("event.action"), Some("npm.email_change"));
        assert_eq!(e.get_text("audit.activity"), Some("email_change"));
        assert_eq!(e.get_text("event.category"), Some("iam"));
        assert_eq!(e.get_text("audit.old_value"), Some("jason@example.com"));
        assert_eq!(e.get_text("user.changes.email"), Some("ifstap@proton.me"));
    }

    #[test]
    fn an_unknown_action_is_kept_as_written() {
        let e = event(r#"{"@timestamp": 1774898100000, "action": "repo.create", "actor": "octocat"}"#);
        assert_eq!(e.get_text("event.action"), Some("repo.create"));
        assert_eq!(e.get_text("audit.activity"), None);
    }
}
