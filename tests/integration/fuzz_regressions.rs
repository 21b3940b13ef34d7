//! Every input a fuzz target ever crashed on (`tests/data/fuzz/<target>/`, copied from
//! `fuzz/artifacts/`), replayed through the real code path: through ingest for the parsers,
//! through check and planning for the language. Each input's first byte means what it means to
//! its fuzz target (`fuzz/fuzz_targets/`): the format for `ingest_records`, the file name for
//! `load_iocs`.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use spoor::core::Format;
use spoor::core::formats::mapping::Mapping;
use spoor::core::ingest::IngestOptions;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut out: Vec<(PathBuf, Vec<u8>)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn ingest_records_crashes_are_ingested_and_accounted_for() {
    for (path, data) in inputs("ingest_records") {
        let Some((&selector, rest)) = data.split_first() else { continue };
        let format = Format::ALL[selector as usize % Format::ALL.len()];
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("input");
        std::fs::write(&file, rest).unwrap();
        let mapping = (format == Format::Mapped).then(|| Mapping::load(&common::documented("acme_edr.toml")).unwrap());
        // `ingest_with` checks that every record read was stored, skipped or rejected.
        let ingested =
            common::ingest_with(&[file], IngestOptions { format: Some(format), mapping, ..Default::default() });
        assert!(ingested.summary.files[0].read > 0 || ingested.summary.files[0].error.is_some(), "{}", path.display());
    }
}

const IOC_NAMES: &[&str] = &["iocs.csv", "iocs.json", "bundle.json", "MAL-2026-1.json", "iocs.txt"];

#[test]
fn load_iocs_crashes_are_errors_or_indicators() {
    for (_, data) in inputs("load_iocs") {
        let Some((&selector, rest)) = data.split_first() else { continue };
        let Ok(text) = std::str::from_utf8(rest) else { continue };
        let _ = spoor::core::iocs::parse(Path::new(IOC_NAMES[selector as usize % IOC_NAMES.len()]), text);
    }
}

#[test]
fn hunt_crashes_are_diagnosed_or_planned() {
    use datafusion::datasource::{MemTable, provider_as_source};
    use spoor::dsl::catalog::Catalog;
    let hunts = inputs("hunt_parse").into_iter().chain(inputs("hunt_compile"));
    for (path, data) in hunts {
        let Ok(source) = std::str::from_utf8(&data) else { continue };
        let Ok(resolved) = spoor::dsl::check(source, &Catalog::standard(), &Default::default()) else { continue };
        let mut sources = spoor::dsl::Sources::new();
        for (name, _) in resolved.hunt.query.scans() {
            let table = spoor::core::Table::from_name(&name).unwrap();
            let empty = MemTable::try_new(table.schema(), vec![vec![]]).unwrap();
            sources.insert(name, provider_as_source(Arc::new(empty)));
        }
        let options = spoor::dsl::RunOptions { now: chrono::Utc::now(), window: None };
        let planned = spoor::dsl::lower(&resolved.hunt, &sources, &options);
        assert!(planned.is_ok(), "{}: {planned:?}", path.display());
    }
}
