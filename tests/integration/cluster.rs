//! The same hunts on an Apache Ballista cluster: `spoor cluster scheduler` and two `spoor cluster
//! executor`s, started by the test as child processes on free local ports, run the whole pack
//! over the demo scenario, from a store on disk and from one in S3 (moto's server, as in
//! `object_storage.rs`), and must find exactly what the same pack finds in-process; the
//! language's tests (`tests/language/*.slt`) and the pack's fixtures must give on it the rows
//! they hold.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A scheduler and its executors, stopped when dropped.
struct Cluster {
    processes: Vec<Child>,
    address: String,
    /// The processes' standard error: `scheduler.log`, `executor-1.log`, ...
    logs: tempfile::TempDir,
}

/// A free local port whose next port is free too (an executor takes two).
fn free_ports() -> u16 {
    loop {
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// How the processes find each other.
#[derive(Clone, Copy, PartialEq)]
enum Network {
    /// Executors known by IP address, clients fetching results from them.
    Direct,
    /// As in containers (`deploy/compose.yaml`): executors known by host name (listening on
    /// every interface), clients fetching results through the scheduler (`--proxy-results`).
    Proxied,
}

impl Cluster {
    fn start(executors: usize, environment: &[(&str, String)], network: Network) -> Cluster {
        let logs = tempfile::tempdir().unwrap();
        let spawn = |name: &str, args: Vec<String>| {
            let log = std::fs::File::create(logs.path().join(format!("{name}.log"))).unwrap();
            Command::new(env!("CARGO_BIN_EXE_spoor"))
                .args(args)
                .envs(environment.iter().map(|(k, v)| (k, v)))
                // Errors, and the scheduler giving up an executor.
                .env("RUST_LOG", "error,ballista_scheduler::state::executor_manager=info")
                // An executor's work directory (`spoor-executor-PORT` under the temporary
                // directory) goes with the test's own, not left behind in /tmp after the kill.
                .env("TMPDIR", logs.path())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap()
        };
        let port = free_ports();
        let address = format!("df://127.0.0.1:{port}");
        let mut scheduler: Vec<String> = vec![
            "cluster".into(),
            "scheduler".into(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
        ];
        let host = match network {
            Network::Direct => "127.0.0.1",
            Network::Proxied => {
                scheduler.push("--proxy-results".into());
                "localhost"
            }
        };
        let mut processes = vec![spawn("scheduler", scheduler)];
        wait_for_port(port);
        for n in 1..=executors {
            let own = free_ports();
            processes.push(spawn(
                &format!("executor-{n}"),
                vec![
                    "cluster".into(),
                    "executor".into(),
                    "--scheduler".into(),
                    address.clone(),
                    "--host".into(),
                    host.into(),
                    "--port".into(),
                    own.to_string(),
                    "--slots".into(),
                    "2".into(),
                ],
            ));
            wait_for_port(own);
        }
        Cluster { processes, address, logs }
    }

    /// What a process has written to standard error so far.
    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.logs.path().join(format!("{name}.log"))).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for process in &mut self.processes {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

fn wait_for_port(port: u16) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "nothing listens on {port} after 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spoor(args: &[&str], environment: &[(&str, String)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spoor")).args(args).envs(environment.iter().map(|(k, v)| (k, v))).output().unwrap()
}

/// The lines `spoor args` prints (with `--cluster` when given), sorted; it must succeed and
/// say no error.
fn sorted_output(args: &[&str], cluster: Option<&str>, environment: &[(&str, String)]) -> Vec<String> {
    let mut args = args.to_vec();
    args.extend(cluster.map(|address| ["--cluster", address]).into_iter().flatten());
    let out = spoor(&args, environment);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !stderr.contains("error"), "{args:?}: {stderr}");
    sorted_lines(&out.stdout)
}

fn sorted_lines(stdout: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8_lossy(stdout).lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// The pack's findings as NDJSON lines, sorted.
fn findings(store: &str, cluster: Option<&str>, environment: &[(&str, String)]) -> Vec<String> {
    sorted_output(&["pack", "run", "--pack", "hunts", "--store", store, "--format", "ndjson"], cluster, environment)
}

/// The demo scenario, with `fleet` more busy benign hosts (`scripts/scenario.py --fleet`).
fn scenario(dir: &Path, fleet: usize) -> String {
    let data = dir.join("data");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("scripts/scenario.py"))
        .arg("--out")
        .arg(&data)
        .arg("--fleet")
        .arg(fleet.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    data.display().to_string()
}

#[test]
fn the_pack_finds_on_a_cluster_of_two_executors_what_it_finds_in_process() {
    let work = tempfile::tempdir().unwrap();
    let data = scenario(work.path(), 0);
    let store = work.path().join("store").display().to_string();
    let ingested = spoor(&["ingest", &data, "--store", &store], &[]);
    assert!(ingested.status.success(), "{}", String::from_utf8_lossy(&ingested.stderr));

    let cluster = Cluster::start(2, &[], Network::Direct);
    let local = findings(&store, None, &[]);
    assert!(local.len() > 40, "the demo's attack is found in-process: {}", local.len());
    assert_eq!(findings(&store, Some(&cluster.address), &[]), local);

    // Rows, not only findings: a chain with `->>` (recursive: run in this process, whole), a
    // sequence, a beacon, a lookup of an IOC list (an in-memory table sent along) and
    // aggregates, each the same on the cluster as here.
    let hunts = [
        "chain node ->> (sh, bash, cmd.exe, powershell.exe) | select p1.host.name, p2.process.command_line | sort p1.host.name, p2.process.command_line",
        "process | stats n = count(), hosts = dc(host.name) by process.name | sort -n, process.name",
        "dns | beacon by host.name, dns.question.name | sort host.name, dns.question.name",
        "process | where process.command_line matches \"(?i)curl|wget\" | select host.name, process.command_line | sort host.name, process.command_line",
    ];
    for hunt in hunts {
        let run = |cluster: Option<&str>| {
            let mut args = vec!["hunt", "-e", hunt, "--store", &store, "--format", "csv"];
            if let Some(address) = cluster {
                args.extend(["--cluster", address]);
            }
            let out = spoor(&args, &[]);
            assert!(out.status.success(), "{hunt} (cluster {cluster:?}): {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let here = run(None);
        assert!(here.lines().count() > 1, "{hunt} finds rows in-process: {here}");
        assert_eq!(run(Some(&cluster.address)), here, "{hunt}");
    }

    // A hunt with IOCs: the list travels to the executors as an in-memory table.
    let iocs = Path::new(env!("CARGO_MANIFEST_DIR")).join("hunts/iocs").display().to_string();
    let lookup = |cluster: Option<&str>| {
        let args = ["hunt", "hunts/c2/ioc-domain-or-ip.hunt", "--store", &store, "--iocs", &iocs, "--format", "csv"];
        sorted_output(&args, cluster, &[])
    };
    let here = lookup(None);
    assert!(here.len() > 1);
    assert_eq!(lookup(Some(&cluster.address)), here);

    // Where the scheduler is not: a clear error, not rows from elsewhere.
    let nowhere = format!("df://127.0.0.1:{}", free_ports());
    let out = spoor(&["hunt", "-e", "process | stats n = count()", "--store", &store, "--cluster", &nowhere], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.1"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_cluster_hunts_a_store_in_s3_as_it_hunts_one_on_disk() {
    let s3 = crate::object_storage::S3Server::start();
    let bucket = s3.bucket("fleet");
    let environment = s3.environment();
    let work = tempfile::tempdir().unwrap();
    // A fleet larger than the demo's: the pack's tables span several files and partitions.
    let data = scenario(work.path(), 30);
    let store = format!("{bucket}/store");
    let ingested = spoor(&["ingest", &data, "--store", &store], &environment);
    assert!(ingested.status.success(), "{}", String::from_utf8_lossy(&ingested.stderr));

    // The executors read the store themselves, with the credentials of their own environment;
    // and they are set up as in containers, the client reaching only the scheduler.
    let cluster = Cluster::start(2, &environment, Network::Proxied);
    let local = findings(&store, None, &environment);
    assert!(local.len() > 40);
    assert_eq!(findings(&store, Some(&cluster.address), &environment), local);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_tests_and_the_packs_fixtures_give_their_rows_on_a_cluster() {
    use spoor::testing::{Mode, TestFile, files_in, run};
    let cluster = Cluster::start(2, &[], Network::Direct);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/language");
    let files = files_in(&dir).unwrap();
    assert!(files.len() >= 10, "the language's tests are found: {files:?}");
    let mut failed = Vec::new();
    for path in files {
        let test = TestFile { root: dir.clone(), path: path.clone(), hunt: None, iocs: Vec::new() };
        if let Err(e) = run(&test, &Mode::Cluster(cluster.address.clone())).await {
            failed.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(failed.is_empty(), "on the cluster:\n{}", failed.join("\n"));

    // SigmaHQ's regression suite as a pack: 202 rules, most of them sharing scans, which on a
    // cluster keep the rows there and compute the rules' marks here.
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store").display().to_string();
    let regression = root.join("tests/data/sigma/regression");
    let events = [regression.join("all_events_flat.jsonl"), regression.join("all_events.jsonl")];
    let mut args = vec!["ingest".to_string()];
    args.extend(events.iter().map(|e| e.display().to_string()));
    args.extend(["--store".into(), store.clone()]);
    let ingested = spoor(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert!(ingested.status.success(), "{}", String::from_utf8_lossy(&ingested.stderr));
    let rules = regression.join("rules").display().to_string();
    let sigma = |cluster: Option<&str>| {
        sorted_output(&["pack", "run", "--pack", &rules, "--store", &store, "--format", "ndjson"], cluster, &[])
    };
    let here = sigma(None);
    assert!(here.len() > 500, "the regression events match: {}", here.len());
    assert_eq!(sigma(Some(&cluster.address)), here);

    let out = spoor(&["test", "hunts", "--cluster", &cluster.address], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(" passed, 0 failed"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file under `dir` with its size: what a hunt must leave as it was.
fn listing(dir: &Path) -> Vec<(String, u64)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let metadata = entry.metadata().unwrap();
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                files.push((entry.path().display().to_string(), metadata.len()));
            }
        }
    }
    files.sort();
    files
}

#[test]
#[ignore = "a known defect: the run sometimes hangs (3 of 9 tries in session 25; docs/cluster.md)"]
fn an_executor_killed_during_a_pack_run_leaves_it_complete_or_failed_plainly_and_the_store_as_it_was() {
    let work = tempfile::tempdir().unwrap();
    let data = scenario(work.path(), 0);
    let store_dir = work.path().join("store");
    let store = store_dir.display().to_string();
    assert!(spoor(&["ingest", &data, "--store", &store], &[]).status.success());
    let local = findings(&store, None, &[]);
    let before = listing(&store_dir);

    let mut cluster = Cluster::start(2, &[], Network::Direct);
    let mut run = Command::new(env!("CARGO_BIN_EXE_spoor"))
        .args([
            "pack",
            "run",
            "--pack",
            "hunts",
            "--store",
            &store,
            "--format",
            "ndjson",
            "--cluster",
            &cluster.address,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A few of the pack's hunts in: one executor goes, as a machine does.
    std::thread::sleep(Duration::from_secs(3));
    let killed = cluster.processes.last_mut().unwrap();
    killed.kill().unwrap();
    killed.wait().unwrap();

    // Within the time the scheduler takes to give the executor up and run its tasks elsewhere.
    let started = Instant::now();
    while run.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(240) {
            let _ = run.kill();
            panic!("the pack run still runs 240 s after its executor was killed");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let scheduler = cluster.log("scheduler");
    assert!(scheduler.contains("Removing executor"), "the scheduler gave the killed executor up:\n{scheduler}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    if out.status.success() {
        assert_eq!(
            sorted_lines(&out.stdout),
            local,
            "completed on the executor left, it finds what runs in-process find"
        );
    } else {
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("error"), "a failed run says why: {stderr}");
    }
    assert_eq!(listing(&store_dir), before, "a hunt changes nothing in the store");

    // The executor left runs the next hunt alone.
    let after = findings(&store, Some(&cluster.address), &[]);
    assert_eq!(after, local);
}
