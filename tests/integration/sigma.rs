//! Sigma conformance: SigmaHQ's regression suite (`tests/data/sigma/regression`, 202 rules and
//! 238 events) run as a pack. Every rule must match exactly the events the reference engines
//! agree on (its own samples and the cross-talk), line for line, with the events in either shape.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::spoor;

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigma/regression")
}

/// Rule id → the lines it matches, from `expected.tsv`.
fn expected() -> BTreeMap<String, Vec<i64>> {
    let text = std::fs::read_to_string(suite().join("expected.tsv")).expect("expected.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (id, lines) = l.split_once('\t').expect("two columns");
            let lines = lines.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().expect("a line number")).collect();
            (id.to_string(), lines)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_regression_rule_matches_exactly_the_reference_events() {
    let pack = spoor::pack::load(&suite().join("rules")).unwrap_or_else(|e| panic!("{e}"));
    let skipped: Vec<String> = pack.skipped.iter().map(|r| format!("{}: {:?}", r.path.display(), r.hunt)).collect();
    assert!(skipped.is_empty(), "rules that do not run:\n{}", skipped.join("\n"));
    let expected = expected();
    assert_eq!(pack.hunts.len(), expected.len());

    let dir = tempfile::tempdir().unwrap();
    let store = spoor::Store::open(dir.path().join("store")).unwrap();
    let shapes = [suite().join("all_events_flat.jsonl"), suite().join("all_events.jsonl")];
    let summary = store.ingest(&shapes, &Default::default()).unwrap();
    assert_eq!(summary.files.iter().map(|f| f.stored).sum::<u64>(), 2 * 238);
    let runs = store.run_pack(&pack, &spoor::HuntOptions::default()).await.unwrap();

    // (rule, file) → lines matched.
    let mut found: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for run in &runs {
        let spoor::pack::Outcome::Ran { findings, .. } = &run.outcome else {
            // A hunt whose tables have no rows in these events cannot match any: fine only if
            // the reference expects nothing of it.
            assert!(expected[run.hunt.id()].is_empty(), "{} did not run: {:?}", run.hunt.id(), run.outcome);
            continue;
        };
        for f in findings {
            assert_eq!(f.author.as_deref(), run.hunt.meta.author.as_deref(), "a finding names its rule's author");
            assert!(f.author.as_deref().is_some_and(|a| !a.is_empty()), "{} has an author", f.hunt);
            for e in &f.evidence {
                let file = Path::new(&e.path).file_name().unwrap().to_string_lossy().into_owned();
                found.entry((f.hunt.to_string(), file)).or_default().push(e.line.expect("a line") as i64);
            }
        }
    }
    let mut failures = Vec::new();
    for (id, lines) in &expected {
        for shape in &shapes {
            let file = shape.file_name().unwrap().to_string_lossy().into_owned();
            let mut got = found.remove(&(id.clone(), file.clone())).unwrap_or_default();
            got.sort();
            if &got != lines {
                failures.push(format!("{id} over {file}: expected lines {lines:?}, got {got:?}"));
            }
        }
    }
    failures.extend(found.keys().map(|(id, file)| format!("{id} over {file}: matches of an unknown rule")));
    assert!(failures.is_empty(), "{} of 404 (rule, shape) pairs differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn check_reports_every_rule_and_counts_reasons() {
    let rules = suite().join("rules");
    let (code, out, err) = spoor(&["check", rules.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("Sigma: 202 of 202 rules run\n"), "{out}");
    assert_eq!(out.lines().filter(|l| l.ends_with(": ok")).count(), 202);

    // A rule that cannot run is listed with its reason; it fails the check only with --strict.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cloud.yml"),
        "title: Cloud\nid: c1\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel: {eventName: ConsoleLogin}\n  condition: sel\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("corr.yml"),
        "title: Many\nid: c2\ncorrelation: {type: event_count, rules: [c9], group-by: [x], timespan: 1h, condition: {gte: 5}}\n",
    )
    .unwrap();
    let (code, out, _) = spoor(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains(
            "c1: cannot run (logsource): no table of spoor's holds the logsource `product: aws, service: cloudtrail`"
        ),
        "{out}"
    );
    assert!(
        out.contains("c2: cannot run (reference): the correlation reads `c9`, which no rule read with it"),
        "{out}"
    );
    assert!(out.contains("Sigma: 0 of 2 rules run; not run by reason: logsource: 1, reference: 1"), "{out}");
    let (code, _, _) = spoor(&["check", "--strict", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
}

#[test]
fn convert_prints_the_hunt_that_runs() {
    let rule = suite().join("rules/0022869c-49f7-4ff2-ba03-85ac42ddac58.yml");
    let (code, out, err) = spoor(&["sigma", "convert", rule.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for line in [
        "id: 0022869c-49f7-4ff2-ba03-85ac42ddac58",
        "author: lazarg",
        "severity: low",
        "attack: [T1082]",
        "let selection_cmd_reg = process.executable endswith~ '\\reg.exe' and process.command_line contains~ 'query' and process.command_line contains~ any('-v', '/v', '–v', '—v', '―v')",
        "| where ((selection_cmd_reg or selection_cmd_powershell) and selection_keys)",
    ] {
        assert!(out.lines().any(|l| l == line), "missing `{line}` in:\n{out}");
    }
    // What convert prints checks as a hunt of its own.
    let dir = tempfile::tempdir().unwrap();
    let hunt = dir.path().join("rule.hunt");
    std::fs::write(&hunt, &out).unwrap();
    let (code, out, err) = spoor(&["check", hunt.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}

/// Correlations and filters over real logons (OTRF's Covenant WMI persistence: Security 4624
/// and 4648 on a domain controller and a workstation). The expected lines were worked out by
/// hand from the events' times and lines (tests/data/sigma/correlation/README.md shows how).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlations_and_filters_match_what_the_events_say() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigma/correlation");
    let pack = spoor::pack::load(&rules).unwrap_or_else(|e| panic!("{e}"));
    let skipped: Vec<(Option<&str>, spoor::sigma::Reason)> =
        pack.skipped.iter().map(|r| (r.id.as_deref(), r.hunt.as_ref().unwrap_err().code)).collect();
    assert_eq!(skipped, vec![(Some("0b1e4c2a-0000-4000-8000-000000000012"), spoor::sigma::Reason::Reference)]);

    let dir = tempfile::tempdir().unwrap();
    let store = spoor::Store::open(dir.path().join("store")).unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/windows/mordor/covenant_persistwmi.tar.gz");
    store.ingest(&[data], &Default::default()).unwrap();
    let runs = store.run_pack(&pack, &spoor::HuntOptions::default()).await.unwrap();
    let mut found: BTreeMap<String, Vec<(String, Vec<i64>)>> = BTreeMap::new();
    for run in &runs {
        let spoor::pack::Outcome::Ran { findings, .. } = &run.outcome else { panic!("{:?}", run.outcome) };
        for f in findings {
            let lines = f.evidence.iter().filter_map(|e| e.line).collect();
            found
                .entry(f.hunt.trim_start_matches("0b1e4c2a-0000-4000-8000-").to_string())
                .or_default()
                .push((f.entities.get("host").cloned().unwrap_or_default(), lines));
        }
    }
    for v in found.values_mut() {
        v.sort();
    }
    let (dc, ws) = ("hfdc01.shire.com", "it001.shire.com");
    let expected: BTreeMap<&str, Vec<(&str, Vec<i64>)>> = BTreeMap::from([
        // event_count, sliding: the fifth logon within a minute is line 127.
        ("000000000001", vec![(dc, vec![127])]),
        // temporal_ordered: 4648 then 4624, each logon completing one match; 373 starts none.
        ("000000000003", vec![(ws, vec![334, 366]), (ws, vec![354, 370]), (ws, vec![400, 424])]),
        // value_count: a second account (FILE001$) within five minutes.
        ("000000000005", vec![(dc, vec![848])]),
        // temporal: both rules seen within a second, first at line 334.
        ("000000000006", vec![(ws, vec![334])]),
        // event_count with an upper bound, per clock hour: four 4648s.
        ("000000000007", vec![(ws, vec![334])]),
        // temporal_ordered over a correlation (chained): bursts at 354 and 400, then a logon.
        ("000000000008", vec![(ws, vec![354, 370]), (ws, vec![400, 424])]),
        // The filter tunes the machine accounts out of the logons.
        ("000000000010", vec![(ws, vec![342]), (ws, vec![366]), (ws, vec![370]), (ws, vec![424])]),
    ]);
    let expected: BTreeMap<String, Vec<(String, Vec<i64>)>> = expected
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(|(h, l)| (h.to_string(), l)).collect()))
        .collect();
    assert_eq!(found, expected);
}

/// Runs the rules of `tests/data/sigma/<dir>` over `data`: each rule's (id's last four digits)
/// evidence, as (the file name's last `_` part, line), sorted.
async fn evidence_by_rule(dir: &str, data: &[PathBuf]) -> BTreeMap<String, Vec<(String, i64)>> {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigma").join(dir);
    let pack = spoor::pack::load(&rules).unwrap_or_else(|e| panic!("{e}"));
    assert!(pack.skipped.is_empty(), "{:?}", pack.skipped.iter().map(|r| (&r.path, &r.hunt)).collect::<Vec<_>>());
    let store_dir = tempfile::tempdir().unwrap();
    let store = spoor::Store::open(store_dir.path().join("store")).unwrap();
    let summary = store.ingest(data, &Default::default()).unwrap();
    let lost: Vec<_> = summary.files.iter().filter(|f| f.rejected > 0).map(|f| &f.path).collect();
    assert!(lost.is_empty(), "records rejected in {lost:?}");
    let runs = store.run_pack(&pack, &spoor::HuntOptions::default()).await.unwrap();
    let mut found: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for run in &runs {
        let spoor::pack::Outcome::Ran { findings, .. } = &run.outcome else { panic!("{:?}", run.outcome) };
        for f in findings {
            for e in &f.evidence {
                let file = e.path.rsplit(['/', '_']).next().unwrap_or_default().to_string();
                let rule = f.hunt[f.hunt.len().saturating_sub(4)..].to_string();
                found.entry(rule).or_default().push((file, e.line.unwrap_or_default()));
            }
        }
    }
    found.values_mut().for_each(|v| v.sort());
    found
}

fn lines(file: &str, lines: &[i64]) -> Vec<(String, i64)> {
    lines.iter().map(|l| (file.to_string(), *l)).collect()
}

/// Rules of network logsources over real Zeek logs: Zeek's own names, fields kept in
/// `zeek.fields` or by their ECS meaning, keywords over those fields' values, proxy and web
/// server names on `http`
/// (tests/data/sigma/network/README.md says why each line is expected).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_rules_read_zeek_names_and_the_fields_no_column_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let data = [
        root.join("sigma/network/events"),
        root.join("corpus/dns/zeek/apt29_day1_SCRANTON_http.json"),
        root.join("corpus/dns/zeek/apt29_day1_SCRANTON_dns.json"),
    ];
    let expected = BTreeMap::from([
        ("0101".to_string(), lines("rpc.json", &[3])),
        ("0102".to_string(), lines("rpc.json", &[61, 62, 63, 64, 65, 66])),
        ("0103".to_string(), lines("files.json", &[1, 6])),
        ("0104".to_string(), lines("http.json", &[61, 62])),
        ("0105".to_string(), lines("http.json", &[21, 27, 41])),
        ("0106".to_string(), lines("dns.json", &[1])),
    ]);
    assert_eq!(evidence_by_rule("network", &data).await, expected);
}

/// Rules of account audit logsources (GitHub, Okta, Google Workspace) over the vendors' sample
/// records: the sources' own names, kept in `audit.fields`
/// (tests/data/sigma/accounts/README.md says why each line is expected).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_rules_read_the_sources_own_field_names() {
    let data = [Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigma/accounts/events")];
    let expected = BTreeMap::from([
        ("0201".to_string(), lines("audit.ndjson", &[36])),
        ("0202".to_string(), lines("audit.ndjson", &[19])),
        ("0203".to_string(), lines("log.ndjson", &[3])),
        ("0204".to_string(), lines("log.ndjson", &[1])),
        ("0205".to_string(), lines("admin.ndjson", &[1, 5])),
        ("0206".to_string(), lines("admin.ndjson", &[4])),
    ]);
    assert_eq!(evidence_by_rule("accounts", &data).await, expected);
}

/// Rules of raw Linux audit records over OTRF's auditd logs: the record's type, auditd's field
/// names, keywords anywhere in a record's values (tests/data/sigma/linux/README.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditd_rules_read_each_record_by_auditds_names() {
    let data = [Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigma/linux/events")];
    let expected = BTreeMap::from([
        ("0301".to_string(), lines("dd.log", &[1])),
        ("0302".to_string(), lines("dd.log", &[1])),
        ("0303".to_string(), lines("cache.log", &[1])),
        ("0304".to_string(), [lines("cache.log", &[1, 7]), lines("dd.log", &[1])].concat()),
        ("0305".to_string(), lines("cache.log", &[7])),
    ]);
    assert_eq!(evidence_by_rule("linux", &data).await, expected);
}

/// A pack run shares one scan among the hunts that filter the same table; each hunt must get
/// exactly the rows it gets when run on its own. Rules of every logsource of the suite (a
/// Windows channel reads every Windows table as one), a keyword rule and a hunt that is not a
/// filter (it runs on its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hunts_sharing_a_scan_get_the_rows_each_gets_alone() {
    let dir = tempfile::tempdir().unwrap();
    let pack_dir = dir.path().join("pack");
    std::fs::create_dir(&pack_dir).unwrap();
    let rules: Vec<PathBuf> = std::fs::read_dir(suite().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    let mut rules = rules;
    rules.sort();
    // Every fifth rule: 41 rules over process, registry, file, image load, pipes, channels.
    for rule in rules.iter().step_by(5) {
        std::fs::copy(rule, pack_dir.join(rule.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        pack_dir.join("not-a-filter.hunt"),
        "---\nid: t.sorted\ntitle: sorted\nseverity: low\n---\nprocess | where process.name =~ 'cmd.exe' | sort @timestamp | limit 5\n",
    )
    .unwrap();
    // Members of the same scans whose rows take other shapes: columns chosen and computed, and
    // two tables read as one.
    for (name, query) in [
        ("selected", "process | where process.name =~ 'powershell.exe' | select host.name, process.command_line"),
        (
            "computed",
            "process | where process.command_line contains~ 'http' | extend length = length(process.command_line)",
        ),
        ("two_tables", "process, registry | where host.name is not null | select @timestamp, host.name, process.name"),
    ] {
        let text = format!("---\nid: t.{name}\ntitle: {name}\nseverity: low\n---\n{query}\n");
        std::fs::write(pack_dir.join(format!("{name}.hunt")), text).unwrap();
    }
    let pack = spoor::pack::load(&pack_dir).unwrap_or_else(|e| panic!("{e}"));
    let store = spoor::Store::open(dir.path().join("store")).unwrap();
    store.ingest(&[suite().join("all_events.jsonl")], &Default::default()).unwrap();
    let options = spoor::HuntOptions::default();
    let runs = store.run_pack(&pack, &options).await.unwrap();
    let rows = |batches: &[arrow::record_batch::RecordBatch]| {
        let mut out: Vec<String> = Vec::new();
        for b in batches {
            let mut writer = arrow::json::ArrayWriter::new(Vec::new());
            writer.write(b).unwrap();
            writer.finish().unwrap();
            let values: Vec<serde_json::Value> = serde_json::from_slice(&writer.into_inner()).unwrap_or_default();
            out.extend(values.iter().map(|v| v.to_string()));
        }
        out.sort();
        out
    };
    let mut compared = 0;
    for run in &runs {
        let spoor::pack::Outcome::Ran { batches, .. } = &run.outcome else { continue };
        let alone = store.hunt(spoor::HuntText::inline(run.hunt.text.clone()), &options).await.unwrap();
        let alone = alone.collect().await.unwrap();
        assert_eq!(rows(batches), rows(&alone), "{}", run.hunt.id());
        compared += 1;
    }
    assert!(compared > 30, "only {compared} hunts ran");
}

/// `expand` placeholders take their values from the user's mapping, on every entry point that
/// reads one rule (`hunt`) as on those that read many (`check`).
#[test]
fn placeholders_come_from_the_users_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let events = suite().join("all_events_flat.jsonl");
    let (code, _, err) = spoor(&["ingest", "--store", store.to_str().unwrap(), events.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let rule = dir.path().join("tools.yml");
    std::fs::write(
        &rule,
        "title: Admin tools\nid: p1\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith|expand: '%admin_tool%'\n  condition: sel\n",
    )
    .unwrap();
    let (code, _, err) = spoor(&["hunt", rule.to_str().unwrap(), "--store", store.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("`expand` needs the values of `%admin_tool%`"), "{err}");

    let mapping = dir.path().join("mine.toml");
    std::fs::write(&mapping, "[placeholders]\nadmin_tool = ['\\\\certutil.exe', '\\\\bitsadmin.exe']\n").unwrap();
    let (code, out, err) = spoor(&[
        "hunt",
        rule.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--sigma-mapping",
        mapping.to_str().unwrap(),
        "--format",
        "ndjson",
    ]);
    assert_eq!(code, 0, "{err}");
    let names: std::collections::BTreeSet<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["process.name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["bitsadmin.exe", "certutil.exe"].map(String::from).into());
    assert_eq!(out.lines().count(), 15, "10 certutil and 5 bitsadmin");
    let (code, out, _) =
        spoor(&["check", rule.to_str().unwrap(), "--sigma-mapping", mapping.to_str().unwrap(), "--strict"]);
    assert_eq!(code, 0, "{out}");
}
