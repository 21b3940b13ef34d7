//! CI job logs and package-manager output.
//!
//! Reads GitHub Actions job logs (RFC 3339 prefixes, `##[group]Run <command>` steps,
//! `##[error]`/`##[warning]` annotations), GitLab job logs (timestamp prefixes), and the plain
//! output of npm, pnpm and yarn inside them or on their own. It records what a hunter asks of a
//! CI job: which steps ran which commands, which package versions were fetched or installed, which
//! lifecycle scripts ran with which command, and npm's install-script warnings. Other lines are
//! counted as skipped.
//!
//! Plain output has no timestamps: a line takes the last timestamp seen before it, else the time
//! yarn prints (`current time: ...`), else the log file's modification time.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;

use super::util;
use super::{LineParser, Verdict};
use crate::event::Event;
use crate::schema::Table;

static TIMESTAMP_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    // GitHub: `2026-03-31T00:25:01.1234567Z `; GitLab adds a stream marker: `... 00O `, `00E+`.
    Regex::new(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})) (?:\d{2}[OE]\+? ?)?").unwrap()
});
static NPM_FETCH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^npm (?:http fetch|verb fetch|timing fetch) GET (\d{3}) (\S+\.tgz)").unwrap());
static NPM_SCRIPT_HEADER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^> (@?[^@\s]+)@(\S+) (\S+)$").unwrap());
static NPM_SCRIPT_WARNING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^npm warn install-scripts\s+(@?[^@\s]+)@(\S+) \((\w+): (.*)\)$").unwrap());
static PNPM_SCRIPT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|/)node_modules/(@[^/\s]+/[^/\s]+|[^/\s]+) (\w+)\$ (.*)$").unwrap());
static PNPM_SCRIPT_PATH_VERSION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"@(\d[^/\s]*)/node_modules/").unwrap());
static PNPM_ADDED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\+ (@?[^\s@]+) (\d\S*)").unwrap());
static YARN_COPY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"Copying "[^"]*/npm-(.+)-[0-9a-f]{40}-integrity/node_modules/((?:@[^/]+/)?[^/]+)/"#).unwrap()
});
static YARN_BERRY_BUILD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"YN0007: .*?(@?[^@\s│]+)@npm:(\S+) must be built").unwrap());
static TARBALL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/((?:@[^/]+(?:/|%2[fF]))?[^/]+)/-/[^/]+-(\d+\.\d+\.\d+[^/]*?)\.tgz$").unwrap());

const LIFECYCLE_STAGES: &[&str] =
    &["preinstall", "install", "postinstall", "prepare", "prepublish", "preprepare", "postprepare"];

pub struct CiLog {
    job: Option<String>,
    fallback_time: Option<DateTime<Utc>>,
    last_time: Option<DateTime<Utc>>,
    provider: &'static str,
    step: Option<String>,
    /// An npm `> pkg@1.0.0 postinstall` header waiting for its `> command` line.
    pending_script: Option<(String, String, String)>,
    seen_installs: HashSet<(String, String)>,
    /// The runner's machine, from GitHub's "Set up job" lines (`Machine name: '…'`, else
    /// `Runner name: '…'`), lowercased as every table's `host.name` is.
    host: Option<String>,
    host_from_machine: bool,
}

impl CiLog {
    pub fn new(job: Option<String>, fallback_time: Option<DateTime<Utc>>) -> Self {
        CiLog {
            job,
            fallback_time,
            last_time: None,
            provider: "shell",
            step: None,
            pending_script: None,
            seen_installs: HashSet::new(),
            host: None,
            host_from_machine: false,
        }
    }

    fn event<'r>(&self, action: &str, manager: Option<&str>, message: &'r str) -> Event<'r> {
        self.event_at_level(action, manager, "info", message)
    }

    fn event_at_level<'r>(
        &self,
        action: &str,
        manager: Option<&str>,
        level: &'static str,
        message: &'r str,
    ) -> Event<'r> {
        let mut e = Event::new(Table::Ci).at(self.last_time.or(self.fallback_time));
        e.text("event.action", Some(action.to_owned()))
            .text("ci.provider", Some(self.provider))
            .text("ci.job.id", self.job.clone())
            .lower("host.name", self.host.clone())
            .text("ci.step.name", self.step.clone())
            .text("package.manager", manager.map(str::to_owned))
            .text("message", Some(Cow::Borrowed(message)))
            .text("log.level", Some(level));
        e
    }
}

/// The line without its CI timestamp prefix.
pub fn strip_timestamp(line: &str) -> &str {
    match TIMESTAMP_PREFIX.find(line) {
        Some(m) => &line[m.end()..],
        None => line,
    }
}

fn package_from_tarball(url: &str) -> Option<(String, String)> {
    let c = TARBALL.captures(url)?;
    Some((c[1].replace("%2f", "/").replace("%2F", "/"), c[2].to_string()))
}

impl LineParser for CiLog {
    fn carries_state(&self) -> bool {
        true
    }

    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String> {
        let mut text = line;
        if let Some(c) = TIMESTAMP_PREFIX.captures(line) {
            if let Some(t) = util::parse_time(&c[1]) {
                self.last_time = Some(t);
                self.provider = if self.provider == "shell" { "github" } else { self.provider };
            }
            text = &line[c.get(0).expect("group 0 always matches").end()..];
        }
        if self.last_time.is_none()
            && let Some(at) = text.find("current time: ")
        {
            self.last_time = util::parse_time(&text[at + "current time: ".len()..]);
        }
        for (label, is_machine) in [("Machine name: '", true), ("Runner name: '", false)] {
            if let Some(name) = text.trim_start().strip_prefix(label).and_then(|r| r.strip_suffix('\''))
                && (is_machine || !self.host_from_machine)
            {
                self.host = Some(name.to_ascii_lowercase());
                self.host_from_machine = is_machine;
            }
        }
        if self.last_time.is_none() && self.fallback_time.is_none() {
            return Err("no timestamp on or before this line, and the file's time is unknown".into());
        }
        let trimmed = text.trim_end();

        // A pending npm script header takes its command from the next `> ` line.
        if let Some((name, version, stage)) = self.pending_script.take()
            && let Some(command) = trimmed.strip_prefix("> ")
        {
            let mut e = self.event("lifecycle_script", Some("npm"), text);
            e.text("package.name", Some(name))
                .text("package.version", Some(version))
                .text("ci.script.stage", Some(stage))
                .text("process.command_line", Some(command.to_owned()));
            out.push(e);
            return Ok(Verdict::Stored);
        }

        if let Some(rest) = trimmed.strip_prefix("##[group]") {
            self.provider = "github";
            let name = rest.to_string();
            self.step = Some(name.clone());
            let mut e = self.event("step_start", None, text);
            e.text("process.command_line", rest.strip_prefix("Run ").map(str::to_owned));
            out.push(e);
            return Ok(Verdict::Stored);
        }
        if trimmed == "##[endgroup]" {
            return Ok(Verdict::Skipped("CI log line with nothing to record"));
        }
        for (marker, action) in [("##[error]", "error"), ("##[warning]", "warning")] {
            if trimmed.starts_with(marker) {
                out.push(self.event_at_level(action, None, action, text));
                return Ok(Verdict::Stored);
            }
        }
        if let Some(c) = NPM_FETCH.captures(trimmed) {
            let url = c[2].to_string();
            let mut e = self.event("package_fetch", Some("npm"), text);
            if let Some((name, version)) = package_from_tarball(&url) {
                e.text("package.name", Some(name)).text("package.version", Some(version));
            }
            e.text("url.original", Some(url));
            out.push(e);
            return Ok(Verdict::Stored);
        }
        if let Some(c) = NPM_SCRIPT_WARNING.captures(trimmed) {
            let mut e = self.event_at_level("install_script_warning", Some("npm"), "warning", text);
            e.text("package.name", Some(c[1].to_string()))
                .text("package.version", Some(c[2].to_string()))
                .text("ci.script.stage", Some(c[3].to_string()))
                .text("process.command_line", Some(c[4].to_string()));
            out.push(e);
            return Ok(Verdict::Stored);
        }
        if let Some(c) = NPM_SCRIPT_HEADER.captures(trimmed)
            && LIFECYCLE_STAGES.contains(&&c[3])
        {
            self.pending_script = Some((c[1].to_string(), c[2].to_string(), c[3].to_string()));
            return Ok(Verdict::Skipped("npm script header (recorded with its command line)"));
        }
        if let Some(c) = PNPM_SCRIPT.captures(trimmed)
            && LIFECYCLE_STAGES.contains(&&c[2])
        {
            let version = PNPM_SCRIPT_PATH_VERSION.captures(trimmed).map(|v| v[1].to_string());
            let mut e = self.event("lifecycle_script", Some("pnpm"), text);
            e.text("package.name", Some(c[1].to_string()))
                .text("package.version", version)
                .text("ci.script.stage", Some(c[2].to_string()))
                .text("process.command_line", Some(c[3].to_string()));
            out.push(e);
            return Ok(Verdict::Stored);
        }
        if let Some(c) = PNPM_ADDED.captures(trimmed) {
            let mut e = self.event("package_install", Some("pnpm"), text);
            e.text("package.name", Some(c[1].to_string())).text("package.version", Some(c[2].to_string()));
            out.push(e);
            return Ok(Verdict::Stored);
        }
        if let Some(c) = YARN_COPY.captures(trimmed) {
            let name = c[2].to_string();
            // The cache directory is `npm-<name with / as ->-<version>`.
            let prefix = format!("{}-", name.replace('/', "-"));
            let Some(version) = c[1].strip_prefix(&prefix).map(str::to_owned) else {
                return Ok(Verdict::Skipped("yarn copy line whose cache directory does not name its package"));
            };
            if !self.seen_installs.insert((name.clone(), version.clone())) {
                return Ok(Verdict::Skipped("yarn copy line of a package already recorded"));
            }
            let mut e = self.event("package_install", Some("yarn"), text);
            e.text("package.name", Some(name)).text("package.version", Some(version));
            out.push(e);
            return Ok(Verdict::Stored);
        }
        if let Some(c) = YARN_BERRY_BUILD.captures(trimmed) {
            let mut e = self.event("lifecycle_script", Some("yarn"), text);
            e.text("package.name", Some(c[1].to_string())).text("package.version", Some(c[2].to_string()));
            out.push(e);
            return Ok(Verdict::Stored);
        }
        if trimmed.starts_with("npm error") || trimmed.starts_with("npm ERR!") {
            out.push(self.event_at_level("error", Some("npm"), "error", text));
            return Ok(Verdict::Stored);
        }
        Ok(Verdict::Skipped("CI log line with nothing to record"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tarball_urls_name_their_package() {
        let p = |u: &str| package_from_tarball(u).unwrap();
        assert_eq!(p("https://r.invalid/axios/-/axios-1.14.1.tgz"), ("axios".into(), "1.14.1".into()));
        assert_eq!(
            p("https://r.invalid/@esbuild/linux-x64/-/linux-x64-0.25.0.tgz"),
            ("@esbuild/linux-x64".into(), "0.25.0".into())
        );
        assert_eq!(
            p("https://r.invalid/plain-crypto-js/-/plain-crypto-js-4.2.1-beta.1.tgz"),
            ("plain-crypto-js".into(), "4.2.1-beta.1".into())
        );
    }

    #[test]
    fn github_setup_lines_name_the_runner_machine() {
        let mut log = CiLog::new(Some("build-1".into()), None);
        let mut out = Vec::new();
        let lines = [
            "2026-03-31T00:40:01.0000000Z Current runner version: '2.330.0'",
            "2026-03-31T00:40:01.0000000Z Runner name: 'runner-pool-3'",
            "2026-03-31T00:40:01.0000000Z Machine name: 'CI-RUNNER-3'",
            "2026-03-31T00:40:02.0000000Z ##[group]Run npm install",
        ];
        for line in lines {
            log.parse(line, &mut out).unwrap();
        }
        assert_eq!(log.host.as_deref(), Some("ci-runner-3"));
        assert_eq!(out.len(), 1, "only the step is a row");
    }
}
