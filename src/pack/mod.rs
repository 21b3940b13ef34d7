//! Hunt packs: a directory of `.hunt` files (one folder per family), each with its fixtures
//! beside it (`<hunt>.slt`), and the indicator lists the hunts look up (`iocs/`).
//!
//! [`load`] reads and checks every hunt of a pack; [`crate::Store::run_pack`] runs them against
//! a store and turns their rows into [`Finding`]s; [`test()`] runs every hunt's fixtures;
//! [`markdown`] writes the pack's reference table (`docs/hunts.md`); [`render`] writes findings
//! for people and for other tools.
//!
//! ```
//! # #[tokio::main] async fn main() -> spoor::Result<()> {
//! # let store = spoor::testing::sample_store()?;
//! let pack = spoor::pack::load(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pack").as_ref())?;
//! let runs = store.run_pack(&pack, &Default::default()).await?;
//! for finding in spoor::pack::render::all_findings(&runs) {
//!     println!("{}", finding.to_text());
//! }
//! # Ok(()) }
//! ```

mod docs;
mod findings;
pub mod render;

use crate::core::confine::Roots;
use std::path::{Path, PathBuf};

use datafusion::prelude::SessionContext;

use crate::dsl::ir::Meta;
use crate::dsl::{Diagnostics, ParamValues, RunOptions};

pub use docs::markdown;
pub(crate) use findings::findings;
pub use findings::{Entities, Evidence, Fields, Finding, ProcessNode};

/// A pack's hunt, read and checked.
///
/// ```
/// let pack = spoor::testing::example_pack()?;
/// let hunt = &pack.hunts[0];
/// assert_eq!((hunt.tables.as_slice(), hunt.params.as_slice()), (["process".to_string()].as_slice(), ["shell".to_string()].as_slice()));
/// assert!(hunt.fixture.as_ref().is_some_and(|f| f.ends_with("script-host-powershell.slt")));
/// # Ok::<(), spoor::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PackHunt {
    /// The hunt file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Its header, checked.
    pub meta: Meta,
    /// spoor's tables it reads.
    pub tables: Vec<String>,
    /// The parameters it declares.
    pub params: Vec<String>,
    /// Its fixtures (`<hunt>.slt` beside it), when present.
    pub fixture: Option<PathBuf>,
}

impl PackHunt {
    /// The hunt's id (`c2.beaconing`).
    ///
    /// ```
    /// let pack = spoor::testing::example_pack()?;
    /// assert_eq!(pack.hunts[0].id(), "example.script-host-powershell");
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn id(&self) -> &str {
        self.meta.id.as_deref().unwrap_or_default()
    }

    /// Its severity (medium when the header has none).
    ///
    /// ```
    /// let pack = spoor::testing::example_pack()?;
    /// assert_eq!(pack.hunts[0].severity(), "high");
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn severity(&self) -> &str {
        self.meta.severity.as_deref().unwrap_or("medium")
    }
}

/// A hunt pack, read and checked.
///
/// ```
/// let pack = spoor::pack::load(concat!(env!("CARGO_MANIFEST_DIR"), "/hunts").as_ref())?;
/// assert!(pack.iocs.iter().any(|f| f.ends_with("axios-2026-03.csv")));
/// assert!(pack.measured.is_some() && pack.skipped.is_empty());
/// # Ok::<(), spoor::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Pack {
    /// Its directory.
    pub root: PathBuf,
    /// Its hunts, by path.
    pub hunts: Vec<PackHunt>,
    /// The pack's own indicator files (`iocs/`), loaded for every run and fixture.
    pub iocs: Vec<PathBuf>,
    /// What was measured of the pack as a whole (`MEASURED.md`: recall over unseen scenarios),
    /// shown in its reference.
    pub measured: Option<String>,
    /// Its Sigma rules that cannot run, each with why.
    pub skipped: Vec<crate::sigma::SigmaRule>,
}

/// Why a pack cannot be used: hunts with errors (each with its diagnostics) or a bad layout.
#[derive(Debug)]
pub(crate) enum PackError {
    /// A file or directory that cannot be read.
    Io(String),
    /// Hunts that do not check: (file, its text, diagnostics).
    Invalid(Vec<(PathBuf, String, Diagnostics)>),
    /// A problem with the pack as a whole (duplicate ids, missing metadata).
    Layout(Vec<String>),
}

impl std::fmt::Display for PackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PackError::Io(e) => f.write_str(e),
            PackError::Invalid(hunts) => {
                let names: Vec<String> = hunts.iter().map(|(p, _, _)| p.display().to_string()).collect();
                write!(f, "{} hunt(s) have errors: {}", hunts.len(), names.join(", "))
            }
            PackError::Layout(problems) => f.write_str(&problems.join("\n")),
        }
    }
}

impl std::error::Error for PackError {}

/// A pack's notes on what was measured of it, beside its hunts.
const MEASURED: &str = "MEASURED.md";

/// Metadata every hunt of a pack must have: findings are reported by id, title and severity.
const REQUIRED: &[&str] = &["id", "title", "severity"];

/// Reads every `.hunt` file and Sigma rule (`.yml`, `.yaml`) under `root` (the `iocs/` folder
/// holds the pack's indicator lists) and checks it against spoor's tables and the IOC table.
/// Sigma rules that cannot run are kept in [`Pack::skipped`] with their reasons.
///
/// ```
/// let pack = spoor::pack::load(concat!(env!("CARGO_MANIFEST_DIR"), "/hunts").as_ref())?;
/// let beaconing = pack.hunts.iter().find(|h| h.id() == "c2.beaconing").unwrap();
/// assert_eq!(beaconing.severity(), "high");
/// assert!(beaconing.params.contains(&"min_count".to_string()));
/// # Ok::<(), spoor::Error>(())
/// ```
pub fn load(root: &Path) -> crate::Result<Pack> {
    load_with(root, &crate::sigma::Mapping::builtin())
}

/// [`load`], with the Sigma mapping to read the pack's Sigma rules with (the built-in one and
/// the user's, from [`crate::sigma::mapping`]).
///
/// ```
/// let mapping = spoor::sigma::mapping(None)?;
/// let pack = spoor::pack::load_with(concat!(env!("CARGO_MANIFEST_DIR"), "/hunts").as_ref(), &mapping)?;
/// assert!(pack.hunts.iter().any(|h| h.id() == "c2.beaconing"));
/// # Ok::<(), spoor::Error>(())
/// ```
pub fn load_with(root: &Path, mapping: &crate::sigma::Mapping) -> crate::Result<Pack> {
    Ok(read(root, mapping)?)
}

fn read(root: &Path, mapping: &crate::sigma::Mapping) -> Result<Pack, PackError> {
    if !root.is_dir() {
        return Err(PackError::Io(format!("{}: not a directory of hunts", root.display())));
    }
    // Everything the pack reads stays under its root: a shared pack cannot make spoor read
    // other files through a link or a path (their text would show in diagnostics and findings).
    let roots =
        Roots::new(&[root.to_path_buf()], "a pack reads only files under its own directory").map_err(PackError::Io)?;
    let iocs_dir = root.join("iocs");
    let iocs = if iocs_dir.is_dir() {
        crate::core::iocs::files(&iocs_dir)
            .map_err(|e| PackError::Io(e.to_string()))?
            .iter()
            .map(|file| roots.check("indicator file", file))
            .collect::<Result<Vec<_>, _>>()
            .map_err(PackError::Io)?
    } else {
        Vec::new()
    };
    let catalog = crate::store::catalog();
    let mut hunts = Vec::new();
    let mut invalid = Vec::new();
    let mut problems = Vec::new();
    let mut skipped = Vec::new();
    let files = hunt_files(root, &roots)?;
    // The pack's Sigma rules are converted together: a correlation or a filter may name a rule
    // of another file.
    let rule_files: Vec<PathBuf> = files.iter().filter(|p| crate::sigma::is_rule_file(p)).cloned().collect();
    let mut rules = crate::sigma::Converter::new(mapping.clone())
        .convert_files_unchecked(&rule_files)
        .map_err(|e| PackError::Io(e.to_string()))?
        .into_iter()
        .peekable();
    for path in files {
        // Each text with the Sigma rule it came from, if any: a converted hunt that does not
        // check makes its rule skipped, not the pack invalid.
        let mut texts = Vec::new();
        if crate::sigma::is_rule_file(&path) {
            while let Some(rule) = rules.next_if(|r| r.path == path) {
                match &rule.hunt {
                    Ok(text) => texts.push((text.clone(), Some(rule))),
                    Err(_) => skipped.push(rule),
                }
            }
        } else {
            let text = std::fs::read_to_string(&path).map_err(|e| PackError::Io(format!("{}: {e}", path.display())))?;
            texts.push((text, None));
        }
        for (text, rule) in texts {
            match crate::dsl::check(&text, &catalog, &ParamValues::new()) {
                Ok(resolved) => {
                    let meta = resolved.hunt.meta.clone();
                    let missing: Vec<&str> = REQUIRED
                        .iter()
                        .copied()
                        .filter(|k| match *k {
                            "id" => meta.id.is_none(),
                            "title" => meta.title.is_none(),
                            _ => meta.severity.is_none(),
                        })
                        .collect();
                    if !missing.is_empty() {
                        problems.push(format!("{}: the header needs {}", path.display(), missing.join(", ")));
                    }
                    // A hunt's fixtures are beside it (Sigma rules carry none).
                    let fixture = path.with_extension("slt");
                    let fixture = (fixture.is_file() && !crate::sigma::is_rule_file(&path))
                        .then(|| roots.check("fixture", &fixture))
                        .transpose()
                        .map_err(PackError::Io)?;
                    hunts.push(PackHunt {
                        tables: resolved.hunt.tables(),
                        params: resolved.params,
                        meta,
                        fixture,
                        path: path.clone(),
                        text,
                    });
                }
                Err(diagnostics) => match rule {
                    Some(rule) => skipped
                        .push(crate::sigma::SigmaRule { hunt: Err(crate::sigma::rejected(&diagnostics)), ..rule }),
                    None => invalid.push((path.clone(), text, diagnostics)),
                },
            }
        }
    }
    if !invalid.is_empty() {
        return Err(PackError::Invalid(invalid));
    }
    for (i, h) in hunts.iter().enumerate() {
        if let Some(other) = hunts[..i].iter().find(|o| o.id() == h.id() && !h.id().is_empty()) {
            problems.push(format!("{}: id `{}` is already used by {}", h.path.display(), h.id(), other.path.display()));
        }
    }
    if !problems.is_empty() {
        return Err(PackError::Layout(problems));
    }
    if hunts.is_empty() && skipped.is_empty() {
        return Err(PackError::Io(format!("{}: no .hunt files or Sigma rules (.yml)", root.display())));
    }
    let measured = match roots.check("pack notes", &root.join(MEASURED)).map_err(PackError::Io)? {
        path if path.is_file() => {
            Some(std::fs::read_to_string(&path).map_err(|e| PackError::Io(format!("{}: {e}", path.display())))?)
        }
        _ => None,
    };
    Ok(Pack { root: root.to_path_buf(), hunts, iocs, measured, skipped })
}

/// The `.hunt` files under `root`, each checked to stay inside it (a directory linked twice is
/// walked once, so a link loop ends).
fn hunt_files(root: &Path, roots: &Roots) -> Result<Vec<PathBuf>, PackError> {
    let is_hunt = |path: &Path| path.extension().is_some_and(|e| e == "hunt") || crate::sigma::is_rule_file(path);
    let files = crate::core::walk::files(root, is_hunt).map_err(|e| PackError::Io(e.to_string()))?;
    for path in &files {
        roots.check("hunt", path).map_err(PackError::Io)?;
    }
    Ok(files)
}

/// What happened to one hunt of a run.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// match &runs[0].outcome {
///     spoor::pack::Outcome::Ran { findings, batches, missing } => {
///         assert_eq!(findings.len(), batches.iter().map(|b| b.num_rows()).sum::<usize>());
///         assert!(missing.is_empty());
///     }
///     other => panic!("{other:?}"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub enum Outcome {
    /// It ran; `missing` are tables it reads that the store has no data in.
    Ran {
        /// A finding per row.
        findings: Vec<Finding>,
        /// The rows.
        batches: Vec<arrow::record_batch::RecordBatch>,
        /// Tables it reads that have no rows in the store.
        missing: Vec<String>,
    },
    /// None of its tables has data.
    Skipped {
        /// The tables it reads, none of which has rows.
        missing: Vec<String>,
    },
    /// It failed: why.
    Failed(crate::Error),
}

/// One hunt of a pack run and what came of it.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// # let pack = spoor::testing::example_pack()?;
/// let runs = store.run_pack(&pack, &Default::default()).await?;
/// assert_eq!(runs[0].hunt.id(), "example.script-host-powershell");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct HuntRun<'p> {
    /// The hunt.
    pub hunt: &'p PackHunt,
    /// What happened.
    pub outcome: Outcome,
}

/// Options of a pack run (the session, with its indicators, is [`crate::Store::run_pack`]'s).
#[derive(Debug, Clone)]
pub(crate) struct RunConfig {
    /// Parameters as a user writes them: `name` for every hunt that declares it,
    /// `hunt_id.name` for one hunt (see [`params_for`]).
    pub params: ParamValues,
    /// The run's time and window.
    pub options: RunOptions,
    /// Memory and time limits of each hunt.
    pub limits: crate::core::session::Limits,
}

/// Runs every hunt of the pack against the store behind `ctx` (whose tables with data are
/// `present`); the runs come back in the pack's order. A hunt none of whose tables has data is
/// skipped. Hunts that each keep the rows of one table that pass their filters (Sigma rules,
/// most detections) share one scan of the table ([`crate::dsl::shared_scan`]); the others run
/// one by one. `starting` hears of each hunt as it starts (a progress display).
pub(crate) async fn run<'p>(
    pack: &'p Pack,
    ctx: &SessionContext,
    present: &[String],
    config: &RunConfig,
    starting: &mut (dyn FnMut(&PackHunt) + Send),
) -> Vec<HuntRun<'p>> {
    use crate::dsl::run::{run_plan, within};
    use crate::dsl::shared_scan;
    let mut outcomes: Vec<Option<Outcome>> = pack.hunts.iter().map(|_| None).collect();
    // The tables each hunt reads that have no rows.
    let mut missing: Vec<Vec<String>> = Vec::with_capacity(pack.hunts.len());
    // Hunts that share scans give their plans to `sharing` as they are compiled; only the
    // plans of those that run on their own are kept (the checked hunts are not: thousands of
    // rules are held).
    let mut sharing = shared_scan::Sharing::default();
    let mut alone = std::collections::HashMap::new();
    // The session's tables, read once for every hunt; where they cannot be, each hunt says why.
    let catalog = crate::dsl::run::catalog(ctx).await;
    for (i, hunt) in pack.hunts.iter().enumerate() {
        missing.push(hunt.tables.iter().filter(|t| !present.contains(t)).cloned().collect());
        if !hunt.tables.is_empty() && missing[i].len() == hunt.tables.len() {
            starting(hunt);
            outcomes[i] = Some(Outcome::Skipped { missing: missing[i].clone() });
            continue;
        }
        match within(config.limits.time, compile(ctx, &catalog, hunt, config)).await {
            Ok(plan) if sharing.add(i, &plan) => {}
            Ok(plan) => {
                alone.insert(i, plan);
            }
            Err(e) => {
                starting(hunt);
                outcomes[i] = Some(failed(hunt, e));
            }
        }
    }
    let ran = |i: usize, batches: Vec<arrow::record_batch::RecordBatch>, missing: Vec<String>| match findings(
        &pack.hunts[i],
        &batches,
    ) {
        Ok(findings) => Outcome::Ran { findings, batches, missing },
        Err(e) => Outcome::Failed(e),
    };
    // Per scan, per member: the rows; None where the scan failed (memory, time), whose hunts
    // then run on their own. A hunt's findings are made as soon as the scans of all its tables
    // have run, and its rows are then held by its outcome alone.
    let shared_scan::SharedScans { scans, hunts } = sharing.finish();
    let mut dealt: Vec<Option<Vec<Vec<arrow::record_batch::RecordBatch>>>> = Vec::with_capacity(scans.len());
    let mut waiting: Vec<&(usize, Vec<(usize, usize)>)> = hunts.iter().collect();
    // Hunts whose plan, made again for a scan, did not fit it: they run on their own.
    let mut unshared = std::collections::HashSet::new();
    for (s, mut group) in scans.into_iter().enumerate() {
        for (i, b) in group.members() {
            if *b == 0 {
                starting(&pack.hunts[*i]);
            }
        }
        // The members' tests, from their hunts compiled again now (see `Sharing`).
        for i in group.hunts() {
            if outcomes[i].is_some() || unshared.contains(&i) {
                continue;
            }
            match within(config.limits.time, compile(ctx, &catalog, &pack.hunts[i], config)).await {
                Ok(plan) if group.give(i, &plan) => {}
                Ok(_) => {
                    unshared.insert(i);
                }
                Err(e) => outcomes[i] = Some(failed(&pack.hunts[i], e)),
            }
        }
        // Each scan is planned when it runs and its plan (its members' tests, their literal
        // sets) dropped once it has. Planning can only fail on a plan the engine would refuse
        // anyway: then its hunts are compiled again, run on their own, and say so themselves.
        dealt.push(match group.plan() {
            Ok(scan) => within(config.limits.time, shared_scan::run(ctx, scan)).await.ok(),
            Err(_) => None,
        });
        waiting.retain(|(i, parts)| {
            if outcomes[*i].is_some() || unshared.contains(i) {
                return false;
            }
            if parts.iter().any(|(scan, _)| *scan > s) {
                return true;
            }
            // The rows of each of its tables, in order (a hunt over several reads them as one).
            let rows: Option<Vec<Vec<_>>> = parts
                .iter()
                .map(|(scan, member)| dealt[*scan].as_mut().map(|r| std::mem::take(&mut r[*member])))
                .collect();
            if let Some(rows) = rows {
                outcomes[*i] = Some(ran(*i, rows.into_iter().flatten().collect(), missing[*i].clone()));
            }
            false
        });
    }
    // Hunts that run on their own, and those whose shared scan failed or was not planned
    // (compiled again: their plans were not kept).
    for i in 0..pack.hunts.len() {
        if outcomes[i].is_some() {
            continue;
        }
        let hunt = &pack.hunts[i];
        starting(hunt);
        let plan = alone.remove(&i);
        let running = async {
            let plan = match plan {
                Some(plan) => plan,
                None => compile(ctx, &catalog, hunt, config).await?,
            };
            run_plan(ctx, &plan).await
        };
        outcomes[i] = Some(match within(config.limits.time, running).await {
            Err(e) => failed(hunt, e),
            Ok(batches) => ran(i, batches, missing[i].clone()),
        });
    }
    pack.hunts
        .iter()
        .zip(outcomes)
        .map(|(hunt, outcome)| HuntRun {
            hunt,
            outcome: outcome
                .unwrap_or_else(|| Outcome::Failed(crate::Error::Internal("a hunt of the pack was not run".into()))),
        })
        .collect()
}

/// A hunt's plan, with its parameters, against the session's tables (read once for a pack;
/// where they could not be, the hunt reads them itself and says why it cannot).
async fn compile(
    ctx: &SessionContext,
    catalog: &Result<crate::dsl::catalog::Catalog, datafusion::error::DataFusionError>,
    hunt: &PackHunt,
    config: &RunConfig,
) -> Result<datafusion::logical_expr::LogicalPlan, crate::dsl::Error> {
    let params = params_for(hunt, config);
    let compiled = match catalog {
        Ok(catalog) => crate::dsl::run::compile_with(ctx, catalog, &hunt.text, &params, &config.options).await,
        Err(_) => crate::dsl::compile(ctx, &hunt.text, &params, &config.options).await,
    };
    compiled.map(|c| c.plan)
}

/// A hunt that could not be planned or run; a hunt's own diagnostics point into its file.
fn failed(hunt: &PackHunt, e: crate::dsl::Error) -> Outcome {
    Outcome::Failed(match e {
        crate::dsl::Error::Hunt(diagnostics) => {
            crate::Error::hunt(&hunt.path.display().to_string(), &hunt.text, diagnostics)
        }
        other => crate::Error::from(other),
    })
}

/// The parameters one hunt of a run gets: the bare names it declares, then those scoped to it
/// (`hunt_id.name`), which win.
pub(crate) fn params_for(hunt: &PackHunt, config: &RunConfig) -> ParamValues {
    let mut out = ParamValues::new();
    for (key, value) in &config.params {
        match scoped(key) {
            Some((id, name)) if id == hunt.id() => {
                out.insert(name.to_string(), value.clone());
            }
            Some(_) => {}
            None if hunt.params.contains(key) => {
                out.entry(key.clone()).or_insert_with(|| value.clone());
            }
            None => {}
        }
    }
    out
}

/// `hunt_id.name` as (hunt id, parameter name); a bare name as None. Parameter names have no
/// dots and hunt ids do, so the name is what follows the last one.
fn scoped(key: &str) -> Option<(&str, &str)> {
    key.rsplit_once('.')
}

/// Every parameter of a run must reach a hunt: a scoped one a hunt of the pack that declares it,
/// a bare one at least one hunt that declares it. Otherwise a typo would run the pack with the
/// defaults and say nothing.
pub(crate) fn check_params(pack: &Pack, config: &RunConfig) -> crate::Result<()> {
    let declared = |hunt: &PackHunt| {
        if hunt.params.is_empty() {
            "it declares none".to_string()
        } else {
            format!("its parameters are: {}", hunt.params.join(", "))
        }
    };
    let mut problems = Vec::new();
    for key in config.params.keys() {
        match scoped(key) {
            Some((id, name)) => match pack.hunts.iter().find(|h| h.id() == id) {
                None => problems.push(format!("--param {key}: the pack has no hunt `{id}`")),
                Some(hunt) if !hunt.params.iter().any(|p| p == name) => {
                    problems.push(format!("--param {key}: hunt `{id}` has no parameter `{name}` ({})", declared(hunt)))
                }
                Some(_) => {}
            },
            None if !pack.hunts.iter().any(|h| h.params.contains(key)) => {
                let mut all: Vec<&str> = pack.hunts.iter().flat_map(|h| h.params.iter().map(String::as_str)).collect();
                all.sort();
                all.dedup();
                problems.push(format!(
                    "--param {key}: no hunt of the pack declares `{key}` (the pack's parameters: {})",
                    if all.is_empty() { "none".to_string() } else { all.join(", ") }
                ));
            }
            None => {}
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(crate::Error::User(problems.join("\n"))) }
}

/// The result of one hunt's fixtures.
///
/// ```
/// # #[tokio::main] async fn main() {
/// let pack = spoor::testing::example_pack().unwrap();
/// let results = spoor::pack::test(&pack, None, &spoor::testing::Mode::Check).await;
/// assert!(results.iter().all(|r| r.result.is_ok()));
/// # }
/// ```
#[derive(Debug)]
pub struct TestResult<'p> {
    /// The hunt.
    pub hunt: &'p PackHunt,
    /// `Err` holds the failure (or says the fixture is missing).
    pub result: Result<(), String>,
}

/// Runs each hunt's fixtures (with the pack's indicators registered as `iocs`).
///
/// ```
/// # #[tokio::main] async fn main() {
/// use spoor::testing::Mode;
/// let pack = spoor::testing::example_pack().unwrap();
/// // Only the hunts whose id contains the filter; `Mode::Bless` would rewrite their expected rows.
/// let results = spoor::pack::test(&pack, Some("script-host"), &Mode::Check).await;
/// assert_eq!(results.len(), 1);
/// assert!(spoor::pack::test(&pack, Some("c2."), &Mode::Check).await.is_empty());
/// # }
/// ```
pub async fn test<'p>(pack: &'p Pack, filter: Option<&str>, mode: &crate::testing::Mode) -> Vec<TestResult<'p>> {
    let mut out = Vec::new();
    for hunt in &pack.hunts {
        if filter.is_some_and(|f| !hunt.id().contains(f)) {
            continue;
        }
        let result = match &hunt.fixture {
            None => Err(format!("no fixtures: add {}", hunt.path.with_extension("slt").display())),
            Some(path) => {
                let file = crate::testing::TestFile {
                    path: path.clone(),
                    hunt: Some(hunt.path.clone()),
                    iocs: pack.iocs.clone(),
                    root: pack.root.clone(),
                };
                crate::testing::run(&file, mode).await
            }
        };
        out.push(TestResult { hunt, result });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_must_reach_a_hunt() {
        let pack = load(concat!(env!("CARGO_MANIFEST_DIR"), "/hunts").as_ref()).unwrap();
        let with = |name: &str| RunConfig {
            params: [(name.to_string(), "4".to_string())].into(),
            options: RunOptions::now(),
            limits: Default::default(),
        };
        assert!(check_params(&pack, &with("c2.beaconing.min_count")).is_ok());
        assert!(check_params(&pack, &with("min_count")).is_ok());
        let typo = check_params(&pack, &with("min_cuont")).unwrap_err().to_string();
        assert!(typo.contains("no hunt of the pack declares `min_cuont`"), "{typo}");
        let scoped = check_params(&pack, &with("c2.beaconing.min_cuont")).unwrap_err().to_string();
        assert!(scoped.contains("hunt `c2.beaconing` has no parameter `min_cuont`"), "{scoped}");
        let beaconing = pack.hunts.iter().find(|h| h.id() == "c2.beaconing").unwrap();
        let other = pack.hunts.iter().find(|h| !h.params.contains(&"min_count".to_string())).unwrap();
        assert_eq!(params_for(beaconing, &with("min_count")).get("min_count").map(String::as_str), Some("4"));
        assert!(params_for(other, &with("min_count")).is_empty());
    }
}
