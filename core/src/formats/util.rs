//! Small helpers the parsers share: reading JSON fields, parsing timestamps, splitting paths.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value as Json;

/// A field of a JSON object by dotted path. Both nested objects (`{"process":{"name":..}}`) and
/// flattened keys (`{"process.name":..}`), and any mix of the two, are found.
pub fn field<'v>(value: &'v Json, path: &str) -> Option<&'v Json> {
    let object = value.as_object()?;
    if let Some(v) = object.get(path) {
        return Some(v);
    }
    // Try every split point, longest first key first: `a.b.c` → `a` then `b.c`, `a.b` then `c`.
    let mut rest = path;
    let mut offset = 0;
    while let Some(dot) = rest.find('.') {
        let head = &path[..offset + dot];
        if let Some(inner) = object.get(head)
            && let Some(found) = field(inner, &path[offset + dot + 1..])
        {
            return Some(found);
        }
        offset += dot + 1;
        rest = &path[offset..];
    }
    None
}

/// A field as text: strings as they are, numbers and booleans printed; null, objects and
/// arrays give `None`.
pub fn text<'v>(value: &'v Json, path: &str) -> Option<Cow<'v, str>> {
    match field(value, path)? {
        Json::String(s) => Some(Cow::Borrowed(s.as_str())),
        Json::Number(n) => Some(Cow::Owned(n.to_string())),
        Json::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// The first of several paths that is present.
pub fn text_any<'v>(value: &'v Json, paths: &[&str]) -> Option<Cow<'v, str>> {
    paths.iter().find_map(|p| text(value, p))
}

/// A field as an integer: JSON numbers, decimal strings, and `0x` hex strings (Windows pids).
pub fn int(value: &Json, path: &str) -> Option<i64> {
    match field(value, path)? {
        Json::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e18).map(|f| f as i64))
        }
        Json::String(s) => parse_int(s),
        _ => None,
    }
}

pub fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

pub fn boolean(value: &Json, path: &str) -> Option<bool> {
    match field(value, path)? {
        Json::Bool(b) => Some(*b),
        Json::String(s) => parse_bool(s),
        Json::Number(n) => n.as_i64().map(|i| i != 0),
        _ => None,
    }
}

pub fn parse_bool(s: &str) -> Option<bool> {
    // Compared without case instead of lowercased: this runs for each flag of each Zeek row.
    let s = s.trim();
    let is_one_of = |words: &[&str]| words.iter().any(|word| s.eq_ignore_ascii_case(word));
    if is_one_of(&["true", "t", "1", "yes"]) {
        Some(true)
    } else if is_one_of(&["false", "f", "0", "no"]) {
        Some(false)
    } else {
        None
    }
}

/// A list of strings from a JSON array (or a single string).
pub fn strings<'v>(value: &'v Json, path: &str) -> Vec<Cow<'v, str>> {
    match field(value, path) {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Json::String(s) => Some(Cow::Borrowed(s.as_str())),
                Json::Number(n) => Some(Cow::Owned(n.to_string())),
                _ => None,
            })
            .collect(),
        Some(Json::String(s)) => vec![Cow::Borrowed(s.as_str())],
        _ => Vec::new(),
    }
}

/// Earliest and latest instants spoor accepts: anything outside is a corrupt or hostile value.
const MIN_MICROS: i64 = 0; // 1970-01-01
const MAX_MICROS: i64 = 7_258_118_400_000_000; // 2200-01-01

fn in_range(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let micros = t.timestamp_micros();
    (MIN_MICROS..MAX_MICROS).contains(&micros).then_some(t)
}

/// Parses the timestamp shapes logs use: RFC 3339 (`2026-03-31T00:21:00.123Z`, with or without
/// an offset, up to nanoseconds), `2026-03-31 00:21:00.123` (taken as UTC, as Sysmon's UtcTime),
/// and Unix epoch seconds with a fraction (Zeek, osquery), or milliseconds (GitHub).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.as_bytes()[0].is_ascii_digit() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let seconds: f64 = s.parse().ok()?;
        return epoch(seconds);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return in_range(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f UTC"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return in_range(Utc.from_utc_datetime(&t));
        }
    }
    DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f %z").ok().and_then(|t| in_range(t.with_timezone(&Utc)))
}

/// An epoch value: seconds, or milliseconds when it is too large to be seconds.
pub fn epoch(value: f64) -> Option<DateTime<Utc>> {
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let seconds = if value > 1e11 { value / 1000.0 } else { value };
    let micros = (seconds * 1e6).round();
    if micros >= MAX_MICROS as f64 {
        return None;
    }
    DateTime::<Utc>::from_timestamp_micros(micros as i64).and_then(in_range)
}

/// A JSON field as a timestamp: strings in any shape of [`parse_time`], or epoch numbers.
pub fn time(value: &Json, path: &str) -> Option<DateTime<Utc>> {
    match field(value, path)? {
        Json::String(s) => parse_time(s),
        Json::Number(n) => epoch(n.as_f64()?),
        _ => None,
    }
}

/// The last component of a Windows or Unix path.
pub fn basename(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// An executable's file name as `process.name` holds it (docs/schema.md): lowercased when it is
/// a Windows program (its path has backslashes, or the name ends in `.exe`), where `PING.EXE`
/// and `ping.exe` are the same file; as written elsewhere, where case tells files apart.
pub fn program_name<'a>(name: Cow<'a, str>, executable: Option<&str>) -> Cow<'a, str> {
    let windows = executable.is_some_and(|x| x.contains('\\'))
        || name.contains('\\')
        || name.len() >= 4 && name[name.len() - 4..].eq_ignore_ascii_case(".exe");
    if windows && (name.bytes().any(|b| b.is_ascii_uppercase()) || !name.is_ascii()) {
        Cow::Owned(name.to_lowercase())
    } else {
        name
    }
}

/// Splits `DOMAIN\user` into its parts.
pub fn split_user(user: &str) -> (Option<&str>, &str) {
    match user.split_once('\\') {
        Some((domain, name)) => (Some(domain), name),
        None => (None, user),
    }
}

/// Reads `SHA1=...,MD5=...,SHA256=...` (Sysmon's Hashes field) for one algorithm, lowercased.
pub fn hash_from_list(list: &str, algorithm: &str) -> Option<String> {
    list.split([',', ';']).find_map(|part| {
        let (name, value) = part.split_once('=')?;
        name.trim().eq_ignore_ascii_case(algorithm).then(|| value.trim().to_ascii_lowercase())
    })
}

/// Cuts raw input for a reject record at a character boundary.
pub fn truncate(raw: &str, max: usize) -> &str {
    if raw.len() <= max {
        return raw;
    }
    let mut end = max;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    &raw[..end]
}

/// The message serde_json gives for a line that is not JSON, made to read well in a reject.
pub fn json_error(e: &serde_json::Error) -> String {
    format!("not valid JSON: {e}")
}

/// Finds where entries of a whole document (lockfile, JSON export) start, as 1-based lines.
pub struct Lines<'t> {
    text: &'t str,
    /// Byte offset of every line start.
    starts: Vec<usize>,
    /// Where each key that starts a line is, built on first use (see [`Lines::keys`]).
    keys: std::sync::OnceLock<KeyIndex<'t>>,
}

/// Keys that start a line, each with the offsets it starts at, in order: JSON object keys
/// (`"node_modules/a": {`) and YAML mapping keys (`/a@1.0.0:`, `'a@1.0.0':`).
#[derive(Default)]
struct KeyIndex<'t> {
    json_objects: std::collections::HashMap<&'t str, Vec<usize>>,
    yaml: std::collections::HashMap<&'t str, Vec<usize>>,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Lines { text, starts, keys: std::sync::OnceLock::new() }
    }

    /// Every line's leading key, read once: looking each of a lockfile's packages up by
    /// searching the text from the top made a file of 10,000 packages take minutes.
    fn keys(&self) -> &KeyIndex<'t> {
        self.keys.get_or_init(|| {
            let mut index = KeyIndex::default();
            for &start in &self.starts {
                let end = self.text[start..].find('\n').map_or(self.text.len(), |n| start + n);
                let line = self.text[start..end].trim_end_matches('\r');
                let trimmed = line.trim_start();
                let at = start + (line.len() - trimmed.len());
                if let Some(rest) = trimmed.strip_prefix('"')
                    && let Some(close) = rest.find('"')
                    && let Some(value) = rest[close + 1..].trim_start().strip_prefix(':')
                {
                    if value.trim_start().starts_with('{') {
                        index.json_objects.entry(&rest[..close]).or_default().push(at);
                    }
                    index.yaml.entry(&rest[..close]).or_default().push(at);
                } else if let Some(key) = trimmed.strip_suffix(':') {
                    let key = key.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')).unwrap_or(key);
                    index.yaml.entry(key).or_default().push(at);
                }
            }
            index
        })
    }

    /// The line of JSON object key `key` (`"key": {` at a line's start) at or after byte
    /// `from` (else its first), and its offset; text that is not one object per line is
    /// searched for `"key": {`.
    pub fn json_object_key(&self, key: &str, from: usize) -> (u64, usize) {
        match self.keys().json_objects.get(key) {
            Some(offsets) => {
                let at = offsets.get(offsets.partition_point(|&o| o < from)).unwrap_or(&offsets[0]);
                (self.line_of(*at), *at)
            }
            None => self.find(&format!("\"{key}\": {{"), from),
        }
    }

    fn line_of(&self, at: usize) -> u64 {
        self.starts.partition_point(|&s| s <= at) as u64
    }

    /// The line of the first `needle` at or after byte `from` (else anywhere), and its offset.
    pub fn find(&self, needle: &str, from: usize) -> (u64, usize) {
        // Callers search on from one past a match, which may fall inside a character.
        let mut start = from.min(self.text.len());
        while !self.text.is_char_boundary(start) {
            start += 1;
        }
        let at = self.text[start..].find(needle).map(|i| i + start).or_else(|| self.text.find(needle));
        match at {
            Some(at) => (self.line_of(at), at),
            None => (1, from),
        }
    }

    /// The line of a YAML mapping key, quoted or not.
    pub fn find_key(&self, key: &str) -> u64 {
        if let Some(offsets) = self.keys().yaml.get(key) {
            return self.line_of(offsets[0]);
        }
        for needle in [format!("\"{key}\":"), format!("'{key}':"), format!("\n  {key}:"), format!("\n{key}:")] {
            if let Some(at) = self.text.find(&needle) {
                let at = if needle.starts_with('\n') { at + 1 } else { at };
                return self.starts.partition_point(|&s| s <= at) as u64;
            }
        }
        1
    }
}

/// Splits a package spec `name@version` into its name and what follows the `@` (`None` without
/// one). A scoped name starts with `@` (`@babel/core@7.0.0`): the separator is the next `@`.
pub fn split_name_version(spec: &str) -> (&str, Option<&str>) {
    let from = usize::from(spec.starts_with('@'));
    match spec[from..].find('@') {
        Some(i) => (&spec[..from + i], Some(&spec[from + i + 1..])),
        None => (spec, None),
    }
}

/// `example.com.` → `example.com`, borrowing still where the name was borrowed.
pub fn without_root_dot(name: Cow<'_, str>) -> Cow<'_, str> {
    match name {
        Cow::Borrowed(n) => Cow::Borrowed(n.trim_end_matches('.')),
        Cow::Owned(n) if n.ends_with('.') => Cow::Owned(n.trim_end_matches('.').to_owned()),
        owned => owned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_from_inside_a_character_does_not_panic() {
        // fuzz/artifacts/ingest_records/crash-dc2c94fc…: a GitHub audit array whose entry search
        // resumed one byte into a byte-order mark.
        let lines = Lines::new("\u{feff}a\n\"x\"\n");
        assert_eq!(lines.find("\"x\"", 1), (2, 5));
    }
    use serde_json::json;

    #[test]
    fn finds_nested_flat_and_mixed_fields() {
        let v =
            json!({"process": {"name": "a", "parent.name": "b"}, "host.name": "h", "dns": {"question": {"name": "x"}}});
        assert_eq!(text(&v, "process.name").as_deref(), Some("a"));
        assert_eq!(text(&v, "process.parent.name").as_deref(), Some("b"));
        assert_eq!(text(&v, "host.name").as_deref(), Some("h"));
        assert_eq!(text(&v, "dns.question.name").as_deref(), Some("x"));
        assert_eq!(text(&v, "dns.question.type"), None);
    }

    #[test]
    fn parses_the_timestamp_shapes_of_real_logs() {
        let expect = |s: &str, want: &str| {
            assert_eq!(
                parse_time(s).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)).as_deref(),
                Some(want),
                "{s}"
            )
        };
        expect("2020-10-23T02:36:43.547Z", "2020-10-23T02:36:43.547000Z");
        expect("2020-10-23 06:36:43.542", "2020-10-23T06:36:43.542000Z");
        expect("2022-05-11T18:10:20.399931000Z", "2022-05-11T18:10:20.399931Z");
        expect("1521911720.865716", "2018-03-24T17:15:20.865716Z");
        expect("1711846860123", "2024-03-31T01:01:00.123000Z");
        expect("2026-03-31T02:21:00+02:00", "2026-03-31T00:21:00.000000Z");
        assert_eq!(parse_time("99999999999999999999"), None);
        assert_eq!(parse_time("1600-01-01T00:00:00Z"), None);
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn reads_hex_pids_and_hash_lists() {
        assert_eq!(parse_int("0x242c"), Some(9260));
        assert_eq!(hash_from_list("SHA1=AB,MD5=CD,SHA256=EF", "sha256").as_deref(), Some("ef"));
        assert_eq!(basename("C:\\Windows\\cmd.exe"), "cmd.exe");
        assert_eq!(basename("/usr/bin/curl"), "curl");
        assert_eq!(split_user("WORKSTATION5\\wardog"), (Some("WORKSTATION5"), "wardog"));
        assert_eq!(truncate("héllo", 2), "h");
    }
}
