//! Adversarial input, format by format: hostile records mixed into real files must cost the good
//! records nothing, be accounted for (stored, skipped or rejected with a reason), and never crash
//! ingest or let its memory grow with the input. Logs are attacker-influenced data.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{corpus, documented, ingest_with};
use spoor::core::Format;
use spoor::core::formats::mapping::Mapping;
use spoor::core::ingest::{IngestOptions, IngestSummary};

/// Every line format with a real (or documented) sample of it.
fn line_formats() -> Vec<(Format, PathBuf)> {
    vec![
        (Format::Ecs, documented("ecs_endpoint.ndjson")),
        (Format::Windows, documented("winlogbeat_sysmon.ndjson")),
        (Format::Windows, corpus("edr/mordor/cmd_bitsadmin_download_psh_script.json")),
        (Format::SysmonLinux, corpus("edr/mordor/sentinel_syslog_linux_sysmon_log4shell_jndi.json")),
        (Format::Zeek, corpus("dns/zeek/lsass_campaign01_metasploit_dns.log")),
        (Format::ZeekJson, corpus("dns/zeek/apt29_day1_SCRANTON_dns.json")),
        (Format::Osquery, documented("osquery_results.log")),
        (Format::Bind, documented("bind_queries.log")),
        (Format::CiLog, corpus("ci/npm-cli/npm11_install_foreground_scripts.log")),
        (Format::Mapped, documented("acme_edr.ndjson")),
        (Format::AuditLog, documented("github_audit_stream.ndjson")),
    ]
}

fn options(format: Format) -> IngestOptions {
    let mapping = (format == Format::Mapped).then(|| Mapping::load(&documented("acme_edr.toml")).unwrap());
    IngestOptions { format: Some(format), mapping, ..Default::default() }
}

/// Hostile variants of a real record: each must be accounted for without costing the others.
fn hostile_lines(good: &[u8]) -> Vec<Vec<u8>> {
    let middle = good.len() / 2;
    let with = |insert: &[u8]| [&good[..middle], insert, &good[middle..]].concat();
    let text = String::from_utf8_lossy(good);
    // Every run of three or more digits made far too large for any integer or date field.
    let huge = regex::Regex::new(r"\d{3,}").unwrap().replace_all(&text, "9".repeat(40)).into_owned();
    let far_years = regex::Regex::new(r"\b20\d\d\b").unwrap().replace_all(&text, "99999").into_owned();
    let duplicate_keys = match text.strip_prefix('{') {
        Some(rest) => format!("{{{},{rest}", rest.trim_end().trim_end_matches('}')),
        None => format!("{text}\t{text}"),
    };
    vec![
        format!("{}{}", "{\"a\":[".repeat(10_000), "]}".repeat(10_000)).into_bytes(),
        with(b"\xff\xfe"),
        with(b"\0"),
        huge.into_bytes(),
        far_years.into_bytes(),
        duplicate_keys.into_bytes(),
        b"\0\0\0\0".to_vec(),
        vec![b'{'; 1000],
    ]
}

fn ingest_bytes(dir: &Path, name: &str, bytes: &[u8], format: Format) -> IngestSummary {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    ingest_with(&[path], options(format)).summary
}

#[test]
fn hostile_records_cost_the_good_ones_nothing_in_any_line_format() {
    let dir = tempfile::tempdir().unwrap();
    for (format, sample) in line_formats() {
        let original = std::fs::read(&sample).unwrap();
        let lines: Vec<&[u8]> = original.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
        let baseline = ingest_bytes(dir.path(), &format!("{}-baseline", format.name()), &original, format);
        let clean = &baseline.files[0];
        assert!(clean.stored > 0 && clean.error.is_none(), "{}: {:?}", format.name(), clean.error);

        // The hostile records go after the headers (the last line starting with `#`, for Zeek)
        // and the first real record, so the file's own context is intact around them.
        let first_record = lines.iter().rposition(|l| l.starts_with(b"#")).map_or(1, |i| i + 2).min(lines.len());
        let hostile = hostile_lines(lines[first_record - 1]);
        let mut mixed: Vec<u8> = Vec::new();
        for line in &lines[..first_record] {
            mixed.extend_from_slice(line);
            mixed.push(b'\n');
        }
        for bad in &hostile {
            mixed.extend_from_slice(bad);
            mixed.push(b'\n');
        }
        for line in &lines[first_record..] {
            mixed.extend_from_slice(line);
            mixed.push(b'\n');
        }
        let summary = ingest_bytes(dir.path(), &format!("{}-hostile", format.name()), &mixed, format);
        let file = &summary.files[0];
        let name = format.name();
        assert!(file.error.is_none(), "{name}: {:?}", file.error);
        assert_eq!(file.read, clean.read + hostile.len() as u64, "{name}: every hostile record is read");
        assert!(
            file.stored >= clean.stored,
            "{name}: {} stored, {} without the hostile records",
            file.stored,
            clean.stored
        );
        assert!(file.stored <= clean.stored + hostile.len() as u64, "{name}");
        for (table, rows) in &baseline.rows() {
            assert!(summary.rows()[table] >= *rows, "{name}: {table:?}");
        }
        // The two that are not text at all are rejected for it, by line number.
        let not_utf8 = file.reject_reasons.iter().find(|(r, _)| r.starts_with("invalid UTF-8"));
        assert!(
            not_utf8.is_some_and(|(_, tally)| tally.first_line == first_record as u64 + 2),
            "{name}: {:?}",
            file.reject_reasons
        );
    }
}

#[test]
fn json_nested_ten_thousand_levels_deep_is_rejected_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{}{}\n", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    for format in [Format::Ecs, Format::Windows, Format::ZeekJson, Format::Osquery, Format::Mapped] {
        let summary = ingest_bytes(dir.path(), format.name(), deep.as_bytes(), format);
        assert_eq!((summary.files[0].read, summary.files[0].rejected), (1, 1), "{}", format.name());
    }
    let lock = format!(
        "{{\"lockfileVersion\": 1, \"dependencies\": {}{}}}",
        "{\"a\": {\"version\": \"1.0.0\", \"dependencies\": ".repeat(5000),
        "}}".repeat(5000)
    );
    let summary = ingest_bytes(dir.path(), "package-lock.json", lock.as_bytes(), Format::NpmLock);
    assert_eq!(summary.files[0].rejected, 1);
}

#[test]
fn yaml_aliases_are_refused_before_they_expand() {
    // "Billion laughs": eleven lines that expand to 9^12 nodes (it took 21 GB before aliases were refused).
    let mut yaml = String::from(
        "lockfileVersion: '9.0'\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut previous = "a".to_string();
    for i in 1..12 {
        yaml.push_str(&format!("b{i}: &b{i} [{}]\n", vec![format!("*{previous}"); 9].join(",")));
        previous = format!("b{i}");
    }
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::PnpmLock, Format::YarnLock] {
        let text = if format == Format::YarnLock { format!("__metadata:\n  version: 8\n{yaml}") } else { yaml.clone() };
        let summary = ingest_bytes(dir.path(), format.name(), text.as_bytes(), format);
        let reasons: Vec<&String> = summary.files[0].reject_reasons.keys().collect();
        assert!(reasons.iter().any(|r| r.starts_with("YAML alias on line")), "{}: {reasons:?}", format.name());
    }
}

#[test]
fn a_lockfile_with_a_dependency_cycle_stores_each_package_once() {
    let lock = "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      a:\n        specifier: ^1.0.0\n        version: 1.0.0\npackages:\n  a@1.0.0:\n    resolution: {integrity: sha512-aaaa}\n  b@1.0.0:\n    resolution: {integrity: sha512-bbbb}\nsnapshots:\n  a@1.0.0:\n    dependencies:\n      b: 1.0.0\n  b@1.0.0:\n    dependencies:\n      a: 1.0.0\n";
    let dir = tempfile::tempdir().unwrap();
    let summary = ingest_bytes(dir.path(), "pnpm-lock.yaml", lock.as_bytes(), Format::PnpmLock);
    assert_eq!((summary.files[0].stored, summary.files[0].rejected), (2, 0));
}

#[test]
fn a_zeek_header_that_lies_about_its_fields_rejects_the_rows_it_misdescribes() {
    let real = std::fs::read_to_string(corpus("dns/zeek/lsass_campaign01_metasploit_dns.log")).unwrap();
    // Drop the last two field names (and their types): every row now has two values too many.
    let lying: String = real
        .lines()
        .map(|l| {
            if l.starts_with("#fields") || l.starts_with("#types") {
                let parts: Vec<&str> = l.split('\t').collect();
                parts[..parts.len() - 2].join("\t")
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let summary = ingest_bytes(dir.path(), "dns.log", lying.as_bytes(), Format::Zeek);
    let file = &summary.files[0];
    assert_eq!(file.stored, 0);
    assert!(file.rejected > 0 && file.read == file.skipped + file.rejected);
    assert!(file.reject_reasons.keys().any(|r| r.contains("field")), "{:?}", file.reject_reasons);
}

#[test]
fn truncated_and_corrupt_zstd_keep_what_was_read() {
    let sample = std::fs::read(documented("ecs_endpoint.ndjson")).unwrap();
    let compressed = zstd::encode_all(&sample[..], 3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let truncated = ingest_bytes(dir.path(), "cut.ndjson.zst", &compressed[..compressed.len() * 2 / 3], Format::Ecs);
    let file = &truncated.files[0];
    assert!(file.error.as_deref().is_some_and(|e| e.contains("input stopped after line")), "{:?}", file.error);
    let mut corrupt = compressed.clone();
    let at = corrupt.len() / 2;
    corrupt[at..at + 16].copy_from_slice(&[0xAA; 16]);
    // Without a frame checksum, zstd may decode the damage into garbage instead of failing:
    // either way the garbage is rejected line by line and the rest accounted for.
    let summary = ingest_bytes(dir.path(), "corrupt.ndjson.zst", &corrupt, Format::Ecs);
    let file = &summary.files[0];
    assert!(file.error.is_some() || file.rejected > 0, "{file:?}");
}

// --- Through the binary, with its peak memory measured. ---

/// Runs `spoor ingest` and returns (exit code, output, peak RSS of the child in KiB).
fn ingest_measured(store: &Path, path: &Path, extra: &[&str]) -> (i32, String, u64) {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_spoor"))
        .arg("ingest")
        .arg(path)
        .arg("--store")
        .arg(store)
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    // The child's own peak is its VmHWM, read until it ends: the peak that wait4 reports starts
    // from this test process's RSS when the child was spawned (it was forked from it), which
    // other tests running beside this one can push past the bound. Its output is read
    // meanwhile, so it never blocks on a full pipe.
    let (mut stdout, mut stderr) = (child.stdout.unwrap(), child.stderr.unwrap());
    let output = std::thread::spawn(move || {
        use std::io::Read;
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let ended = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let peak = {
        let ended = std::sync::Arc::clone(&ended);
        std::thread::spawn(move || {
            // A high-water mark: the last reading holds every peak before it. What the child
            // allocates in its last 2 ms before exiting is missed; it is freeing by then.
            let mut peak_kib = 0;
            while !ended.load(std::sync::atomic::Ordering::Acquire) {
                peak_kib = peak_kib.max(high_water_kib(pid).unwrap_or(0));
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            peak_kib
        })
    };
    let status = wait(pid);
    ended.store(true, std::sync::atomic::Ordering::Release);
    let peak = peak.join().unwrap();
    assert!(peak > 0, "the child's VmHWM was never read");
    (status, output.join().unwrap(), peak)
}

/// A running process's peak resident memory, in KiB (`VmHWM` in /proc/PID/status).
fn high_water_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: `pid` is our own child, not yet reaped; the pointer is valid for the call.
    let reaped = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(reaped, pid);
    if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -libc::WTERMSIG(status) }
}

const MAX_RSS_KIB: u64 = 512 * 1024;

#[test]
fn a_100_mb_line_is_rejected_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string(documented("ecs_endpoint.ndjson")).unwrap();
    let path = dir.path().join("long.ndjson");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    file.write_all(sample.as_bytes()).unwrap();
    file.write_all(b"{\"message\":\"").unwrap();
    let chunk = vec![b'A'; 1024 * 1024];
    for _ in 0..100 {
        file.write_all(&chunk).unwrap();
    }
    file.write_all(b"\"}\n").unwrap();
    file.write_all(sample.as_bytes()).unwrap();
    drop(file);
    let (code, out, rss) = ingest_measured(&dir.path().join("store"), &path, &["--format", "ecs"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("line is 104857614 bytes, longer than the limit"), "{out}");
    let records = sample.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(out.contains(&format!("{} records read", 2 * records + 1)), "{out}");
    assert!(rss < MAX_RSS_KIB, "peak RSS {rss} KiB");
}

#[test]
fn a_gzip_bomb_stops_at_the_ratio_limit_in_bounded_memory() {
    // 10 MiB of zeros deflate to about 10 KiB; 400 such members make a 4 MB file that would
    // inflate to 4 GiB.
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    member.write_all(&vec![0u8; 10 * 1024 * 1024]).unwrap();
    let member = member.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.ndjson.gz");
    std::fs::write(&path, member.repeat(400)).unwrap();
    let (code, out, rss) = ingest_measured(&dir.path().join("store"), &path, &["--format", "ecs"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("more than 1000:1 (a decompression bomb?)"), "{out}");
    assert!(rss < MAX_RSS_KIB, "peak RSS {rss} KiB");
}

/// A 1 GB file of one valid record repeated: every record stored, memory flat (about two
/// minutes in a debug build: the price of checking the bound on every run).
#[test]
fn a_gigabyte_of_one_repeated_record_is_stored_in_bounded_memory() {
    let line =
        std::fs::read_to_string(documented("ecs_endpoint.ndjson")).unwrap().lines().next().unwrap().to_string() + "\n";
    let copies = (1 << 30) / line.len() + 1;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repeated.ndjson");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for _ in 0..copies {
        file.write_all(line.as_bytes()).unwrap();
    }
    drop(file);
    let (code, out, rss) = ingest_measured(&dir.path().join("store"), &path, &["--format", "ecs"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("{copies} records read: {copies} stored")), "{out}");
    eprintln!("1 GiB of one record: peak RSS {} MiB", rss / 1024);
    assert!(rss < MAX_RSS_KIB, "peak RSS {rss} KiB");
}
