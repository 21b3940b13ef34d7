//! Input formats: one module per family, each turning raw records into [`Event`]s.
//!
//! A format is either line-framed (one record per line: JSON lines, Zeek TSV, syslog, CI logs),
//! read through a [`LineParser`], a whole document (lockfiles, package metadata), read through
//! a [`DocumentParser`] that reports one entry per package or version with the line it starts on,
//! or a binary Windows event log ([`windows::evtx`]), whose records are numbered.

pub mod audit;
pub mod auditd;
pub mod bind;
pub mod ci_log;
pub mod detect;
pub mod ecs;
pub mod lockfile;
pub mod mapping;
pub mod osquery;
pub mod syslog;
pub mod util;
pub mod windows;
pub mod zeek;

use crate::event::Event;

/// What became of a record that was not rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// One or more events were produced.
    Stored,
    /// A well-formed record that no table holds (a Zeek header line), or one held to be stored
    /// with others (a part of a split PowerShell script block). The reason is printed.
    Skipped(&'static str),
}

/// Parses one line into events; `Err` rejects the line with a reason.
pub trait LineParser: Send {
    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> Result<Verdict, String>;

    /// Whether a line's meaning depends on the lines before it (a Zeek `#fields` header, a CI
    /// log's current step): then a file's appended part is parsed after replaying the rest.
    fn carries_state(&self) -> bool {
        false
    }

    /// Rows held back for records still to come (a script block's missing parts), given out at
    /// the end of the file; `Err` rejects one with a reason.
    fn finish(&mut self) -> Vec<Result<Event<'static>, String>> {
        Vec::new()
    }

    /// A parser for the lines from here on, to parse a large file's blocks of lines on several
    /// threads; `None` (the default) when lines must be parsed in order by this one. A parser
    /// that forks holds no rows back ([`LineParser::finish`]); one whose state some lines change
    /// (Zeek's header) is shown every line first ([`LineParser::observe`]), so each fork starts
    /// from the state in force at its block's first line.
    fn fork(&self) -> Option<Box<dyn LineParser>> {
        None
    }

    /// Shown every line, in order, by the thread that cuts a file into blocks for the forks.
    fn observe(&mut self, _line: &str) {}
}

/// One entry of a document: the line it starts on, and its event or why it was rejected.
pub struct Entry<'r> {
    pub line: u64,
    pub event: Result<Event<'r>, String>,
    /// Further rows of the same record, stored with it (an audit event's records).
    pub also: Vec<Event<'r>>,
}

impl<'r> Entry<'r> {
    pub fn new(line: u64, event: Result<Event<'r>, String>) -> Self {
        Entry { line, event, also: Vec::new() }
    }
}

/// Parses a whole document; `Err` rejects the whole document (it is not of its format at all).
pub trait DocumentParser: Send {
    fn parse<'r>(&mut self, text: &'r str, out: &mut Vec<Entry<'r>>) -> Result<(), String>;

    /// Records of the last document that no table holds, each with its line and the reason.
    fn skipped(&mut self) -> Vec<(u64, &'static str)> {
        Vec::new()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Windows event log records as JSON or XML lines, in any exporter's shape.
    Windows,
    /// Binary Windows event log files.
    Evtx,
    SysmonLinux,
    /// Linux audit logs, auditd's raw `audit.log`.
    Auditd,
    /// Linux audit events as laurel writes them: one JSON object per event.
    Laurel,
    Ecs,
    Zeek,
    ZeekJson,
    CiLog,
    NpmLock,
    YarnLock,
    PnpmLock,
    AuditLog,
    NpmMetadata,
    Osquery,
    Bind,
    /// Any NDJSON, read through a user's mapping file (`--mapping`).
    Mapped,
}

pub enum Parser {
    Lines(Box<dyn LineParser>),
    Document(Box<dyn DocumentParser>),
    /// Binary EVTX, read by [`windows::evtx::read`].
    Evtx,
}

impl Format {
    pub const ALL: &'static [Format] = &[
        Format::Windows,
        Format::Evtx,
        Format::SysmonLinux,
        Format::Auditd,
        Format::Laurel,
        Format::Ecs,
        Format::Zeek,
        Format::ZeekJson,
        Format::CiLog,
        Format::NpmLock,
        Format::YarnLock,
        Format::PnpmLock,
        Format::AuditLog,
        Format::NpmMetadata,
        Format::Osquery,
        Format::Bind,
        Format::Mapped,
    ];

    /// Read whole (lockfiles, package metadata, audit logs, EVTX files), not line by line: a
    /// file that grew is read again whole.
    pub fn is_document(self) -> bool {
        matches!(
            self,
            Format::NpmLock
                | Format::YarnLock
                | Format::PnpmLock
                | Format::AuditLog
                | Format::NpmMetadata
                | Format::Evtx
                | Format::Auditd
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Windows => "windows",
            Format::Evtx => "evtx",
            Format::SysmonLinux => "sysmon-linux",
            Format::Auditd => "auditd",
            Format::Laurel => "laurel",
            Format::Ecs => "ecs",
            Format::Zeek => "zeek",
            Format::ZeekJson => "zeek-json",
            Format::CiLog => "ci-log",
            Format::NpmLock => "npm-lock",
            Format::YarnLock => "yarn-lock",
            Format::PnpmLock => "pnpm-lock",
            Format::AuditLog => "audit-log",
            Format::NpmMetadata => "npm-metadata",
            Format::Osquery => "osquery",
            Format::Bind => "bind",
            Format::Mapped => "mapped",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Format::Windows => {
                "Windows events (Sysmon, Security, System, PowerShell, any channel) as JSON or XML lines: flat \
                 (NXLog, Logstash, Mordor, Sentinel SecurityEvent), evtx_dump/SigmaHQ (Event.System, Event.EventData), \
                 Winlogbeat/Elastic Agent (winlog.event_data), Sentinel WindowsEvent and Event (EventData as \
                 JSON or XML text), rendered <Event> XML (wevtutil, Splunk XmlWinEventLog)"
            }
            Format::Evtx => "binary Windows event log files (.evtx), every channel, read on every core",
            Format::SysmonLinux => {
                "Sysmon for Linux XML events and audit records (auoms, audisp) in syslog lines or Sentinel Syslog JSON rows"
            }
            Format::Auditd => {
                "Linux audit logs (auditd's audit.log): every record, and a process per execve, connections, file creation and deletion"
            }
            Format::Laurel => {
                "Linux audit events as laurel's JSON lines (records joined, arguments decoded, parents named): the same rows as auditd"
            }
            Format::Ecs => {
                "Elastic Common Schema NDJSON (Elastic Endpoint, Auditbeat): process, network, file, registry, dns"
            }
            Format::Zeek => {
                "Zeek TSV logs with #fields/#types headers: dns, conn, http, ssl, x509, files, and any other log"
            }
            Format::ZeekJson => "Zeek JSON logs (any log), with dotted or underscore field names",
            Format::CiLog => "CI job logs (GitHub Actions, GitLab) and plain npm/yarn/pnpm output",
            Format::NpmLock => "package-lock.json / npm-shrinkwrap.json, lockfileVersion 1, 2 and 3",
            Format::YarnLock => "yarn.lock of yarn 1 and of yarn 2+ (berry)",
            Format::PnpmLock => "pnpm-lock.yaml, lockfileVersion 5.x, 6.0 and 9.0",
            Format::AuditLog => {
                "account audit logs as JSON lines or a REST API page: GitHub organisation/enterprise, Okta System \
                 Log, Google Workspace Reports, GitLab audit events, and registry or mirror logs naming an `action`"
            }
            Format::NpmMetadata => {
                "npm registry package metadata (GET /<package>): one publish per version, with publisher email"
            }
            Format::Osquery => {
                "osquery result logs: process_events, socket_events, file_events, processes (differential and snapshot)"
            }
            Format::Bind => "BIND query log lines (named's `queries` category), plain or behind a syslog prefix",
            Format::Mapped => "any NDJSON, through a TOML mapping file given with --mapping",
        }
    }

    /// What a record's position (`log.file.line`) counts: lines, or an EVTX file's record numbers.
    pub fn position_name(self) -> &'static str {
        if self == Format::Evtx { "record" } else { "line" }
    }

    /// A format by name; `sysmon` and `winlogbeat`, the names of shapes `windows` now reads, still
    /// name it, as `github-audit` names `audit-log` (stores' manifests and scripts use them).
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "sysmon" | "winlogbeat" => Some(Format::Windows),
            "github-audit" => Some(Format::AuditLog),
            _ => Format::ALL.iter().copied().find(|f| f.name() == name),
        }
    }

    /// The format a user chose by name (`--format`, a job's `ingest.format`, Python's
    /// `format=`): `None` for `auto` (detect each file's from its content).
    pub fn chosen(name: &str) -> Result<Option<Format>, String> {
        if name == "auto" {
            return Ok(None);
        }
        Format::from_name(name).map(Some).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            format!("unknown format `{name}`; one of: auto, {}", names.join(", "))
        })
    }

    /// The parser for this format; `Err` when the format needs an option that is missing.
    pub fn parser(self, options: &ParserOptions) -> Result<Parser, String> {
        Ok(match self {
            Format::Windows => Parser::Lines(Box::new(windows::Lines::default())),
            Format::Evtx => Parser::Evtx,
            Format::SysmonLinux => Parser::Lines(Box::new(syslog::LinuxSyslog)),
            Format::Auditd => Parser::Document(Box::new(auditd::AuditLog)),
            Format::Laurel => Parser::Lines(Box::new(auditd::Laurel)),
            Format::Ecs => Parser::Lines(Box::new(ecs::Ecs)),
            Format::Zeek => Parser::Lines(Box::new(zeek::Tsv::default())),
            Format::ZeekJson => Parser::Lines(Box::new(zeek::JsonLines)),
            Format::CiLog => Parser::Lines(Box::new(ci_log::CiLog::new(options.ci_job.clone(), options.file_time))),
            Format::NpmLock => {
                Parser::Document(Box::new(lockfile::npm::PackageLock { context: options.lock_context() }))
            }
            Format::YarnLock => {
                Parser::Document(Box::new(lockfile::yarn::YarnLock { context: options.lock_context() }))
            }
            Format::PnpmLock => {
                Parser::Document(Box::new(lockfile::pnpm::PnpmLock { context: options.lock_context() }))
            }
            Format::AuditLog => Parser::Document(Box::new(audit::AuditLog)),
            Format::NpmMetadata => Parser::Document(Box::new(audit::NpmMetadata)),
            Format::Osquery => Parser::Lines(Box::new(osquery::Osquery)),
            Format::Bind => Parser::Lines(Box::new(bind::QueryLog::new(options.file_time))),
            Format::Mapped => match &options.mapping {
                Some(mapping) => Parser::Lines(Box::new(mapping.clone())),
                None => {
                    return Err(
                        "the `mapped` format reads files through a mapping: give one with --mapping <file.toml>".into(),
                    );
                }
            },
        })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Per-file settings a parser needs.
#[derive(Debug, Clone, Default)]
pub struct ParserOptions {
    /// The CI job a log belongs to (defaults to the log file's name).
    pub ci_job: Option<String>,
    /// The input file's modification time: the time of records that carry none (lockfiles,
    /// plain package-manager output).
    pub file_time: Option<chrono::DateTime<chrono::Utc>>,
    /// The name of the directory the file is in.
    pub directory: Option<String>,
    /// The user's mapping, for the `mapped` format.
    pub mapping: Option<mapping::Mapping>,
}

impl ParserOptions {
    fn lock_context(&self) -> lockfile::LockContext {
        lockfile::LockContext { file_time: self.file_time, directory: self.directory.clone() }
    }
}
