//! Snapshots (insta) of what people and tools see: rendered diagnostics, parse trees and plans.
//! `cargo insta review` (or `INSTA_UPDATE=always`) accepts a deliberate change.

use datafusion::prelude::SessionContext;
use spoor_dsl::catalog::Catalog;
use spoor_dsl::{ParamValues, RunOptions, render};

fn diagnostics(source: &str) -> String {
    let d = spoor_dsl::check(source, &Catalog::standard(), &ParamValues::new()).expect_err("the hunt has errors");
    format!("{}\n{}", render::pretty(&d, source, "hunt.hunt", false), render::json(&d, source, "hunt.hunt"))
}

#[test]
fn unknown_field_with_suggestion() {
    insta::assert_snapshot!(diagnostics("process\n| where process.parent.nam == \"node\"\n"));
}

#[test]
fn several_errors_at_once() {
    insta::assert_snapshot!(diagnostics(
        "---\nid: demo\nseverity: urgent\n---\nprocsess\n| where @timestamp > \"yesterday\"\n| sortt host.name\n| limit x\n"
    ));
}

#[test]
fn type_and_regex_errors() {
    insta::assert_snapshot!(diagnostics(
        "network | where destination.port == \"443\" or destination.ip == \"10.0.0.1/8\" or process.name matches '(?<=x)'"
    ));
}

#[test]
fn function_errors() {
    insta::assert_snapshot!(diagnostics(
        "dns | extend a = lenght(dns.question.name), b = url_part(dns.question.name, \"hostname\"), c = entropy()"
    ));
}

#[test]
fn sequence_errors() {
    insta::assert_snapshot!(diagnostics(
        "sequence by host.name within 10\n  a: process where process.name == \"node\"\n  b: dns where dns.question.name == a.process.nme\n"
    ));
}

/// A stage that fails gives one error; the names it would have defined are not reported again
/// downstream, while names it would not have defined still are.
#[test]
fn a_failed_stage_is_not_followed_by_its_own_names() {
    insta::assert_snapshot!(diagnostics(
        "process\n| stats n = cuont(), share = count() * 1.0 / dc(host.nme) by user.name\n| where n > 1 and share > 0.5 and missing > 0\n| extend total = cuont() over user.name\n| where total > 1\n"
    ));
}

#[test]
fn keyword_as_name() {
    insta::assert_snapshot!(diagnostics("let rare = (network | where destination.port == 8000)\nnetwork\n"));
}

#[test]
fn sarif() {
    let source = "process | where process.nme == \"x\"";
    let d = spoor_dsl::check(source, &Catalog::standard(), &ParamValues::new()).expect_err("has errors");
    let log: serde_json::Value = serde_json::from_str(&render::sarif(&[("hunts/x.hunt", source, &d)])).unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&log["runs"][0]["results"]).unwrap());
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), spoor_dsl::Code::ALL.len());
}

#[test]
fn parse_tree() {
    let hunt = spoor_dsl::parse(
        "---\nid: npm.c2\n---\nlet c2 = [\"sfrclak.com\"]\nparam window = 10m\ndns | where dns.question.name in~ c2 and not (source.port < 1024) | stats n = count() by host.name",
    )
    .unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&hunt).unwrap());
}

async fn plan(source: &str) -> String {
    let ctx = SessionContext::new();
    let now = chrono::DateTime::parse_from_rfc3339("2026-04-01T00:00:00Z").unwrap().to_utc();
    let options = RunOptions { now, window: None };
    let compiled = spoor_dsl::compile(&ctx, source, &ParamValues::new(), &options).await.unwrap();
    compiled.plan.display_indent().to_string()
}

#[tokio::test]
async fn plans() {
    let hunts = [
        "process | where process.name in~ (\"curl\", \"wget\") and process.command_line contains \"http\" | select host.name, process.command_line | sort host.name | limit 10",
        "dns | lookup iocs on dns.question.name using domain",
        "sequence by host.name within 10m\n a: ci where event.action == \"package_install\"\n b: dns where dns.question.name endswith \".com\"",
        "chain node -> (sh, bash) ->> curl",
        "network | beacon by host.name, destination.ip | where beacon.count > 10",
    ];
    let mut out = String::new();
    for h in hunts {
        let source = if h.contains("iocs") { format!("let iocs = [\"x.example\"]\n{h}") } else { h.to_string() };
        out.push_str(&format!("## {h}\n{}\n\n", plan(&source).await));
    }
    insta::assert_snapshot!(out);
}
