//! Sigma rules, from every entry point: a rule file (or a folder of them, such as SigmaHQ's
//! `rules/` tree) becomes hunts that spoor checks and runs like its own.
//!
//! A rule is converted to hunt text by [`spoor_sigma`] (its logsource to a table, its fields to
//! columns, through the [`Mapping`]); the text is then checked like any hunt. A rule that cannot
//! run is kept with its reason ([`SigmaRule::hunt`] is an error), never dropped.
//!
//! ```
//! let converter = spoor::sigma::Converter::new(spoor::sigma::Mapping::builtin());
//! let rule = "title: Whoami\nid: 11111111-2222-3333-4444-555555555555\nauthor: A. Hunter\nlevel: low\n\
//!             logsource: {product: windows, category: process_creation}\n\
//!             detection:\n  selection:\n    Image|endswith: '\\whoami.exe'\n  condition: selection\n";
//! let rules = converter.convert_text(rule, "whoami.yml".as_ref());
//! let hunt = rules[0].hunt.as_ref().unwrap();
//! assert!(hunt.contains("process.executable endswith~ '\\whoami.exe'"));
//! ```

use std::path::{Path, PathBuf};

pub use spoor_sigma::{Mapping, Reason, Unsupported};

use crate::dsl::catalog::Catalog;
use crate::dsl::{Diagnostics, ParamValues};

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
        let extra = Mapping::parse(&read(path)?).map_err(|e| crate::Error::User(format!("{}: {e}", path.display())))?;
        mapping.extend(extra);
    }
    Ok(mapping)
}

/// The tables the Windows ingest puts an event of this channel and id in.
fn windows_event_tables(channel: &str, event_id: i64) -> Vec<String> {
    crate::core::formats::windows::tables::tables_of(channel, event_id)
        .into_iter()
        .map(|t| t.name().to_string())
        .collect()
}

/// Whether a file is a Sigma rule file, by its extension.
pub fn is_rule_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// Converts Sigma rules with one mapping, against spoor's tables (both built once, however many
/// rules go through).
#[derive(Debug, Clone)]
pub struct Converter {
    mapping: Mapping,
    catalog: Catalog,
}

impl Converter {
    /// A converter with this mapping (see [`mapping`]), which learns from spoor's Windows
    /// ingest which tables each channel's event ids are in.
    pub fn new(mut mapping: Mapping) -> Converter {
        mapping.event_tables.get_or_insert(windows_event_tables);
        Converter { mapping, catalog: crate::store::catalog() }
    }

    /// Converts and checks the rules of one file's text (`path` names it in reasons).
    pub fn convert_text(&self, text: &str, path: &Path) -> Vec<SigmaRule> {
        self.unchecked(&[(path.to_path_buf(), text.to_string())]).into_iter().map(|rule| self.checked(rule)).collect()
    }

    /// Converts and checks every rule of a file.
    pub fn convert_file(&self, path: &Path) -> crate::Result<Vec<SigmaRule>> {
        Ok(self.convert_text(&read(path)?, path))
    }

    /// Converts and checks the rules of several files together: a correlation or a filter in
    /// one may name rules of the others.
    pub fn convert_files(&self, paths: &[PathBuf]) -> crate::Result<Vec<SigmaRule>> {
        Ok(self.convert_files_unchecked(paths)?.into_iter().map(|rule| self.checked(rule)).collect())
    }

    /// [`Converter::convert_files`] without checking the hunts (for callers that check them
    /// anyway, such as a pack, which needs what the check resolves).
    pub(crate) fn convert_files_unchecked(&self, paths: &[PathBuf]) -> crate::Result<Vec<SigmaRule>> {
        let texts = paths.iter().map(|p| Ok((p.clone(), read(p)?))).collect::<crate::Result<Vec<_>>>()?;
        Ok(self.unchecked(&texts))
    }

    fn unchecked(&self, files: &[(PathBuf, String)]) -> Vec<SigmaRule> {
        let texts: Vec<&str> = files.iter().map(|(_, t)| t.as_str()).collect();
        spoor_sigma::convert_set(&texts, &self.mapping, &self.catalog)
            .into_iter()
            .map(|(file, c)| SigmaRule {
                path: files[file].0.clone(),
                id: c.id,
                title: c.title,
                logsource: c.logsource,
                hunt: c.hunt,
            })
            .collect()
    }

    fn checked(&self, mut rule: SigmaRule) -> SigmaRule {
        rule.hunt = rule.hunt.and_then(|hunt| match crate::dsl::check(&hunt, &self.catalog, &ParamValues::new()) {
            Ok(_) => Ok(hunt),
            Err(diagnostics) => Err(rejected(&diagnostics)),
        });
        rule
    }
}

/// Why a converted hunt does not run: what spoor's checker said of it.
pub(crate) fn rejected(diagnostics: &Diagnostics) -> Unsupported {
    let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
    Unsupported::new(Reason::Check, format!("spoor's checker rejects the converted hunt: {}", messages.join("; ")))
}

fn read(path: &Path) -> crate::Result<String> {
    std::fs::read_to_string(path).map_err(|source| crate::Error::Io { path: path.to_path_buf(), source })
}

/// The Sigma rule files under a path (itself, when it is a file), sorted.
pub fn rule_files(path: &Path) -> crate::Result<Vec<PathBuf>> {
    Ok(crate::core::walk::files(path, is_rule_file)?)
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

/// `logsource: 3, modifier: 1`: how many rules do not run, by reason (empty when all run).
pub fn reasons_text(rules: &[SigmaRule]) -> String {
    reasons(rules).iter().map(|(r, n)| format!("{}: {n}", r.name())).collect::<Vec<_>>().join(", ")
}

/// What a pack run or a job says of its Sigma rules that do not run (None when all run).
pub fn skipped_note(pack: &crate::pack::Pack) -> Option<String> {
    (!pack.skipped.is_empty()).then(|| {
        format!(
            "{} Sigma rule{} not run ({}); `spoor check {}` says why for each",
            pack.skipped.len(),
            if pack.skipped.len() == 1 { "" } else { "s" },
            reasons_text(&pack.skipped),
            pack.root.display()
        )
    })
}
