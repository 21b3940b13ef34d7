//! A pack run's findings for people (compact blocks for a terminal, tables grouped by severity
//! and hunt, HTML for notebooks) and for machines (NDJSON, CSV, Parquet, SARIF; ECS alert
//! documents are [`Finding::to_ecs`]).
//!
//! ```
//! # #[tokio::main] async fn main() -> spoor::Result<()> {
//! # let store = spoor::testing::sample_store()?;
//! # let pack = spoor::testing::example_pack()?;
//! let runs = store.run_pack(&pack, &Default::default()).await?;
//! std::fs::write(std::env::temp_dir().join("spoor-render-doc.sarif"), spoor::pack::render::sarif(&runs)).unwrap();
//! eprint!("{}", spoor::pack::render::summary(&runs));
//! # Ok(()) }
//! ```

pub mod html;
pub mod terminal;

use std::sync::Arc;

use arrow::array::{ArrayRef, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use std::io::Write;

use serde_json::{Value, json};

use super::{Finding, HuntRun, Outcome, PackHunt};

/// Severities, most severe first.
///
/// ```
/// assert_eq!(spoor::pack::render::SEVERITIES.first(), Some(&"critical"));
/// ```
pub const SEVERITIES: &[&str] = &["critical", "high", "medium", "low", "info"];

/// A severity's place in [`SEVERITIES`] (unknown ones last).
pub(crate) fn rank(severity: &str) -> usize {
    SEVERITIES.iter().position(|s| *s == severity).unwrap_or(SEVERITIES.len())
}

/// Runs that found something, most severe first, then by hunt id.
pub(crate) fn by_severity<'a, 'p>(runs: &'a [HuntRun<'p>]) -> Vec<&'a HuntRun<'p>> {
    let mut hits: Vec<&HuntRun> =
        runs.iter().filter(|r| matches!(&r.outcome, Outcome::Ran { findings, .. } if !findings.is_empty())).collect();
    hits.sort_by(|a, b| rank(a.hunt.severity()).cmp(&rank(b.hunt.severity())).then(a.hunt.id().cmp(b.hunt.id())));
    hits
}

/// Every finding of the runs, most severe first.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let findings = spoor::pack::render::all_findings(&runs);
/// assert_eq!(findings.len(), 2);
/// # Ok(()) }
/// ```
pub fn all_findings<'a>(runs: &'a [HuntRun<'_>]) -> Vec<&'a Finding> {
    by_severity(runs)
        .into_iter()
        .flat_map(|r| match &r.outcome {
            Outcome::Ran { findings, .. } => findings.iter().collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .collect()
}

/// Findings grouped by severity and hunt, each hunt's rows as a table.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let text = spoor::pack::render::table(&runs)?;
/// assert!(text.starts_with("HIGH example.script-host-powershell — A Windows script host starts PowerShell (2 findings)\n+"));
/// # Ok(()) }
/// ```
pub fn table(runs: &[HuntRun<'_>]) -> crate::Result<String> {
    let mut out = String::new();
    for run in by_severity(runs) {
        let Outcome::Ran { findings, batches, .. } = &run.outcome else { continue };
        let n = findings.len();
        out.push_str(&format!(
            "{} {} — {} ({n} finding{})\n",
            run.hunt.severity().to_uppercase(),
            run.hunt.id(),
            run.hunt.meta.title.as_deref().unwrap_or_default(),
            if n == 1 { "" } else { "s" }
        ));
        let table = arrow::util::pretty::pretty_format_batches(batches)?;
        out.push_str(&format!("{table}\n\n"));
    }
    Ok(out)
}

/// What ran, what was skipped and why, what failed: one line each, for stderr.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// assert_eq!(spoor::pack::render::summary(&runs), "2 findings from 1 hunt; 0 found nothing\n");
/// # Ok(()) }
/// ```
pub fn summary(runs: &[HuntRun<'_>]) -> String {
    let mut out = String::new();
    let (mut hunts_hit, mut total, mut quiet) = (0, 0, 0);
    for run in runs {
        match &run.outcome {
            Outcome::Ran { findings, missing, .. } => {
                if findings.is_empty() {
                    quiet += 1;
                } else {
                    hunts_hit += 1;
                    total += findings.len();
                }
                if !missing.is_empty() {
                    out.push_str(&format!("note: {} ran without data in: {}\n", run.hunt.id(), missing.join(", ")));
                }
            }
            Outcome::Skipped { missing } => {
                out.push_str(&format!("skipped: {} (no data in: {})\n", run.hunt.id(), missing.join(", ")))
            }
            Outcome::Failed(e) => out.push_str(&format!("error: {}: {e}\n", run.hunt.id())),
        }
    }
    out.push_str(&format!(
        "{total} finding{} from {hunts_hit} hunt{}; {quiet} found nothing\n",
        if total == 1 { "" } else { "s" },
        if hunts_hit == 1 { "" } else { "s" }
    ));
    out
}

/// One finding per line as JSON.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let lines = spoor::pack::render::ndjson(&runs)?;
/// let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
/// assert_eq!(first["hunt"], "example.script-host-powershell");
/// # Ok(()) }
/// ```
pub fn ndjson(runs: &[HuntRun<'_>]) -> crate::Result<String> {
    let mut out = Vec::new();
    write_ndjson(runs, &mut out).map_err(|e| crate::Error::Internal(format!("findings as JSON: {e}")))?;
    String::from_utf8(out).map_err(|e| crate::Error::Internal(format!("findings as JSON: {e}")))
}

/// [`ndjson`], written to `sink` a finding at a time (the text of thousands of findings is
/// never held at once).
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let mut out = Vec::new();
/// spoor::pack::render::write_ndjson(&runs, &mut out).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), spoor::pack::render::ndjson(&runs)?);
/// # Ok(()) }
/// ```
pub fn write_ndjson(runs: &[HuntRun<'_>], sink: &mut dyn Write) -> std::io::Result<()> {
    let mut sink = std::io::BufWriter::new(sink);
    for f in all_findings(runs) {
        serde_json::to_writer(&mut sink, f)?;
        sink.write_all(b"\n")?;
    }
    sink.flush()
}

/// Entities that get their own column in flat (CSV, Parquet) output.
const FLAT_ENTITIES: &[&str] = &["host", "user", "package", "domain", "ip", "ci_job", "project", "file"];

/// One row per finding: id, hunt, severity, confidence, title, author, time, the entities, the evidence
/// (`file:line; ...`) and the hunt's own row as JSON text.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let table = spoor::pack::render::flat(&runs)?;
/// assert_eq!(table.num_rows(), 2);
/// assert!(table.schema().field_with_name("evidence").is_ok());
/// spoor::render::csv(&[table], std::io::sink())?;
/// # Ok(()) }
/// ```
pub fn flat(runs: &[HuntRun<'_>]) -> crate::Result<RecordBatch> {
    flat_findings(&all_findings(runs))
}

/// [`flat`] for a list of findings.
pub(crate) fn flat_findings(findings: &[&Finding]) -> crate::Result<RecordBatch> {
    let mut names: Vec<String> = ["id", "hunt", "severity", "confidence", "title", "author", "@timestamp"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    names.extend(FLAT_ENTITIES.iter().map(|s| s.to_string()));
    names.extend(["evidence".to_string(), "fields".to_string()]);
    let mut columns: Vec<StringBuilder> = names.iter().map(|_| StringBuilder::new()).collect();
    for f in findings {
        let mut values: Vec<Option<String>> = vec![
            Some(f.id.clone()),
            Some(f.hunt.to_string()),
            Some(f.severity.to_string()),
            f.confidence.as_deref().map(str::to_string),
            Some(f.title.to_string()),
            f.author.as_deref().map(str::to_string),
            f.timestamp.clone(),
        ];
        values.extend(FLAT_ENTITIES.iter().map(|e| f.entities.get(*e).cloned()));
        let evidence: Vec<String> = f.evidence.iter().map(ToString::to_string).collect();
        values.push((!evidence.is_empty()).then(|| evidence.join("; ")));
        values.push(Some(Value::Object(f.fields.to_map()).to_string()));
        for (builder, value) in columns.iter_mut().zip(values) {
            builder.append_option(value);
        }
    }
    let schema = Schema::new(names.iter().map(|n| Field::new(n, DataType::Utf8, true)).collect::<Vec<_>>());
    let arrays: Vec<ArrayRef> = columns.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
    Ok(RecordBatch::try_new(Arc::new(schema), arrays)?)
}

fn level(severity: &str) -> &'static str {
    match severity {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
    }
}

/// GitHub code scanning reads `security-severity` (0-10) to rank security results.
fn security_severity(severity: &str) -> &'static str {
    match severity {
        "critical" => "9.5",
        "high" => "8.0",
        "medium" => "5.5",
        "low" => "3.0",
        _ => "1.0",
    }
}

/// SARIF 2.1.0: one rule per hunt that ran, one result per finding, located at its evidence
/// (a lockfile finding at the lockfile's path and line, so code scanning shows it there).
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// let log: serde_json::Value = serde_json::from_str(&spoor::pack::render::sarif(&runs)).unwrap();
/// assert_eq!(log["version"], "2.1.0");
/// assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 2);
/// # Ok(()) }
/// ```
pub fn sarif(runs: &[HuntRun<'_>]) -> String {
    let ran: Vec<&PackHunt> =
        runs.iter().filter(|r| matches!(r.outcome, Outcome::Ran { .. })).map(|r| r.hunt).collect();
    serde_json::to_string_pretty(&sarif_document(&ran, &all_findings(runs))).unwrap_or_default()
}

/// The SARIF log of [`sarif`]: a rule per hunt, a result per finding.
pub(crate) fn sarif_document(hunts: &[&PackHunt], findings: &[&Finding]) -> Value {
    let rules: Vec<Value> = hunts
        .iter()
        .map(|hunt| {
            let m = &hunt.meta;
            let mut tags: Vec<String> = vec!["security".into()];
            tags.extend(m.attack.iter().map(|t| format!("attack.{}", t.to_ascii_lowercase())));
            let mut rule = json!({
                "id": hunt.id(),
                "name": hunt.id(),
                "shortDescription": { "text": m.title.clone().unwrap_or_default() },
                "fullDescription": { "text": m.description.clone().or_else(|| m.title.clone()).unwrap_or_default() },
                "defaultConfiguration": { "level": level(hunt.severity()) },
                "helpUri": m.references.first().cloned().unwrap_or_else(|| crate::dsl::render::SPOOR_URI.into()),
                "properties": {
                    "tags": tags,
                    "security-severity": security_severity(hunt.severity()),
                    "precision": match m.confidence.as_deref() { Some("high") => "high", Some("low") => "low", _ => "medium" },
                },
            });
            if let Some(author) = &m.author {
                rule["properties"]["author"] = json!(author);
            }
            rule
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let entities: Vec<String> = f.entities.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let locations: Vec<Value> = f
                .evidence
                .iter()
                .map(|e| {
                    let mut physical = json!({ "artifactLocation": { "uri": e.path.replace('\\', "/") } });
                    if let Some(line) = e.line.filter(|l| *l > 0) {
                        physical["region"] = json!({ "startLine": line });
                    }
                    json!({ "physicalLocation": physical })
                })
                .collect();
            json!({
                "ruleId": f.hunt,
                "level": level(&f.severity),
                "message": { "text": format!("{}: {}", f.title, entities.join(", ")) },
                "locations": locations,
                "partialFingerprints": { "spoorFinding/v1": f.id },
            })
        })
        .collect();
    crate::dsl::render::sarif_log(rules, results)
}
