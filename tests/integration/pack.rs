//! The hunt pack in `hunts/`: every hunt checks, has fixtures, and its fixtures pass; the
//! generated reference (`docs/hunts.md`) matches the hunts' headers.
//!
//! `SPOOR_BLESS=1 cargo test --test integration pack::` rewrites docs/hunts.md (review the diff).

use std::path::Path;

fn pack_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("hunts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hunt_passes_its_fixtures() {
    let pack = spoor::pack::load(&pack_dir()).unwrap_or_else(|e| panic!("{e}"));
    assert!(pack.hunts.len() >= 14, "the pack has {} hunts", pack.hunts.len());
    let results = spoor::pack::test(&pack, None, &spoor::testing::Mode::Check).await;
    let failures: Vec<String> =
        results.iter().filter_map(|r| r.result.as_ref().err().map(|e| format!("{}: {e}", r.hunt.id()))).collect();
    assert_eq!(results.len(), pack.hunts.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_hunt_has_the_metadata_the_reference_needs() {
    let pack = spoor::pack::load(&pack_dir()).unwrap_or_else(|e| panic!("{e}"));
    for h in &pack.hunts {
        let m = &h.meta;
        let missing: Vec<&str> = [
            ("description", m.description.is_none()),
            ("confidence", m.confidence.is_none()),
            ("attack", m.attack.is_empty()),
            ("tables", m.tables.is_empty()),
            ("false_positives", m.false_positives.is_empty()),
            ("references", m.references.is_empty()),
            ("version", m.version.is_none()),
        ]
        .into_iter()
        .filter_map(|(k, missing)| missing.then_some(k))
        .collect();
        assert!(missing.is_empty(), "{} lacks {}", h.path.display(), missing.join(", "));
        let family = h.path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or_default();
        assert!(h.id().starts_with(&format!("{family}.")), "{}: the id should start with `{family}.`", h.id());
    }
}

#[test]
fn docs_hunts_md_matches_the_pack() {
    let pack = spoor::pack::load(&pack_dir()).unwrap_or_else(|e| panic!("{e}"));
    let generated = spoor::pack::markdown(&pack);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/hunts.md");
    if std::env::var_os("SPOOR_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == generated,
        "docs/hunts.md is stale: run `SPOOR_BLESS=1 cargo test --test integration pack::` (or `spoor pack docs`)"
    );
}
