//! Input formats: one module per family, each turning raw records into [`Event`]s.
//!
//! A format is either line-framed (one record per line: JSON lines, Zeek TSV, syslog, CI logs),
//! read through a [`LineParser`], or a whole document (lockfiles, package metadata), read through
//! a [`DocumentParser`] that reports one entry per package or version with the line it starts on.

pub mod audit;
pub mod bind;
pub mod ci_log;
pub mod detect;
pub mod ecs;
pub mod lockfile;
pub mod mapping;
pub mod osquery;
pub mod sysmon;
pub mod util;
pub mod zeek;

use crate::event::Event;

/// What became of a record that was not rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// One or more events were produced.
    Stored,
    /// A well-formed record that no table holds (a Sysmon image load, a Zeek header line).
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
}

/// One entry of a document: the line it starts on, and its event or why it was rejected.
pub struct Entry<'r> {
    pub line: u64,
    pub event: Result<Event<'r>, String>,
}

/// Parses a whole document; `Err` rejects the whole document (it is not of its format at all).
pub trait DocumentParser: Send {
    fn parse<'r>(&mut self, text: &'r str, out: &mut Vec<Entry<'r>>) -> Result<(), String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Sysmon,
    Winlogbeat,
    SysmonLinux,
    Ecs,
    Zeek,
    ZeekJson,
    CiLog,
    NpmLock,
    YarnLock,
    PnpmLock,
    GithubAudit,
    NpmMetadata,
    Osquery,
    Bind,
    /// Any NDJSON, read through a user's mapping file (`--mapping`).
    Mapped,
}

pub enum Parser {
    Lines(Box<dyn LineParser>),
    Document(Box<dyn DocumentParser>),
}

impl Format {
    pub const ALL: &'static [Format] = &[
        Format::Sysmon,
        Format::Winlogbeat,
        Format::SysmonLinux,
        Format::Ecs,
        Format::Zeek,
        Format::ZeekJson,
        Format::CiLog,
        Format::NpmLock,
        Format::YarnLock,
        Format::PnpmLock,
        Format::GithubAudit,
        Format::NpmMetadata,
        Format::Osquery,
        Format::Bind,
        Format::Mapped,
    ];

    /// Read whole (lockfiles, package metadata, audit logs), not line by line.
    pub fn is_document(self) -> bool {
        matches!(
            self,
            Format::NpmLock | Format::YarnLock | Format::PnpmLock | Format::GithubAudit | Format::NpmMetadata
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Sysmon => "sysmon",
            Format::Winlogbeat => "winlogbeat",
            Format::SysmonLinux => "sysmon-linux",
            Format::Ecs => "ecs",
            Format::Zeek => "zeek",
            Format::ZeekJson => "zeek-json",
            Format::CiLog => "ci-log",
            Format::NpmLock => "npm-lock",
            Format::YarnLock => "yarn-lock",
            Format::PnpmLock => "pnpm-lock",
            Format::GithubAudit => "github-audit",
            Format::NpmMetadata => "npm-metadata",
            Format::Osquery => "osquery",
            Format::Bind => "bind",
            Format::Mapped => "mapped",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Format::Sysmon => "Sysmon and Windows Security events as flat JSON lines (NXLog, Logstash, Mordor)",
            Format::Winlogbeat => "Sysmon events shipped by Winlogbeat or Elastic Agent (winlog.event_data)",
            Format::SysmonLinux => "Sysmon for Linux XML events in syslog lines or Sentinel Syslog JSON rows",
            Format::Ecs => {
                "Elastic Common Schema NDJSON (Elastic Endpoint, Auditbeat): process, network, file, registry, dns"
            }
            Format::Zeek => "Zeek TSV logs with #fields/#types headers (dns.log, conn.log)",
            Format::ZeekJson => "Zeek JSON logs (dns, conn), with dotted or underscore field names",
            Format::CiLog => "CI job logs (GitHub Actions, GitLab) and plain npm/yarn/pnpm output",
            Format::NpmLock => "package-lock.json / npm-shrinkwrap.json, lockfileVersion 1, 2 and 3",
            Format::YarnLock => "yarn.lock of yarn 1 and of yarn 2+ (berry)",
            Format::PnpmLock => "pnpm-lock.yaml, lockfileVersion 5.x, 6.0 and 9.0",
            Format::GithubAudit => {
                "GitHub organisation/enterprise audit log: a JSON array (REST API) or JSON lines (streaming)"
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

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// The parser for this format; `Err` when the format needs an option that is missing.
    pub fn parser(self, options: &ParserOptions) -> Result<Parser, String> {
        Ok(match self {
            Format::Sysmon => Parser::Lines(Box::new(sysmon::FlatJson)),
            Format::Winlogbeat => Parser::Lines(Box::new(sysmon::Winlogbeat)),
            Format::SysmonLinux => Parser::Lines(Box::new(sysmon::LinuxXml)),
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
            Format::GithubAudit => Parser::Document(Box::new(audit::GithubAudit)),
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
