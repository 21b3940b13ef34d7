//! `package-lock.json` (and `npm-shrinkwrap.json`): lockfileVersion 1 (nested `dependencies`),
//! 2 (both shapes; the `packages` map is read) and 3 (`packages` only).

use serde_json::{Map, Value as Json};

use super::{Lines, LockContext, Package};
use crate::formats::{DocumentParser, Entry};

pub struct PackageLock {
    pub context: LockContext,
}

fn flag(v: &Json, key: &str) -> Option<bool> {
    v.get(key).and_then(Json::as_bool)
}

fn string(v: &Json, key: &str) -> Option<String> {
    v.get(key).and_then(Json::as_str).map(str::to_owned)
}

/// `node_modules/a/node_modules/@s/b` → `@s/b`.
fn installed_name(path: &str) -> &str {
    path.rsplit_once("node_modules/").map(|(_, n)| n).unwrap_or(path)
}

impl DocumentParser for PackageLock {
    fn parse<'r>(&mut self, text: &'r str, out: &mut Vec<Entry<'r>>) -> Result<(), String> {
        let doc: Json = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let version =
            doc.get("lockfileVersion").and_then(Json::as_i64).ok_or("no lockfileVersion: not a package-lock.json")?;
        let lockfile_version = version.to_string();
        let project = string(&doc, "name");
        let lines = Lines::new(text);
        if let Some(packages) = doc.get("packages").and_then(Json::as_object) {
            for (key, entry) in packages {
                if key.is_empty() || flag(entry, "link") == Some(true) {
                    continue; // the root project, and links to workspace folders
                }
                let installed = installed_name(key);
                let (line, _) = lines.json_object_key(key, 0);
                let real = string(entry, "name");
                let package = Package {
                    alias: real.as_ref().filter(|r| r.as_str() != installed).map(|_| installed.to_owned()),
                    name: real.unwrap_or_else(|| installed.to_owned()),
                    version: string(entry, "version").unwrap_or_default(),
                    resolved: string(entry, "resolved"),
                    integrity: string(entry, "integrity"),
                    install_script: Some(flag(entry, "hasInstallScript").unwrap_or(false)),
                    dev: Some(flag(entry, "dev").unwrap_or(false)),
                    optional: Some(flag(entry, "optional").unwrap_or(false)),
                    bundled: Some(flag(entry, "inBundle").unwrap_or(false)),
                    path: Some(key.clone()),
                };
                out.push(Entry::new(
                    line,
                    package.into_event(&self.context, "npm", &lockfile_version, project.as_deref()),
                ));
            }
            return Ok(());
        }
        if let Some(deps) = doc.get("dependencies").and_then(Json::as_object) {
            let mut walker = V1 {
                lines: &lines,
                context: &self.context,
                project: project.as_deref(),
                lockfile_version: &lockfile_version,
                depth: 0,
            };
            walker.walk(deps, "", 0, out);
            return Ok(());
        }
        Err("package-lock.json with neither `packages` nor `dependencies`".into())
    }
}

/// Lockfile v1: nested `dependencies`, each level a `node_modules` folder.
struct V1<'a> {
    lines: &'a Lines<'a>,
    context: &'a LockContext,
    project: Option<&'a str>,
    lockfile_version: &'a str,
    depth: usize,
}

impl V1<'_> {
    fn walk<'r>(&mut self, deps: &Map<String, Json>, prefix: &str, from: usize, out: &mut Vec<Entry<'r>>) {
        // Real trees are shallow; a hostile file must not exhaust the stack.
        if self.depth > 256 {
            out.push(Entry::new(1, Err("dependencies nested more than 256 levels deep".into())));
            return;
        }
        self.depth += 1;
        for (name, entry) in deps {
            let path = format!("{prefix}node_modules/{name}");
            let (line, at) = self.lines.json_object_key(name, from);
            let raw_version = string(entry, "version").unwrap_or_default();
            // Aliases are written `npm:real-name@1.2.3`.
            let (real, version) = match raw_version.strip_prefix("npm:") {
                Some(spec) => {
                    let (real, version) = crate::formats::util::split_name_version(spec);
                    (Some(real.to_owned()), version.unwrap_or("").to_owned())
                }
                None => (None, raw_version),
            };
            let package = Package {
                alias: real.as_ref().map(|_| name.clone()),
                name: real.unwrap_or_else(|| name.clone()),
                version,
                resolved: string(entry, "resolved"),
                integrity: string(entry, "integrity"),
                install_script: None, // v1 does not record it
                dev: Some(flag(entry, "dev").unwrap_or(false)),
                optional: Some(flag(entry, "optional").unwrap_or(false)),
                bundled: Some(flag(entry, "bundled").unwrap_or(false)),
                path: Some(path.clone()),
            };
            out.push(Entry::new(line, package.into_event(self.context, "npm", self.lockfile_version, self.project)));
            if let Some(nested) = entry.get("dependencies").and_then(Json::as_object) {
                self.walk(nested, &format!("{path}/"), at, out);
            }
        }
        self.depth -= 1;
    }
}
