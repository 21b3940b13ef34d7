//! Hunt packs and job files read and write only where they are allowed to: a pack under its own
//! directory, a job file under its own and those given with `--allow`. A path out, by `..`, an
//! absolute path or a symbolic link, is refused with a message saying where it leads.

use crate::common;

use std::os::unix::fs::symlink;
use std::path::Path;

use common::spoor;

const HUNT: &str = "---\nid: t.lookups\ntitle: lookups\nseverity: low\n---\ndns | select dns.question.name\n";

/// A pack with one valid hunt, beside a secret it must not read.
fn pack_beside_a_secret(dir: &Path) -> std::path::PathBuf {
    let pack = dir.join("pack");
    std::fs::create_dir_all(pack.join("t")).unwrap();
    std::fs::write(pack.join("t/lookups.hunt"), HUNT).unwrap();
    std::fs::write(dir.join("secret.hunt"), "the secret's text\n").unwrap();
    std::fs::write(dir.join("secret.csv"), "type,value\ndomain,secret.example\n").unwrap();
    pack
}

fn docs(pack: &Path) -> (i32, String) {
    let (code, stdout, stderr) = spoor(&["pack", "docs", "--pack", pack.to_str().unwrap()]);
    (code, stdout + &stderr)
}

#[test]
fn a_pack_reads_no_file_outside_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_beside_a_secret(dir.path());
    assert_eq!(docs(&pack).0, 0, "{}", docs(&pack).1);

    // A hunt that is a link to a file outside.
    symlink(dir.path().join("secret.hunt"), pack.join("t/link.hunt")).unwrap();
    let (code, out) = docs(&pack);
    assert_ne!(code, 0);
    assert!(out.contains("hunt ") && out.contains("link.hunt (it leads to ") && out.contains("is outside"), "{out}");
    assert!(!out.contains("the secret's text"), "the file was not read: {out}");
    std::fs::remove_file(pack.join("t/link.hunt")).unwrap();

    // An indicator list that is a link to a file outside.
    std::fs::create_dir_all(pack.join("iocs")).unwrap();
    symlink(dir.path().join("secret.csv"), pack.join("iocs/list.csv")).unwrap();
    let (code, out) = docs(&pack);
    assert_ne!(code, 0);
    assert!(out.contains("indicator file ") && out.contains("is outside"), "{out}");
    std::fs::remove_file(pack.join("iocs/list.csv")).unwrap();

    // A directory linked to itself is walked once, not forever.
    symlink(&pack, pack.join("t/again")).unwrap();
    assert_eq!(docs(&pack).0, 0, "{}", docs(&pack).1);
}

#[test]
fn a_fixture_cannot_load_indicators_from_outside_its_pack() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_beside_a_secret(dir.path());
    std::fs::write(pack.join("t/lookups.slt"), "statement ok\niocs ../../secret.csv\n\nquery T\nhunt\n----\n").unwrap();
    let (code, stdout, stderr) = spoor(&["test", pack.to_str().unwrap()]);
    let out = stdout + &stderr;
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("iocs ") && out.contains("is outside") && out.contains("a test names only files under its pack"),
        "{out}"
    );
}

/// A job directory whose job file names `store`, `pack` and an ingest directory by the given
/// paths, with the rest of a valid job.
fn job_file(dir: &Path, store: &str, pack: &str, extra: &str) -> std::path::PathBuf {
    let job = dir.join("job.toml");
    std::fs::create_dir_all(dir.join("incoming")).unwrap();
    std::fs::write(&job, format!("store = \"{store}\"\npack = \"{pack}\"\n[ingest]\npaths = [\"incoming\"]\n{extra}"))
        .unwrap();
    job
}

fn run_job(job: &Path, allow: &[&Path]) -> (i32, String) {
    let mut args = vec!["job".to_string(), "run".into(), job.to_string_lossy().into_owned(), "--once".into()];
    for dir in allow {
        args.extend(["--allow".to_string(), dir.to_string_lossy().into_owned()]);
    }
    let (code, stdout, stderr) = spoor(&args.iter().map(String::as_str).collect::<Vec<_>>());
    (code, stdout + &stderr)
}

#[test]
fn a_job_file_names_only_allowed_paths() {
    let outside = tempfile::tempdir().unwrap();
    let pack = pack_beside_a_secret(outside.path());
    let dir = tempfile::tempdir().unwrap();
    let job_dir = dir.path().join("job");

    // The pack outside the job's directory: refused, then allowed.
    let job = job_file(&job_dir, "store", pack.to_str().unwrap(), "");
    let (code, out) = run_job(&job, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains(&format!("pack {} is outside", pack.display())) && out.contains("--allow <dir>"), "{out}");
    let (code, out) = run_job(&job, &[&pack]);
    assert_eq!(code, 0, "{out}");

    // A store reached by `..`, a sink written through a link: refused, even with the pack allowed.
    std::fs::create_dir_all(job_dir.join("p")).unwrap();
    std::fs::write(job_dir.join("p/lookups.hunt"), HUNT).unwrap();
    let job = job_file(&job_dir, "../elsewhere/store", "p", "");
    let (code, out) = run_job(&job, &[]);
    assert_eq!(code, 2);
    assert!(out.contains("store ") && out.contains("is outside"), "{out}");
    symlink(outside.path(), job_dir.join("out")).unwrap();
    let job = job_file(&job_dir, "store", "p", "[[sink]]\ntype = \"ndjson\"\npath = \"out/findings.ndjson\"\n");
    let (code, out) = run_job(&job, &[]);
    assert_eq!(code, 2);
    assert!(out.contains("sink ") && out.contains("(it leads to ") && out.contains("is outside"), "{out}");
}

#[test]
fn a_job_skips_input_files_that_link_outside() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("shadow.ndjson");
    std::fs::copy(common::documented("ecs_endpoint.ndjson"), &secret).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("p")).unwrap();
    std::fs::write(dir.path().join("p/lookups.hunt"), HUNT).unwrap();
    let job = job_file(dir.path(), "store", "p", "");
    symlink(&secret, dir.path().join("incoming/linked.ndjson")).unwrap();
    std::fs::copy(common::documented("bind_queries.log"), dir.path().join("incoming/bind.log")).unwrap();
    let (code, out) = run_job(&job, &[]);
    assert!(code == 0 || code == 1, "{out}");
    assert!(out.contains("input file ") && out.contains("linked.ndjson") && out.contains("is outside"), "{out}");
    let store = spoor::core::Store::open_existing(dir.path().join("store")).unwrap();
    let tables: Vec<&str> = store.tables().unwrap().iter().map(|t| t.name()).collect();
    assert_eq!(tables, ["dns"], "only the file inside was read");
}
