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
///
/// ```
/// let converter = spoor::sigma::Converter::new(spoor::sigma::Mapping::builtin());
/// let rule = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sigma/script_host_spawns_powershell.yml");
/// let converted = converter.convert_file(rule.as_ref())?;
/// assert_eq!(converted[0].title.as_deref(), Some("PowerShell Started by a Windows Script Host"));
/// assert_eq!(converted[0].logsource, "product: windows, category: process_creation");
/// assert!(converted[0].hunt.is_ok());
/// # Ok::<(), spoor::Error>(())
/// ```
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
///
/// ```
/// let mine = std::env::temp_dir().join(format!("spoor-mapping-doc-{}.toml", std::process::id()));
/// std::fs::write(&mine, "[fields]\nAccountName = \"user.name\"\n").unwrap();
/// let mapping = spoor::sigma::mapping(Some(&mine))?;
/// # std::fs::remove_file(&mine).unwrap();
/// assert!(spoor::sigma::mapping(Some("no-such-mapping.toml".as_ref())).is_err());
/// # Ok::<(), spoor::Error>(())
/// ```
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
///
/// ```
/// assert!(spoor::sigma::is_rule_file("rules/windows/proc_creation_win_whoami.yml".as_ref()));
/// assert!(!spoor::sigma::is_rule_file("hunts/c2/beaconing.hunt".as_ref()));
/// ```
pub fn is_rule_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// Converts Sigma rules with one mapping, against spoor's tables (both built once, however many
/// rules go through).
///
/// ```
/// let converter = spoor::sigma::Converter::new(spoor::sigma::mapping(None)?);
/// let rules = converter.convert_files(&spoor::sigma::rule_files(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sigma").as_ref())?)?;
/// assert!(rules.iter().all(|r| r.hunt.is_ok()));
/// # Ok::<(), spoor::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Converter {
    mapping: Mapping,
    catalog: Catalog,
}

impl Converter {
    /// A converter with this mapping (see [`mapping`]), which learns from spoor's Windows
    /// ingest which tables each channel's event ids are in.
    ///
    /// ```
    /// let converter = spoor::sigma::Converter::new(spoor::sigma::Mapping::builtin());
    /// let rule = "title: Dumped\nid: 6c1b1a9e-0000-4000-8000-000000000002\nlogsource: {product: windows, service: security}\n\
    ///             detection:\n  selection:\n    EventID: 4662\n  condition: selection\n";
    /// // Security 4662 is an object access event: its rule reads the table the Windows ingest puts it in.
    /// assert!(converter.convert_text(rule, "r.yml".as_ref())[0].hunt.as_ref().unwrap().contains("4662"));
    /// ```
    pub fn new(mut mapping: Mapping) -> Converter {
        mapping.event_tables.get_or_insert(windows_event_tables);
        Converter { mapping, catalog: crate::store::catalog() }
    }

    /// Converts and checks the rules of one file's text (`path` names it in reasons).
    ///
    /// ```
    /// let converter = spoor::sigma::Converter::new(spoor::sigma::Mapping::builtin());
    /// let two = "title: A\nid: 6c1b1a9e-0000-4000-8000-000000000003\nlogsource: {category: dns}\ndetection:\n  s:\n    query: evil.example\n  condition: s\n\
    ///            ---\ntitle: B\nid: 6c1b1a9e-0000-4000-8000-000000000004\nlogsource: {category: dns}\ndetection:\n  s:\n    query|endswith: .example\n  condition: s\n";
    /// let rules = converter.convert_text(two, "two.yml".as_ref());
    /// assert_eq!(rules.len(), 2);
    /// ```
    pub fn convert_text(&self, text: &str, path: &Path) -> Vec<SigmaRule> {
        self.unchecked(&[(path.to_path_buf(), text.to_string())]).into_iter().map(|rule| self.checked(rule)).collect()
    }

    /// Converts and checks every rule of a file.
    ///
    /// ```
    /// let converter = spoor::sigma::Converter::new(spoor::sigma::Mapping::builtin());
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sigma/script_host_spawns_powershell.yml");
    /// let hunt = converter.convert_file(path.as_ref())?.remove(0).hunt.unwrap();
    /// assert!(spoor::check(hunt.as_str()).is_ok());
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn convert_file(&self, path: &Path) -> crate::Result<Vec<SigmaRule>> {
        Ok(self.convert_text(&read(path)?, path))
    }

    /// Converts and checks the rules of several files together: a correlation or a filter in
    /// one may name rules of the others.
    ///
    /// ```
    /// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sigma/correlation");
    /// let converter = spoor::sigma::Converter::new(spoor::sigma::Mapping::builtin());
    /// // A correlation rule names the rules it counts, in other files of the set.
    /// let rules = converter.convert_files(&spoor::sigma::rule_files(dir.as_ref())?)?;
    /// assert!(rules.iter().any(|r| r.hunt.as_ref().is_ok_and(|h| h.contains("stats"))));
    /// # Ok::<(), spoor::Error>(())
    /// ```
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
///
/// ```
/// let files = spoor::sigma::rule_files(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sigma/linux").as_ref())?;
/// assert!(files.iter().all(|f| spoor::sigma::is_rule_file(f)));
/// assert_eq!(files.len(), 5);
/// # Ok::<(), spoor::Error>(())
/// ```
pub fn rule_files(path: &Path) -> crate::Result<Vec<PathBuf>> {
    Ok(crate::core::walk::files(path, is_rule_file)?)
}

/// Counts of rules by reason, for a summary (`check`, `pack run`).
///
/// ```
/// let converter = spoor::sigma::Converter::new(spoor::sigma::Mapping::builtin());
/// let cloud = "title: Trail stopped\nid: 6c1b1a9e-0000-4000-8000-000000000001\nlogsource: {product: aws, service: cloudtrail}\n\
///              detection:\n  selection:\n    eventName: StopLogging\n  condition: selection\n";
/// let rules = converter.convert_text(cloud, "trail.yml".as_ref());
/// assert_eq!(spoor::sigma::reasons(&rules), [(spoor::sigma::Reason::Logsource, 1)]);
/// ```
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
///
/// ```
/// let converter = spoor::sigma::Converter::new(spoor::sigma::Mapping::builtin());
/// let cloud = "title: Trail stopped\nid: 6c1b1a9e-0000-4000-8000-000000000001\nlogsource: {product: aws, service: cloudtrail}\n\
///              detection:\n  selection:\n    eventName: StopLogging\n  condition: selection\n";
/// let rules = converter.convert_text(cloud, "trail.yml".as_ref());
/// assert_eq!(spoor::sigma::reasons_text(&rules), "logsource: 1");
/// ```
pub fn reasons_text(rules: &[SigmaRule]) -> String {
    reasons(rules).iter().map(|(r, n)| format!("{}: {n}", r.name())).collect::<Vec<_>>().join(", ")
}

/// What a pack run or a job says of its Sigma rules that do not run (None when all run).
///
/// ```
/// let pack = spoor::testing::example_pack()?;
/// assert_eq!(spoor::sigma::skipped_note(&pack), None); // it has no Sigma rule that cannot run
/// # Ok::<(), spoor::Error>(())
/// ```
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
