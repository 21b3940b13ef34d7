//! The IOC loaders: CSV, JSON rows, STIX 2.1 bundles and OSV advisories, chosen as `--iocs` files
//! are, by extension and content.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &["iocs.csv", "iocs.json", "bundle.json", "MAL-2026-1.json", "iocs.txt"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let name = NAMES[selector as usize % NAMES.len()];
    let _ = spoor_core::iocs::parse(std::path::Path::new(name), text);
});
