//! The job file (TOML): which store and hunts, how often, how far back, and where findings go.
//! Paths in it are relative to the file itself, so a job directory can move as a whole.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::dsl::ParamValues;

/// A job, read from its file and checked.
///
/// ```
/// let parse = |text: &str| spoor::job::Job::parse("/jobs/axios.toml".as_ref(), &format!("store = 's'\npack = 'h'\n{text}"));
/// let job = parse("hunts = ['c2.*']\nlookback = '72h'\n[[sink]]\ntype = 'sarif'\npath = 'out/findings.sarif'")?;
/// assert_eq!(job.lookback, chrono::Duration::hours(72));
/// assert_eq!(job.sinks, [spoor::job::SinkConfig::Sarif { path: "/jobs/out/findings.sarif".into() }]);
/// # Ok::<(), spoor::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Job {
    /// The file's stem unless the file names it.
    pub name: String,
    /// The job file it was read from.
    pub file: PathBuf,
    /// The store it ingests into and hunts: a directory, or an `s3://`, `gs://` or `az://` URL.
    pub store: PathBuf,
    /// The pack its hunts come from.
    pub pack: PathBuf,
    /// The hunts to run with their parameters; empty means the whole pack.
    pub hunts: Vec<HuntSelection>,
    /// IOC files or directories added to the pack's own.
    pub iocs: Vec<PathBuf>,
    /// A Sigma mapping file extending spoor's own, for the pack's Sigma rules.
    pub sigma_mapping: Option<PathBuf>,
    /// Where the job may read and write, when loaded with [`Job::load_confined`]: input files
    /// found in the ingest directories are checked too (a link in `incoming/` to a file
    /// elsewhere is not read).
    pub confined_to: Option<crate::core::confine::Roots>,
    /// When cycles run.
    pub schedule: Schedule,
    /// How far before the new data a hunt looks (covers its sequences' `within`).
    pub lookback: chrono::Duration,
    /// How far behind the newest event already hunted late data may arrive and still be hunted.
    pub lateness: chrono::Duration,
    /// A finding whose hunt and entities were sent within this span is not sent again.
    pub suppress: Option<chrono::Duration>,
    /// Where the job keeps its state (what was hunted and delivered).
    pub state_dir: PathBuf,
    /// Exit code of `--once` when new findings were delivered.
    pub exit_code_on_findings: u8,
    /// Directories or files ingested at the start of each cycle (new files only).
    pub ingest: Vec<PathBuf>,
    /// The format of the ingested files (`None`: detected per file).
    pub ingest_format: Option<crate::core::formats::Format>,
    /// Where findings go.
    pub sinks: Vec<SinkConfig>,
    /// Memory and time limits of each hunt.
    pub limits: crate::core::session::Limits,
    /// The Ballista cluster the hunts run on (`df://scheduler:50050`), instead of in-process.
    pub cluster: Option<String>,
}

/// Hunts chosen by id (a trailing `*` matches a prefix, e.g. `c2.*`) or by file.
///
/// ```
/// let parse = |text: &str| spoor::job::Job::parse("/jobs/axios.toml".as_ref(), &format!("store = 's'\npack = 'h'\n{text}"));
/// let job = parse("hunts = [{ id = 'c2.beaconing', params = { min_count = 10 } }]")?;
/// assert_eq!(job.hunts[0].pattern, spoor::job::HuntPattern::Id("c2.beaconing".into()));
/// assert_eq!(job.hunts[0].params["min_count"], "10");
/// # Ok::<(), spoor::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct HuntSelection {
    /// Which hunts.
    pub pattern: HuntPattern,
    /// Their parameters.
    pub params: ParamValues,
}

/// How a selection names hunts.
///
/// ```
/// let parse = |text: &str| spoor::job::Job::parse("/jobs/axios.toml".as_ref(), &format!("store = 's'\npack = 'h'\n{text}"));
/// let job = parse("hunts = ['c2.*', 'mine/odd-logons.hunt']")?;
/// assert_eq!(job.hunts[1].pattern, spoor::job::HuntPattern::Path("/jobs/mine/odd-logons.hunt".into()));
/// # Ok::<(), spoor::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum HuntPattern {
    /// By id; a trailing `*` matches a prefix.
    Id(String),
    /// By the hunt file's path.
    Path(PathBuf),
}

impl HuntPattern {
    /// Whether `hunt` is one this selection names.
    ///
    /// ```
    /// let pack = spoor::testing::example_pack()?;
    /// let example = spoor::job::HuntPattern::Id("example.*".into());
    /// assert!(example.matches(&pack.hunts[0]));
    /// assert!(!spoor::job::HuntPattern::Id("c2.*".into()).matches(&pack.hunts[0]));
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn matches(&self, hunt: &crate::pack::PackHunt) -> bool {
        match self {
            HuntPattern::Id(pattern) => match pattern.strip_suffix('*') {
                Some(prefix) => hunt.id().starts_with(prefix),
                None => hunt.id() == pattern,
            },
            HuntPattern::Path(path) => same_file(path, &hunt.path),
        }
    }
}

impl std::fmt::Display for HuntPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HuntPattern::Id(id) => write!(f, "id `{id}`"),
            HuntPattern::Path(path) => write!(f, "path {}", path.display()),
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// When a job's cycles run.
///
/// ```
/// let parse = |text: &str| spoor::job::Job::parse("/jobs/axios.toml".as_ref(), &format!("store = 's'\npack = 'h'\n{text}"));
/// assert!(matches!(parse("schedule = '*/5 * * * *'")?.schedule, spoor::job::Schedule::Cron(_)));
/// assert!(matches!(parse("")?.schedule, spoor::job::Schedule::Every(d) if d.as_secs() == 300));
/// # Ok::<(), spoor::Error>(())
/// ```
#[derive(Debug, Clone)]
pub enum Schedule {
    /// At a fixed interval (the job file's `every`).
    Every(Duration),
    /// On a cron schedule (five fields, as crontab writes them).
    Cron(Box<croner::Cron>),
}

impl Schedule {
    /// When the next cycle after `after` starts.
    ///
    /// ```
    /// let every = spoor::job::Schedule::Every(std::time::Duration::from_secs(600));
    /// let at = "2026-03-31T00:21:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    /// assert_eq!(every.next(at)?.to_rfc3339(), "2026-03-31T00:31:00+00:00");
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn next(&self, after: chrono::DateTime<chrono::Utc>) -> crate::Result<chrono::DateTime<chrono::Utc>> {
        let never = |e: &dyn std::fmt::Display| crate::Error::User(format!("no cycle after {after}: {e}"));
        match self {
            Schedule::Every(every) => Ok(after + chrono::Duration::from_std(*every).map_err(|e| never(&e))?),
            Schedule::Cron(cron) => cron.find_next_occurrence(&after, false).map_err(|e| never(&e)),
        }
    }
}

/// Where a job delivers findings.
///
/// ```
/// let parse = |text: &str| spoor::job::Job::parse("/jobs/axios.toml".as_ref(), &format!("store = 's'\npack = 'h'\n{text}"));
/// let job = parse("[[sink]]\ntype = 'ndjson'\npath = 'alerts.ndjson'\n[[sink]]\ntype = 'stdout'\nformat = 'ndjson'")?;
/// assert_eq!(job.sinks[1], spoor::job::SinkConfig::Stdout { format: spoor::job::StdoutFormat::Ndjson });
/// # Ok::<(), spoor::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum SinkConfig {
    /// Standard output.
    Stdout {
        /// Text or ECS documents.
        format: StdoutFormat,
    },
    /// ECS alert documents appended to a file, one per line.
    Ndjson {
        /// The file.
        path: PathBuf,
    },
    /// A Parquet file of findings per cycle in a directory.
    Parquet {
        /// The directory.
        dir: PathBuf,
    },
    /// A SARIF log, each cycle's results merged in.
    Sarif {
        /// The file.
        path: PathBuf,
    },
    /// A webhook.
    Webhook(WebhookConfig),
}

impl SinkConfig {
    /// The sink in a few words, for logs.
    ///
    /// ```
    /// let sink = spoor::job::SinkConfig::Parquet { dir: "out/findings".into() };
    /// assert_eq!(sink.describe(), "parquet out/findings");
    /// ```
    pub fn describe(&self) -> String {
        match self {
            SinkConfig::Stdout { .. } => "stdout".into(),
            SinkConfig::Ndjson { path } => format!("ndjson {}", path.display()),
            SinkConfig::Parquet { dir } => format!("parquet {}", dir.display()),
            SinkConfig::Sarif { path } => format!("sarif {}", path.display()),
            SinkConfig::Webhook(w) => format!("webhook {}", w.url),
        }
    }
}

/// How findings print on standard output.
///
/// ```
/// let parse = |text: &str| spoor::job::Job::parse("/jobs/axios.toml".as_ref(), &format!("store = 's'\npack = 'h'\n{text}"));
/// assert_eq!(parse("[[sink]]\ntype = 'stdout'")?.sinks[0], spoor::job::SinkConfig::Stdout { format: spoor::job::StdoutFormat::Table });
/// # Ok::<(), spoor::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StdoutFormat {
    /// A block of text per finding.
    Table,
    /// One ECS alert document per line.
    Ndjson,
}

/// A webhook: findings POSTed as JSON.
///
/// ```
/// let parse = |text: &str| spoor::job::Job::parse("/jobs/axios.toml".as_ref(), &format!("store = 's'\npack = 'h'\n{text}"));
/// let job = parse("[[sink]]\ntype = 'webhook'\nurl = 'https://siem.example/alerts'\nheaders = { Authorization = 'Bearer t' }\nbackoff = '2s'")?;
/// let spoor::job::SinkConfig::Webhook(hook) = &job.sinks[0] else { panic!() };
/// assert_eq!((hook.retries, hook.backoff.as_secs(), hook.timeout.as_secs()), (4, 2, 30));
/// # Ok::<(), spoor::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    /// The URL.
    pub url: String,
    /// Extra HTTP headers (an authorization token).
    pub headers: BTreeMap<String, String>,
    /// Attempts after the first.
    pub retries: u32,
    /// The wait before the first retry; it doubles with each further one.
    pub backoff: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
}

// The file as written. Unknown keys are errors: a misspelt `lookbak` must not silently fall
// back to the default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobFile {
    name: Option<String>,
    store: PathBuf,
    pack: PathBuf,
    #[serde(default)]
    hunts: Vec<HuntEntry>,
    #[serde(default)]
    iocs: Vec<PathBuf>,
    sigma_mapping: Option<PathBuf>,
    schedule: Option<String>,
    every: Option<String>,
    lookback: Option<String>,
    lateness: Option<String>,
    suppress: Option<String>,
    state: Option<PathBuf>,
    exit_code_on_findings: Option<u8>,
    memory_limit: Option<String>,
    timeout: Option<String>,
    cluster: Option<String>,
    ingest: Option<IngestEntry>,
    #[serde(default, rename = "sink")]
    sinks: Vec<SinkEntry>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum HuntEntry {
    Id(String),
    Table(HuntTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HuntTable {
    id: Option<String>,
    path: Option<PathBuf>,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IngestEntry {
    paths: Vec<PathBuf>,
    format: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum SinkEntry {
    Stdout {
        format: Option<StdoutFormat>,
    },
    Ndjson {
        path: PathBuf,
    },
    Parquet {
        dir: PathBuf,
    },
    Sarif {
        path: PathBuf,
    },
    Webhook {
        url: String,
        #[serde(default)]
        headers: BTreeMap<String, String>,
        retries: Option<u32>,
        backoff: Option<String>,
        timeout: Option<String>,
    },
}

fn duration(what: &str, text: &str) -> Result<chrono::Duration, String> {
    crate::dsl::parse_duration(text).map(chrono::Duration::microseconds).map_err(|e| format!("{what}: {e}"))
}

fn std_duration(what: &str, text: &str) -> Result<Duration, String> {
    duration(what, text)?.to_std().map_err(|e| format!("{what}: {e}"))
}

/// `memory_limit` and `timeout`, read as every front end reads them.
fn limits(memory: Option<&str>, time: Option<&str>) -> Result<crate::core::session::Limits, String> {
    let mut options = crate::HuntOptions::default();
    if let Some(size) = memory {
        options = options.memory_limit(size).map_err(|e| e.to_string())?;
    }
    if let Some(limit) = time {
        options = options.timeout(limit).map_err(|e| e.to_string())?;
    }
    Ok(options.limits)
}

impl Job {
    /// Reads and checks a job file; the error names the file and, for TOML errors, the line.
    ///
    /// ```
    /// let file = std::env::temp_dir().join(format!("spoor-job-doc-{}.toml", std::process::id()));
    /// std::fs::write(&file, "store = 'store'\npack = 'hunts'\nevery = '1h'\n").unwrap();
    /// let job = spoor::job::Job::load(&file)?;
    /// assert_eq!(job.store, file.parent().unwrap().join("store"));
    /// std::fs::write(&file, "store = 'store'\n").unwrap();
    /// assert!(spoor::job::Job::load(&file).unwrap_err().to_string().contains("missing field `pack`"));
    /// # std::fs::remove_file(&file).unwrap();
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn load(file: &Path) -> crate::Result<Job> {
        let text = std::fs::read_to_string(file).map_err(crate::Error::io(file))?;
        Job::from_text(file, &text).map_err(|e| crate::Error::User(format!("{}: {e}", file.display())))
    }

    /// Reads a job file and checks that every path it names (store, pack, hunts, IOC files,
    /// inputs, state, sink files) stays inside its own directory or one of `allow`.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("spoor-confined-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("job.toml"), "store = 'store'\npack = '/etc'\n").unwrap();
    /// let refused = spoor::job::Job::load_confined(&dir.join("job.toml"), &[]).unwrap_err();
    /// assert!(refused.to_string().contains("--allow"));
    /// assert!(spoor::job::Job::load_confined(&dir.join("job.toml"), &["/etc".into()]).is_ok());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn load_confined(file: &Path, allow: &[PathBuf]) -> crate::Result<Job> {
        let mut job = Job::load(file)?;
        let own = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let dirs: Vec<PathBuf> = std::iter::once(own.to_path_buf()).chain(allow.iter().cloned()).collect();
        let roots = crate::core::confine::Roots::new(
            &dirs,
            "a job file names only files under its own directory; allow others with --allow <dir>",
        )
        .map_err(crate::Error::User)?;
        job.paths()
            .try_for_each(|(what, path)| roots.check(what, path).map(drop))
            .map_err(|e| crate::Error::User(format!("{}: {e}", file.display())))?;
        job.confined_to = Some(roots);
        Ok(job)
    }

    /// Every path the job reads or writes, with what it is.
    fn paths(&self) -> impl Iterator<Item = (&'static str, &Path)> {
        let hunts = self.hunts.iter().filter_map(|h| match &h.pattern {
            HuntPattern::Path(path) => Some(("hunt", path.as_path())),
            HuntPattern::Id(_) => None,
        });
        let sinks = self.sinks.iter().filter_map(|s| match s {
            SinkConfig::Ndjson { path } | SinkConfig::Sarif { path } => Some(("sink", path.as_path())),
            SinkConfig::Parquet { dir } => Some(("sink", dir.as_path())),
            SinkConfig::Stdout { .. } | SinkConfig::Webhook(_) => None,
        });
        let store = Some(("store", self.store.as_path())).filter(|_| !crate::core::location::is_url(&self.store));
        store
            .into_iter()
            .chain([("pack", self.pack.as_path()), ("state", self.state_dir.as_path())])
            .chain(self.iocs.iter().map(|p| ("iocs", p.as_path())))
            .chain(self.sigma_mapping.iter().map(|p| ("sigma mapping", p.as_path())))
            .chain(self.ingest.iter().map(|p| ("ingest path", p.as_path())))
            .chain(hunts)
            .chain(sinks)
    }

    /// Reads and checks a job file's text (`file` names it in errors and anchors relative paths).
    ///
    /// ```
    /// use std::path::Path;
    /// let job = spoor::job::Job::parse(Path::new("/jobs/axios.toml"), "store = '../store'\npack = '../hunts'\nevery = '10m'")?;
    /// assert_eq!(job.name, "axios");
    /// assert_eq!(job.store, Path::new("/jobs/../store"));
    /// let typo = spoor::job::Job::parse(Path::new("j.toml"), "store = 's'\npack = 'h'\nlookbak = '1h'").unwrap_err();
    /// assert!(typo.to_string().contains("unknown field `lookbak`"));
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn parse(file: &Path, text: &str) -> crate::Result<Job> {
        Job::from_text(file, text).map_err(crate::Error::User)
    }

    fn from_text(file: &Path, text: &str) -> Result<Job, String> {
        let raw: JobFile = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let at = |p: &Path| if p.is_absolute() || dir == Path::new(".") { p.to_path_buf() } else { dir.join(p) };
        let name = raw
            .name
            .clone()
            .or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "job".into());
        let schedule = match (&raw.schedule, &raw.every) {
            (Some(_), Some(_)) => return Err("give `schedule` (cron) or `every` (an interval), not both".into()),
            (Some(cron), None) => {
                Schedule::Cron(Box::new(cron.parse::<croner::Cron>().map_err(|e| format!("schedule `{cron}`: {e}"))?))
            }
            (None, Some(every)) => Schedule::Every(std_duration("every", every)?),
            (None, None) => Schedule::Every(Duration::from_secs(300)),
        };
        let mut hunts = Vec::new();
        for entry in raw.hunts {
            hunts.push(match entry {
                HuntEntry::Id(id) if id.ends_with(".hunt") => {
                    HuntSelection { pattern: HuntPattern::Path(at(Path::new(&id))), params: ParamValues::new() }
                }
                HuntEntry::Id(id) => HuntSelection { pattern: HuntPattern::Id(id), params: ParamValues::new() },
                HuntEntry::Table(t) => {
                    let pattern = match (t.id, t.path) {
                        (Some(id), None) => HuntPattern::Id(id),
                        (None, Some(path)) => HuntPattern::Path(at(&path)),
                        _ => return Err("a hunt entry names an `id` or a `path`, one of the two".into()),
                    };
                    let params = t
                        .params
                        .into_iter()
                        .map(|(k, v)| {
                            let v = match v {
                                toml::Value::String(s) => s,
                                other => other.to_string(),
                            };
                            (k, v)
                        })
                        .collect();
                    HuntSelection { pattern, params }
                }
            });
        }
        let mut sinks = Vec::new();
        for sink in raw.sinks {
            sinks.push(match sink {
                SinkEntry::Stdout { format } => SinkConfig::Stdout { format: format.unwrap_or(StdoutFormat::Table) },
                SinkEntry::Ndjson { path } => SinkConfig::Ndjson { path: at(&path) },
                SinkEntry::Parquet { dir } => SinkConfig::Parquet { dir: at(&dir) },
                SinkEntry::Sarif { path } => SinkConfig::Sarif { path: at(&path) },
                SinkEntry::Webhook { url, headers, retries, backoff, timeout } => {
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        return Err(format!("webhook url `{url}`: expected http:// or https://"));
                    }
                    SinkConfig::Webhook(WebhookConfig {
                        url,
                        headers,
                        retries: retries.unwrap_or(4),
                        backoff: std_duration("webhook backoff", backoff.as_deref().unwrap_or("1s"))?,
                        timeout: std_duration("webhook timeout", timeout.as_deref().unwrap_or("30s"))?,
                    })
                }
            });
        }
        if sinks.is_empty() {
            sinks.push(SinkConfig::Stdout { format: StdoutFormat::Table });
        }
        let (ingest, ingest_format) = match raw.ingest {
            None => (Vec::new(), None),
            Some(i) => {
                let format = crate::core::formats::Format::chosen(i.format.as_deref().unwrap_or("auto"))
                    .map_err(|e| format!("ingest {e}"))?;
                (i.paths.iter().map(|p| at(p)).collect(), format)
            }
        };
        Ok(Job {
            state_dir: raw.state.as_deref().map(&at).unwrap_or_else(|| dir.join(format!("{name}.state"))),
            name,
            file: file.to_path_buf(),
            // A URL names an object store, not a path beside the job file.
            store: if crate::core::location::is_url(&raw.store) { raw.store.clone() } else { at(&raw.store) },
            pack: at(&raw.pack),
            hunts,
            iocs: raw.iocs.iter().map(|p| at(p)).collect(),
            sigma_mapping: raw.sigma_mapping.as_deref().map(at),
            confined_to: None,
            schedule,
            lookback: duration("lookback", raw.lookback.as_deref().unwrap_or("24h"))?,
            lateness: duration("lateness", raw.lateness.as_deref().unwrap_or("1h"))?,
            suppress: raw.suppress.as_deref().map(|s| duration("suppress", s)).transpose()?,
            exit_code_on_findings: raw.exit_code_on_findings.unwrap_or(1),
            ingest,
            ingest_format,
            sinks,
            limits: limits(raw.memory_limit.as_deref(), raw.timeout.as_deref())?,
            cluster: raw.cluster.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_file_resolves_paths_next_to_it() {
        let job = Job::parse(
            Path::new("jobs/axios.toml"),
            r#"
            store = "../store"
            pack = "../hunts"
            hunts = ["c2.*", { id = "c2.beaconing", params = { min_connections = 10 } }, "extra/mine.hunt"]
            every = "5m"
            lookback = "72h"
            memory_limit = "2GiB"
            sigma_mapping = "sigma/ours.toml"
            [ingest]
            paths = ["incoming"]
            [[sink]]
            type = "ndjson"
            path = "out/findings.ndjson"
            [[sink]]
            type = "webhook"
            url = "http://127.0.0.1:9/alerts"
            "#,
        )
        .unwrap();
        assert_eq!(job.name, "axios");
        assert_eq!(job.store, Path::new("jobs/../store"));
        assert_eq!(job.state_dir, Path::new("jobs/axios.state"));
        assert_eq!(job.ingest, [PathBuf::from("jobs/incoming")]);
        assert_eq!(job.sigma_mapping.as_deref(), Some(Path::new("jobs/sigma/ours.toml")));
        assert_eq!(job.hunts[1].params.get("min_connections").map(String::as_str), Some("10"));
        assert_eq!(job.hunts[2].pattern, HuntPattern::Path("jobs/extra/mine.hunt".into()));
        assert_eq!(job.lookback, chrono::Duration::hours(72));
        assert_eq!(job.limits.memory, Some(2 << 30));
        assert!(matches!(job.schedule, Schedule::Every(d) if d == Duration::from_secs(300)));
        assert_eq!(job.sinks[0], SinkConfig::Ndjson { path: "jobs/out/findings.ndjson".into() });
    }

    #[test]
    fn mistakes_are_named() {
        let err = |text: &str| Job::parse(Path::new("j.toml"), text).unwrap_err().to_string();
        assert!(err("store = 's'\npack = 'h'\nlookbak = '1h'").contains("unknown field `lookbak`"));
        assert!(err("store = 's'\npack = 'h'\nschedule = 'every tuesday'").contains("schedule `every tuesday`"));
        assert!(err("store = 's'\npack = 'h'\nevery = 'often'").contains("every: `often`: expected a duration"));
        assert!(err("store = 's'\npack = 'h'\n[[sink]]\ntype = 'pager'").contains("unknown variant `pager`"));
        let cron = Job::parse(Path::new("j.toml"), "store = 's'\npack = 'h'\nschedule = '*/5 * * * *'").unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-31T00:21:00Z").unwrap().to_utc();
        assert_eq!(cron.schedule.next(at).unwrap().to_rfc3339(), "2026-03-31T00:25:00+00:00");
    }
}
