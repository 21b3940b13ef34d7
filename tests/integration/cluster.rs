//! The same hunts on an Apache Ballista cluster: `spoor cluster scheduler` and two `spoor cluster
//! executor`s, started by the test as child processes on free local ports, run the whole pack
//! over the demo scenario, from a store on disk and from one in S3 (moto's server, as in
//! `object_storage.rs`), and must find exactly what the same pack finds in-process.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A scheduler and its executors, stopped when dropped.
struct Cluster {
    processes: Vec<Child>,
    address: String,
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

impl Cluster {
    fn start(executors: usize, environment: &[(&str, String)]) -> Cluster {
        let spawn = |args: Vec<String>| {
            Command::new(env!("CARGO_BIN_EXE_spoor"))
                .args(args)
                .envs(environment.iter().map(|(k, v)| (k, v)))
                .env("RUST_LOG", "error")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let port = free_ports();
        let address = format!("df://127.0.0.1:{port}");
        let mut processes = vec![spawn(vec![
            "cluster".into(),
            "scheduler".into(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
        ])];
        wait_for_port(port);
        for _ in 0..executors {
            let own = free_ports();
            processes.push(spawn(vec![
                "cluster".into(),
                "executor".into(),
                "--scheduler".into(),
                address.clone(),
                "--port".into(),
                own.to_string(),
                "--slots".into(),
                "2".into(),
            ]));
            wait_for_port(own);
        }
        Cluster { processes, address }
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

/// The pack's findings as NDJSON lines, sorted.
fn findings(store: &str, cluster: Option<&str>, environment: &[(&str, String)]) -> Vec<String> {
    let mut args = vec!["pack", "run", "--pack", "hunts", "--store", store, "--format", "ndjson"];
    if let Some(address) = cluster {
        args.extend(["--cluster", address]);
    }
    let out = spoor(&args, environment);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !stderr.contains("error"), "pack run (cluster {cluster:?}): {stderr}");
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    lines.sort();
    lines
}

fn scenario(dir: &Path) -> String {
    let data = dir.join("data");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3").arg(root.join("scripts/scenario.py")).arg("--out").arg(&data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    data.display().to_string()
}

#[test]
fn the_pack_finds_on_a_cluster_of_two_executors_what_it_finds_in_process() {
    let work = tempfile::tempdir().unwrap();
    let data = scenario(work.path());
    let store = work.path().join("store").display().to_string();
    let ingested = spoor(&["ingest", &data, "--store", &store], &[]);
    assert!(ingested.status.success(), "{}", String::from_utf8_lossy(&ingested.stderr));

    let cluster = Cluster::start(2, &[]);
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
        let mut args =
            vec!["hunt", "hunts/c2/ioc-domain-or-ip.hunt", "--store", &store, "--iocs", &iocs, "--format", "csv"];
        if let Some(address) = cluster {
            args.extend(["--cluster", address]);
        }
        let out = spoor(&args, &[]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
        lines.sort();
        lines
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
    let data = scenario(work.path());
    let store = format!("{bucket}/store");
    let ingested = spoor(&["ingest", &data, "--store", &store], &environment);
    assert!(ingested.status.success(), "{}", String::from_utf8_lossy(&ingested.stderr));

    // The executors read the store themselves, with the credentials of their own environment.
    let cluster = Cluster::start(2, &environment);
    let local = findings(&store, None, &environment);
    assert!(local.len() > 40);
    assert_eq!(findings(&store, Some(&cluster.address), &environment), local);
}
