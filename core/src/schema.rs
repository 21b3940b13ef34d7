//! The normalized tables: the one definition of every column spoor stores.
//!
//! Column names follow the Elastic Common Schema (ECS) where ECS has a name; the few spoor adds
//! (`spoor.format`, `log.file.line`, `ci.*`, `audit.*`, some `package.*`) are documented below and
//! in `docs/schema.md`, which [`markdown`] generates and a test keeps in step with this file.
//!
//! Columns are flat, with dotted names (`process.parent.name`), so every hunt addresses a field
//! by the name a hunter already knows from ECS, Elastic and Splunk CIM.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Column names are short, trusted strings: hashing their length and first and last eight bytes
/// tells them apart well enough (the map still compares whole keys) at a fraction of the cost of
/// hashing every byte. (An FNV-style multiply-and-rotate over three words, not FNV itself.)
#[derive(Default, Clone, Copy)]
struct EndsHasher(u64);

impl std::hash::Hasher for EndsHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let word = |b: &[u8]| b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
        let (head, tail) = (&bytes[..bytes.len().min(8)], &bytes[bytes.len().saturating_sub(8)..]);
        let mix = |h: u64, v: u64| (h ^ v).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
        self.0 = mix(mix(mix(self.0 ^ 0xcbf2_9ce4_8422_2325, bytes.len() as u64), word(head)), word(tail));
    }
}

impl std::hash::BuildHasher for EndsHasher {
    type Hasher = EndsHasher;
    fn build_hasher(&self) -> EndsHasher {
        EndsHasher(0)
    }
}

/// The storage type of a column. Deliberately few: every value a hunt compares has one obvious type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UTC instant, microsecond precision.
    Time,
    Text,
    /// Text with few distinct values (host, user and process names, actions, the log file read),
    /// stored as a dictionary: a hunt reads and compares each distinct value once per batch
    /// instead of copying and testing it on every row. Results show it as plain text.
    Label,
    Int,
    Bool,
    /// A list of strings (DNS answers, package dependencies).
    TextList,
    /// Names to text: the fields of a source record that no column holds (`winlog.event_data`),
    /// kept under the source's own names so that nothing read is lost and hunts can still ask.
    Map,
}

impl Kind {
    pub fn data_type(self) -> DataType {
        match self {
            Kind::Time => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Kind::Text => DataType::Utf8,
            Kind::Label => DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            Kind::Int => DataType::Int64,
            Kind::Bool => DataType::Boolean,
            Kind::TextList => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            Kind::Map => map_type(),
        }
    }

    /// Bytes a row takes in an Arrow array of this kind whatever its value, null included: its
    /// offset, key or value (a validity bit besides, rounded away).
    pub fn fixed_width(self) -> usize {
        match self {
            Kind::Time | Kind::Int => 8,
            Kind::Text | Kind::Label | Kind::TextList | Kind::Map => 4,
            Kind::Bool => 1,
        }
    }

    fn doc_name(self) -> &'static str {
        match self {
            Kind::Time => "timestamp (µs, UTC)",
            Kind::Text => "string",
            Kind::Label => "string (dictionary)",
            Kind::Int => "int64",
            Kind::Bool => "bool",
            Kind::TextList => "list<string>",
            Kind::Map => "map<string, string>",
        }
    }
}

/// The Arrow type of a [`Kind::Map`] column: exactly what arrow's `MapBuilder` of two string
/// builders produces (entries `keys`, `values`), so that built batches match the schema.
fn map_type() -> DataType {
    static TYPE: OnceLock<DataType> = OnceLock::new();
    TYPE.get_or_init(|| {
        use arrow::array::{Array, MapBuilder, StringBuilder};
        MapBuilder::new(None, StringBuilder::new(), StringBuilder::new()).finish().data_type().clone()
    })
    .clone()
}

/// `data_type` with every dictionary replaced by its values' type, or `None` if it has none.
pub fn without_dictionaries(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Dictionary(_, values) => {
            Some(without_dictionaries(values).unwrap_or_else(|| values.as_ref().clone()))
        }
        DataType::List(item) => without_dictionaries(item.data_type())
            .map(|inner| DataType::List(Arc::new(Field::new(item.name(), inner, item.is_nullable())))),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
}

const fn c(name: &'static str, kind: Kind, doc: &'static str) -> Column {
    Column { name, kind, doc }
}

use Kind::{Bool, Int, Label, Map, Text, TextList, Time};

/// Positions of the columns spoor fills itself, the same in every table (see `COMMON`).
pub mod common {
    pub const TIMESTAMP: usize = 0;
    pub const INGESTED: usize = 3;
    pub const FORMAT: usize = 5;
    pub const PATH: usize = 6;
    pub const LINE: usize = 7;
}

/// Columns every table starts with: when it happened, where it was seen, and where it was read.
const COMMON: &[Column] = &[
    c("@timestamp", Time, "When the event happened, in UTC. Never null."),
    c(
        "event.action",
        Label,
        "What happened, normalized per table (see the table's list); in `audit`, the source's own name.",
    ),
    c(
        "event.code",
        Label,
        "The source's own event code (Sysmon EventID, osquery table, Zeek log path, Windows event id).",
    ),
    c("event.ingested", Time, "When spoor stored the row."),
    c("host.name", Label, "The host the event was seen on, lowercased."),
    c("spoor.format", Label, "The input format the row was parsed from (see `spoor ingest --help`)."),
    c("log.file.path", Label, "The file the row was read from, as given to `spoor ingest`."),
    c(
        "log.file.line",
        Int,
        "The 1-based line of that file where the record starts (for whole-document formats, the line of the entry).",
    ),
];

const PROCESS_FIELDS: &[Column] = &[
    c("user.name", Label, "The account the process runs as."),
    c("user.domain", Label, "The account's domain, where the source has one."),
    c(
        "process.entity_id",
        Text,
        "A unique id of the process across hosts and time (Sysmon ProcessGuid, ECS entity_id).",
    ),
    c("process.pid", Int, "Process id."),
    c(
        "process.name",
        Label,
        "Executable file name without its directory (`curl`, `powershell.exe`), lowercased on Windows.",
    ),
    c("process.executable", Text, "Full path of the executable."),
    c("process.command_line", Text, "Full command line."),
    c("process.working_directory", Text, "Working directory."),
    c("process.hash.sha256", Text, "SHA-256 of the executable, lowercase hex."),
    c("process.hash.md5", Text, "MD5 of the executable, lowercase hex."),
    c("process.hash.sha1", Text, "SHA-1 of the executable, lowercase hex."),
    c("process.hash.imphash", Text, "Import hash of the executable (Sysmon `IMPHASH`), lowercase hex."),
    c(
        "process.pe.original_file_name",
        Text,
        "The file name the executable was built as (PE version info), even when renamed.",
    ),
    c("process.pe.description", Text, "The executable's PE file description."),
    c("process.pe.product", Text, "The executable's PE product name."),
    c("process.pe.company", Text, "The executable's PE company name."),
    c("process.integrity_level", Label, "Windows integrity level (`Low`, `Medium`, `High`, `System`)."),
    c("user.id", Text, "The account's identifier (Windows SID, Unix uid)."),
    c(
        "winlog.logon.id",
        Text,
        "The Windows logon session (`0x3e7`), which joins processes to the logon that started them.",
    ),
    c("process.parent.entity_id", Text, "The parent's entity id."),
    c("process.parent.pid", Int, "The parent's process id."),
    c("process.parent.name", Label, "The parent's executable file name."),
    c("process.parent.executable", Text, "The parent's executable path."),
    c("process.parent.command_line", Text, "The parent's command line."),
    c("process.parent.user.name", Label, "The account the parent runs as (Sysmon `ParentUser`)."),
];

/// The acting process, for tables whose events are done by a process (network, file, registry, dns).
const ACTOR_PROCESS: &[Column] = &[
    c("user.name", Label, "The account the acting process runs as."),
    c("process.entity_id", Text, "Entity id of the acting process."),
    c("process.pid", Int, "Process id of the acting process."),
    c("process.name", Label, "Executable file name of the acting process."),
    c("process.executable", Text, "Executable path of the acting process."),
];

const NETWORK_FIELDS: &[Column] = &[
    c("network.transport", Label, "`tcp`, `udp`, `icmp`, lowercased."),
    c("network.protocol", Label, "Application protocol where known (`dns`, `http`, `ssl`)."),
    c("network.direction", Label, "`outbound` when the host initiated, `inbound` otherwise, where known."),
    c("source.ip", Text, "Initiator IP address, in canonical text form."),
    c("source.port", Int, "Initiator port."),
    c("destination.ip", Text, "Responder IP address, in canonical text form."),
    c("destination.port", Int, "Responder port."),
    c("destination.domain", Text, "Responder host name, where the source gives one."),
    c("source.bytes", Int, "Bytes sent by the initiator."),
    c("destination.bytes", Int, "Bytes sent by the responder."),
    c("event.duration", Int, "Connection duration in nanoseconds."),
    c("event.id", Text, "The source's id of the record (Zeek uid)."),
];

const FILE_FIELDS: &[Column] = &[
    c("file.path", Text, "Full path of the file."),
    c("file.name", Text, "File name without its directory."),
    c("file.extension", Label, "Extension without the dot, lowercased."),
    c("file.hash.sha256", Text, "SHA-256 of the file, lowercase hex, where the source hashed it."),
    c("file.hash.md5", Text, "MD5 of the file, lowercase hex."),
    c("file.size", Int, "Size in bytes."),
    c("file.hash.sha1", Text, "SHA-1 of the file, lowercase hex."),
    c("file.hash.imphash", Text, "Import hash of the file (Sysmon `IMPHASH`), lowercase hex."),
];

const REGISTRY_FIELDS: &[Column] = &[
    c("registry.path", Text, "Full path of the key or value (`HKLM\\Software\\...\\Run\\x`)."),
    c("registry.hive", Label, "Hive abbreviation (`HKLM`, `HKU`, `HKCR`)."),
    c("registry.key", Text, "Key path without the hive and the value name."),
    c("registry.value", Text, "Value name."),
    c("registry.data.strings", Text, "Data written, as text."),
    c("registry.data.type", Label, "Data type (`REG_SZ`, `REG_DWORD`, ...) where given."),
];

const DNS_FIELDS: &[Column] = &[
    c("dns.question.name", Text, "The name queried, lowercased, without a trailing dot."),
    c("dns.question.type", Label, "Query type (`A`, `AAAA`, `TXT`, ...)."),
    c("dns.question.class", Label, "Query class (`IN`, `CH`, ...)."),
    c("dns.response_code", Label, "Response code (`NOERROR`, `NXDOMAIN`, ...)."),
    c("dns.header_flags", TextList, "The header's flags that are set (`AA`, `TC`, `RD`, `RA`, ...)."),
    c("dns.answers", TextList, "Answer data, in order (addresses and names)."),
    c("dns.resolved_ip", TextList, "The IP addresses among the answers."),
    c("dns.id", Int, "DNS transaction id."),
    c("source.ip", Text, "The client that asked."),
    c("source.port", Int, "The client's port."),
    c("destination.ip", Text, "The server that was asked."),
    c("destination.port", Int, "The server's port."),
    c("network.transport", Label, "`udp` or `tcp`."),
    c("event.id", Text, "The source's id of the record (Zeek uid)."),
    c("event.duration", Int, "From the query to its answer, in nanoseconds (Zeek `rtt`)."),
];

const CI_FIELDS: &[Column] = &[
    c("ci.provider", Label, "`github`, `gitlab`, or `shell` for plain package-manager output."),
    c("ci.job.id", Text, "The job the log belongs to (given at ingest, else the log file's name)."),
    c("ci.step.name", Text, "The step (`##[group]Run npm ci`) the line belongs to."),
    c("package.manager", Label, "`npm`, `yarn`, `pnpm` or `bun`."),
    c("package.name", Text, "Package fetched, installed or running a script."),
    c("package.version", Text, "Its version."),
    c("url.original", Text, "Tarball URL, where the log shows it."),
    c("ci.script.stage", Label, "Lifecycle stage of a script that ran (`preinstall`, `install`, `postinstall`, ...)."),
    c("process.command_line", Text, "The step's command, or the lifecycle script's command."),
    c("log.level", Label, "`error`, `warning`, `info`."),
    c("message", Text, "The log line, without its timestamp prefix."),
];

const PACKAGE_FIELDS: &[Column] = &[
    c("package.manager", Label, "`npm`, `yarn` or `pnpm`, by the lockfile's kind."),
    c("package.lockfile_version", Text, "The lockfile's format version (`3`, `berry-4`, `9.0`, ...)."),
    c("package.project", Text, "The project the lockfile belongs to (root package name, else its directory)."),
    c("package.name", Text, "Installed package name (the real name, not an alias)."),
    c("package.version", Text, "Installed version."),
    c("package.alias", Text, "The name it is installed under when that differs (npm aliases)."),
    c("package.resolved", Text, "Where it was fetched from."),
    c("package.integrity", Text, "Integrity hash (`sha512-...`) or checksum."),
    c(
        "package.install_script",
        Bool,
        "Whether the package has an install script (npm `hasInstallScript`, pnpm `requiresBuild`).",
    ),
    c("package.dev", Bool, "Only a development dependency."),
    c("package.optional", Bool, "Only an optional dependency."),
    c("package.bundled", Bool, "Bundled inside another package."),
    c("package.path", Text, "Where it sits in the tree (`node_modules/a/node_modules/b`), or how it was reached."),
];

/// Where a Windows event log record came from, and its event data that no column holds.
/// Every table that Windows events fill has these.
const WINDOWS_FIELDS: &[Column] = &[
    c(
        "event.provider",
        Label,
        "The event's provider (`Microsoft-Windows-Sysmon`, `Microsoft-Windows-Security-Auditing`).",
    ),
    c("winlog.channel", Label, "The event log channel (`Security`, `Microsoft-Windows-Sysmon/Operational`)."),
    c("winlog.record_id", Int, "The record's number in its channel."),
    c(
        "winlog.event_data",
        Map,
        "The event's data fields that no column holds, by their own names (`winlog.event_data.GrantedAccess` in a hunt). Names are written without spaces, as SigmaHQ writes them.",
    ),
];

const AUTHENTICATION_FIELDS: &[Column] = &[
    c("event.outcome", Label, "`success` or `failure`."),
    c("user.name", Label, "The account that logged on, or whose credentials were used."),
    c("user.domain", Label, "That account's domain."),
    c("user.id", Text, "That account's SID."),
    c("user.target.name", Label, "The account whose credentials were given (4648), where it differs."),
    c("user.target.domain", Label, "That account's domain."),
    c("winlog.logon.id", Text, "The logon session created (`TargetLogonId`), which process starts name as theirs."),
    c(
        "winlog.logon.type",
        Label,
        "How the account logged on: `Interactive`, `Network`, `RemoteInteractive`, ... (4624 LogonType by name).",
    ),
    c("source.ip", Text, "Where the logon came from."),
    c("source.port", Int, "The source port."),
    c("source.domain", Text, "The workstation name the source gave."),
    c("process.pid", Int, "The process that asked for the logon."),
    c("process.name", Label, "Its executable file name, lowercased."),
    c("process.executable", Text, "Its executable path."),
];

const LIBRARY_FIELDS: &[Column] = &[
    c("dll.path", Text, "Full path of the loaded module or driver."),
    c("dll.name", Label, "Its file name, lowercased."),
    c("dll.hash.sha256", Text, "SHA-256 of the module, lowercase hex."),
    c("dll.hash.md5", Text, "MD5 of the module, lowercase hex."),
    c("dll.hash.sha1", Text, "SHA-1 of the module, lowercase hex."),
    c("dll.hash.imphash", Text, "Import hash of the module, lowercase hex."),
    c("dll.pe.original_file_name", Text, "The name the module was built as."),
    c("dll.pe.description", Text, "PE file description."),
    c("dll.pe.product", Text, "PE product name."),
    c("dll.pe.company", Text, "PE company name."),
    c("dll.code_signature.signed", Bool, "Whether the module is signed."),
    c("dll.code_signature.status", Label, "Signature status (`Valid`, `Expired`, ...)."),
    c("dll.code_signature.subject_name", Text, "Who signed it."),
];

const POWERSHELL_FIELDS: &[Column] = &[
    c("user.name", Label, "The account the script ran as, where the event names it."),
    c("process.pid", Int, "The PowerShell host process."),
    c("process.command_line", Text, "The host application's command line (`HostApplication`)."),
    c(
        "powershell.file.script_block_text",
        Text,
        "The script block's text (4104). A block Windows split over several events is joined back into one row.",
    ),
    c("powershell.file.script_block_id", Text, "The script block's id, shared by the events it was split over."),
    c("powershell.total", Int, "How many events Windows split the block over (`MessageTotal`)."),
    c("powershell.command.name", Text, "The command that ran (4103 module logging)."),
    c("powershell.command.invocation_details", Text, "What it was called with (4103 `Payload`)."),
    c("file.path", Text, "The script file the block came from, where there was one."),
];

const SERVICE_FIELDS: &[Column] = &[
    c("user.name", Label, "The account that installed the service (4697), where the event names it."),
    c("service.name", Text, "The service's name."),
    c(
        "service.image_path",
        Text,
        "What the service runs: its command line (7045 `ImagePath`, 4697 `ServiceFileName`).",
    ),
    c("service.type", Label, "Service type (`user mode service`, `0x10`, ...), as the event gives it."),
    c("service.start_type", Label, "Start type (`auto start`, `demand start`, `2`, ...), as the event gives it."),
    c("service.account", Text, "The account the service runs as."),
];

const SCHEDULED_TASK_FIELDS: &[Column] = &[
    c("user.name", Label, "The account that made the change, or the task's user context."),
    c("user.domain", Label, "That account's domain."),
    c("task.name", Text, "The task's path and name (`\\Microsoft\\Windows\\Updater`)."),
    c("task.content", Text, "The task's definition (XML), where the event carries it (4698, 4702)."),
    c("task.action", Text, "The action or program that ran (TaskScheduler 200/201), where given."),
];

const OTHER_WINDOWS_FIELDS: &[Column] = &[
    c("user.name", Label, "The account the event names as its subject, where it names one."),
    c("user.domain", Label, "That account's domain."),
    c("user.id", Text, "The account's SID (the record's `UserID`, else the subject's)."),
    c("process.pid", Int, "The process the event names, where it names one."),
    c("process.name", Label, "Its executable file name, lowercased."),
    c("process.executable", Text, "Its executable path."),
    c("process.entity_id", Text, "Its entity id (Sysmon `ProcessGuid`)."),
];

/// A Linux audit record: the event it belongs to, and its fields.
const AUDITD_FIELDS: &[Column] = &[
    c("event.id", Text, "The event's `time:serial` (`msg=audit(...)`), which the records of one event share."),
    c(
        "auditd.fields",
        Map,
        "Every field of the record under auditd's name (`a0`, `exe`, `key`, `name`, `nametype`, and the enriched `SYSCALL`, `UID`, ...), hex-encoded values decoded, an `EXECVE` record's split arguments joined.",
    ),
];

/// A network sensor's record: the connection it belongs to, and the sensor's fields no column
/// holds. Every table Zeek logs fill has these.
const ZEEK_FIELDS: &[Column] = &[
    c("event.id", Text, "The sensor's id of the connection (Zeek `uid`), which joins a log's rows to conn.log's."),
    c(
        "zeek.fields",
        Map,
        "The Zeek record's fields that no column holds, by their Zeek names (`zeek.fields.resp_mime_types` in a hunt).",
    ),
];

const CONNECTION_FIELDS: &[Column] = &[
    c("source.ip", Text, "The client's address."),
    c("source.port", Int, "The client's port."),
    c("destination.ip", Text, "The server's address."),
    c("destination.port", Int, "The server's port."),
];

const HTTP_FIELDS: &[Column] = &[
    c("http.request.method", Label, "`GET`, `POST`, ..."),
    c("url.domain", Text, "The `Host` the request named, lowercased."),
    c("url.original", Text, "The request's target as sent (path and query)."),
    c("url.full", Text, "`http://host[:port]/path?query`, put together from the request."),
    c("http.request.referrer", Text, "The `Referer` header."),
    c("user_agent.original", Text, "The `User-Agent` header."),
    c("http.response.status_code", Int, "The response's status code."),
    c("http.request.body.bytes", Int, "Bytes of request body sent."),
    c("http.response.body.bytes", Int, "Bytes of response body received."),
    c("http.response.mime_type", Label, "The response body's type, as the sensor sniffed it."),
    c("user.name", Label, "The user name of HTTP authentication, where any."),
];

const TLS_FIELDS: &[Column] = &[
    c("tls.version", Label, "`TLSv12`, `TLSv13`, ..."),
    c("tls.cipher", Label, "The cipher suite agreed."),
    c("tls.server_name", Text, "The server name the client asked for (SNI), lowercased."),
    c("tls.established", Bool, "Whether the handshake completed."),
    c("tls.resumed", Bool, "Whether the session was resumed."),
    c("tls.next_protocol", Label, "The application protocol agreed (ALPN: `h2`, `http/1.1`)."),
    c("tls.client.ja3", Text, "The client's JA3 fingerprint, where the sensor computes it."),
    c("tls.client.ja4", Text, "The client's JA4 fingerprint, where the sensor computes it."),
    c("tls.server.ja3s", Text, "The server's JA3S fingerprint, where the sensor computes it."),
    c(
        "tls.server.hash.sha256",
        Text,
        "SHA-256 of the server's certificate (a handshake's leaf certificate; a certificate row's own), lowercase hex.",
    ),
    c("tls.server.hash.sha1", Text, "SHA-1 of the server's certificate, where that is what the sensor gives."),
    c("tls.server.x509.subject.distinguished_name", Text, "The certificate's subject."),
    c("tls.server.x509.issuer.distinguished_name", Text, "The certificate's issuer."),
    c("tls.server.x509.not_before", Time, "Start of the certificate's validity."),
    c("tls.server.x509.not_after", Time, "End of the certificate's validity."),
    c("tls.server.x509.serial_number", Text, "The certificate's serial number."),
    c("tls.server.x509.alternative_names", TextList, "The certificate's DNS subject alternative names."),
];

const AUDIT_FIELDS: &[Column] = &[
    c(
        "event.provider",
        Label,
        "Where the event comes from: `github`, `okta`, `google_workspace`, `gitlab`, `npm`, a registry's or mirror's own name, or the Windows event provider.",
    ),
    c(
        "audit.activity",
        Label,
        "What happened, whatever the source called it (`event.action` keeps the source's own name): one of the activities listed above; null where spoor does not recognize the action.",
    ),
    c("event.category", Label, "ECS category of a recognized activity: `iam`, `authentication`, `package`."),
    c("event.type", Label, "ECS type of a recognized activity: `change`, `creation`, `deletion`, `start`."),
    c("event.outcome", Label, "`success` or `failure` (as the source says it, lowercased), where given."),
    c("user.name", Label, "The acting account."),
    c("user.email", Text, "The acting account's email, lowercased, where given (npm publisher email)."),
    c("user.target.name", Label, "The account acted upon."),
    c("user.target.domain", Label, "That account's domain, where given."),
    c("user.changes.email", Text, "For an `email_change`: the account's new email, lowercased."),
    c("group.name", Label, "The group a member was added to or removed from."),
    c("audit.old_value", Text, "Value before the change (old email, ...)."),
    c("audit.new_value", Text, "Value after the change (new email, ...)."),
    c("source.ip", Text, "Where the actor came from."),
    c("source.geo.country_iso_code", Label, "Country of the actor's address, where given."),
    c("user_agent.original", Text, "The actor's user agent."),
    c("organization.name", Label, "Organisation, enterprise or customer."),
    c("package.name", Text, "Package acted upon, where any."),
    c("package.version", Text, "Version acted upon (published, deprecated, ...)."),
    c("package.scripts", TextList, "Install-time lifecycle scripts of a published version, as `stage: command`."),
    c("package.dependencies", TextList, "Dependencies of a published version, as `name@range`."),
    c(
        "audit.fields",
        Map,
        "Every field of the source's record under its own dotted name (`actor.alternateId`, `debugContext.debugData.requestUri`); an array's values joined by `, `; Google's event parameters by their name (`events.parameters.SETTING_NAME`).",
    ),
];

const REJECT_FIELDS: &[Column] = &[
    c("error.message", Text, "Why the record was rejected."),
    c("event.original", Text, "The raw record, truncated to 4 KiB."),
];

/// A normalized table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Process,
    Network,
    File,
    Registry,
    Dns,
    Ci,
    Package,
    Audit,
    Authentication,
    Library,
    Powershell,
    Service,
    ScheduledTask,
    /// Windows events of every other kind, with their data kept whole.
    Windows,
    Http,
    Tls,
    /// Network sensor records of every other kind (Zeek notice, weird, ...), kept whole.
    Zeek,
    /// Linux audit records, one row each, kept whole.
    Auditd,
    /// Records that could not be stored, with the reason: kept in the store so nothing read is lost.
    Rejects,
}

/// One table's definition.
pub struct TableDef {
    pub table: Table,
    pub name: &'static str,
    pub doc: &'static str,
    /// Values `event.action` takes in this table.
    pub actions: &'static [&'static str],
    specific: &'static [Column],
}

const DEFS: &[TableDef] = &[
    TableDef {
        table: Table::Process,
        name: "process",
        doc: "Process starts, with the parent's fields and command lines (Sysmon 1, Security 4688, ECS/Auditbeat process, osquery process_events, Linux Sysmon 1).",
        actions: &["start"],
        specific: PROCESS_FIELDS,
    },
    TableDef {
        table: Table::Network,
        name: "network",
        doc: "Network connections (Sysmon 3, Security 5156/5157, ECS network, osquery socket_events, Zeek conn.log).",
        actions: &["connection", "blocked"],
        specific: NETWORK_FIELDS,
    },
    TableDef {
        table: Table::File,
        name: "file",
        doc: "File creation, change, deletion and access, with hashes where the source has them (Sysmon 2, 9, 11, 15, 23, 26-29, ECS file, Security 4663 on files), files a network sensor saw transferred (Zeek files.log), and named pipes as Elastic's Sysmon integration keeps them: the pipe's name in `file.name` (Sysmon 17, 18).",
        actions: &[
            "creation",
            "deletion",
            "modification",
            "rename",
            "access",
            "creation_time_change",
            "stream_creation",
            "raw_read",
            "pipe_creation",
            "pipe_connection",
            "executable_blocked",
            "shredding_blocked",
            "executable_detected",
            "transfer",
        ],
        specific: FILE_FIELDS,
    },
    TableDef {
        table: Table::Registry,
        name: "registry",
        doc: "Windows registry changes (Sysmon 12/13/14, Security 4657, ECS registry).",
        actions: &["key_create", "key_delete", "value_set", "rename"],
        specific: REGISTRY_FIELDS,
    },
    TableDef {
        table: Table::Dns,
        name: "dns",
        doc: "DNS queries and their answers (Sysmon 22, ECS dns, Zeek dns.log, BIND query log).",
        actions: &["query"],
        specific: DNS_FIELDS,
    },
    TableDef {
        table: Table::Ci,
        name: "ci",
        doc: "What CI jobs and package managers did, line by line: steps, commands, package fetches and installs, lifecycle scripts, warnings.",
        actions: &[
            "step_start",
            "package_fetch",
            "package_install",
            "lifecycle_script",
            "install_script_warning",
            "error",
            "warning",
        ],
        specific: CI_FIELDS,
    },
    TableDef {
        table: Table::Package,
        name: "package",
        doc: "Package inventory from lockfiles: one row per installed package entry. `@timestamp` is the lockfile's modification time.",
        actions: &["inventory"],
        specific: PACKAGE_FIELDS,
    },
    TableDef {
        table: Table::Audit,
        name: "audit",
        doc: "Account and registry events: GitHub, Okta, Google Workspace and GitLab audit logs, registry and mirror logs, npm publishes (from registry package metadata), and Windows account management (Security 4720-4767).",
        actions: &[],
        specific: AUDIT_FIELDS,
    },
    TableDef {
        table: Table::Authentication,
        name: "authentication",
        doc: "Logons, logoffs and credential use (Security 4624, 4625, 4634, 4647, 4648, 4672, 4768, 4769, 4771, 4776).",
        actions: &[
            "logon",
            "logon_failure",
            "logoff",
            "explicit_credentials",
            "special_privileges",
            "kerberos_tgt",
            "kerberos_service_ticket",
            "kerberos_preauth_failure",
            "ntlm_validate",
        ],
        specific: AUTHENTICATION_FIELDS,
    },
    TableDef {
        table: Table::Library,
        name: "library",
        doc: "Modules and drivers loaded (Sysmon 7 image loads, Sysmon 6 driver loads), with hashes, PE names and signatures.",
        actions: &["load", "driver_load"],
        specific: LIBRARY_FIELDS,
    },
    TableDef {
        table: Table::Powershell,
        name: "powershell",
        doc: "PowerShell script blocks (4104, joined back when split), module logging (4103) and engine events (400, 403, 600, 800).",
        actions: &[
            "script_block",
            "module_logging",
            "pipeline_execution",
            "engine_start",
            "engine_stop",
            "provider_start",
        ],
        specific: POWERSHELL_FIELDS,
    },
    TableDef {
        table: Table::Service,
        name: "service",
        doc: "Services installed (System 7045, Security 4697).",
        actions: &["install"],
        specific: SERVICE_FIELDS,
    },
    TableDef {
        table: Table::ScheduledTask,
        name: "scheduled_task",
        doc: "Scheduled tasks created, changed, deleted and run (Security 4698-4702, TaskScheduler 106, 140, 141, 200, 201).",
        actions: &["create", "update", "delete", "enable", "disable", "run_start", "run_end"],
        specific: SCHEDULED_TASK_FIELDS,
    },
    TableDef {
        table: Table::Windows,
        name: "windows",
        doc: "Every Windows event no other table holds (Sysmon 4, 5, 8, 9, 10, 16, 19-21, 24, 25, 255; Security object access, log clearing, ...; Defender; any channel), with all its data in `winlog.event_data`. `event.code` is the event id.",
        actions: &["event"],
        specific: OTHER_WINDOWS_FIELDS,
    },
    TableDef {
        table: Table::Http,
        name: "http",
        doc: "HTTP requests and their responses, as a network sensor saw them (Zeek http.log).",
        actions: &["request"],
        specific: HTTP_FIELDS,
    },
    TableDef {
        table: Table::Tls,
        name: "tls",
        doc: "TLS handshakes (Zeek ssl.log: server name, version, JA3/JA4 where computed, the leaf certificate's hash) and the certificates seen (Zeek x509.log), which join on `tls.server.hash.sha256`.",
        actions: &["handshake", "certificate"],
        specific: TLS_FIELDS,
    },
    TableDef {
        table: Table::Zeek,
        name: "zeek",
        doc: "Every other Zeek log (notice, weird, known_hosts, smb, rdp, ssh, ...), each record with all its fields in `zeek.fields`. `event.code` is the log's name.",
        actions: &["record"],
        specific: CONNECTION_FIELDS,
    },
    TableDef {
        table: Table::Auditd,
        name: "auditd",
        doc: "Linux audit records (auditd's audit.log, and the records syslog carries: auoms's, audisp's), one row per record, with all its fields in `auditd.fields` under auditd's names: what rules written for raw audit records read (Sigma's `service: auditd`). `event.code` is the record's type (`SYSCALL`, `EXECVE`, `PATH`, `USER_LOGIN`, ...); the rows of one event share `event.id` and sit at the line of its first record. The events also fill `process`, `network` and `file` where they are an execve, a connection, a file created or deleted.",
        actions: &["record"],
        specific: AUDITD_FIELDS,
    },
    TableDef {
        table: Table::Rejects,
        name: "_rejects",
        doc: "Records that could not be stored, with the reason and the raw text. `@timestamp` is the ingest time.",
        actions: &["reject"],
        specific: REJECT_FIELDS,
    },
];

impl Table {
    pub const ALL: [Table; 19] = [
        Table::Process,
        Table::Network,
        Table::File,
        Table::Registry,
        Table::Dns,
        Table::Ci,
        Table::Package,
        Table::Audit,
        Table::Authentication,
        Table::Library,
        Table::Powershell,
        Table::Service,
        Table::ScheduledTask,
        Table::Windows,
        Table::Http,
        Table::Tls,
        Table::Zeek,
        Table::Auditd,
        Table::Rejects,
    ];

    pub fn def(self) -> &'static TableDef {
        &DEFS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The table's columns, common ones first.
    pub fn columns(self) -> &'static [Column] {
        static COLUMNS: OnceLock<Vec<Vec<Column>>> = OnceLock::new();
        &COLUMNS.get_or_init(|| Table::ALL.iter().map(|t| t.build_columns()).collect())[self as usize]
    }

    fn build_columns(self) -> Vec<Column> {
        let actor: &[Column] = match self {
            Table::Network | Table::File | Table::Registry | Table::Dns | Table::Library => ACTOR_PROCESS,
            _ => &[],
        };
        let windows: &[Column] = match self {
            Table::Ci | Table::Package | Table::Rejects | Table::Http | Table::Tls | Table::Zeek | Table::Auditd => &[],
            _ => WINDOWS_FIELDS,
        };
        let (connection, zeek): (&[Column], &[Column]) = match self {
            Table::Http | Table::Tls => (CONNECTION_FIELDS, ZEEK_FIELDS),
            Table::Network | Table::Dns | Table::File | Table::Zeek => (&[], ZEEK_FIELDS),
            _ => (&[], &[]),
        };
        let mut out: Vec<Column> = Vec::new();
        for col in COMMON.iter().chain(actor).chain(connection).chain(self.def().specific).chain(windows).chain(zeek) {
            // A table may take a column from two groups (dns: `source.ip` is both actor and
            // network context); the first definition wins.
            if !out.iter().any(|c| c.name == col.name) {
                out.push(*col);
            }
        }
        out
    }

    pub fn column_index(self, name: &str) -> Option<usize> {
        // Parsers look columns up by name for every value they set: keep it one hash lookup.
        static INDEXES: OnceLock<Vec<HashMap<&'static str, usize, EndsHasher>>> = OnceLock::new();
        let indexes = INDEXES.get_or_init(|| {
            Table::ALL.iter().map(|t| t.columns().iter().enumerate().map(|(i, c)| (c.name, i)).collect()).collect()
        });
        indexes[self as usize].get(name).copied()
    }

    /// [`Table::column_index`] for a name that is static text, as every parser's column names
    /// are. A parser sets the same few dozen columns for every record it reads, so each answer
    /// is remembered under the text's address: static text is never freed, so its address
    /// never comes to mean other text. This takes a record's column lookups from a hash and a
    /// string comparison each to one load.
    pub fn static_column_index(self, name: &'static str) -> Option<usize> {
        #[derive(Clone, Copy)]
        struct Remembered {
            address: usize,
            len: usize,
            table: usize,
            index: Option<usize>,
        }
        const EMPTY: Remembered = Remembered { address: 0, len: 0, table: 0, index: None };
        thread_local! {
            static REMEMBERED: [Cell<Remembered>; 256] = const { [const { Cell::new(EMPTY) }; 256] };
        }
        let (address, len, table) = (name.as_ptr() as usize, name.len(), self as usize);
        let slot = (address ^ (address >> 7) ^ table.wrapping_mul(0x9e37)) % 256;
        REMEMBERED.with(|remembered| {
            let entry = remembered[slot].get();
            if entry.address == address && entry.len == len && entry.table == table {
                return entry.index;
            }
            let index = self.column_index(name);
            remembered[slot].set(Remembered { address, len, table, index });
            index
        })
    }

    pub fn schema(self) -> SchemaRef {
        static SCHEMAS: OnceLock<Vec<SchemaRef>> = OnceLock::new();
        SCHEMAS.get_or_init(|| {
            Table::ALL
                .iter()
                .map(|t| {
                    let fields: Vec<Field> = t
                        .columns()
                        .iter()
                        .map(|c| Field::new(c.name, c.kind.data_type(), c.name != "@timestamp"))
                        .collect();
                    Arc::new(Schema::new(fields))
                })
                .collect()
        })[self as usize]
            .clone()
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `docs/schema.md`, generated from the definitions above.
/// The `iocs` table: a run's indicators, read from its IOC files and lists (`--iocs`, a pack's
/// `iocs/`, a notebook's frame). It lives in the run's session, never in the store.
pub const IOCS: &str = "iocs";

/// The columns of [`IOCS`]; `type`, `value` and `source` are never null.
pub const IOC_COLUMNS: &[Column] = &[
    c(
        "type",
        Text,
        "What the value is: `domain`, `ipv4`, `ipv6`, `url`, `sha256`, `sha1`, `md5`, `email`, `package` or `file`.",
    ),
    c(
        "value",
        Text,
        "The indicator, normalized: domains and hashes lowercased, addresses canonical, packages `name@version`.",
    ),
    c("campaign", Text, "The campaign or advisory it belongs to."),
    c("first_seen", Time, "When it was first seen, where the source says."),
    c("last_seen", Time, "When it was last seen, where the source says."),
    c("source", Text, "The file (or list) it came from."),
    c("reference", Text, "A report, advisory or STIX object id."),
];

/// The Arrow schema of [`IOCS`].
pub fn iocs_schema() -> SchemaRef {
    let required = ["type", "value", "source"];
    Arc::new(Schema::new(
        IOC_COLUMNS
            .iter()
            .map(|c| Field::new(c.name, c.kind.data_type(), !required.contains(&c.name)))
            .collect::<Vec<_>>(),
    ))
}

pub fn markdown() -> String {
    let mut out = String::from(
        "# Tables\n\n\
         <!-- Generated from core/src/schema.rs by `spoor schema --markdown`; a test fails when they differ. -->\n\n\
         Every table starts with the same columns, so any finding leads back to the raw log line:\n\
         `@timestamp` (UTC, µs), `event.action`, `event.code`, `event.ingested`, `host.name`,\n\
         `spoor.format`, `log.file.path` and `log.file.line`.\n\
         Names follow the Elastic Common Schema where it has one. Host names are lowercased; IP\n\
         addresses are stored as text in canonical form (`2001:DB8::1` becomes `2001:db8::1`); a value that is\n\
         not an address is kept as written.\n\n\
         Parquet layout: `<store>/<table>/date=YYYY-MM-DD/part-<id>.parquet` (zstd), partitioned by the\n\
         UTC date of `@timestamp`. Columns typed \"string (dictionary)\" hold few distinct values and are\n\
         stored as Arrow dictionaries (`dictionary<int32, string>`), which hunts compare once per\n\
         distinct value; results, exports and the Python API give them as plain strings.\n",
    );
    for table in Table::ALL {
        let def = table.def();
        out.push_str(&format!("\n## `{}`\n\n{}\n\n", def.name, def.doc));
        if def.actions.is_empty() {
            out.push_str("`event.action`: the source's own name for what happened.\n\n");
        } else {
            let actions: Vec<String> = def.actions.iter().map(|a| format!("`{a}`")).collect();
            out.push_str(&format!("`event.action`: {}\n\n", actions.join(", ")));
        }
        if table == Table::Audit {
            out.push_str(&audit_activities_markdown());
        }
        out.push_str(&columns_markdown(table.columns()));
    }
    out.push_str(&format!(
        "\n## `{IOCS}` (a run's indicators, not stored)\n\nRead from the run's IOC files and lists (`--iocs`, a pack's `iocs/` folder, a frame registered as `iocs` in Python): CSV, JSON, STIX 2.1 bundles and OSV advisories. Hunts look it up like any table.\n\n"
    ));
    out.push_str(&columns_markdown(IOC_COLUMNS));
    out
}

/// Columns as a Markdown table: name, type, description.
fn columns_markdown(columns: &[Column]) -> String {
    let mut out = String::from("| column | type | description |\n|---|---|---|\n");
    for col in columns {
        out.push_str(&format!("| `{}` | {} | {} |\n", col.name, col.kind.doc_name(), col.doc));
    }
    out
}

/// The activities `audit.activity` names (from `audit_activities.toml`), as a table.
fn audit_activities_markdown() -> String {
    let mut out = String::from(
        "`audit.activity` (recognized from the action's words; see `core/src/audit_activities.toml`):\n\n\
         | activity | ECS category / type | meaning |\n|---|---|---|\n",
    );
    for a in crate::audit_activities::all() {
        out.push_str(&format!("| `{}` | {} / {} | {} |\n", a.name, a.category, a.kind, a.doc));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_column_indexes_agree_with_the_schema() {
        // Twice round every table's columns, so the second pass reads what the first remembered
        // (and what other tables' names, landing in the same slots, overwrote).
        for _ in 0..2 {
            for t in Table::ALL {
                for (i, c) in t.columns().iter().enumerate() {
                    assert_eq!(t.static_column_index(c.name), Some(i), "{t}.{}", c.name);
                }
                assert_eq!(t.static_column_index("no.such.column"), None);
            }
        }
        assert_eq!(Table::Audit.static_column_index("process.command_line"), None);
        assert!(Table::Process.static_column_index("process.command_line").is_some());
    }

    #[test]
    fn tables_are_in_def_order() {
        for t in Table::ALL {
            assert_eq!(t.def().table, t);
            assert_eq!(Table::from_name(t.name()), Some(t));
        }
    }

    #[test]
    fn every_table_starts_with_the_common_columns() {
        for t in Table::ALL {
            let names: Vec<_> = t.columns().iter().map(|c| c.name).collect();
            assert_eq!(&names[..COMMON.len()], COMMON.iter().map(|c| c.name).collect::<Vec<_>>());
            assert!(!t.schema().field(0).is_nullable());
        }
    }

    #[test]
    fn common_positions_match_the_names() {
        for t in Table::ALL {
            assert_eq!(t.column_index("@timestamp"), Some(common::TIMESTAMP));
            assert_eq!(t.column_index("event.ingested"), Some(common::INGESTED));
            assert_eq!(t.column_index("spoor.format"), Some(common::FORMAT));
            assert_eq!(t.column_index("log.file.path"), Some(common::PATH));
            assert_eq!(t.column_index("log.file.line"), Some(common::LINE));
        }
    }

    #[test]
    fn dns_has_one_source_ip_column() {
        let count = Table::Dns.columns().iter().filter(|c| c.name == "source.ip").count();
        assert_eq!(count, 1);
    }
}
