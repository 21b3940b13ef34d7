//! The language under abuse: hunts built to exhaust the stack, the memory or the time of the
//! process get a diagnostic, never a crash; big but reasonable ones run. Each runs the real
//! `spoor` binary, the way a pack's hunt runs.

use crate::common;

use std::path::Path;

fn demo_store() -> common::Ingested {
    common::ingest_files(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/job/incoming/demo/edr")])
}

/// Runs `spoor <command> <hunt file>` (`--store` added for `hunt`): exit code, stdout, stderr.
fn run(command: &str, hunt: &str, store: Option<&Path>) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("abuse.hunt");
    std::fs::write(&file, hunt).unwrap();
    let mut args = vec![command.to_string(), file.to_string_lossy().into_owned()];
    if let Some(store) = store {
        args.extend(["--store".to_string(), store.to_string_lossy().into_owned(), "--format".into(), "csv".into()]);
    }
    common::spoor(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn assert_diagnosed(hunt: &str, code: &str, message: &str) {
    let (exit, _, stderr) = run("check", hunt, None);
    assert_eq!(exit, 1, "{stderr}");
    assert!(stderr.contains(&format!("error[{code}]")) && stderr.contains(message), "{stderr}");
}

fn let_chain(n: usize) -> String {
    let mut hunt: String = (0..n)
        .map(|i| {
            let input = if i == 0 { "process".to_string() } else { format!("t{}", i - 1) };
            format!("let t{i} = ({input} | where process.pid > 1)\n")
        })
        .collect();
    hunt.push_str(&format!("t{}\n", n - 1));
    hunt
}

#[test]
fn ten_thousand_nested_parentheses_are_a_diagnostic() {
    let hunt = format!("process | where {}process.pid == 1{}\n", "(".repeat(10_000), ")".repeat(10_000));
    assert_diagnosed(&hunt, "E009", "expression nested more than 64 levels deep");
    let hunt = format!("process | where {}process.pid == 1\n", "not ".repeat(10_000));
    assert_diagnosed(&hunt, "E009", "nested more than 64 levels deep");
}

#[test]
fn deep_and_exponential_let_definitions_are_diagnostics() {
    assert_diagnosed(&let_chain(3000), "E009", "`let` definitions use one another more than 128 levels deep");
    // Each definition uses the one before twice: 2^25 copies if expanded.
    let mut hunt = String::from("let a0 = (process | select n = process.name)\n");
    for i in 1..26 {
        hunt.push_str(&format!("let a{i} = (a{} | lookup a{} as x{i} on n = n | select n)\n", i - 1, i - 1));
    }
    hunt.push_str("a25\n");
    // Stopped by the expansion limit or, first, by the size of what was expanded.
    assert_diagnosed(&hunt, "E009", "");
}

#[test]
fn too_many_stages_or_operators_are_diagnostics() {
    let hunt = format!("process{}\n", " | limit 1000".repeat(5000));
    assert_diagnosed(&hunt, "E009", "the query nests 5001 stages deep, more than 128");
    let terms: Vec<String> = (0..10_000).map(|i| format!("process.pid != {i}")).collect();
    let hunt = format!("process | where {}\n", terms.join(" and "));
    assert_diagnosed(&hunt, "E009", "more than 2048 field names, operators and calls");
}

#[test]
fn hunts_just_inside_the_limits_run() {
    let demo = demo_store();
    let store = demo.store.root();
    let expected = common::query(&demo.store, "select count(*) from process where \"process.pid\" > 1")[0][0].clone();
    let stages = format!("process{} | stats n = count()\n", " | where process.pid > 1".repeat(126));
    // 500 comparisons and their `and`s: near the expression limit.
    let terms: Vec<String> = (0..500).map(|i| format!("process.pid != {}", 1_000_000 + i)).collect();
    let operators = format!("process | where process.pid > 1 and {} | stats n = count()\n", terms.join(" and "));
    for hunt in [let_chain(126).replace("t125\n", "t125 | stats n = count()\n"), stages, operators] {
        let (exit, stdout, stderr) = run("hunt", &hunt, Some(store));
        assert_eq!(exit, 0, "{stderr}");
        assert_eq!(stdout.lines().nth(1), Some(expected.as_str()), "{stdout}");
    }
}

#[test]
fn an_in_list_of_100_000_values_works() {
    let demo = demo_store();
    let mut values: Vec<String> = (0..100_000).map(|i| format!("\"name-{i}\"")).collect();
    values.push("\"curl\"".into());
    let hunt = format!("process | where process.name in ({}) | stats n = count()\n", values.join(", "));
    let (exit, stdout, stderr) = run("hunt", &hunt, Some(demo.store.root()));
    assert_eq!(exit, 0, "{stderr}");
    let expected =
        common::query(&demo.store, "select count(*) from process where \"process.name\" = 'curl'")[0][0].clone();
    assert_ne!(expected, "0");
    assert_eq!(stdout.lines().nth(1), Some(expected.as_str()), "{stdout}");
}

#[test]
fn regexes_past_the_size_limit_are_diagnostics() {
    assert_diagnosed("process | where process.command_line matches 'a{1000}{1000}'\n", "E007", "");
    let nested = format!("process | where process.command_line matches '{}a{}'\n", "(".repeat(300), ")".repeat(300));
    assert_diagnosed(&nested, "E007", "");
}

#[test]
fn unknown_functions_and_wrong_arities_are_diagnosed_together() {
    let (exit, _, stderr) =
        run("check", "process | where frobnicate(process.name) and lower(process.name, 2) == \"x\"\n", None);
    assert_eq!(exit, 1);
    assert!(stderr.contains("error[E005]") && stderr.contains("frobnicate"), "{stderr}");
    assert!(stderr.contains("error[E006]") && stderr.contains("usage: lower(text)"), "{stderr}");
}

#[test]
fn a_sequence_over_a_huge_fan_out_stays_within_the_memory_limit() {
    // Every network event follows every process event of its host: a fan-out of thousands per
    // host. Under a small limit the hunt must either finish or say it needs more memory.
    let demo = demo_store();
    let hunt = "sequence by host.name within 30d\n  a: process where process.pid > 0\n  b: network where destination.port > 0\n| stats n = count()\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fan-out.hunt");
    std::fs::write(&file, hunt).unwrap();
    let (exit, stdout, stderr) = common::spoor(&[
        "hunt",
        file.to_str().unwrap(),
        "--store",
        demo.store.root().to_str().unwrap(),
        "--memory-limit",
        "8MiB",
        "--format",
        "csv",
    ]);
    match exit {
        0 => assert!(stdout.lines().nth(1).is_some_and(|n| n.parse::<u64>().is_ok()), "{stdout}"),
        2 => assert!(stderr.contains("the hunt needs more memory than its limit allows"), "{stderr}"),
        _ => panic!("exit {exit}: {stderr}"),
    }
}
