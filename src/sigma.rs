//! Sigma rules, from every entry point: a rule file (or a folder of them, such as SigmaHQ's
//! `rules/` tree) becomes hunts that spoor checks and runs like its own.
//!
//! A rule is converted to hunt text by [`spoor_sigma`] (its logsource to a table, its fields to
//! columns, through the [`Mapping`]); the text is then checked like any hunt. A rule that cannot
//! run is kept with its reason ([`SigmaRule::hunt`] is an error), never dropped.
//!
//! ```
//! let mapping = spoor::sigma::Mapping::builtin();
//! let rule = "title: Whoami\nid: 11111111-2222-3333-4444-555555555555\nauthor: A. Hunter\nlevel: low\n\
//!             logsource: {product: windows, category: process_creation}\n\
//!             detection:\n  selection:\n    Image|endswith: '\\whoami.exe'\n  condition: selection\n";
//! let rules = spoor::sigma::convert_text(rule, "whoami.yml".as_ref(), &mapping);
//! let hunt = rules[0].hunt.as_ref().unwrap();
//! assert!(hunt.contains("process.executable endswith~ '\\whoami.exe'"));
//! ```

use std::path::{Path, PathBuf};

pub use spoor_sigma::{Mapping, Reason, Unsupported};

use crate::dsl::ParamValues;

/// One rule of a Sigma file, converted and checked, or why it cannot run.
#[derive(Debug, Clone)]
pub struct SigmaRule {
    /// The rule file.
    pub path: PathBuf,
    /// The rule's id and title, where it has them.
    pub id: Option<String>,
    /// The rule's title.
    pub title: Option<String>,
    /// Its logsource, as the rule writes it (`product: windows, category: process_creation`).
    pub logsource: String,
    /// The hunt's text, or why the rule does not run.
    pub hunt: Result<String, Unsupported>,
}

/// spoor's mapping, extended by the user's file (`--sigma-mapping`), whose entries win.
pub fn mapping(user: Option<&Path>) -> crate::Result<Mapping> {
    let mut mapping = Mapping::builtin();
    if let Some(path) = user {
        let text =
            std::fs::read_to_string(path).map_err(|source| crate::Error::Io { path: path.to_path_buf(), source })?;
        let extra = Mapping::parse(&text).map_err(|e| crate::Error::User(format!("{}: {e}", path.display())))?;
        mapping.extend(extra);
    }
    Ok(mapping)
}

/// Whether a file is a Sigma rule file, by its extension.
pub fn is_rule_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// Converts and checks the rules of one file's text (`path` names it in reasons).
pub fn convert_text(text: &str, path: &Path, mapping: &Mapping) -> Vec<SigmaRule> {
    let catalog = crate::store::catalog();
    spoor_sigma::convert(text, mapping, &catalog)
        .into_iter()
        .map(|c| {
            let hunt = c.hunt.and_then(|hunt| match crate::dsl::check(&hunt, &catalog, &ParamValues::new()) {
                Ok(_) => Ok(hunt),
                Err(diagnostics) => Err(Unsupported::new(
                    Reason::Check,
                    format!(
                        "spoor's checker rejects the converted hunt: {}",
                        diagnostics.iter().map(|d| d.message.clone()).collect::<Vec<_>>().join("; ")
                    ),
                )),
            });
            SigmaRule { path: path.to_path_buf(), id: c.id, title: c.title, logsource: c.logsource, hunt }
        })
        .collect()
}

/// Converts and checks every rule of a file.
pub fn convert_file(path: &Path, mapping: &Mapping) -> crate::Result<Vec<SigmaRule>> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::Error::Io { path: path.to_path_buf(), source })?;
    Ok(convert_text(&text, path, mapping))
}

/// The Sigma rule files under a path (itself, when it is a file), sorted.
pub fn rule_files(path: &Path) -> crate::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    let mut walked = std::collections::HashSet::new();
    while let Some(dir) = dirs.pop() {
        let canonical = dir.canonicalize().map_err(|source| crate::Error::Io { path: dir.clone(), source })?;
        if !walked.insert(canonical) {
            continue;
        }
        let entries = std::fs::read_dir(&dir).map_err(|source| crate::Error::Io { path: dir.clone(), source })?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if is_rule_file(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Counts of rules by reason, for a summary (`check`, `pack run`).
pub fn reasons(rules: &[SigmaRule]) -> Vec<(Reason, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for r in rules {
        if let Err(why) = &r.hunt {
            *counts.entry(why.code).or_insert(0) += 1;
        }
    }
    counts.into_iter().collect()
}
