//! `pnpm-lock.yaml`: lockfileVersion 5.x (`/name/1.2.3_peer` keys), 6.0 (`/name@1.2.3(peer)`)
//! and 9.0 (`name@1.2.3(peer)` keys, with install-time details in `snapshots`).

use yaml_rust2::Yaml;

use super::yarn::yaml_text;
use super::{Lines, LockContext, Package};
use crate::formats::{DocumentParser, Entry};

pub struct PnpmLock {
    pub context: LockContext,
}

/// Splits a `packages:` key into name and version.
fn split_key(key: &str, v5: bool) -> Option<(String, String)> {
    let key = key.trim_start_matches('/');
    // Peer-dependency suffixes: `(react@18.2.0)` in 6+, `_react@18.2.0` in 5.
    let key = key.split('(').next().unwrap_or(key);
    if v5 {
        let (name, version) = key.rsplit_once('/')?;
        let version = version.split('_').next().unwrap_or(version);
        Some((name.to_owned(), version.to_owned()))
    } else {
        let (name, version) = super::super::util::split_name_version(key);
        Some((name.to_owned(), version?.to_owned()))
    }
}

impl DocumentParser for PnpmLock {
    fn parse<'r>(&mut self, text: &'r str, out: &mut Vec<Entry<'r>>) -> Result<(), String> {
        let docs = super::load_yaml(text)?;
        let doc = docs.first().ok_or("empty YAML document")?;
        let version = yaml_text(&doc["lockfileVersion"]).ok_or("no lockfileVersion: not a pnpm-lock.yaml")?;
        let v5 = version.starts_with('5');
        let lines = Lines::new(text);
        let Yaml::Hash(packages) = &doc["packages"] else {
            return Ok(()); // a project without dependencies
        };
        for (key, entry) in packages {
            let Some(key) = key.as_str() else { continue };
            let line = lines.find_key(key);
            let Some((name, version_of_key)) = split_key(key, v5) else {
                out.push(Entry::new(line, Err(format!("package key `{key}` names no version"))));
                continue;
            };
            let flag = |k: &str| entry[k].as_bool();
            let package = Package {
                name: yaml_text(&entry["name"]).unwrap_or(name),
                version: yaml_text(&entry["version"]).unwrap_or(version_of_key),
                resolved: yaml_text(&entry["resolution"]["tarball"]),
                integrity: yaml_text(&entry["resolution"]["integrity"]),
                // pnpm 9 dropped `requiresBuild` from the lockfile: unknown, not false.
                install_script: flag("requiresBuild").or(if v5 || version.starts_with('6') {
                    Some(false)
                } else {
                    None
                }),
                dev: flag("dev"),
                optional: flag("optional"),
                bundled: None,
                path: Some(key.to_owned()),
                alias: None,
            };
            out.push(Entry::new(line, package.into_event(&self.context, "pnpm", &version, None)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_found_by_fuzzing_do_not_panic() {
        // fuzz/artifacts/ingest_records/crash-5f295fb3…: a `packages:` key that is empty.
        assert_eq!(split_key("", false), None);
        assert_eq!(split_key("/", false), None);
        assert_eq!(split_key("é", false), None);
        assert_eq!(split_key("/@scope/a@1.0.0", false), Some(("@scope/a".into(), "1.0.0".into())));
    }

    #[test]
    fn keys_of_every_version() {
        let s = |k, v5| split_key(k, v5).unwrap();
        assert_eq!(s("/@babel/core/7.12.3_supports-color@5.5.0", true), ("@babel/core".into(), "7.12.3".into()));
        assert_eq!(s("/JSONStream@1.3.5", false), ("JSONStream".into(), "1.3.5".into()));
        assert_eq!(s("@babel/generator@7.28.0(supports-color@8)", false), ("@babel/generator".into(), "7.28.0".into()));
    }
}
