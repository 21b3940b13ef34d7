//! The `spoor` command as a user runs it: exit codes, the ingest summary, the tables listing.

use crate::common;

use common::spoor;

fn data(rel: &str) -> String {
    format!("{}/tests/data/{rel}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn ingest_then_tables() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let store = store.to_str().unwrap();
    let (code, out, err) =
        spoor(&["ingest", &data("corpus/dns/zeek"), &data("documented/ecs_endpoint.ndjson"), "--store", store]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("rejected      1 × no valid @timestamp (first at line 9)"), "{out}");
    assert!(out.contains("records read"), "{out}");
    assert!(out.contains("Rejected records are kept with their reasons in the `_rejects` table."), "{out}");

    let (code, out, _) = spoor(&["tables", "--store", store]);
    assert_eq!(code, 0);
    let dns = out.lines().find(|l| l.starts_with("dns ")).unwrap();
    assert!(dns.contains(" 529 "), "{dns}");
    assert!(out.lines().any(|l| l.starts_with("_rejects ")), "{out}");
}

#[test]
fn errors_name_the_problem_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let store = store.to_str().unwrap();
    let (code, _, err) =
        spoor(&["ingest", &data("documented/ecs_endpoint.ndjson"), "--store", store, "--format", "etw"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown format `etw`; one of: auto, windows, evtx,"), "{err}");

    let (code, out, _) =
        spoor(&["ingest", &data("documented/ecs_endpoint.ndjson"), "--store", store, "--format", "evtx"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ecs_endpoint.ndjson: not a readable EVTX file: EVTX:"), "{out}");

    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "dear diary\n").unwrap();
    let (code, out, _) = spoor(&["ingest", notes.to_str().unwrap(), "--store", store]);
    assert_eq!(code, 1, "a file that could not be read makes the run fail");
    assert!(out.contains("notes.txt: format not recognised from its content"), "{out}");

    let (code, _, err) = spoor(&["tables", "--store", dir.path().join("nowhere").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no store at"), "{err}");

    let (code, _, err) = spoor(&[
        "ingest",
        &data("documented/acme_edr.ndjson"),
        "--store",
        store,
        "--mapping",
        &data("documented/missing.toml"),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.toml"), "{err}");
}

#[test]
fn a_closed_pipe_ends_a_hunt_quietly_and_an_empty_table_is_named() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let store = store.to_str().unwrap();
    let (code, out, err) = spoor(&["ingest", &data("windows/evtx/sysmon.evtx.zst"), "--store", store]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("(first at record 0)"), "EVTX rejects are placed by record: {out}");

    // `spoor hunt ... | head`: the reader is gone before the first row is written.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spoor"))
        .args(["hunt", "-e", "windows | select event.code, winlog.event_data", "--store", store])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "ended by SIGPIPE, as `cat` would be: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let (code, _, err) = spoor(&["hunt", "-e", "service | where service.name == 'x'", "--store", store]);
    assert_eq!(code, 0);
    assert!(err.contains("warning: the store has no rows in `service`"), "{err}");
}

/// Shell completions and the man page come from the same definitions as `--help`: every
/// subcommand is in them.
#[test]
fn completions_and_the_man_page_name_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, script, stderr) = common::spoor(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {stderr}");
        for command in ["ingest", "hunt", "pack", "check", "explain", "job"] {
            assert!(script.contains(command), "{shell} completes {command}");
        }
    }
    let (code, _, stderr) = common::spoor(&["completions", "tcsh"]);
    assert_eq!(code, 2, "an unknown shell is a usage error");
    assert!(stderr.contains("possible values"), "{stderr}");
    let (code, page, _) = common::spoor(&["man"]);
    assert_eq!(code, 0);
    assert!(page.starts_with(".ie") && page.contains(".TH spoor 1"), "roff: {page}");
    assert!(page.contains("ingest") && page.contains("completions"), "{page}");
}
