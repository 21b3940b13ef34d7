//! A store in an object store, against a real S3 API: moto's S3 server, started by each test on
//! a port of its own (`moto_server` from the Python package `moto[server]`, which `scripts/test`
//! installs; `SPOOR_MOTO_SERVER` names it, else it is looked up on the `PATH`). spoor runs as a
//! child process with the server's address and credentials in its environment, as a user's
//! shell would give them; the test process's own environment is left alone.
//!
//! What is checked: every command works on `s3://…` as on a directory and gives the same rows and
//! findings; an ingest killed at any step leaves a readable store, all or nothing, that the next
//! ingest completes without waiting out the dead writer's lease; two ingests at once commit once.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{corpus, wait_for_stderr};

/// moto's S3 server on a free local port, stopped when dropped.
pub(crate) struct S3Server {
    child: Child,
    endpoint: String,
}

impl S3Server {
    pub(crate) fn start() -> S3Server {
        let program = std::env::var("SPOOR_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{program}` ({e}): these tests need moto's S3 server \
                     (`pip install 'moto[server]'`, as scripts/test does), or SPOOR_MOTO_SERVER naming it"
                )
            });
        let server = S3Server { child, endpoint: format!("http://127.0.0.1:{port}") };
        let started = Instant::now();
        while ureq::get(&server.endpoint).call().is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "moto's S3 server did not answer in 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// A new bucket: each test's stores are its own.
    pub(crate) fn bucket(&self, name: &str) -> String {
        ureq::put(&format!("{}/{name}", self.endpoint)).send_empty().expect("the bucket is created");
        format!("s3://{name}")
    }

    /// Every key in `bucket` under `prefix`.
    fn keys(&self, bucket: &str, prefix: &str) -> BTreeSet<String> {
        let url = format!("{}/{bucket}?list-type=2&prefix={prefix}&max-keys=1000", self.endpoint);
        let text = ureq::get(&url).call().unwrap().into_body().read_to_string().unwrap();
        text.split("<Key>").skip(1).filter_map(|part| part.split("</Key>").next()).map(str::to_string).collect()
    }

    /// What a process needs in its environment to use this server.
    pub(crate) fn environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "spoor-test".into()),
            ("AWS_SECRET_ACCESS_KEY", "spoor-test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// `spoor` with this server as its S3 endpoint.
    fn spoor(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_spoor"));
        command.envs(self.environment());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.spoor().args(args).output().unwrap()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Runs `args` and returns its standard output, requiring success.
fn ok(out: Output, what: &str) -> String {
    assert!(out.status.success(), "{what}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Three inputs of three formats.
fn inputs() -> Vec<String> {
    [
        "dns/zeek/apt29_day1_SCRANTON_dns.json",
        "dns/zeek/lsass_campaign01_metasploit_dns.log",
        "edr/mordor/cmd_bitsadmin_download_psh_script.json",
    ]
    .iter()
    .map(|rel| corpus(rel).display().to_string())
    .collect()
}

fn ingest_args<'a>(inputs: &'a [String], store: &'a str) -> Vec<&'a str> {
    let mut args = vec!["ingest"];
    args.extend(inputs.iter().map(String::as_str));
    args.extend(["--store", store]);
    args
}

/// Rows per table, from `spoor hunt`.
fn counts(server: &S3Server, store: &str) -> (String, String) {
    let count = |table: &str| {
        let out =
            server.run(&["hunt", "-e", &format!("{table} | stats n = count()"), "--store", store, "--format", "csv"]);
        ok(out, "count").trim().to_string()
    };
    (count("dns"), count("process"))
}

fn scenario(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3").arg(root.join("scripts/scenario.py")).arg("--out").arg(&data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    data
}

#[test]
fn every_command_works_on_a_store_in_s3_as_on_disk() {
    let server = S3Server::start();
    let bucket = server.bucket("lake");
    let work = tempfile::tempdir().unwrap();
    let data = scenario(work.path());
    let data = data.to_str().unwrap();
    let local = work.path().join("store");
    let local = local.to_str().unwrap();
    let remote = format!("{bucket}/fleet/store");

    // A store that was never written is named as missing, not an error of the server.
    let missing = server.run(&["tables", "--store", &remote]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains(&format!("no store at {remote}")), "{}", text(&missing));

    let on_disk = ok(server.run(&["ingest", data, "--store", local]), "ingest to disk");
    let in_s3 = ok(server.run(&["ingest", data, "--store", &remote]), "ingest to s3");
    let summary =
        |out: &str| out.lines().find(|l| l.contains("records read")).map(|l| l.split(';').next().unwrap().to_string());
    assert_eq!(summary(&in_s3), summary(&on_disk));

    // Nothing under the prefix but committed Parquet files and the ingest's record.
    let keys = server.keys("lake", "fleet/store/");
    assert!(!keys.is_empty());
    for key in &keys {
        let committed = key.ends_with(".parquet") && !key.contains("/.tmp-");
        assert!(committed || key.starts_with("fleet/store/_manifest/"), "left behind: {key}");
    }

    assert_eq!(
        ok(server.run(&["tables", "--store", &remote]), "tables"),
        ok(server.run(&["tables", "--store", local]), "tables")
    );
    let pack = |store: &str| {
        let out = server.run(&["pack", "run", "--pack", "hunts", "--store", store, "--format", "ndjson"]);
        let mut findings: Vec<String> = ok(out, "pack run").lines().map(str::to_string).collect();
        findings.sort();
        findings
    };
    let findings = pack(&remote);
    assert!(findings.len() > 40, "the demo's attack is found: {} findings", findings.len());
    assert_eq!(findings, pack(local));
    let explain = ok(server.run(&["explain", "-e", "dns | stats count()", "--store", &remote]), "explain");
    assert!(explain.contains("TableScan: dns"), "{explain}");

    // Ingested before: skipped, as on disk.
    let again = ok(server.run(&["ingest", data, "--store", &remote]), "ingest again");
    assert!(again.contains("already ingested"), "{again}");
    assert!(again.contains(" 0 stored"), "{again}");
}

#[test]
fn an_ingest_killed_at_any_step_leaves_a_readable_store_that_the_next_completes() {
    let server = S3Server::start();
    let bucket = server.bucket("crash");
    let inputs = inputs();
    let reference = format!("{bucket}/reference");
    ok(server.run(&ingest_args(&inputs, &reference)), "reference ingest");
    let expected = counts(&server, &reference);

    for point in ["ingest-written", "ingest-recorded", "file-renamed"] {
        let store = format!("{bucket}/{point}");
        let mut paused = server
            .spoor()
            .args(ingest_args(&inputs, &store))
            .env("SPOOR_TEST_PAUSE_AT", point)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_stderr(&mut paused, &format!("paused at {point}"));

        if point == "ingest-written" {
            // The writer holds the store's lease: a second one waits, naming it, and goes on once
            // the first is killed (its process is gone, so its lease is not waited out).
            let mut second = server
                .spoor()
                .args(ingest_args(&inputs, &store))
                .stderr(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            wait_for_stderr(&mut second, "waiting for another ingest into this store");
            paused.kill().unwrap();
            paused.wait().unwrap();
            let started = Instant::now();
            let out = second.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", text(&out));
            assert!(started.elapsed() < Duration::from_secs(30), "the dead writer's lease was waited out");
        } else {
            paused.kill().unwrap();
            paused.wait().unwrap();
            // Committed before the kill: a reader sees all of it.
            assert_eq!(counts(&server, &store), expected, "after a kill at {point}");
            ok(server.run(&ingest_args(&inputs, &store)), "ingest after the kill");
        }
        assert_eq!(counts(&server, &store), expected, "after a kill at {point} and a second ingest");
        let keys = server.keys("crash", &format!("{point}/"));
        let left: Vec<&String> = keys.iter().filter(|k| k.contains("/.tmp-") || k.ends_with("/.lock")).collect();
        assert!(left.is_empty(), "after a kill at {point}: {left:?}");
    }
}

#[test]
fn two_ingests_at_once_into_one_prefix_commit_once() {
    let server = S3Server::start();
    let bucket = server.bucket("race");
    let inputs = inputs();
    let store = format!("{bucket}/store");
    let children: Vec<Child> = (0..2)
        .map(|_| {
            server
                .spoor()
                .args(ingest_args(&inputs, &store))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let records: Vec<String> =
        server.keys("race", "store/_manifest/").into_iter().filter(|k| k.ends_with(".json")).collect();
    assert_eq!(records.len(), 1, "one ingest stored them, the other found them known: {records:?}");
    let reference = format!("{bucket}/reference");
    ok(server.run(&ingest_args(&inputs, &reference)), "reference ingest");
    assert_eq!(counts(&server, &store), counts(&server, &reference));
}

#[test]
fn a_job_ingests_into_and_hunts_a_store_in_s3() {
    let server = S3Server::start();
    let bucket = server.bucket("jobs");
    let work = tempfile::tempdir().unwrap();
    let data = scenario(work.path());
    let hunts = Path::new(env!("CARGO_MANIFEST_DIR")).join("hunts");
    let job = work.path().join("axios.toml");
    let file = format!(
        "store = '{bucket}/store'\npack = '{}'\nevery = '1h'\n[ingest]\npaths = ['{}']\n[[sink]]\ntype = 'ndjson'\npath = 'findings.ndjson'\n",
        hunts.display(),
        data.display()
    );
    std::fs::write(&job, file).unwrap();
    let run = || server.spoor().args(["job", "run", "--once", "--allow", "/"]).arg(&job).output().unwrap();
    let first = run();
    assert_eq!(first.status.code(), Some(1), "new findings: {}", text(&first));
    let findings = std::fs::read_to_string(work.path().join("findings.ndjson")).unwrap();
    assert!(findings.lines().count() > 40, "{findings}");
    let keys = server.keys("jobs", "store/_manifest/");
    assert_eq!(keys.iter().filter(|k| k.ends_with(".json")).count(), 1, "one ingest: {keys:?}");
    assert!(keys.iter().all(|k| k.ends_with(".json") || k.ends_with(".placed")), "{keys:?}");
    let second = run();
    assert_eq!(second.status.code(), Some(0), "nothing new: {}", text(&second));
}

#[test]
fn keys_region_and_endpoint_come_from_an_aws_profile_as_the_aws_cli_reads_them() {
    let server = S3Server::start();
    let bucket = server.bucket("profiled");
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        "[lake]\naws_access_key_id = spoor-test\naws_secret_access_key = spoor-test\n",
    )
    .unwrap();
    // The endpoint too: without it, the client would go to AWS itself, which this machine cannot reach.
    let config = format!(
        "[profile lake]\nregion = us-east-1\nendpoint_url = {}\n[profile sso]\nsso_session = corp\n",
        server.endpoint
    );
    std::fs::write(aws.join("config"), config).unwrap();
    let spoor = |profile: &str, args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_spoor"));
        for (name, _) in server.environment() {
            command.env_remove(name);
        }
        command.env("HOME", home.path()).env("AWS_PROFILE", profile).args(args).output().unwrap()
    };
    let store = format!("{bucket}/store");
    let inputs = inputs();
    ok(spoor("lake", &ingest_args(&inputs, &store)), "ingest with the profile's keys and endpoint");
    let tables = ok(spoor("lake", &["tables", "--store", &store]), "tables");
    assert!(tables.contains("dns") && tables.contains("process"), "{tables}");

    let sso = spoor("sso", &["tables", "--store", &store]);
    assert_eq!(sso.status.code(), Some(2));
    assert!(text(&sso).contains("aws configure export-credentials --profile sso"), "{}", text(&sso));
    let missing = spoor("nope", &["tables", "--store", &store]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("AWS_PROFILE is `nope`"), "{}", text(&missing));
}
