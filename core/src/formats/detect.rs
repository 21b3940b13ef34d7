//! Format detection from a file's first lines (after decompression), with the file name as a
//! tie-breaker. Detection only looks; an explicit `--format` always wins.

use std::path::Path;

use serde_json::Value as Json;

use super::Format;
use super::util::field;

/// Guesses the format of a file from its name and its first bytes; `None` if nothing fits.
pub fn detect(path: &Path, head: &str) -> Option<Format> {
    if head.as_bytes().starts_with(super::windows::evtx::SIGNATURE) {
        return Some(Format::Evtx);
    }
    let first = head.lines().map(str::trim).find(|l| !l.is_empty())?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if let Some(lockfile) = detect_lockfile(name, first, head) {
        return Some(lockfile);
    }
    if head.lines().take(20).any(super::auditd::is_record) {
        return Some(Format::Auditd);
    }
    if first.starts_with("#separator") {
        return Some(Format::Zeek);
    }
    if first.starts_with('{')
        && let Ok(v) = serde_json::from_str::<Json>(first)
    {
        return detect_json(&v);
    }
    if let Some(format) = detect_json_document(first, head) {
        return Some(format);
    }
    if head.lines().take(20).any(super::bind::is_query_line) {
        return Some(Format::Bind);
    }
    if head.contains("<Provider Name=\"Linux-Sysmon\"") {
        return Some(Format::SysmonLinux);
    }
    if first.starts_with("<Event") || first.contains("<Event xmlns=") {
        return Some(Format::Windows);
    }
    let ci_markers = [
        "##[group]",
        "npm http fetch",
        "npm warn",
        "npm error",
        "> ",
        "Progress: resolved",
        "yarn install v",
        "added ",
    ];
    if head.lines().take(200).any(|l| {
        let l = super::ci_log::strip_timestamp(l);
        ci_markers.iter().any(|m| l.starts_with(m))
    }) || name.ends_with(".log") && head.lines().next().is_some_and(|l| super::ci_log::strip_timestamp(l) != l)
    {
        return Some(Format::CiLog);
    }
    None
}

fn detect_lockfile(name: &str, first: &str, head: &str) -> Option<Format> {
    if first.starts_with("lockfileVersion:") {
        return Some(Format::PnpmLock);
    }
    if head.contains("# yarn lockfile v1") || head.lines().any(|l| l.starts_with("__metadata:")) || name == "yarn.lock"
    {
        return Some(Format::YarnLock);
    }
    let json_lockfile = first == "{" && head.contains("\"lockfileVersion\"");
    if json_lockfile || name == "package-lock.json" || name == "npm-shrinkwrap.json" {
        return Some(Format::NpmLock);
    }
    None
}

/// Pretty-printed JSON documents, recognised by their keys in the first 64 KiB.
fn detect_json_document(first: &str, head: &str) -> Option<Format> {
    let key = |k: &str| head.contains(&format!("\"{k}\":")) || head.contains(&format!("\"{k}\" :"));
    if first.starts_with('{') && key("versions") && (key("dist-tags") || key("_npmUser")) {
        return Some(Format::NpmMetadata);
    }
    let audit = (key("action") && key("actor"))
        || (key("eventType") && key("published"))
        || (key("author_id") && key("entity_type"))
        || (key("kind") && key("items") && head.contains("admin#reports#activit"));
    if (first.starts_with('[') || first.starts_with('{')) && audit {
        return Some(Format::AuditLog);
    }
    None
}

fn detect_json(v: &Json) -> Option<Format> {
    let has = |p: &str| field(v, p).is_some();
    if has("SyslogMessage") {
        return Some(Format::SysmonLinux);
    }
    if super::auditd::is_laurel_event(v) {
        return Some(Format::Laurel);
    }
    if has("winlog.event_data") || has("winlog.event_id") || has("Event.System") {
        return Some(Format::Windows);
    }
    let event_id = has("EventID") || has("EventId");
    let windows_envelope = ["Channel", "SourceName", "EventLog", "Provider", "Image", "EventData", "Computer"];
    if event_id && windows_envelope.iter().any(|k| has(k)) {
        return Some(Format::Windows);
    }
    if !has("event.category") && super::audit::shape_of(v).is_some() {
        return Some(Format::AuditLog);
    }
    if has("versions") && has("name") && (has("dist-tags") || has("time")) {
        return Some(Format::NpmMetadata);
    }
    if has("name") && has("hostIdentifier") && (has("columns") || has("snapshot") || has("diffResults")) {
        return Some(Format::Osquery);
    }
    if has("_path") || has("@stream") || has("id.orig_h") || has("id_orig_h") {
        return Some(Format::ZeekJson);
    }
    let source = field(v, "_source").unwrap_or(v);
    if field(source, "@timestamp").is_some()
        && (field(source, "event.category").is_some() || field(source, "ecs.version").is_some())
    {
        return Some(Format::Ecs);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content() {
        let p = Path::new("x");
        assert_eq!(detect(p, "#separator \\x09\n"), Some(Format::Zeek));
        assert_eq!(
            detect(p, r#"{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"}"#),
            Some(Format::Windows)
        );
        assert_eq!(detect(p, r#"{"winlog":{"event_data":{}},"@timestamp":"x"}"#), Some(Format::Windows));
        assert_eq!(detect(p, r#"{"Event":{"System":{"EventID":1}}}"#), Some(Format::Windows));
        assert_eq!(detect(p, "<Event xmlns='x'><System>"), Some(Format::Windows));
        assert_eq!(detect(p, "ElfFile\0\0\0"), Some(Format::Evtx));
        assert_eq!(detect(p, "type=EOE msg=audit(1364481363.243:24287): \n"), Some(Format::Auditd));
        assert_eq!(detect(p, r#"{"@timestamp":"x","event":{"category":["process"]}}"#), Some(Format::Ecs));
        assert_eq!(detect(p, r#"{"_path":"dns","ts":"x"}"#), Some(Format::ZeekJson));
        assert_eq!(detect(p, "2026-03-31T00:25:01.1234567Z ##[group]Run npm ci\n"), Some(Format::CiLog));
        assert_eq!(detect(p, "just some words\n"), None);
        assert_eq!(detect(p, "lockfileVersion: '9.0'\n"), Some(Format::PnpmLock));
        assert_eq!(detect(p, "{\n  \"name\": \"x\",\n  \"lockfileVersion\": 3,\n"), Some(Format::NpmLock));
        assert_eq!(detect(p, "# THIS IS AN AUTOGENERATED FILE.\n# yarn lockfile v1\n"), Some(Format::YarnLock));
        assert_eq!(detect(p, ""), None);
    }
}
