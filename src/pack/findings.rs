//! A hunt's rows as findings: who and what is involved (entities) and where in the raw logs the
//! evidence is (file and line), with a deterministic id so that a re-run recognizes a finding it
//! has already reported.

use std::collections::BTreeMap;

use arrow::record_batch::RecordBatch;
use serde::Serialize;
use serde_json::{Map, Value};

use super::PackHunt;

/// Where a finding's evidence sits in the raw logs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Evidence {
    pub path: String,
    pub line: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Hunt id and evidence, hashed: the same evidence found again gives the same id.
    pub id: String,
    pub hunt: String,
    pub title: String,
    pub severity: String,
    pub confidence: Option<String>,
    pub attack: Vec<String>,
    #[serde(rename = "@timestamp")]
    pub timestamp: Option<String>,
    /// host, user, package, domain, ip, ci_job, project, file: the first value of each found.
    pub entities: BTreeMap<String, String>,
    pub evidence: Vec<Evidence>,
    /// The row as the hunt gave it.
    pub fields: Map<String, Value>,
}

/// Entity name → the columns that carry it (a step prefix such as `install.` may precede them).
const ENTITIES: &[(&str, &[&str])] = &[
    ("host", &["host", "host.name"]),
    ("user", &["user", "user.name"]),
    ("package", &["package", "package.name"]),
    ("domain", &["domain", "dns.question.name", "destination.domain"]),
    ("ip", &["ip", "destination.ip"]),
    ("ci_job", &["ci.job.id"]),
    ("project", &["package.project"]),
    ("file", &["file.path"]),
];

fn column<'r>(row: &'r Map<String, Value>, names: &[&str]) -> Option<(&'r str, &'r Value)> {
    // An exact name wins over a prefixed one; among prefixed ones, the first column.
    for name in names {
        if let Some((k, v)) = row.get_key_value(*name).filter(|(_, v)| !v.is_null()) {
            return Some((k.as_str(), v));
        }
    }
    row.iter()
        .find(|(k, v)| !v.is_null() && names.iter().any(|n| k.ends_with(&format!(".{n}"))))
        .map(|(k, v)| (k.as_str(), v))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn entities(row: &Map<String, Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (entity, names) in ENTITIES {
        let Some((name, value)) = column(row, names) else { continue };
        let mut value = text(value);
        if *entity == "package" && name.ends_with("package.name") {
            let version = format!("{}version", name.trim_end_matches("name"));
            if let Some(v) = row.get(&version).filter(|v| !v.is_null()) {
                value = format!("{value}@{}", text(v));
            }
        }
        out.insert(entity.to_string(), value);
    }
    out
}

fn evidence(row: &Map<String, Value>) -> Vec<Evidence> {
    let mut out: Vec<Evidence> = row
        .iter()
        .filter_map(|(k, v)| {
            let prefix = k.strip_suffix("log.file.path")?;
            let path = v.as_str()?.to_string();
            let line = row.get(&format!("{prefix}log.file.line")).and_then(Value::as_i64);
            Some(Evidence { path, line })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// FNV-1a, 64 bits: stable across runs and platforms (std's hasher is not).
fn fnv(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// One finding per row of the hunt's result.
pub fn findings(hunt: &PackHunt, batches: &[RecordBatch]) -> Result<Vec<Finding>, String> {
    let mut out = Vec::new();
    for row in json_rows(batches)? {
        let evidence = evidence(&row);
        let keys: Vec<String> = if evidence.is_empty() {
            row.iter().map(|(k, v)| format!("{k}={}", text(v))).collect()
        } else {
            evidence.iter().map(|e| format!("{}:{}", e.path, e.line.unwrap_or(0))).collect()
        };
        let mut parts: Vec<&str> = vec![hunt.id()];
        parts.extend(keys.iter().map(String::as_str));
        out.push(Finding {
            id: fnv(&parts),
            hunt: hunt.id().to_string(),
            title: hunt.meta.title.clone().unwrap_or_default(),
            severity: hunt.severity().to_string(),
            confidence: hunt.meta.confidence.clone(),
            attack: hunt.meta.attack.clone(),
            timestamp: row.get("@timestamp").and_then(Value::as_str).map(str::to_string),
            entities: entities(&row),
            evidence,
            fields: row,
        });
    }
    Ok(out)
}

/// Rows as JSON objects (null columns left out; keys in name order).
fn json_rows(batches: &[RecordBatch]) -> Result<Vec<Map<String, Value>>, String> {
    let mut buffer = Vec::new();
    {
        let mut writer = arrow::json::LineDelimitedWriter::new(&mut buffer);
        for b in batches {
            writer.write(b).map_err(|e| e.to_string())?;
        }
        writer.finish().map_err(|e| e.to_string())?;
    }
    let text = String::from_utf8(buffer).map_err(|e| e.to_string())?;
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err("a row is not a JSON object".to_string()),
            Err(e) => Err(e.to_string()),
        })
        .collect()
}
