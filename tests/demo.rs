//! The demo scenario (`scripts/scenario.py`), ingested and hunted with the whole pack: the test
//! holds exactly which findings it must give, hunt by hunt, with the hosts, packages and users
//! involved. Every finding is part of the attack; the benign fleet around it gives none.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use chrono::Utc;
use spoor::core::{IngestOptions, Store};
use spoor::dsl::{ParamValues, RunOptions};
use spoor::pack::{Outcome, RunConfig};

/// (hunt, number of findings, the entity values the findings name: hosts, else packages, else users)
const EXPECTED: &[(&str, usize, &[&str])] = &[
    ("account.email-change-then-publish", 1, &["axios@1.14.1"]),
    ("account.mfa-or-token-before-publish", 1, &["axios@1.14.1"]),
    ("account.publisher-changed", 1, &["axios"]),
    ("c2.beaconing", 3, &["ci-runner-3", "dev-laptop-07", "win-build-2"]),
    ("c2.ioc-domain-or-ip", 10, &["ci-runner-3", "dev-laptop-07", "win-build-2"]),
    ("c2.new-domain-after-install", 1, &["ci-runner-3"]),
    ("install.fresh-version-installed", 2, &["ci-runner-3"]),
    (
        "install.known-bad-package",
        8,
        &["axios@0.30.4", "axios@1.14.1", "ci-runner-3", "dev-laptop-07", "plain-crypto-js@4.2.1"],
    ),
    ("install.new-dependency-with-install-script", 2, &["axios"]),
    ("process.dropper-hash", 5, &["ci-runner-3", "dev-laptop-07", "win-build-2"]),
    ("process.install-script-downloader", 3, &["ci-runner-3", "dev-laptop-07", "win-build-2"]),
    ("process.node-spawns-encoded-command", 1, &["win-build-2"]),
    ("process.payload-artifact", 5, &["ci-runner-3", "dev-laptop-07", "win-build-2"]),
    ("process.persistence-from-install", 3, &["ci-runner-3", "win-build-2"]),
    ("process.script-self-deletes", 3, &["ci-runner-3", "dev-laptop-07", "win-build-2"]),
];

/// Hunts that must stay silent on the demo (their near misses are in it).
const SILENT: &[&str] = &["c2.rare-domains"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pack_finds_the_whole_attack_and_nothing_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().expect("a temporary directory");
    let data = work.path().join("data");
    let generated = Command::new("python3")
        .arg(root.join("scripts/scenario.py"))
        .arg("--out")
        .arg(&data)
        .output()
        .expect("python3 runs scripts/scenario.py (the README lists Python 3 as a requirement)");
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));

    let store = Store::open(work.path().join("store")).expect("a store");
    let summary = spoor::core::ingest(&store, &[data], &IngestOptions::default(), &spoor::core::ingest::Quiet)
        .expect("the demo ingests");
    assert_eq!(summary.total(|f| f.rejected), 0, "the demo's logs are all well formed");

    let pack = spoor::pack::load(&root.join("hunts")).unwrap_or_else(|e| panic!("{e}"));
    let config = RunConfig {
        iocs: Vec::new(),
        params: ParamValues::new(),
        options: RunOptions { now: Utc::now(), window: None },
    };
    let runs = spoor::pack::run_store(&pack, &store, &config).await.expect("the pack runs");

    let mut found: BTreeMap<&str, (usize, BTreeSet<String>)> = BTreeMap::new();
    for run in &runs {
        match &run.outcome {
            Outcome::Ran { findings, .. } if !findings.is_empty() => {
                let entities = findings
                    .iter()
                    .filter_map(|f| {
                        let e = &f.entities;
                        e.get("host").or_else(|| e.get("package")).or_else(|| e.get("user")).cloned()
                    })
                    .collect();
                found.insert(run.hunt.id(), (findings.len(), entities));
            }
            Outcome::Ran { .. } => {}
            Outcome::Skipped { missing } => panic!("{} was skipped: no data in {}", run.hunt.id(), missing.join(", ")),
            Outcome::Failed(e) => panic!("{} failed: {e}", run.hunt.id()),
        }
    }
    let expected: BTreeMap<&str, (usize, BTreeSet<String>)> = EXPECTED
        .iter()
        .map(|(hunt, n, entities)| (*hunt, (*n, entities.iter().map(|e| e.to_string()).collect())))
        .collect();
    assert_eq!(found, expected);
    for hunt in SILENT {
        assert!(pack.hunts.iter().any(|h| h.id() == *hunt), "{hunt} is in the pack");
        assert!(!found.contains_key(hunt));
    }
    assert_eq!(pack.hunts.len(), EXPECTED.len() + SILENT.len(), "every hunt is accounted for");
}
