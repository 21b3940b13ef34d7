//! Any NDJSON source through a TOML mapping file: which table, where the timestamp is and how it
//! is written, and which JSON field fills which column. Values are converted to the column's type
//! (a `"4102"` string fills an int column). This is how a user brings an EDR spoor does not know.
//!
//! ```toml
//! table = "process"
//! action = "start"                    # optional: a constant event.action
//!
//! [timestamp]
//! field = "ts"                        # dotted paths reach into nested objects
//! format = "%d/%m/%Y %H:%M:%S"        # or "auto" (RFC 3339, epoch, ...), "epoch_s", "epoch_ms"
//!
//! [columns]
//! "host.name" = "agent.hostname"
//! "process.pid" = "proc.pid"
//! "process.command_line" = "proc.cmd"
//! "process.name" = { value = "node" } # a constant
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use chrono::{NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::Value as Json;

use super::util;
use super::{LineParser, Verdict};
use crate::error::{Error, Result};
use crate::event::{Event, Value};
use crate::schema::{Kind, Table};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    table: String,
    action: Option<String>,
    timestamp: TimestampSpec,
    #[serde(default)]
    columns: BTreeMap<String, Source>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimestampSpec {
    field: String,
    #[serde(default = "auto")]
    format: String,
}

fn auto() -> String {
    "auto".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Source {
    Field(String),
    Spec { field: Option<String>, value: Option<String> },
}

/// A checked mapping, ready to parse lines.
#[derive(Debug, Clone)]
pub struct Mapping {
    table: Table,
    action: Option<String>,
    timestamp: TimestampSpec,
    /// (column, kind, JSON path or constant)
    columns: Vec<(&'static str, Kind, Field)>,
}

#[derive(Debug, Clone)]
enum Field {
    Path(String),
    Constant(String),
}

impl Mapping {
    /// Reads and checks a mapping file; every problem names the file and what to change.
    pub fn load(path: &Path) -> Result<Mapping> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Mapping::parse(&text).map_err(|e| Error::User(format!("{}: {e}", path.display())))
    }

    pub fn parse(text: &str) -> std::result::Result<Mapping, String> {
        let file: MappingFile = toml::from_str(text).map_err(|e| format!("invalid mapping: {e}"))?;
        let table = Table::from_name(&file.table).filter(|t| *t != Table::Rejects).ok_or_else(|| {
            let names: Vec<_> = Table::ALL.iter().filter(|t| **t != Table::Rejects).map(|t| t.name()).collect();
            format!("unknown table `{}`; one of: {}", file.table, names.join(", "))
        })?;
        let mut columns = Vec::new();
        for (name, source) in file.columns {
            let column = table.columns().iter().find(|c| c.name == name).ok_or_else(|| {
                format!("table `{}` has no column `{name}` (see docs/schema.md or `spoor schema`)", table.name())
            })?;
            if ["@timestamp", "spoor.format", "log.file.path", "log.file.line", "event.ingested"].contains(&column.name)
            {
                return Err(format!("column `{name}` is set by spoor itself and cannot be mapped"));
            }
            if column.kind == Kind::Map {
                return Err(format!("column `{name}` holds a record's unmapped fields and cannot be mapped from one"));
            }
            let field = match source {
                Source::Field(path) => Field::Path(path),
                Source::Spec { field: Some(path), value: None } => Field::Path(path),
                Source::Spec { field: None, value: Some(v) } => Field::Constant(v),
                Source::Spec { .. } => return Err(format!("column `{name}`: give either `field` or `value`")),
            };
            columns.push((column.name, column.kind, field));
        }
        if !["auto", "epoch_s", "epoch_ms"].contains(&file.timestamp.format.as_str())
            && !file.timestamp.format.contains('%')
        {
            return Err(format!(
                "timestamp format `{}`: use auto, epoch_s, epoch_ms or a strftime pattern such as %Y-%m-%d %H:%M:%S",
                file.timestamp.format
            ));
        }
        Ok(Mapping { table, action: file.action, timestamp: file.timestamp, columns })
    }

    fn time(&self, v: &Json) -> Option<chrono::DateTime<Utc>> {
        let raw = util::field(v, &self.timestamp.field)?;
        match self.timestamp.format.as_str() {
            "auto" => util::time(v, &self.timestamp.field),
            "epoch_s" => util::epoch(raw.as_f64().or_else(|| raw.as_str()?.parse().ok())?),
            "epoch_ms" => util::epoch(raw.as_f64().or_else(|| raw.as_str()?.parse().ok())? / 1000.0),
            pattern => {
                let s = raw.as_str()?;
                chrono::DateTime::parse_from_str(s, pattern)
                    .map(|t| t.with_timezone(&Utc))
                    .ok()
                    .or_else(|| NaiveDateTime::parse_from_str(s, pattern).ok().map(|t| Utc.from_utc_datetime(&t)))
            }
        }
    }
}

impl LineParser for Mapping {
    fn fork(&self) -> Option<Box<dyn LineParser>> {
        Some(Box::new(self.clone()))
    }

    fn parse<'r>(&mut self, line: &'r str, out: &mut Vec<Event<'r>>) -> std::result::Result<Verdict, String> {
        let v: Json = serde_json::from_str(line).map_err(|e| util::json_error(&e))?;
        let time = self.time(&v).ok_or_else(|| format!("no valid timestamp in `{}`", self.timestamp.field))?;
        let mut e = Event::new(self.table).at(Some(time));
        e.text("event.action", self.action.clone());
        for (column, kind, field) in &self.columns {
            let text: Option<Cow<str>> = match field {
                Field::Constant(c) => Some(Cow::Borrowed(c.as_str())),
                Field::Path(path) => util::text(&v, path),
            };
            match kind {
                Kind::Text | Kind::Label => match *column {
                    "host.name" => e.lower(column, text.map(Cow::into_owned)),
                    c if c.ends_with(".ip") => e.ip(column, text.map(Cow::into_owned)),
                    _ => e.text(column, text.map(|t| Cow::Owned(t.into_owned()))),
                },
                Kind::Int => match text {
                    Some(t) => e.set(
                        column,
                        Value::Int(util::parse_int(&t).ok_or_else(|| format!("`{column}`: `{t}` is not an integer"))?),
                    ),
                    None => &mut e,
                },
                Kind::Bool => match text {
                    Some(t) => e.set(
                        column,
                        Value::Bool(util::parse_bool(&t).ok_or_else(|| format!("`{column}`: `{t}` is not a boolean"))?),
                    ),
                    None => &mut e,
                },
                Kind::Time => e.time(column, text.as_deref().and_then(util::parse_time)),
                Kind::Map => unreachable!("refused when the mapping was loaded"),
                Kind::TextList => match field {
                    Field::Path(path) => {
                        let items = util::strings(&v, path).into_iter().map(|s| Cow::Owned(s.into_owned())).collect();
                        e.list(column, items)
                    }
                    Field::Constant(c) => e.list(column, vec![Cow::Owned(c.clone())]),
                },
            };
        }
        out.push(e);
        Ok(Verdict::Stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistakes_in_a_mapping_are_named() {
        let err = |t: &str| Mapping::parse(t).unwrap_err();
        assert!(
            err("table = \"proc\"\n[timestamp]\nfield = \"ts\"")
                .starts_with("unknown table `proc`; one of: process, network")
        );
        assert_eq!(
            err("table = \"process\"\n[timestamp]\nfield = \"ts\"\n[columns]\n\"process.nam\" = \"x\""),
            "table `process` has no column `process.nam` (see docs/schema.md or `spoor schema`)"
        );
        assert!(
            err("table = \"dns\"\n[timestamp]\nfield = \"ts\"\nformat = \"iso\"").starts_with("timestamp format `iso`")
        );
    }

    #[test]
    fn maps_nested_fields_with_casts() {
        let mut m = Mapping::parse(
            "table = \"process\"\naction = \"start\"\n[timestamp]\nfield = \"t\"\nformat = \"%d/%m/%Y %H:%M:%S\"\n\
             [columns]\n\"host.name\" = \"agent.host\"\n\"process.pid\" = \"proc.pid\"\n\"process.name\" = { value = \"node\" }",
        )
        .unwrap();
        let mut out = Vec::new();
        let line = r#"{"t":"31/03/2026 00:41:02","agent":{"host":"LAPTOP"},"proc":{"pid":"4102"}}"#;
        assert_eq!(m.parse(line, &mut out), Ok(Verdict::Stored));
        let e = &out[0];
        assert_eq!(e.get_text("host.name"), Some("laptop"));
        assert_eq!(e.get("process.pid"), Some(&Value::Int(4102)));
        assert_eq!(e.get_text("process.name"), Some("node"));
        assert_eq!(e.timestamp, Some(1_774_917_662_000_000));
        let bad = r#"{"t":"31/03/2026 00:41:02","proc":{"pid":"many"}}"#;
        assert_eq!(m.parse(bad, &mut Vec::new()), Err("`process.pid`: `many` is not an integer".into()));
    }
}
