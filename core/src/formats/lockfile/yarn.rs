//! `yarn.lock`: yarn 1's own text format, and yarn 2+ ("berry"), which is YAML.

use yaml_rust2::Yaml;

use super::{Lines, LockContext, Package, name_of_spec};
use crate::formats::{DocumentParser, Entry};

pub struct YarnLock {
    pub context: LockContext,
}

impl DocumentParser for YarnLock {
    fn parse<'r>(&mut self, text: &'r str, out: &mut Vec<Entry<'r>>) -> Result<(), String> {
        if text.lines().any(|l| l.starts_with("__metadata:")) {
            return self.parse_berry(text, out);
        }
        self.parse_v1(text, out)
    }
}

impl YarnLock {
    /// ```text
    /// "@babel/core@^7.0.0", "@babel/core@^7.1.0":
    ///   version "7.12.3"
    ///   resolved "https://.../core-7.12.3.tgz#..."
    ///   integrity sha512-...
    /// ```
    fn parse_v1<'r>(&self, text: &'r str, out: &mut Vec<Entry<'r>>) -> Result<(), String> {
        let mut current: Option<(u64, Package)> = None;
        let mut saw_header = false;
        let flush = |current: &mut Option<(u64, Package)>, out: &mut Vec<Entry<'r>>| {
            if let Some((line, package)) = current.take() {
                out.push(Entry::new(line, package.into_event(&self.context, "yarn", "1", None)));
            }
        };
        for (index, line) in text.lines().enumerate() {
            let number = index as u64 + 1;
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if !line.starts_with(' ') {
                flush(&mut current, out);
                let Some(specs) = line.strip_suffix(':') else {
                    return Err(format!("line {number}: expected an entry header ending in `:`"));
                };
                saw_header = true;
                let first = specs.split(", ").next().unwrap_or(specs);
                let installed = name_of_spec(first);
                // `alias@npm:real@^1` installs `real` under the name `alias`.
                let unquoted = first.trim().trim_matches('"');
                let real = unquoted.get(installed.len() + 1..).and_then(|r| r.strip_prefix("npm:")).map(name_of_spec);
                let package = Package {
                    alias: real.map(|_| installed.to_owned()),
                    name: real.unwrap_or(installed).to_owned(),
                    path: Some(specs.to_owned()),
                    ..Default::default()
                };
                current = Some((number, package));
                continue;
            }
            let Some((_, package)) = current.as_mut() else { continue };
            let trimmed = line.trim();
            let value = |key: &str| trimmed.strip_prefix(key).map(|v| v.trim().trim_matches('"').to_owned());
            if line.starts_with("  ") && !line.starts_with("    ") {
                if let Some(v) = value("version ") {
                    package.version = v;
                } else if let Some(v) = value("resolved ") {
                    package.resolved = Some(v);
                } else if let Some(v) = value("integrity ") {
                    package.integrity = Some(v);
                }
            }
        }
        flush(&mut current, out);
        if !saw_header {
            return Err("no entries: not a yarn.lock".into());
        }
        Ok(())
    }

    fn parse_berry<'r>(&self, text: &'r str, out: &mut Vec<Entry<'r>>) -> Result<(), String> {
        let docs = super::load_yaml(text)?;
        let doc = docs.first().ok_or("empty YAML document")?;
        let Yaml::Hash(entries) = doc else { return Err("yarn.lock is not a YAML mapping".into()) };
        let lines = Lines::new(text);
        let version =
            doc["__metadata"]["version"].as_i64().map(|v| format!("berry-{v}")).unwrap_or_else(|| "berry".into());
        for (key, entry) in entries {
            let Some(key) = key.as_str() else { continue };
            if key == "__metadata" {
                continue;
            }
            let resolution = entry["resolution"].as_str().unwrap_or("");
            if resolution.contains("@workspace:") || resolution.contains("@link:") || resolution.contains("@portal:") {
                continue; // the project's own packages
            }
            let line = lines.find_key(key);
            let name = resolution.split_once("@npm:").map(|(n, _)| n).unwrap_or_else(|| name_of_spec(resolution));
            let installed = name_of_spec(key.split(", ").next().unwrap_or(key));
            let package = Package {
                alias: (installed != name).then(|| installed.to_owned()),
                name: name.to_owned(),
                version: yaml_text(&entry["version"]).unwrap_or_default(),
                resolved: (!resolution.is_empty()).then(|| resolution.to_owned()),
                integrity: yaml_text(&entry["checksum"]),
                path: Some(key.to_owned()),
                ..Default::default()
            };
            out.push(Entry::new(line, package.into_event(&self.context, "yarn", &version, None)));
        }
        Ok(())
    }
}

/// A scalar as text: YAML reads `1.10` as a number and `1.2.3` as a string; both are versions.
pub(crate) fn yaml_text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}
