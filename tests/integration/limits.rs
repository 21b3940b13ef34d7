//! Query memory limits (`--memory-limit`, `memory_limit` in Python and job files): within a
//! workable limit a hunt gives the same rows as without one; under a limit too small for it, it
//! fails with a message that says what to do, and a bad size is named.

use crate::common;

use std::path::Path;

fn demo_store() -> common::Ingested {
    common::ingest_files(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/job/incoming/demo/edr")])
}

const SORT: &str =
    "network | sort destination.ip, @timestamp, source.port | select host.name, destination.ip, source.port";
const STATS: &str = "network | stats n = count() by host.name, destination.ip, source.port | sort n, host.name, destination.ip, source.port";

#[test]
fn a_workable_limit_gives_the_same_rows() {
    let demo = demo_store();
    let store = demo.store.root().to_str().unwrap();
    for hunt in [SORT, STATS] {
        let (code, unlimited, stderr) = common::spoor(&["hunt", "-e", hunt, "--store", store, "--format", "ndjson"]);
        assert_eq!(code, 0, "{stderr}");
        let (code, limited, stderr) =
            common::spoor(&["hunt", "-e", hunt, "--store", store, "--format", "ndjson", "--memory-limit", "4MiB"]);
        assert_eq!(code, 0, "{stderr}");
        assert!(unlimited.lines().count() > 90);
        assert_eq!(limited, unlimited);
    }
}

#[test]
fn too_small_a_limit_is_a_clear_error_not_a_crash() {
    let demo = demo_store();
    let store = demo.store.root().to_str().unwrap();
    for hunt in [SORT, STATS] {
        let (code, _, stderr) = common::spoor(&["hunt", "-e", hunt, "--store", store, "--memory-limit", "1KiB"]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("the hunt needs more memory than its limit allows: raise the limit"), "{stderr}");
        assert!(stderr.contains("pool_size: 1024.0 B"), "{stderr}");
    }
    let (code, _, stderr) = common::spoor(&["hunt", "-e", SORT, "--store", store, "--memory-limit", "lots"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("memory limit `lots`: expected a size such as 512MiB or 2GiB"), "{stderr}");
}

#[test]
fn sizes_read_as_people_write_them() {
    use spoor::core::session::Limits;
    assert_eq!(Limits::parse_size("512MiB"), Ok(512 * 1024 * 1024));
    assert_eq!(Limits::parse_size("2GB"), Ok(2_000_000_000));
    assert_eq!(Limits::parse_size("1.5 GiB"), Ok(1_610_612_736));
    assert_eq!(Limits::parse_size("4096"), Ok(4096));
    assert!(Limits::parse_size("0").is_err());
    assert!(Limits::parse_size("12 parsecs").unwrap_err().contains("unknown unit"));
}

/// Three steps over every process and connection of a host: tens of seconds in a debug build.
const SLOW: &str = "sequence by host.name within 30d\n  a: process where process.pid > 0\n  b: network where destination.port > 0\n  c: process where process.pid > 0\n| stats n = count()";

#[test]
fn a_hunt_past_its_time_limit_is_stopped_with_a_clear_error() {
    let demo = demo_store();
    let store = demo.store.root().to_str().unwrap();
    let started = std::time::Instant::now();
    let (code, _, stderr) = common::spoor(&["hunt", "-e", SLOW, "--store", store, "--timeout", "1s"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("the hunt ran longer than its time limit of 1s and was stopped"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "stopped promptly: {:?}", started.elapsed());
    let (code, _, stderr) = common::spoor(&["hunt", "-e", SLOW, "--store", store, "--timeout", "soon"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("timeout `soon`"), "{stderr}");
}

#[test]
fn ctrl_c_stops_a_hunt_promptly_and_leaves_the_store_as_it_was() {
    let demo = demo_store();
    let before: Vec<_> =
        common::walk(demo.store.root()).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_spoor"))
        .args(["hunt", "-e", SLOW, "--store", demo.store.root().to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    let interrupted = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(interrupted.elapsed() < std::time::Duration::from_secs(10), "took {:?}", interrupted.elapsed());
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted: stopped; the store is unchanged"));
    let after: Vec<_> =
        common::walk(demo.store.root()).into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect();
    assert_eq!(before, after);
}
