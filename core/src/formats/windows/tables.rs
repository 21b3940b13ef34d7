//! Windows events to rows: which table each event goes to, by its provider and event id, and
//! which of its data fields fill which columns. Every event gets a row: those no category table
//! holds go to `windows`. Fields no column takes are kept in `winlog.event_data`.

use std::borrow::Cow;

use super::record::{Fields, Record};
use crate::event::Event;
use crate::formats::util::{self, basename, hash_from_list, split_user};
use crate::schema::Table;

/// The providers whose event ids spoor knows. Event ids are only unique within a provider
/// (event 1 is a Sysmon process start, and also a time change of the kernel's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    Sysmon,
    Security,
    ServiceControlManager,
    PowerShell,
    TaskScheduler,
    Other,
}

fn provider(record: &Record) -> Provider {
    let name = record.provider.as_deref().unwrap_or("");
    let channel = record.channel.as_deref().unwrap_or("");
    let has =
        |needle: &str| name.to_ascii_lowercase().contains(needle) || channel.to_ascii_lowercase().contains(needle);
    if has("sysmon") {
        Provider::Sysmon
    } else if name == "Microsoft-Windows-Security-Auditing"
        || name.is_empty() && channel.eq_ignore_ascii_case("security")
    {
        Provider::Security
    } else if name == "Service Control Manager" {
        Provider::ServiceControlManager
    } else if has("powershell") {
        Provider::PowerShell
    } else if has("taskscheduler") {
        Provider::TaskScheduler
    } else if name.is_empty() && channel.is_empty() {
        // No envelope to go by (a hand-made or trimmed export): by the ranges each provider uses.
        match record.event_id {
            1..=29 | 255 => Provider::Sysmon,
            4103 | 4104 => Provider::PowerShell,
            7045 => Provider::ServiceControlManager,
            4000..=6000 => Provider::Security,
            _ => Provider::Other,
        }
    } else {
        Provider::Other
    }
}

/// Maps a record to its row.
pub fn to_event(record: Record<'_>) -> Result<Event<'static>, String> {
    let data = &record.data;
    // Sysmon's own UtcTime is the event time; a shipper's timestamp can be off by a time zone.
    let time = data.get("UtcTime").and_then(util::parse_time).or(record.time);
    let Some(time) = time else {
        return Err("no event time (System TimeCreated, UtcTime, @timestamp, TimeCreated or TimeGenerated)".into());
    };
    let provider = provider(&record);
    let mut e = match (provider, record.event_id) {
        (Provider::Sysmon, id) => sysmon(id, data),
        (Provider::Security, id) => security(id, data),
        (Provider::ServiceControlManager, 7045) => {
            Some(service_installed(data, ["ImagePath", "StartType", "AccountName"]))
        }
        (Provider::PowerShell, id) => powershell(id, data),
        (Provider::TaskScheduler, id) => task_scheduler(id, data),
        _ => None,
    }
    .unwrap_or_else(|| other(data));
    e.timestamp = Some(time.timestamp_micros());
    if e.get("user.id").is_none() && e.table.column_index("user.id").is_some() {
        e.text("user.id", record.user_id);
    }
    e.text("event.code", Some(record.event_id.to_string()))
        .lower("host.name", record.computer)
        .text("event.provider", record.provider)
        .text("winlog.channel", record.channel)
        .int("winlog.record_id", record.record_id);
    let rest = record.data.unused().into_iter().map(|(k, v)| (Cow::Owned(k), Cow::Owned(v))).collect();
    e.map("winlog.event_data", rest);
    Ok(e)
}

/// The tables an event of this channel and id can be in, asked of [`to_event`] itself for
/// every provider the channel's events may name: all a rule about those event ids needs to read.
pub fn tables_of(channel: &str, event_id: i64) -> Vec<Table> {
    const PROVIDERS: &[Option<&str>] = &[
        None,
        Some("Microsoft-Windows-Security-Auditing"),
        Some("Service Control Manager"),
        Some("Microsoft-Windows-Sysmon"),
        Some("Microsoft-Windows-PowerShell"),
        Some("Microsoft-Windows-TaskScheduler"),
        Some("any other provider"),
    ];
    let mut tables = Vec::new();
    for provider in PROVIDERS {
        let record = Record {
            event_id,
            provider: provider.map(str::to_string),
            channel: Some(channel.to_string()),
            time: Some(chrono::DateTime::UNIX_EPOCH),
            ..Default::default()
        };
        if let Ok(event) = to_event(record)
            && !tables.contains(&event.table)
        {
            tables.push(event.table);
        }
    }
    tables
}

/// An executable's file name from its path, as `process.name` holds it.
fn program_name(path: &str) -> String {
    util::program_name(Cow::Borrowed(basename(path)), Some(path)).into_owned()
}

/// Sets the process columns from an image path.
fn image(e: &mut Event<'static>, prefix: Prefix, path: Option<String>) {
    let (name_col, exe_col) = match prefix {
        Prefix::Process => ("process.name", "process.executable"),
        Prefix::Parent => ("process.parent.name", "process.parent.executable"),
    };
    e.text(name_col, path.as_deref().map(program_name)).text(exe_col, path);
}

#[derive(Clone, Copy)]
enum Prefix {
    Process,
    Parent,
}

/// `DOMAIN\user` into user.name, and user.domain where the table has it.
fn user(e: &mut Event<'static>, account: Option<String>) {
    if let Some(account) = account {
        let (domain, name) = split_user(&account);
        if e.table.column_index("user.domain").is_some() {
            e.text("user.domain", domain.map(str::to_string));
        }
        e.text("user.name", Some(name.to_string()));
    }
}

/// Sysmon's `Hashes` (`SHA1=..,MD5=..,SHA256=..,IMPHASH=..`) into `<prefix>.hash.*`.
fn hashes(e: &mut Event<'static>, prefix: &str, list: Option<&str>) {
    let Some(list) = list else { return };
    let columns: &[(&'static str, &str)] = match prefix {
        "process" => &[
            ("process.hash.sha256", "SHA256"),
            ("process.hash.md5", "MD5"),
            ("process.hash.sha1", "SHA1"),
            ("process.hash.imphash", "IMPHASH"),
        ],
        "dll" => &[
            ("dll.hash.sha256", "SHA256"),
            ("dll.hash.md5", "MD5"),
            ("dll.hash.sha1", "SHA1"),
            ("dll.hash.imphash", "IMPHASH"),
        ],
        _ => &[
            ("file.hash.sha256", "SHA256"),
            ("file.hash.md5", "MD5"),
            ("file.hash.sha1", "SHA1"),
            ("file.hash.imphash", "IMPHASH"),
        ],
    };
    for (column, algorithm) in columns {
        e.text(column, hash_from_list(list, algorithm));
    }
}

/// The acting process of a Sysmon event (`ProcessGuid`, `ProcessId`, `Image`, `User`).
fn actor(e: &mut Event<'static>, data: &Fields) {
    e.text("process.entity_id", data.text("ProcessGuid")).int("process.pid", data.int("ProcessId"));
    image(e, Prefix::Process, data.text("Image"));
    user(e, data.text("User"));
}

fn sysmon(id: i64, data: &Fields) -> Option<Event<'static>> {
    Some(match id {
        1 => {
            let mut e = Event::new(Table::Process);
            actor(&mut e, data);
            e.text("event.action", Some("start"))
                .text("process.command_line", data.text("CommandLine"))
                .text("process.working_directory", data.text("CurrentDirectory"))
                .text("process.pe.original_file_name", data.text("OriginalFileName"))
                .text("process.pe.description", data.text("Description"))
                .text("process.pe.product", data.text("Product"))
                .text("process.pe.company", data.text("Company"))
                .text("process.integrity_level", data.text("IntegrityLevel"))
                .lower("winlog.logon.id", data.text("LogonId"))
                .text("process.parent.entity_id", data.text("ParentProcessGuid"))
                .int("process.parent.pid", data.int("ParentProcessId"))
                .text("process.parent.command_line", data.text("ParentCommandLine"));
            hashes(&mut e, "process", data.get("Hashes"));
            image(&mut e, Prefix::Parent, data.text("ParentImage"));
            if let Some(parent_user) = data.text("ParentUser") {
                e.text("process.parent.user.name", Some(split_user(&parent_user).1.to_string()));
            }
            e
        }
        3 => {
            let mut e = Event::new(Table::Network);
            actor(&mut e, data);
            let outbound = data.get("Initiated").and_then(util::parse_bool);
            e.text("event.action", Some("connection"))
                .lower("network.transport", data.text("Protocol"))
                .text("network.direction", outbound.map(|o| if o { "outbound" } else { "inbound" }))
                .ip("source.ip", data.text("SourceIp"))
                .int("source.port", data.int("SourcePort"))
                .ip("destination.ip", data.text("DestinationIp"))
                .int("destination.port", data.int("DestinationPort"))
                .lower("destination.domain", data.text("DestinationHostname"));
            e
        }
        6 | 7 => {
            let mut e = Event::new(Table::Library);
            if id == 7 {
                actor(&mut e, data);
            }
            let path = data.text("ImageLoaded");
            e.text("event.action", Some(if id == 7 { "load" } else { "driver_load" }))
                .text("dll.name", path.as_deref().map(|p| basename(p).to_lowercase()))
                .text("dll.path", path)
                .text("dll.pe.original_file_name", data.text("OriginalFileName"))
                .text("dll.pe.description", data.text("Description"))
                .text("dll.pe.product", data.text("Product"))
                .text("dll.pe.company", data.text("Company"))
                .bool("dll.code_signature.signed", data.get("Signed").and_then(util::parse_bool))
                .text("dll.code_signature.status", data.text("SignatureStatus"))
                .text("dll.code_signature.subject_name", data.text("Signature"));
            hashes(&mut e, "dll", data.get("Hashes"));
            e
        }
        2 | 9 | 11 | 15 | 17 | 18 | 23 | 26..=29 => {
            let mut e = Event::new(Table::File);
            actor(&mut e, data);
            let action = match id {
                2 => "creation_time_change",
                9 => "raw_read",
                11 => "creation",
                15 => "stream_creation",
                17 => "pipe_creation",
                18 => "pipe_connection",
                27 => "executable_blocked",
                28 => "shredding_blocked",
                29 => "executable_detected",
                _ => "deletion",
            };
            e.text("event.action", Some(action));
            if matches!(id, 17 | 18) {
                // As Elastic's Sysmon integration keeps pipes: the pipe's name is the file name.
                e.text("file.name", data.text("PipeName"));
            } else {
                let path = data.any(&["TargetFilename", "Device"]);
                file_path(&mut e, path);
                hashes(&mut e, "file", data.get("Hashes").or_else(|| data.get("Hash")));
            }
            e
        }
        12..=14 => registry(id, data),
        22 => {
            let mut e = Event::new(Table::Dns);
            actor(&mut e, data);
            let (answers, ips) = dns_results(data.get("QueryResults").unwrap_or_default());
            e.text("event.action", Some("query"))
                .lower(
                    "dns.question.name",
                    data.text("QueryName").map(|q| util::without_root_dot(q.into()).into_owned()),
                )
                .text("dns.response_code", data.get("QueryStatus").map(dns_status))
                .list("dns.answers", answers.into_iter().map(Cow::Owned).collect())
                .list("dns.resolved_ip", ips.into_iter().map(Cow::Owned).collect());
            e
        }
        // Process access and remote threads name the acting process as the source.
        8 | 10 => {
            let mut e = Event::new(Table::Windows);
            e.text("event.action", Some("event"))
                .text("process.entity_id", data.text("SourceProcessGuid"))
                .int("process.pid", data.int("SourceProcessId"));
            image(&mut e, Prefix::Process, data.text("SourceImage"));
            user(&mut e, data.text("SourceUser"));
            e
        }
        _ => return None,
    })
}

fn file_path(e: &mut Event<'static>, path: Option<String>) {
    let name = path.as_deref().map(|p| basename(p).to_string());
    let extension = name
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, x)| x.split(':').next().unwrap_or(x).to_ascii_lowercase());
    e.text("file.path", path).text("file.name", name).text("file.extension", extension);
}

fn registry(id: i64, data: &Fields) -> Event<'static> {
    let mut e = Event::new(Table::Registry);
    actor(&mut e, data);
    let event_type = data.get("EventType");
    let action = match event_type {
        Some("CreateKey") => "key_create",
        Some("DeleteKey") | Some("DeleteValue") => "key_delete",
        Some("RenameKey") => "rename",
        Some("SetValue") => "value_set",
        _ if id == 13 => "value_set",
        _ if id == 14 => "rename",
        _ => "key_create",
    };
    let target = data.text("TargetObject");
    // A value event names `key\value`; a key event names the key alone.
    let is_value = id == 13 || event_type.is_some_and(|t| t.ends_with("Value"));
    let (hive, key, value) = target.as_deref().map(|t| split_registry_path(t, is_value)).unwrap_or_default();
    let details = data.text("Details");
    let data_type = details.as_deref().and_then(registry_data_type);
    e.text("event.action", Some(action))
        .text("registry.hive", hive)
        .text("registry.key", key)
        .text("registry.value", value)
        .text("registry.data.strings", details)
        .text("registry.data.type", data_type)
        .text("registry.path", target);
    e
}

/// The process a Security event names as acting (`ProcessId`, `ProcessName`), and its subject.
fn security_actor(e: &mut Event<'static>, data: &Fields) {
    e.int("process.pid", data.int("ProcessId")).text("user.name", data.text("SubjectUserName"));
    image(e, Prefix::Process, data.text("ProcessName"));
}

/// The subject of a Security event: the account that did it, and its logon.
fn subject(e: &mut Event<'static>, data: &Fields) {
    e.text("user.name", data.text("SubjectUserName"))
        .text("user.domain", data.text("SubjectDomainName"))
        .text("user.id", data.text("SubjectUserSid"));
}

fn security(id: i64, data: &Fields) -> Option<Event<'static>> {
    Some(match id {
        4688 => {
            // Security process creation: no entity ids, hex pids, the parent's path only.
            let mut e = Event::new(Table::Process);
            let target_logon = data.get("TargetLogonId").filter(|l| *l != "0x0").map(str::to_string);
            e.text("event.action", Some("start"))
                .text("user.name", data.any(&["TargetUserName", "SubjectUserName"]))
                .text("user.domain", data.any(&["TargetDomainName", "SubjectDomainName"]))
                .text("user.id", data.get("TargetUserSid").filter(|s| *s != "S-1-0-0").map(str::to_string))
                .text("user.id", data.text("SubjectUserSid"))
                .lower("winlog.logon.id", target_logon.or_else(|| data.text("SubjectLogonId")))
                .int("process.pid", data.int("NewProcessId"))
                .text("process.command_line", data.text("CommandLine"))
                .text("process.integrity_level", data.get("MandatoryLabel").and_then(integrity_level))
                .int("process.parent.pid", data.int("ProcessId"));
            image(&mut e, Prefix::Process, data.text("NewProcessName"));
            image(&mut e, Prefix::Parent, data.text("ParentProcessName"));
            e
        }
        4624 | 4625 | 4634 | 4647 | 4648 | 4672 | 4768 | 4769 | 4771 | 4776 => authentication(id, data),
        4697 => service_installed(data, ["ServiceFileName", "ServiceStartType", "ServiceAccount"]),
        4698..=4702 => {
            let mut e = Event::new(Table::ScheduledTask);
            let action = ["create", "delete", "enable", "disable", "update"][(id - 4698) as usize];
            e.text("event.action", Some(action))
                .text("user.name", data.text("SubjectUserName"))
                .text("user.domain", data.text("SubjectDomainName"))
                .text("task.name", data.text("TaskName"))
                .text("task.content", data.any(&["TaskContent", "TaskContentNew"]));
            e
        }
        4720 | 4722..=4726 | 4738 | 4740 | 4781 | 4728 | 4729 | 4732 | 4733 | 4756 | 4757 => account_change(id, data),
        4657 => {
            let mut e = Event::new(Table::Registry);
            let key = data.get("ObjectName").map(registry_object_path);
            let value = data.text("ObjectValueName");
            let path = match (&key, &value) {
                (Some(k), Some(v)) => Some(format!("{k}\\{v}")),
                (Some(k), None) => Some(k.clone()),
                _ => None,
            };
            let (hive, key, _) = key.as_deref().map(|k| split_registry_path(k, false)).unwrap_or_default();
            e.text("event.action", Some("value_set"))
                .text("registry.hive", hive)
                .text("registry.key", key)
                .text("registry.value", value)
                .text("registry.path", path)
                .text("registry.data.strings", data.text("NewValue"));
            security_actor(&mut e, data);
            e
        }
        4663 if data.get("ObjectType") == Some("File") => {
            let mut e = Event::new(Table::File);
            e.text("event.action", Some("access"));
            security_actor(&mut e, data);
            file_path(&mut e, data.text("ObjectName"));
            e
        }
        5156 | 5157 => {
            let mut e = Event::new(Table::Network);
            let outbound = match data.get("Direction") {
                Some("%%14593") | Some("Outbound") => Some("outbound"),
                Some("%%14592") | Some("Inbound") => Some("inbound"),
                _ => None,
            };
            let transport = data.get("Protocol").map(|p| match p {
                "6" => "tcp".to_string(),
                "17" => "udp".to_string(),
                "1" => "icmp".to_string(),
                other => other.to_ascii_lowercase(),
            });
            e.text("event.action", Some(if id == 5156 { "connection" } else { "blocked" }))
                .text("network.direction", outbound)
                .text("network.transport", transport)
                .ip("source.ip", data.text("SourceAddress"))
                .int("source.port", data.int("SourcePort"))
                .ip("destination.ip", data.text("DestAddress"))
                .int("destination.port", data.int("DestPort"))
                .int("process.pid", data.int("ProcessID").or_else(|| data.int("ProcessId")));
            image(&mut e, Prefix::Process, data.text("Application"));
            e
        }
        _ => return None,
    })
}

/// Logon types by number, as Windows documents them and Winlogbeat names them.
fn logon_type(number: &str) -> String {
    match number.trim() {
        "0" => "System",
        "2" => "Interactive",
        "3" => "Network",
        "4" => "Batch",
        "5" => "Service",
        "7" => "Unlock",
        "8" => "NetworkCleartext",
        "9" => "NewCredentials",
        "10" => "RemoteInteractive",
        "11" => "CachedInteractive",
        "12" => "CachedRemoteInteractive",
        "13" => "CachedUnlock",
        other => return other.to_string(),
    }
    .to_string()
}

fn authentication(id: i64, data: &Fields) -> Event<'static> {
    let mut e = Event::new(Table::Authentication);
    let (action, outcome) = match id {
        4624 => ("logon", "success"),
        4625 => ("logon_failure", "failure"),
        4634 | 4647 => ("logoff", "success"),
        4648 => ("explicit_credentials", "success"),
        4672 => ("special_privileges", "success"),
        4768 => ("kerberos_tgt", if data.get("Status").is_none_or(|s| s == "0x0") { "success" } else { "failure" }),
        4769 => (
            "kerberos_service_ticket",
            if data.get("Status").is_none_or(|s| s == "0x0") { "success" } else { "failure" },
        ),
        4771 => ("kerberos_preauth_failure", "failure"),
        _ => ("ntlm_validate", if data.get("Status").is_none_or(|s| s == "0x0") { "success" } else { "failure" }),
    };
    e.text("event.action", Some(action)).text("event.outcome", Some(outcome));
    if matches!(id, 4648 | 4672) {
        // The subject acts; 4648 names the credentials it used as the target.
        e.text("user.name", data.text("SubjectUserName"))
            .text("user.domain", data.text("SubjectDomainName"))
            .text("user.id", data.text("SubjectUserSid"))
            .lower("winlog.logon.id", data.text("SubjectLogonId"))
            .text("user.target.name", data.text("TargetUserName"))
            .text("user.target.domain", data.text("TargetDomainName"));
    } else {
        e.text("user.name", data.any(&["TargetUserName", "TargetUser"]))
            .text("user.domain", data.text("TargetDomainName"))
            .text("user.id", data.text("TargetUserSid"))
            .lower("winlog.logon.id", data.text("TargetLogonId"));
    }
    let source_ip = data.any(&["IpAddress", "Workstation"]).filter(|ip| ip.parse::<std::net::IpAddr>().is_ok());
    e.text("winlog.logon.type", data.get("LogonType").map(logon_type))
        .ip("source.ip", source_ip.map(|ip| ip.trim_start_matches("::ffff:").to_string()))
        .int("source.port", data.int("IpPort").filter(|p| *p > 0))
        .text("source.domain", data.any(&["WorkstationName", "Workstation"]))
        .int("process.pid", data.int("ProcessId"));
    image(&mut e, Prefix::Process, data.text("ProcessName"));
    e
}

fn account_change(id: i64, data: &Fields) -> Event<'static> {
    let mut e = Event::new(Table::Audit);
    let action = match id {
        4720 => "user_create",
        4722 => "user_enable",
        4723 => "password_change",
        4724 => "password_reset",
        4725 => "user_disable",
        4726 => "user_delete",
        4738 => "user_change",
        4740 => "lockout",
        4781 => "user_rename",
        4728 | 4732 | 4756 => "member_add",
        _ => "member_remove",
    };
    // Windows names the action by its event id (in `event.code`); the action is its meaning.
    let activity = crate::audit_activities::recognize(action);
    e.text("event.action", Some(action))
        .text("audit.activity", activity.map(|a| a.name.as_str()))
        .text("event.category", activity.map(|a| a.category.as_str()))
        .text("event.type", activity.map(|a| a.kind.as_str()))
        .text("event.outcome", Some("success"))
        .text("user.name", data.text("SubjectUserName"));
    if matches!(id, 4728 | 4729 | 4732 | 4733 | 4756 | 4757) {
        // The target is the group; the member is named by its distinguished name, else its SID.
        let member = data.text("MemberName").map(|dn| distinguished_cn(&dn)).or_else(|| data.text("MemberSid"));
        e.text("group.name", data.text("TargetUserName")).text("user.target.name", member);
    } else {
        e.text("user.target.name", data.any(&["TargetUserName", "NewTargetUserName"]))
            .text("user.target.domain", data.text("TargetDomainName"));
        if id == 4781 {
            e.text("audit.old_value", data.text("OldTargetUserName"))
                .text("audit.new_value", data.text("NewTargetUserName"));
        }
    }
    e
}

/// `CN=Alice,OU=Staff,DC=corp` → `Alice`; anything else as it is.
fn distinguished_cn(dn: &str) -> String {
    dn.strip_prefix("CN=").and_then(|rest| rest.split(',').next()).unwrap_or(dn).to_string()
}

/// A service installed. System 7045 and Security 4697 name the same facts differently: the
/// command it runs, its start type and its account are `names`.
fn service_installed(data: &Fields, [image, start_type, account]: [&str; 3]) -> Event<'static> {
    let mut e = Event::new(Table::Service);
    e.text("event.action", Some("install"))
        .text("user.name", data.text("SubjectUserName"))
        .text("service.name", data.text("ServiceName"))
        .text("service.image_path", data.text(image))
        .text("service.type", data.text("ServiceType"))
        .text("service.start_type", data.text(start_type))
        .text("service.account", data.text(account));
    e
}

fn powershell(id: i64, data: &Fields) -> Option<Event<'static>> {
    let mut e = Event::new(Table::Powershell);
    match id {
        4104 => {
            e.text("event.action", Some("script_block"))
                .text("powershell.file.script_block_text", data.text("ScriptBlockText"))
                .text("powershell.file.script_block_id", data.text("ScriptBlockId"))
                .int("powershell.total", data.int("MessageTotal"))
                .text("file.path", data.text("Path"));
            // The part's number is what the joining used; it says nothing once joined.
            data.get("MessageNumber");
        }
        4103 => {
            let context = data.text("ContextInfo").unwrap_or_default();
            e.text("event.action", Some("module_logging"))
                .text("powershell.command.name", context_value(&context, "Command Name"))
                .text("process.command_line", context_value(&context, "Host Application"))
                .text("user.name", context_value(&context, "User").map(|u| split_user(&u).1.to_string()))
                .text("powershell.command.invocation_details", data.text("Payload"))
                .text("file.path", context_value(&context, "Script Name"));
        }
        400 | 403 | 600 | 800 => {
            let action = match id {
                400 => "engine_start",
                403 => "engine_stop",
                600 => "provider_start",
                _ => "pipeline_execution",
            };
            // The classic channel's details are one text of `Key=Value` lines (the third unnamed
            // Data, `param3`, or a named field in flattened exports).
            let details = data.iter().map(|(_, v)| v).find(|v| v.contains("HostApplication=")).map(str::to_string);
            let host_application = details.as_deref().and_then(|d| context_value(d, "HostApplication"));
            e.text("event.action", Some(action))
                .text("process.command_line", host_application.or_else(|| data.text("HostApplication")))
                .text("user.name", details.as_deref().and_then(|d| context_value(d, "UserId")));
        }
        _ => return None,
    }
    Some(e)
}

/// `        Host Application = powershell.exe -nop` in a 4103 ContextInfo, or
/// `\tHostApplication=powershell.exe -nop` in a classic PowerShell event's details.
fn context_value(context: &str, key: &str) -> Option<String> {
    context.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().to_string()).filter(|v| !v.is_empty())
    })
}

fn task_scheduler(id: i64, data: &Fields) -> Option<Event<'static>> {
    let action = match id {
        106 => "create",
        140 => "update",
        141 => "delete",
        200 => "run_start",
        201 => "run_end",
        _ => return None,
    };
    let mut e = Event::new(Table::ScheduledTask);
    e.text("event.action", Some(action))
        .text("task.name", data.text("TaskName"))
        .text("task.action", data.text("ActionName"));
    user(&mut e, data.any(&["UserContext", "UserName"]));
    Some(e)
}

/// Any other event: the subject and process it names, its data kept whole.
fn other(data: &Fields) -> Event<'static> {
    let mut e = Event::new(Table::Windows);
    e.text("event.action", Some("event"));
    subject(&mut e, data);
    e.text("process.entity_id", data.text("ProcessGuid"))
        .int("process.pid", data.int("ProcessId").or_else(|| data.int("NewProcessId")));
    image(&mut e, Prefix::Process, data.any(&["Image", "ProcessName", "NewProcessName"]));
    user(&mut e, data.text("User"));
    e
}

/// S-1-16-12288 → `High`.
fn integrity_level(label: &str) -> Option<String> {
    Some(
        match label.trim() {
            "S-1-16-0" => "Untrusted",
            "S-1-16-4096" => "Low",
            "S-1-16-8192" => "Medium",
            "S-1-16-8448" => "MediumPlus",
            "S-1-16-12288" => "High",
            "S-1-16-16384" => "System",
            "S-1-16-20480" => "ProtectedProcess",
            _ => return None,
        }
        .to_string(),
    )
}

/// `\REGISTRY\MACHINE\SOFTWARE\...` (Security 4657) → `HKLM\SOFTWARE\...`.
fn registry_object_path(object: &str) -> String {
    for (prefix, hive) in [("\\REGISTRY\\MACHINE", "HKLM"), ("\\REGISTRY\\USER", "HKU")] {
        if object.len() >= prefix.len() && object[..prefix.len()].eq_ignore_ascii_case(prefix) {
            return format!("{hive}{}", &object[prefix.len()..]);
        }
    }
    object.to_string()
}

/// `HKLM\SOFTWARE\...\Run\Updater` → (`HKLM`, `SOFTWARE\...\Run`, `Updater`).
fn split_registry_path(path: &str, names_a_value: bool) -> (Option<String>, Option<String>, Option<String>) {
    let (hive, rest) = path.split_once('\\').unwrap_or((path, ""));
    let hive = match hive.to_ascii_uppercase().as_str() {
        "HKEY_LOCAL_MACHINE" => "HKLM".to_string(),
        "HKEY_USERS" => "HKU".to_string(),
        "HKEY_CURRENT_USER" => "HKCU".to_string(),
        "HKEY_CLASSES_ROOT" => "HKCR".to_string(),
        other => other.to_string(),
    };
    let (key, value) = match rest.rsplit_once('\\') {
        Some((k, v)) if names_a_value => (Some(k.to_string()), Some(v.to_string())),
        _ => (Some(rest.to_string()), None),
    };
    (Some(hive), key, value)
}

/// Sysmon writes `DWORD (0x00000089)`, `Binary Data`, or the string itself.
fn registry_data_type(details: &str) -> Option<&'static str> {
    if details.starts_with("DWORD") {
        Some("REG_DWORD")
    } else if details.starts_with("QWORD") {
        Some("REG_QWORD")
    } else if details == "Binary Data" {
        Some("REG_BINARY")
    } else {
        None
    }
}

/// Sysmon's QueryStatus is a Windows DNS status code.
fn dns_status(status: &str) -> String {
    match status.trim() {
        "0" => "NOERROR",
        "9001" => "FORMERR",
        "9002" => "SERVFAIL",
        "9003" => "NXDOMAIN",
        "9004" => "NOTIMP",
        "9005" => "REFUSED",
        "9501" => "NODATA",
        other => return other.to_string(),
    }
    .to_string()
}

/// `type:  5 github.map.fastly.net;::ffff:151.101.208.133;` → answers and resolved IPs.
/// IPv4-mapped addresses are given as IPv4, the form IOC lists use.
fn dns_results(results: &str) -> (Vec<String>, Vec<String>) {
    let mut answers = Vec::new();
    let mut ips = Vec::new();
    for item in results.split(';').map(str::trim).filter(|i| !i.is_empty() && *i != "-") {
        if let Some(rest) = item.strip_prefix("type:") {
            // `type:  5 name`: a record that is not an address (5 = CNAME).
            if let Some(name) = rest.split_whitespace().nth(1) {
                answers.push(name.to_ascii_lowercase());
            }
            continue;
        }
        match item.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                let ip = match ip {
                    std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4).unwrap_or(ip),
                    v4 => v4,
                };
                answers.push(ip.to_string());
                ips.push(ip.to_string());
            }
            Err(_) => answers.push(item.to_ascii_lowercase()),
        }
    }
    (answers, ips)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_results_split_names_and_addresses() {
        let (answers, ips) = dns_results("type:  5 github.map.fastly.net;::ffff:151.101.208.133;");
        assert_eq!(answers, ["github.map.fastly.net", "151.101.208.133"]);
        assert_eq!(ips, ["151.101.208.133"]);
    }

    #[test]
    fn registry_paths_split_into_hive_key_value() {
        let (h, k, v) = split_registry_path("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\wt", true);
        assert_eq!(h.as_deref(), Some("HKLM"));
        assert_eq!(k.as_deref(), Some("SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run"));
        assert_eq!(v.as_deref(), Some("wt"));
        assert_eq!(registry_object_path("\\REGISTRY\\MACHINE\\SOFTWARE\\x"), "HKLM\\SOFTWARE\\x");
    }

    #[test]
    fn windows_program_names_are_lowercased_and_others_kept() {
        assert_eq!(program_name("C:\\Windows\\System32\\PING.EXE"), "ping.exe");
        assert_eq!(program_name("/usr/bin/Xorg"), "Xorg");
        assert_eq!(program_name("WmiPrvSE.exe"), "wmiprvse.exe");
    }

    #[test]
    fn a_channels_event_id_names_its_tables() {
        assert_eq!(tables_of("Security", 4688), vec![Table::Process, Table::Windows]);
        assert_eq!(tables_of("System", 7045), vec![Table::Windows, Table::Service]);
        assert_eq!(tables_of("Microsoft-Windows-Sysmon/Operational", 1), vec![Table::Process]);
    }

    #[test]
    fn providers_tell_colliding_event_ids_apart() {
        let record = |provider: &str, channel: &str, id| Record {
            event_id: id,
            provider: Some(provider.into()).filter(|p: &String| !p.is_empty()),
            channel: Some(channel.into()).filter(|c: &String| !c.is_empty()),
            ..Default::default()
        };
        assert_eq!(provider(&record("Microsoft-Windows-Sysmon", "", 1)), Provider::Sysmon);
        assert_eq!(provider(&record("Microsoft-Windows-Kernel-General", "System", 1)), Provider::Other);
        assert_eq!(provider(&record("", "Security", 4624)), Provider::Security);
        assert_eq!(provider(&record("AD FS Auditing", "Security", 4624)), Provider::Other);
        assert_eq!(provider(&record("", "", 4104)), Provider::PowerShell);
        assert_eq!(provider(&record("PowerShell", "Windows PowerShell", 400)), Provider::PowerShell);
    }
}
