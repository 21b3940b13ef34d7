//! File-driven tests of the hunting language: each file in `tests/language/` loads events, runs
//! hunts and holds the rows (or the error) each must give. The format and its statements are
//! described in `spoor::testing`.
//!
//! `SPOOR_BLESS=1 cargo test --test language` rewrites the expected results (sqllogictest's
//! `--complete`); review the diff before committing it.

use std::path::Path;

use spoor::testing::{Mode, TestFile, files_in, run};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mode = if std::env::var_os("SPOOR_BLESS").is_some() { Mode::Bless } else { Mode::Check };
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut failed = Vec::new();
    let mut passed = 0;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/language");
    for path in files_in(&dir).expect("tests/language is read") {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        match run(&TestFile { root: path.parent().unwrap().to_path_buf(), path, hunt: None, iocs: Vec::new() }, &mode)
            .await
        {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(e) => {
                println!("test {name} ... FAILED\n{e}");
                failed.push(name);
            }
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len()
    );
    if !failed.is_empty() || passed == 0 {
        std::process::exit(1);
    }
}
