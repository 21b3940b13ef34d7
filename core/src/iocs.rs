//! Indicator lists: CSV, JSON and STIX 2.1 bundles read into one `iocs` table that hunts look up.
//!
//! Every source becomes rows of the same shape: `type` (domain, ipv4, ipv6, url, sha256, sha1,
//! md5, email, package, file), `value` (normalized: lowercased domains and hashes, canonical IP
//! addresses, `name@version` for packages), `campaign`, `first_seen`, `last_seen`, `source` (the
//! file) and `reference` (a report or object id).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder, TimestampMicrosecondBuilder};
use arrow::datatypes::{DataType, SchemaRef};
use serde_json::Value;

use crate::error::{Error, Result};

/// The table name IOC files are registered under.
pub const TABLE: &str = crate::schema::IOCS;

pub const TYPES: &[&str] = &["domain", "ipv4", "ipv6", "url", "sha256", "sha1", "md5", "email", "package", "file"];

/// The table's schema (defined with the other tables, in [`crate::schema`]).
pub fn schema() -> SchemaRef {
    crate::schema::iocs_schema()
}

/// One indicator.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ioc {
    pub kind: String,
    pub value: String,
    pub campaign: Option<String>,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub reference: Option<String>,
}

/// Loads IOC files and directories as the session's `iocs` table, replacing any there;
/// with no files, an empty table, so hunts that look indicators up still check and run.
/// Returns the number of indicators.
pub fn register(ctx: &datafusion::prelude::SessionContext, paths: &[PathBuf]) -> Result<usize> {
    register_with(ctx, paths, &[])
}

/// As [`register`], with indicators from elsewhere (`(source, indicator)`, e.g. from
/// [`from_batches`]) added to the files'.
pub fn register_with(
    ctx: &datafusion::prelude::SessionContext,
    paths: &[PathBuf],
    extra: &[(String, Ioc)],
) -> Result<usize> {
    let mut rows = if paths.is_empty() { Vec::new() } else { load_rows(paths)? };
    rows.extend_from_slice(extra);
    let batch = batch(&rows)?;
    let rows = batch.num_rows();
    let table = datafusion::datasource::MemTable::try_new(batch.schema(), vec![vec![batch]])?;
    ctx.deregister_table(TABLE)?;
    ctx.register_table(TABLE, Arc::new(table))?;
    Ok(rows)
}

/// Extensions of the files read from an IOC directory.
const EXTENSIONS: &[&str] = &["csv", "json", "ndjson", "jsonl"];

/// Reads every file (by content: a STIX bundle, an OSV advisory, JSON, or CSV) into one batch.
/// A directory is walked for `.csv`, `.json`, `.ndjson` and `.jsonl` files, in name order.
pub fn load_all(paths: &[PathBuf]) -> Result<RecordBatch> {
    batch(&load_rows(paths)?)
}

fn load_rows(paths: &[PathBuf]) -> Result<Vec<(String, Ioc)>> {
    let mut rows = Vec::new();
    for path in paths {
        for file in files(path)? {
            let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
            for ioc in parse(&file, &text)? {
                rows.push((file.display().to_string(), ioc));
            }
        }
    }
    Ok(rows)
}

/// Indicators given as a table (a list built in a notebook): string columns `type` and
/// `value`, and optionally `campaign`, `first_seen`, `last_seen` and `reference`, checked and
/// normalized as a file's are; `source` names the table in errors (with the row number).
pub fn from_batches(source: &str, batches: &[RecordBatch]) -> Result<Vec<Ioc>> {
    use arrow::array::{Array, AsArray};
    let path = Path::new(source);
    let mut out = Vec::new();
    let mut row_number = 0;
    for b in batches {
        let column = |name: &str| -> Result<Option<ArrayRef>> {
            let Some(c) = b.column_by_name(name) else { return Ok(None) };
            // Timestamps read as RFC 3339 text, as files give them.
            arrow::compute::cast(c, &DataType::Utf8)
                .map(Some)
                .map_err(|e| Error::User(format!("{source}: column `{name}` is not text: {e}")))
        };
        let required = |name: &str| {
            column(name)?.ok_or_else(|| {
                let have: Vec<&str> = b.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
                Error::User(format!("{source}: indicators need a `{name}` column (it has: {})", have.join(", ")))
            })
        };
        let (kind, value) = (required("type")?, required("value")?);
        let optional = [column("campaign")?, column("first_seen")?, column("last_seen")?, column("reference")?];
        let text = |c: &ArrayRef, i: usize| c.is_valid(i).then(|| c.as_string::<i32>().value(i).to_string());
        for i in 0..b.num_rows() {
            row_number += 1;
            let opt = |k: usize| optional[k].as_ref().and_then(|c| text(c, i));
            let (Some(k), Some(v)) = (text(&kind, i), text(&value, i)) else {
                return Err(user(path, row_number, "an indicator needs a `type` and a `value`"));
            };
            out.push(make(path, row_number, &k, &v, opt(0), opt(1), opt(2), opt(3))?);
        }
    }
    Ok(out)
}

/// The indicator files a path names: itself, or the `.csv`, `.json`, `.ndjson` and `.jsonl`
/// files under it (hidden ones skipped), in name order.
pub fn files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let p = entry.path();
            let hidden = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| EXTENSIONS.contains(&x)) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The indicators in one file's text.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Ioc>> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let json: std::result::Result<Value, _> = serde_json::from_str(trimmed);
        return match json {
            Ok(v) if v.get("type").and_then(Value::as_str) == Some("bundle") => stix(path, &v),
            Ok(v) if v.get("affected").is_some() => osv(path, &v),
            Ok(Value::Array(items)) if items.first().is_some_and(|v| v.get("affected").is_some()) => {
                items.iter().map(|v| osv(path, v)).collect::<Result<Vec<_>>>().map(|v| v.concat())
            }
            Ok(Value::Array(items)) => items.iter().enumerate().map(|(i, v)| json_row(path, i + 1, v)).collect(),
            Ok(v) => json_row(path, 1, &v).map(|r| vec![r]),
            // Not one document: one object per line.
            Err(_) => trimmed
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, l)| {
                    let v: Value = serde_json::from_str(l).map_err(|e| user(path, i + 1, &format!("not JSON: {e}")))?;
                    json_row(path, i + 1, &v)
                })
                .collect(),
        };
    }
    csv(path, text)
}

fn user(path: &Path, line: usize, message: &str) -> Error {
    Error::User(format!("{}:{line}: {message}", path.display()))
}

fn json_row(path: &Path, line: usize, v: &Value) -> Result<Ioc> {
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let kind = field("type").ok_or_else(|| user(path, line, "an indicator needs a `type`"))?;
    let value = field("value").ok_or_else(|| user(path, line, "an indicator needs a `value`"))?;
    make(path, line, &kind, &value, field("campaign"), field("first_seen"), field("last_seen"), field("reference"))
}

#[allow(clippy::too_many_arguments)]
fn make(
    path: &Path,
    line: usize,
    kind: &str,
    value: &str,
    campaign: Option<String>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    reference: Option<String>,
) -> Result<Ioc> {
    let kind = kind.trim().to_ascii_lowercase();
    let kind = match kind.as_str() {
        "domain-name" | "hostname" | "fqdn" => "domain".to_string(),
        "ipv4-addr" | "ip" => "ipv4".to_string(),
        "ipv6-addr" => "ipv6".to_string(),
        "sha-256" => "sha256".to_string(),
        "sha-1" => "sha1".to_string(),
        "email-addr" => "email".to_string(),
        _ => kind,
    };
    if !TYPES.contains(&kind.as_str()) {
        return Err(user(path, line, &format!("unknown indicator type `{kind}`; one of: {}", TYPES.join(", "))));
    }
    let value =
        normalize(&kind, value.trim()).ok_or_else(|| user(path, line, &format!("`{value}` is not a valid {kind}")))?;
    let time = |t: Option<String>, what: &str| -> Result<Option<i64>> {
        match t.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => crate::formats::util::parse_time(t)
                .map(|dt| Some(dt.timestamp_micros()))
                .ok_or_else(|| user(path, line, &format!("`{t}` is not a valid {what} time"))),
        }
    };
    let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    Ok(Ioc {
        kind,
        value,
        campaign: nonempty(campaign),
        first_seen: time(first_seen, "first_seen")?,
        last_seen: time(last_seen, "last_seen")?,
        reference: nonempty(reference),
    })
}

fn normalize(kind: &str, value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    match kind {
        "domain" => {
            let d = value.trim_end_matches('.').to_ascii_lowercase();
            (!d.is_empty() && !d.contains(['/', ' ', '@'])).then_some(d)
        }
        "ipv4" | "ipv6" => value.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string()),
        "sha256" | "sha1" | "md5" => {
            let len = match kind {
                "sha256" => 64,
                "sha1" => 40,
                _ => 32,
            };
            (value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit())).then(|| value.to_ascii_lowercase())
        }
        "email" => value.contains('@').then(|| value.to_ascii_lowercase()),
        "package" => {
            // `name@version`, or a bare `name` for every version; a scoped name starts with `@`.
            if value.contains(char::is_whitespace) {
                return None;
            }
            match crate::formats::util::split_name_version(value) {
                (_, Some(version)) => (!version.is_empty()).then(|| value.to_string()),
                (_, None) => Some(value.to_string()),
            }
        }
        _ => Some(value.to_string()),
    }
}

fn csv(path: &Path, text: &str) -> Result<Vec<Ioc>> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((_, header)) = lines.next() else { return Ok(Vec::new()) };
    let columns: Vec<String> = split_csv(header).into_iter().map(|c| c.trim().to_ascii_lowercase()).collect();
    let index = |name: &str| columns.iter().position(|c| c == name);
    let (Some(kind), Some(value)) = (index("type"), index("value")) else {
        return Err(user(path, 1, "an IOC CSV needs a header with `type` and `value` columns"));
    };
    let mut out = Vec::new();
    for (i, line) in lines {
        let cells = split_csv(line);
        let cell = |c: Option<usize>| c.and_then(|c| cells.get(c)).map(|s| s.to_string());
        let (Some(k), Some(v)) = (cell(Some(kind)), cell(Some(value))) else {
            return Err(user(path, i + 1, "missing `type` or `value`"));
        };
        out.push(make(
            path,
            i + 1,
            &k,
            &v,
            cell(index("campaign")),
            cell(index("first_seen")),
            cell(index("last_seen")),
            cell(index("reference")).or_else(|| cell(index("source_reference"))),
        )?);
    }
    Ok(out)
}

/// One CSV line's cells (RFC 4180 quoting: `"a,b"`, `""` for a quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                if let Some(s) = cells.last_mut() {
                    s.push('"')
                }
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => {
                if let Some(s) = cells.last_mut() {
                    s.push(c);
                }
            }
        }
    }
    cells
}

/// STIX 2.1: indicators whose pattern compares an observable's value, and `software` objects
/// (packages, by name and version).
/// An OSV advisory (such as the OpenSSF malicious-packages `MAL-` records): each listed version
/// of each affected package, or the bare package name when every version is affected (a range
/// introduced at `0` that nothing fixes).
fn osv(path: &Path, advisory: &Value) -> Result<Vec<Ioc>> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let id = text(advisory, "id").ok_or_else(|| user(path, 1, "an OSV advisory needs an `id`"))?;
    let published = text(advisory, "published");
    let withdrawn = text(advisory, "withdrawn");
    if withdrawn.is_some() {
        return Ok(Vec::new());
    }
    let affected = advisory.get("affected").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for a in &affected {
        let Some(name) = a.get("package").and_then(|p| text(p, "name")) else { continue };
        let versions: Vec<String> = a
            .get("versions")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let every_version = a.get("ranges").and_then(Value::as_array).is_some_and(|ranges| {
            ranges.iter().any(|r| {
                let events = r.get("events").and_then(Value::as_array).cloned().unwrap_or_default();
                events.iter().any(|e| text(e, "introduced").as_deref() == Some("0"))
                    && !events.iter().any(|e| e.get("fixed").is_some() || e.get("last_affected").is_some())
            })
        });
        let mut values: Vec<String> = versions.iter().map(|v| format!("{name}@{v}")).collect();
        if every_version {
            values.push(name.clone());
        }
        for value in values {
            out.push(make(path, 1, "package", &value, Some(id.clone()), published.clone(), None, Some(id.clone()))?);
        }
    }
    Ok(out)
}

fn stix(path: &Path, bundle: &Value) -> Result<Vec<Ioc>> {
    let objects = bundle.get("objects").and_then(Value::as_array).cloned().unwrap_or_default();
    let campaign_names: std::collections::HashMap<String, String> = objects
        .iter()
        .filter(|o| matches!(o.get("type").and_then(Value::as_str), Some("campaign" | "intrusion-set" | "malware")))
        .filter_map(|o| Some((o.get("id")?.as_str()?.to_string(), o.get("name")?.as_str()?.to_string())))
        .collect();
    // An indicator `indicates` a campaign through a relationship object.
    let mut campaign_of: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for o in &objects {
        if o.get("type").and_then(Value::as_str) == Some("relationship") {
            let (Some(src), Some(dst)) =
                (o.get("source_ref").and_then(Value::as_str), o.get("target_ref").and_then(Value::as_str))
            else {
                continue;
            };
            if let Some(name) = campaign_names.get(dst) {
                campaign_of.insert(src.to_string(), name.clone());
            }
        }
    }
    let pattern = regex::Regex::new(
        r#"\[\s*([a-z0-9-]+):(value|hashes\.'?(SHA-256|SHA-1|MD5|SHA256|SHA1)'?|name)\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]"#,
    )
    .map_err(|e| Error::Internal(e.to_string()))?;
    let mut out = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
        let id = text("id");
        let campaign = id.as_ref().and_then(|id| campaign_of.get(id).cloned()).or_else(|| text("name"));
        match o.get("type").and_then(Value::as_str) {
            Some("indicator") => {
                let Some(p) = text("pattern") else { continue };
                for c in pattern.captures_iter(&p) {
                    let object = &c[1];
                    let value = c[4].replace("\\'", "'").replace("\\\\", "\\");
                    let kind = match (object, c.get(3).map(|m| m.as_str().to_ascii_uppercase())) {
                        ("file", Some(h)) if h.contains("256") => "sha256",
                        ("file", Some(h)) if h.contains('1') => "sha1",
                        ("file", Some(_)) => "md5",
                        ("file", None) => "file",
                        ("domain-name", _) => "domain",
                        ("ipv4-addr", _) => "ipv4",
                        ("ipv6-addr", _) => "ipv6",
                        ("url", _) => "url",
                        ("email-addr", _) => "email",
                        _ => continue,
                    };
                    out.push(make(
                        path,
                        i + 1,
                        kind,
                        &value,
                        campaign.clone(),
                        text("valid_from"),
                        text("valid_until"),
                        id.clone(),
                    )?);
                }
            }
            Some("software") => {
                let (Some(name), Some(version)) = (text("name"), text("version")) else { continue };
                out.push(make(
                    path,
                    i + 1,
                    "package",
                    &format!("{name}@{version}"),
                    campaign.clone(),
                    None,
                    None,
                    id.clone(),
                )?);
            }
            _ => {}
        }
    }
    Ok(out)
}

fn batch(rows: &[(String, Ioc)]) -> Result<RecordBatch> {
    let mut kind = StringBuilder::new();
    let mut value = StringBuilder::new();
    let mut campaign = StringBuilder::new();
    let mut first = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    let mut last = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    let mut source = StringBuilder::new();
    let mut reference = StringBuilder::new();
    for (file, ioc) in rows {
        kind.append_value(&ioc.kind);
        value.append_value(&ioc.value);
        campaign.append_option(ioc.campaign.as_deref());
        first.append_option(ioc.first_seen);
        last.append_option(ioc.last_seen);
        source.append_value(file);
        reference.append_option(ioc.reference.as_deref());
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(kind.finish()),
        Arc::new(value.finish()),
        Arc::new(campaign.finish()),
        Arc::new(first.finish()),
        Arc::new(last.finish()),
        Arc::new(source.finish()),
        Arc::new(reference.finish()),
    ];
    RecordBatch::try_new(schema(), columns).map_err(|e| Error::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_of_indicators_is_normalized_like_a_file() {
        let b = RecordBatch::try_from_iter([
            ("type", Arc::new(arrow::array::StringArray::from(vec!["domain", "ip"])) as ArrayRef),
            ("value", Arc::new(arrow::array::StringArray::from(vec!["EVIL.example.", "198.51.100.7"])) as ArrayRef),
        ])
        .unwrap();
        let iocs = from_batches("notebook", &[b]).unwrap();
        let got: Vec<(&str, &str)> = iocs.iter().map(|i| (i.kind.as_str(), i.value.as_str())).collect();
        assert_eq!(got, [("domain", "evil.example"), ("ipv4", "198.51.100.7")]);

        let bad =
            RecordBatch::try_from_iter([("value", Arc::new(arrow::array::StringArray::from(vec!["x"])) as ArrayRef)])
                .unwrap();
        let e = from_batches("notebook", &[bad]).unwrap_err().to_string();
        assert!(e.contains("notebook: indicators need a `type` column (it has: value)"), "{e}");
        let wrong = RecordBatch::try_from_iter([
            ("type", Arc::new(arrow::array::StringArray::from(vec!["domain", "colour"])) as ArrayRef),
            ("value", Arc::new(arrow::array::StringArray::from(vec!["a.example", "red"])) as ArrayRef),
        ])
        .unwrap();
        let e = from_batches("notebook", &[wrong]).unwrap_err().to_string();
        assert!(e.contains("notebook:2: unknown indicator type `colour`"), "{e}");
    }

    #[test]
    fn csv_rows_are_normalized() {
        let text = "type,value,campaign,first_seen\ndomain,SFRCLAK.com.,axios,2026-03-31T00:21:00Z\nipv6,2001:DB8::1,,\n\"package\",\"plain-crypto-js@4.2.1\",\"axios, npm\",\n";
        let rows = parse(Path::new("iocs.csv"), text).unwrap();
        assert_eq!(rows[0].value, "sfrclak.com");
        assert!(rows[0].first_seen.is_some());
        assert_eq!(rows[1].value, "2001:db8::1");
        assert_eq!(rows[2].campaign.as_deref(), Some("axios, npm"));
    }

    #[test]
    fn a_bad_row_names_the_file_and_line() {
        let e = parse(Path::new("x.csv"), "type,value\ndomain,ok.example\nsha256,nothex\n").unwrap_err();
        assert_eq!(e.to_string(), "x.csv:3: `nothex` is not a valid sha256");
        let e = parse(Path::new("x.csv"), "kind,value\n").unwrap_err();
        assert!(e.to_string().starts_with("x.csv:1: an IOC CSV needs"));
    }

    #[test]
    fn stix_indicators_and_software() {
        let bundle = r#"{"type": "bundle", "id": "bundle--1", "objects": [
          {"type": "campaign", "id": "campaign--1", "name": "axios-2026-03"},
          {"type": "indicator", "id": "indicator--1", "pattern_type": "stix", "valid_from": "2026-03-31T00:00:00Z",
           "pattern": "[domain-name:value = 'sfrclak.com'] OR [ipv4-addr:value = '198.51.100.73']"},
          {"type": "indicator", "id": "indicator--2", "pattern_type": "stix",
           "pattern": "[file:hashes.'SHA-256' = 'E10B1FA84F1D6481625F741B69892780140D4E0E7769E7491E5F4D894C2E0E09']"},
          {"type": "relationship", "relationship_type": "indicates", "source_ref": "indicator--1", "target_ref": "campaign--1"},
          {"type": "software", "id": "software--1", "name": "plain-crypto-js", "version": "4.2.1"}
        ]}"#;
        let rows = parse(Path::new("b.json"), bundle).unwrap();
        let got: Vec<(&str, &str)> = rows.iter().map(|r| (r.kind.as_str(), r.value.as_str())).collect();
        assert_eq!(
            got,
            [
                ("domain", "sfrclak.com"),
                ("ipv4", "198.51.100.73"),
                ("sha256", "e10b1fa84f1d6481625f741b69892780140d4e0e7769e7491e5f4d894c2e0e09"),
                ("package", "plain-crypto-js@4.2.1")
            ]
        );
        assert_eq!(rows[0].campaign.as_deref(), Some("axios-2026-03"));
    }

    #[test]
    fn osv_malicious_package_records() {
        let advisory = r#"{"id": "MAL-2026-0001", "published": "2026-03-31T04:00:00Z",
            "summary": "Malicious code in plain-crypto-js (npm)",
            "affected": [
              {"package": {"ecosystem": "npm", "name": "plain-crypto-js"},
               "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}], "versions": ["4.2.1"]},
              {"package": {"ecosystem": "npm", "name": "axios"}, "versions": ["1.14.1", "0.30.4"]}
            ]}"#;
        let rows = parse(Path::new("osv/MAL-2026-0001.json"), advisory).unwrap();
        let values: Vec<&str> = rows.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(values, ["plain-crypto-js@4.2.1", "plain-crypto-js", "axios@1.14.1", "axios@0.30.4"]);
        assert!(rows.iter().all(|r| r.kind == "package" && r.campaign.as_deref() == Some("MAL-2026-0001")));
        assert!(rows[0].first_seen.is_some());
        let withdrawn = r#"{"id": "MAL-1", "withdrawn": "2026-04-01T00:00:00Z", "affected": [{"package": {"name": "x"}, "versions": ["1"]}]}"#;
        assert!(parse(Path::new("w.json"), withdrawn).unwrap().is_empty());
    }

    #[test]
    fn json_arrays_and_lines() {
        let rows = parse(Path::new("a.json"), r#"[{"type": "domain", "value": "a.example"}]"#).unwrap();
        assert_eq!(rows.len(), 1);
        let rows = parse(Path::new("a.ndjson"), "{\"type\": \"md5\", \"value\": \"d41d8cd98f00b204e9800998ecf8427e\"}\n{\"type\": \"email\", \"value\": \"IFSTAP@proton.me\"}\n").unwrap();
        assert_eq!(rows[1].value, "ifstap@proton.me");
    }
}
