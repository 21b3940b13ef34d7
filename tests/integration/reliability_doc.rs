//! `docs/reliability.md` names, for each guarantee, the tests that hold it: every test it names
//! must exist, so a renamed or deleted test cannot leave a guarantee standing on nothing.

use std::path::Path;

#[test]
fn every_test_the_reliability_page_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("docs/reliability.md")).unwrap();
    let mut sources = String::new();
    for dir in ["tests", "python/tests", "core/src", "dsl/src", "src"] {
        collect(&root.join(dir), &mut sources);
    }
    let mut named = 0;
    for row in page.lines().filter(|l| l.starts_with('|')) {
        let Some(held_by) = row.trim_end_matches('|').rsplit('|').next() else { continue };
        for quoted in held_by.split('`').skip(1).step_by(2) {
            // `file.rs::test_name`, `test_name`: the name of a test function.
            let name = quoted.rsplit("::").next().unwrap_or(quoted);
            if !name.contains('_') || name.contains(' ') || name.contains('.') || name.contains('/') {
                continue;
            }
            named += 1;
            let defined = sources.contains(&format!("fn {name}(")) || sources.contains(&format!("def {name}("));
            assert!(defined, "docs/reliability.md names `{name}`, which no test defines");
        }
    }
    assert!(named >= 30, "only {named} tests named: is the page's table format still `| guarantee | held by |`?");
}

fn collect(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "py") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}
