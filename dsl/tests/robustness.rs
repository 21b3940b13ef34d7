//! No text makes the parser, checker or compiler panic or overflow the stack; limits give
//! diagnostics. Inputs: every prefix of real hunts, deterministic mutations, pathological nesting.

use datafusion::prelude::SessionContext;
use spoor_dsl::catalog::Catalog;
use spoor_dsl::{Code, ParamValues, RunOptions};

const HUNTS: &[&str] = &[
    "---\nid: a.b\ntitle: t\nattack: [T1059.004]\n---\nlet shells = [\"sh\", \"bash\"]\nparam w = 10m\nprocess | where process.name in~ shells and process.parent.name =~ \"node\" | select host.name, c = lower(process.command_line) | sort host.name desc | limit 5",
    "sequence by host.name within 10m\n  install: ci where event.action == \"package_install\" and package.version in (\"1.14.1\", \"0.30.4\")\n  lookup: dns where dns.question.name == \"sfrclak.com\"\nuntil process where process.name == 'kill'\n| select install.host.name",
    "chain a: node -> b: (sh, \"ba*\") ->> [process.command_line contains~ \"curl\"] | where a.host.name != \"x\"",
    "network | where destination.ip in (\"10.0.0.0/8\", \"2001:db8::/32\") and destination.port >= 1024 | beacon by host.name, destination.ip | where beacon.jitter < 0.2",
    "dns | lookup iocs as ioc on dns.question.name = ioc.value using domain | stats n = count(), hosts = values(host.name) by ioc.campaign, day = bin(@timestamp, 1d) | rare ioc.campaign",
    "process | extend d = xor_decode(base64_decode(substring(process.command_line, 5)), \"k\"), e = entropy(process.command_line) | where e > 4.5 and @timestamp > now() - 24h",
];

fn catalog() -> Catalog {
    let mut c = Catalog::standard();
    c.add("iocs", &spoor_core::iocs::schema());
    c
}

fn check(text: &str) -> Result<(), spoor_dsl::Diagnostics> {
    spoor_dsl::check(text, &catalog(), &ParamValues::new()).map(|_| ())
}

#[test]
fn the_sample_hunts_are_valid() {
    for h in HUNTS {
        check(h).unwrap_or_else(|d| panic!("{h}\n{d}"));
    }
}

#[test]
fn every_prefix_is_handled() {
    for h in HUNTS {
        for end in (0..=h.len()).filter(|&i| h.is_char_boundary(i)) {
            let _ = check(&h[..end]);
        }
    }
}

#[test]
fn mutations_are_handled() {
    // A fixed-seed generator: the same mutations every run, so a failure reproduces.
    let mut state: u64 = 0x5eed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pieces = [
        "(",
        ")",
        "[",
        "]",
        "\"",
        "'",
        "`",
        "|",
        "->",
        "->>",
        ":",
        "==",
        "~",
        "not ",
        "in ",
        "---\n",
        "\n",
        "é",
        "\u{0}",
        "9999999999999999999999",
        "1e",
        "10q",
        "2026-13-45T99:99:99Z",
    ];
    for h in HUNTS {
        for _ in 0..250 {
            let mut text = h.to_string();
            for _ in 0..(next() % 4 + 1) {
                let mut at = (next() as usize) % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                if next() % 2 == 0 {
                    text.insert_str(at, pieces[(next() as usize) % pieces.len()]);
                } else {
                    let mut end = (at + (next() as usize) % 8).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.replace_range(at..end, "");
                }
            }
            let _ = check(&text);
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for text in [
        format!("process | where {}true{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("process | where {}true", "not ".repeat(10_000)),
        format!("process | where process.pid == {}1", "-".repeat(10_000)),
        format!("process | where process.name in {}", "[".repeat(10_000)),
        format!("process | extend x = {}\"a\"{}", "lower(".repeat(10_000), ")".repeat(10_000)),
    ] {
        let d = check(&text).expect_err("too deep");
        assert!(d.iter().any(|d| d.code == Code::TooDeep), "{d}");
    }
}

#[test]
fn limits_have_clear_errors() {
    let huge_regex = format!("process | where process.name matches \"{}\"", "(a|b|c|d){1000}".repeat(20));
    let d = check(&huge_regex).expect_err("regex too large");
    assert!(d.iter().any(|d| d.code == Code::InvalidRegex && d.message.contains("too large")), "{d}");
    let d = check("process | where process.name == \"unterminated").expect_err("unterminated");
    assert!(d.iter().any(|d| d.message == "unterminated string"), "{d}");
    let d = check("").expect_err("empty");
    assert!(d.iter().any(|d| d.message == "the hunt has no query"), "{d}");
}

#[tokio::test]
async fn an_in_list_of_100_000_values_compiles_and_runs() {
    let values: Vec<String> = (0..100_000).map(|i| format!("\"host-{i}.example\"")).collect();
    let text = format!("dns | where dns.question.name in~ ({}) | select host.name", values.join(", "));
    let ctx = SessionContext::new();
    let compiled = spoor_dsl::compile(&ctx, &text, &ParamValues::new(), &RunOptions::now()).await.unwrap();
    let batches = spoor_dsl::run::run(&ctx, &compiled).await.unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
}
