//! The format detector, on the first 64 KiB of a file as ingest reads them, under a few names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spoor_core::formats::detect::detect;

const NAMES: &[&str] = &["events.json", "dns.log", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "job.txt"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let head = &rest[..rest.len().min(64 * 1024)];
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).expect("valid up to there"),
    };
    let name = NAMES[selector as usize % NAMES.len()];
    let _ = detect(std::path::Path::new(name), text);
});
