//! Ingest through the store's manifest: a file read before is skipped, a grown file is read from
//! where the last ingest stopped, an ingest killed at any step leaves a readable store and can be
//! run again without losing or duplicating a record, and two ingests at once do not collide.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{corpus, query, wait_for_stderr, walk};
use spoor::core::Store;

/// Three inputs of three formats; the first stores this many `dns` rows.
fn all_inputs() -> Vec<PathBuf> {
    vec![
        corpus("dns/zeek/apt29_day1_SCRANTON_dns.json"),
        corpus("dns/zeek/lsass_campaign01_metasploit_dns.log"),
        corpus("edr/mordor/cmd_bitsadmin_download_psh_script.json"),
    ]
}
const SCRANTON_DNS_ROWS: usize = 32;

fn count(store: &Path, table: &str) -> usize {
    let store = Store::open_existing(store).unwrap();
    if !store.tables().unwrap().iter().any(|t| t.name() == table) {
        return 0;
    }
    query(&store, &format!("SELECT count(*) FROM {table}"))[0][0].parse().unwrap()
}

/// Rows per table of ingesting everything once into a fresh store: what every test must end with.
fn expected() -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (code, out) = ingest(&store, &all_inputs());
    assert_eq!(code, 0, "{out}");
    (count(&store, "dns"), count(&store, "process"))
}

fn spoor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spoor"))
}

fn ingest(store: &Path, paths: &[PathBuf]) -> (i32, String) {
    let out = spoor().arg("ingest").args(paths).arg("--store").arg(store).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// Starts `spoor ingest` paused at `point` and waits until it gets there.
// The paused child is returned for the caller to kill and wait on.
#[allow(clippy::zombie_processes)]
fn ingest_until(store: &Path, paths: &[PathBuf], point: &str) -> Child {
    let mut child = spoor()
        .arg("ingest")
        .args(paths)
        .arg("--store")
        .arg(store)
        .env("SPOOR_TEST_PAUSE_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_stderr(&mut child, &format!("paused at {point}"));
    child
}

fn temporaries(store: &Path) -> Vec<PathBuf> {
    walk(store).into_iter().filter(|p| p.to_string_lossy().contains(".tmp-")).collect()
}

#[test]
fn a_file_ingested_before_is_skipped_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (dns, process) = expected();
    assert!(dns > 0 && process > 0);
    assert_eq!(ingest(&store, &all_inputs()).0, 0);

    // The same files again, and one of them copied under another name.
    let copy = dir.path().join("copy-of-scranton.json");
    std::fs::copy(&all_inputs()[0], &copy).unwrap();
    let mut again = all_inputs();
    again.push(copy);
    let (code, out) = ingest(&store, &again);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("already ingested").count(), 4, "{out}");
    assert!(out.contains("same content as "), "the copy names the file it repeats: {out}");
    assert_eq!((count(&store, "dns"), count(&store, "process")), (dns, process));

    // --again reads them whole regardless.
    let out = spoor().arg("ingest").arg(&all_inputs()[0]).arg("--store").arg(&store).arg("--again").output().unwrap();
    assert!(out.status.success());
    assert_eq!(count(&store, "dns"), dns + SCRANTON_DNS_ROWS);
}

#[test]
fn a_grown_file_is_read_from_where_the_last_ingest_stopped() {
    // A Zeek TSV log: the appended part has no `#fields` header of its own, so reading it needs
    // the header from the part read before.
    let whole = std::fs::read_to_string(corpus("dns/zeek/lsass_campaign01_metasploit_dns.log")).unwrap();
    let lines: Vec<&str> = whole.lines().collect();
    let cut = lines.len() / 2;
    assert!(
        lines[..cut].iter().any(|l| l.starts_with("#fields")) && !lines[cut..].iter().any(|l| l.starts_with("#fields"))
    );

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("dns.log");
    std::fs::write(&log, lines[..cut].join("\n") + "\n").unwrap();
    let store = dir.path().join("store");
    assert_eq!(ingest(&store, &[log.clone()]).0, 0);
    let first = count(&store, "dns");
    assert!(first > 0);

    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let (code, out) = ingest(&store, &[log.clone()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&"grew since ingest: read from byte".to_string()) && out.contains(&format!("(line {})", cut + 1)),
        "{out}"
    );

    // Row for row what one ingest of the whole file stores, with the same line numbers.
    let reference = dir.path().join("reference");
    let whole_file = dir.path().join("whole.log");
    std::fs::write(&whole_file, lines.join("\n") + "\n").unwrap();
    assert_eq!(ingest(&reference, &[whole_file]).0, 0);
    let rows = |store: &Path| {
        let store = Store::open_existing(store).unwrap();
        query(&store, r#"SELECT "log.file.line", "dns.question.name" FROM dns ORDER BY 1"#)
    };
    assert!(count(&store, "dns") > first);
    assert_eq!(rows(&store), rows(&reference));
}

#[test]
fn a_changed_file_is_read_again_whole() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("dns.json");
    let original = std::fs::read_to_string(&all_inputs()[0]).unwrap();
    std::fs::write(&log, &original).unwrap();
    let store = dir.path().join("store");
    assert_eq!(ingest(&store, &[log.clone()]).0, 0);
    // Same length, one character changed: not an append.
    std::fs::write(&log, original.replacen("SCRANTON", "scranton", 1)).unwrap();
    let (code, out) = ingest(&store, &[log]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("changed since it was last ingested: read again whole"), "{out}");
    assert_eq!(count(&store, "dns"), 2 * SCRANTON_DNS_ROWS);
}

#[test]
fn kill_9_at_any_step_of_an_ingest_loses_and_duplicates_nothing() {
    let (dns, process) = expected();
    // Files complete but not committed; committed, none visible; committed, one visible.
    for point in ["ingest-written", "ingest-recorded", "file-renamed"] {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let mut paused = ingest_until(&store, &all_inputs(), point);
        paused.kill().unwrap(); // SIGKILL
        paused.wait().unwrap();

        // Readable at once, and never half an ingest: all of it (committed) or nothing.
        let seen = (count(&store, "dns"), count(&store, "process"));
        let committed = point != "ingest-written";
        assert_eq!(seen, if committed { (dns, process) } else { (0, 0) }, "{point}");

        let (code, out) = ingest(&store, &all_inputs());
        assert_eq!(code, 0, "{point}: {out}");
        assert_eq!(out.contains("already ingested"), committed, "{point}: {out}");
        assert_eq!((count(&store, "dns"), count(&store, "process")), (dns, process), "{point}");
        assert!(temporaries(&store).is_empty(), "{point}: {:?}", temporaries(&store));
    }
}

#[test]
fn a_second_ingest_waits_for_the_first_and_survives_its_death() {
    let (dns, process) = expected();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let inputs = all_inputs();
    let mut first = ingest_until(&store, &inputs[..2], "ingest-written");

    // The second (overlapping: the first file is in both) waits for the lock...
    let mut second = spoor()
        .arg("ingest")
        .args(&inputs[1..])
        .arg("--store")
        .arg(&store)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_stderr(&mut second, "waiting for another ingest into this store");
    // ...and takes over when the first dies holding it: the first's uncommitted files go.
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(second.wait().unwrap().success());
    let (code, out) = ingest(&store, &inputs);
    assert_eq!(code, 0, "{out}");
    assert_eq!((count(&store, "dns"), count(&store, "process")), (dns, process));
    assert!(temporaries(&store).is_empty());
}

#[test]
fn concurrent_ingests_of_the_same_files_store_them_once() {
    let (dns, process) = expected();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let children: Vec<Child> = (0..3)
        .map(|_| {
            spoor()
                .arg("ingest")
                .args(all_inputs())
                .arg("--store")
                .arg(&store)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!((count(&store, "dns"), count(&store, "process")), (dns, process));
    let records = spoor::core::manifest::records(Store::open_existing(&store).unwrap().location()).unwrap();
    assert_eq!(records.len(), 1, "one ingest stored them, the others found them known");
}
