//! Where a cycle's findings go. Each sink either accepts a cycle's findings whole or fails, and
//! delivering the same cycle again after a crash does not duplicate what a file already holds:
//! the NDJSON file is cut back to its length before the cycle, a Parquet file is named by the
//! cycle, the SARIF log keeps one result per finding id. A webhook gets the cycle's number as
//! its `Idempotency-Key` header (and each finding its id), for receivers that deduplicate.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use super::config::{SinkConfig, StdoutFormat, WebhookConfig};
use crate::pack::{Finding, PackHunt};
use crate::{Error, Result};

/// One cycle's delivery.
pub struct Delivery<'a> {
    /// The job's name.
    pub job: &'a str,
    /// The cycle's number.
    pub cycle: u64,
    /// The findings to deliver.
    pub findings: &'a [Finding],
    /// The hunts that ran (for SARIF's rules).
    pub hunts: &'a [&'a PackHunt],
}

/// Delivers to one sink. `offset` is an append-only file's length before this cycle: recorded
/// by the caller on the first attempt (from [`append_offset`]) and reused on a retry.
pub fn deliver(sink: &SinkConfig, delivery: &Delivery<'_>, offset: Option<u64>) -> Result<()> {
    match sink {
        SinkConfig::Stdout { format } => stdout(*format, delivery),
        SinkConfig::Ndjson { path } => ndjson(path, delivery, offset.unwrap_or(0)),
        SinkConfig::Parquet { dir } => parquet(dir, delivery),
        SinkConfig::Sarif { path } => sarif(path, delivery),
        SinkConfig::Webhook(config) => webhook(config, delivery),
    }
}

/// The current length of an append-only sink's file (None for other sinks).
pub fn append_offset(sink: &SinkConfig) -> Option<u64> {
    match sink {
        SinkConfig::Ndjson { path } => Some(fs::metadata(path).map(|m| m.len()).unwrap_or(0)),
        _ => None,
    }
}

fn stdout(format: StdoutFormat, delivery: &Delivery<'_>) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let stdout = Path::new("<stdout>");
    for f in delivery.findings {
        match format {
            StdoutFormat::Table => writeln!(out, "{}", f.to_text()).map_err(Error::io(stdout))?,
            StdoutFormat::Ndjson => writeln!(out, "{}", f.to_ecs()).map_err(Error::io(stdout))?,
        }
    }
    out.flush().map_err(Error::io(stdout))
}

fn create_parent(path: &Path) -> Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => fs::create_dir_all(dir).map_err(Error::io(dir)),
        None => Ok(()),
    }
}

fn ndjson(path: &Path, delivery: &Delivery<'_>, offset: u64) -> Result<()> {
    create_parent(path)?;
    let mut file = OpenOptions::new().create(true).append(true).open(path).map_err(Error::io(path))?;
    // A retry of this cycle: cut what an interrupted attempt appended.
    if file.metadata().map_err(Error::io(path))?.len() > offset {
        file.set_len(offset).map_err(Error::io(path))?;
    }
    let mut text = String::new();
    for f in delivery.findings {
        text.push_str(&f.to_ecs().to_string());
        text.push('\n');
    }
    file.write_all(text.as_bytes()).map_err(Error::io(path))?;
    file.sync_all().map_err(Error::io(path))
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    create_parent(path)?;
    let temp = path.with_file_name(format!(".{}.tmp", path.file_name().unwrap_or_default().to_string_lossy()));
    let mut file = File::create(&temp).map_err(Error::io(&temp))?;
    file.write_all(bytes).map_err(Error::io(&temp))?;
    file.sync_all().map_err(Error::io(&temp))?;
    fs::rename(&temp, path).map_err(Error::io(path))
}

fn parquet(dir: &Path, delivery: &Delivery<'_>) -> Result<()> {
    let findings: Vec<&Finding> = delivery.findings.iter().collect();
    let batch = crate::pack::render::flat_findings(&findings)?;
    let mut bytes = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None)?;
    writer.write(&batch)?;
    writer.close()?;
    replace(&dir.join(format!("{}-cycle-{:08}.parquet", delivery.job, delivery.cycle)), &bytes)
}

fn sarif(path: &Path, delivery: &Delivery<'_>) -> Result<()> {
    let findings: Vec<&Finding> = delivery.findings.iter().collect();
    let new = crate::pack::render::sarif_document(delivery.hunts, &findings);
    let merged = match fs::read_to_string(path) {
        Ok(text) => {
            let old: Value = serde_json::from_str(&text)
                .map_err(|e| Error::User(format!("{}: not a SARIF log this job wrote: {e}", path.display())))?;
            merge_sarif(old, new)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => new,
        Err(e) => return Err(Error::io(path)(e)),
    };
    let text = serde_json::to_string_pretty(&merged).map_err(|e| Error::Internal(format!("SARIF as JSON: {e}")))?;
    replace(path, text.as_bytes())
}

/// The old log with the new rules and results added; a result whose finding id it already
/// holds is not added again.
fn merge_sarif(mut old: Value, new: Value) -> Value {
    let fingerprint = |r: &Value| r["partialFingerprints"]["spoorFinding/v1"].as_str().map(str::to_string);
    let rule_id = |r: &Value| r["id"].as_str().map(str::to_string);
    let Some(run) = old.pointer_mut("/runs/0") else { return new };
    let mut seen: std::collections::BTreeSet<String> =
        run["results"].as_array().into_iter().flatten().filter_map(fingerprint).collect();
    let mut rules: std::collections::BTreeSet<String> =
        run["tool"]["driver"]["rules"].as_array().into_iter().flatten().filter_map(rule_id).collect();
    for rule in new["runs"][0]["tool"]["driver"]["rules"].as_array().into_iter().flatten() {
        if rule_id(rule).is_some_and(|id| rules.insert(id))
            && let Some(list) = run["tool"]["driver"]["rules"].as_array_mut()
        {
            list.push(rule.clone());
        }
    }
    for result in new["runs"][0]["results"].as_array().into_iter().flatten() {
        if fingerprint(result).is_some_and(|id| seen.insert(id))
            && let Some(list) = run["results"].as_array_mut()
        {
            list.push(result.clone());
        }
    }
    old
}

fn webhook(config: &WebhookConfig, delivery: &Delivery<'_>) -> Result<()> {
    let body = json!({
        "job": delivery.job,
        "cycle": delivery.cycle,
        "findings": delivery.findings.iter().map(Finding::to_ecs).collect::<Vec<_>>(),
    })
    .to_string();
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(config.timeout)).http_status_as_error(false).build().into();
    let mut wait = config.backoff;
    let mut last = String::new();
    for attempt in 0..=config.retries {
        if attempt > 0 {
            tracing::warn!(url = %config.url, attempt, error = %last, "webhook failed; retrying in {wait:?}");
            std::thread::sleep(wait);
            wait = wait.saturating_mul(2);
        }
        let mut request = agent
            .post(&config.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &format!("{}-{}", delivery.job, delivery.cycle));
        for (name, value) in &config.headers {
            request = request.header(name, value);
        }
        match request.send(&body) {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => last = format!("HTTP {}", response.status()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(Error::Delivery(format!("webhook {}: {last} (after {} attempts)", config.url, config.retries + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sarif_results_are_merged_once_per_finding() {
        let log = |ids: &[&str]| {
            json!({"runs": [{"tool": {"driver": {"rules": [{"id": "h"}]}},
                "results": ids.iter().map(|id| json!({"ruleId": "h", "partialFingerprints": {"spoorFinding/v1": id}})).collect::<Vec<_>>()}]})
        };
        let merged = merge_sarif(log(&["a", "b"]), log(&["b", "c"]));
        let ids: Vec<&str> = merged["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"]["spoorFinding/v1"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(merged["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), 1);
    }
}
