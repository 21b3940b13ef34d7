//! Account and registry events for the `audit` table.
//!
//! - `github-audit`: GitHub organisation and enterprise audit-log entries, as the REST API returns
//!   them (a JSON array) or as audit-log streaming writes them (one JSON object per line).
//! - `npm-metadata`: npm registry package metadata (the "packument" of `GET /<package>`): one
//!   `package_publish` row per version, with the publisher's name and email (`_npmUser`), the
//!   publish time, the install-time scripts and the dependencies. With it, "the publisher's email
//!   changed between two versions" is a query.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::util::{self, Lines, text};
use super::{DocumentParser, Entry};
use crate::event::Event;
use crate::schema::Table;

/// GitHub's action names → spoor's normalized `event.action`.
pub fn normalize_github_action(action: &str) -> &'static str {
    let a = action.to_ascii_lowercase();
    let has = |s: &str| a.contains(s);
    if has("change_email") || has("add_email") || has("update_email") {
        "email_change"
    } else if has("two_factor") && (has("disable") || has("remove")) {
        "mfa_disable"
    } else if has("two_factor") && (has("enable") || has("add")) {
        "mfa_enable"
    } else if has("token") && (has("create") || has("regenerate") || has("add")) {
        "token_create"
    } else if has("token") && (has("destroy") || has("delete") || has("revoke") || has("remove")) {
        "token_delete"
    } else if has("package_version_published") || has("publish") {
        "package_publish"
    } else if has("package_version_deleted") || has("package_deleted") || has("unpublish") {
        "package_unpublish"
    } else if has("add_member") || has("invite_member") {
        "member_add"
    } else if has("remove_member") {
        "member_remove"
    } else if has("login") {
        "login"
    } else {
        "other"
    }
}

fn owned<'r>(v: Option<Cow<'_, str>>) -> Option<Cow<'r, str>> {
    v.map(|v| Cow::Owned(v.into_owned()))
}

fn github_event<'r>(v: &Json) -> Result<Event<'r>, String> {
    let action = text(v, "action").ok_or("no `action`: not a GitHub audit-log entry")?;
    let time = util::time(v, "@timestamp")
        .or_else(|| util::time(v, "created_at"))
        .ok_or("no valid @timestamp or created_at")?;
    let mut e = Event::new(Table::Audit).at(Some(time));
    e.text("event.action", Some(normalize_github_action(&action)))
        .text("event.provider", Some("github"))
        .text("event.code", Some(action.clone().into_owned()))
        .text("audit.original_action", Some(action.into_owned()))
        .text("user.name", owned(text(v, "actor")))
        .lower("user.email", util::text_any(v, &["actor_email", "email"]).map(Cow::into_owned))
        .text("user.target.name", owned(util::text_any(v, &["user", "target_login"])))
        .lower("audit.old_value", util::text_any(v, &["old_email", "old_value"]).map(Cow::into_owned))
        .lower("audit.new_value", util::text_any(v, &["new_email", "new_value", "email"]).map(Cow::into_owned))
        .ip("source.ip", util::text_any(v, &["actor_ip", "ip"]).map(Cow::into_owned))
        .text(
            "source.geo.country_iso_code",
            owned(util::text_any(v, &["actor_location.country_code", "actor_location.country"])),
        )
        .text("user_agent.original", owned(text(v, "user_agent")))
        .text("organization.name", owned(util::text_any(v, &["org", "business", "enterprise"])))
        .text("package.name", owned(util::text_any(v, &["package", "package_name"])))
        .text("package.version", owned(util::text_any(v, &["version", "package_version"])))
        .text("event.outcome", owned(text(v, "outcome")));
    Ok(e)
}

pub struct GithubAudit;

impl DocumentParser for GithubAudit {
    fn parse<'r>(&mut self, text: &'r str, out: &mut Vec<Entry<'r>>) -> Result<(), String> {
        if text.trim_start().starts_with('[') {
            let entries: Vec<Json> = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
            let lines = Lines::new(text);
            let mut from = 0;
            for entry in &entries {
                // Entries appear in order: each one's line is that of its action's value, the
                // first occurrence after the previous entry's.
                let action = entry.get("action").and_then(Json::as_str).unwrap_or("{");
                let (line, at) = lines.find(&format!("\"{action}\""), from);
                from = at + 1;
                out.push(Entry { line, event: github_event(entry) });
            }
            return Ok(());
        }
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let event =
                serde_json::from_str::<Json>(line).map_err(|e| util::json_error(&e)).and_then(|v| github_event(&v));
            out.push(Entry { line: index as u64 + 1, event });
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
                out.push(Entry { line, event: Err(format!("{package}@{version}: no publish time in `time`")) });
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
            e.text("event.action", Some("package_publish"))
                .text("event.provider", Some("npm"))
                .text("event.code", Some("publish"))
                .text("audit.original_action", Some("publish"))
                .text("user.name", owned(util::text(meta, "_npmUser.name")))
                .lower("user.email", util::text(meta, "_npmUser.email").map(Cow::into_owned))
                .text("package.name", Some(package.to_owned()))
                .text("package.version", Some(version.clone()))
                .list("package.scripts", scripts)
                .list("package.dependencies", dependencies);
            out.push(Entry { line, event: Ok(e) });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_actions_are_normalized() {
        assert_eq!(normalize_github_action("billing.change_email"), "email_change");
        assert_eq!(normalize_github_action("user.add_email"), "email_change");
        assert_eq!(normalize_github_action("org.disable_two_factor_requirement"), "mfa_disable");
        assert_eq!(normalize_github_action("two_factor_authentication.disabled"), "mfa_disable");
        assert_eq!(normalize_github_action("personal_access_token.create"), "token_create");
        assert_eq!(normalize_github_action("packages.package_version_published"), "package_publish");
        assert_eq!(normalize_github_action("org.add_member"), "member_add");
        assert_eq!(normalize_github_action("user.login"), "login");
        assert_eq!(normalize_github_action("repo.create"), "other");
    }
}
