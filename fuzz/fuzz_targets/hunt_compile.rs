//! Parse → resolve → lower to a DataFusion plan, against the real table schemas (empty tables):
//! any text either becomes a plan or is diagnosed.
#![no_main]

use std::sync::Arc;

use datafusion::datasource::{MemTable, provider_as_source};
use libfuzzer_sys::fuzz_target;
use spoor_dsl::catalog::Catalog;
use spoor_dsl::{ParamValues, RunOptions, Sources};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let Ok(resolved) = spoor_dsl::check(source, &Catalog::standard(), &ParamValues::new()) else { return };
    let mut sources = Sources::new();
    for (name, _) in resolved.hunt.query.scans() {
        let Some(table) = spoor_core::Table::from_name(&name) else { return };
        let empty = MemTable::try_new(table.schema(), vec![vec![]]).expect("a table's own schema");
        sources.insert(name, provider_as_source(Arc::new(empty)));
    }
    let options = RunOptions { now: chrono::DateTime::from_timestamp(1_774_000_000, 0).expect("valid"), window: None };
    let _ = spoor_dsl::lower(&resolved.hunt, &sources, &options);
});
