//! Parse, check and compile a 50-line hunt: the target is under 1 ms for the three together.
//! `cargo bench --bench compile` (release build).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::prelude::SessionContext;
use spoor::dsl::catalog::Catalog;
use spoor::dsl::{ParamValues, RunOptions};

/// Fifty lines: header, lets, a parameter, a three-step sequence with per-step links and a
/// cancelling event, then filters, computed fields, aggregation and sorting.
const HUNT: &str = r#"---
id: bench.fifty-lines
title: An install whose script spawns a shell that reaches a C2, then beacons
severity: high
attack: [T1195.002, T1059.004, T1071.001]
tags: [npm, supply-chain]
---
let bad_versions = ["1.14.1", "0.30.4", "4.2.1"]
let bad_packages = ["axios", "plain-crypto-js"]
let shells = ["sh", "bash", "dash", "zsh", "cmd.exe", "powershell.exe", "pwsh"]
let downloaders = ["curl", "wget", "python3", "node"]
let c2_domains = ["sfrclak.com", "sfrclak.net"]
param window = 2h
param min_hosts = 1
sequence by host.name within 2h
  install: ci
    where event.action == "package_install"
      and package.name in~ bad_packages
      and package.version in bad_versions
  script: process
    where process.parent.name in~ ["node", "npm", "yarn", "pnpm"]
      and process.name in~ shells
      and (process.command_line contains~ "curl"
        or process.command_line contains~ "wget"
        or process.command_line matches~ 'invoke-webrequest|iwr\s'
        or process.command_line like~ "*-enc*")
  lookup: dns
    where dns.question.name in~ c2_domains
      or registered_domain(dns.question.name) in c2_domains
      or entropy(dns.question.name) > 4.2
until process where process.name == "npm" and process.command_line contains "uninstall"
| where install.ci.job.id is not null
| where lookup.@timestamp - install.@timestamp < window
| extend
    job = coalesce(install.ci.job.id, "unknown"),
    command = lower(script.process.command_line),
    c2 = lower(lookup.dns.question.name),
    decoded = xor_decode(base64_decode(substring(script.process.command_line, 10)), "k"),
    delay = lookup.@timestamp - install.@timestamp
| where length(command) > 3 and not (c2 endswith ".example")
| stats
    hosts = count_distinct(install.host.name),
    jobs = values(job),
    first_seen = min(install.@timestamp),
    last_seen = max(lookup.@timestamp),
    lookups = count()
  by c2, day = bin(install.@timestamp, 1d)
| where hosts >= min_hosts
| sort hosts desc, first_seen
| limit 100
"#;

fn bench(c: &mut Criterion) {
    assert_eq!(HUNT.lines().count(), 50, "the benchmark hunt is fifty lines");
    let catalog = Catalog::standard();
    let params = ParamValues::new();
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let ctx = SessionContext::new();
    let resolved = spoor::dsl::check(HUNT, &catalog, &params).expect("the benchmark hunt is valid");
    let sources = runtime.block_on(spoor::dsl::run::sources(&ctx, &resolved.hunt.query)).expect("sources");
    let options = RunOptions::now();

    c.bench_function("parse 50 lines", |b| b.iter(|| spoor::dsl::parse(black_box(HUNT)).expect("parses")));
    c.bench_function("parse + check 50 lines", |b| {
        b.iter(|| spoor::dsl::check(black_box(HUNT), &catalog, &params).expect("checks"))
    });
    c.bench_function("parse + check + lower 50 lines", |b| {
        b.iter(|| {
            let resolved = spoor::dsl::check(black_box(HUNT), &catalog, &params).expect("checks");
            spoor::dsl::lower(&resolved.hunt, &sources, &options).expect("lowers")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
