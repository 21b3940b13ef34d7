//! The front door: a store of logs that ingests, hunts, explains and runs packs, with every
//! option a run takes in one place. The command line, the Python module and scheduled jobs
//! stand on it, so a session, its limits and its indicators are put together here only.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use datafusion::datasource::MemTable;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::core::ingest::{IngestOptions, IngestSummary, Progress, Quiet};
use crate::core::iocs::Ioc;
use crate::core::session::{self, Limits};
use crate::dsl::{Diagnostics, ParamValues, RunOptions};
use crate::error::{Error, Result, Stopped};
use crate::pack::{HuntRun, Pack, PackHunt, RunConfig};

/// A hunt's text and the name its diagnostics show (a file's path, or `<query>`).
///
/// ```
/// let hunt = spoor::HuntText::from("process | where process.name == \"wscript.exe\"");
/// assert_eq!(hunt.name, "<query>");
/// ```
#[derive(Debug, Clone)]
pub struct HuntText {
    /// A file's path, or `<query>`.
    pub name: String,
    /// The hunt.
    pub text: String,
}

impl HuntText {
    /// A hunt written inline.
    ///
    /// ```
    /// let hunt = spoor::HuntText::inline("dns | stats count() by dns.question.name");
    /// assert!(hunt.text.starts_with("dns"));
    /// ```
    pub fn inline(text: impl Into<String>) -> HuntText {
        HuntText { name: "<query>".into(), text: text.into() }
    }

    /// A `.hunt` file.
    ///
    /// A Sigma rule file (`.yml`, `.yaml`) reads as the hunt spoor converts it to (the file must
    /// hold one rule that can run; `spoor sigma convert` shows the text).
    ///
    /// ```
    /// let hunt = spoor::HuntText::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pack/process/script-host-powershell.hunt"))?;
    /// assert!(hunt.name.ends_with("script-host-powershell.hunt"));
    /// // A Sigma rule reads as the hunt it converts to.
    /// let rule = spoor::HuntText::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sigma/script_host_spawns_powershell.yml"))?;
    /// assert!(rule.text.contains("process.parent.executable"));
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn read(path: impl AsRef<Path>) -> Result<HuntText> {
        HuntText::read_with(path, &crate::sigma::Mapping::builtin())
    }

    /// [`HuntText::read`], with the mapping a Sigma rule is read with ([`crate::sigma::mapping`]).
    ///
    /// ```
    /// let mapping = spoor::sigma::mapping(None)?; // the built-in mapping, no user file
    /// let rule = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sigma/script_host_spawns_powershell.yml");
    /// let hunt = spoor::HuntText::read_with(rule, &mapping)?;
    /// assert!(hunt.text.starts_with("---\nid: 5b3c8e52"));
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn read_with(path: impl AsRef<Path>, mapping: &crate::sigma::Mapping) -> Result<HuntText> {
        let path = path.as_ref();
        let name = path.display().to_string();
        if crate::sigma::is_rule_file(path) {
            let converter = crate::sigma::Converter::new(mapping.clone());
            let mut rules = converter.convert_file(path)?;
            return match (rules.len(), rules.pop()) {
                (0, _) => Err(Error::User(format!("{name}: holds no Sigma rule"))),
                (1, Some(rule)) => match rule.hunt {
                    Ok(text) => Ok(HuntText { name, text }),
                    Err(why) => {
                        Err(Error::User(format!("{name}: the Sigma rule cannot run ({}): {why}", why.code.name())))
                    }
                },
                (n, _) => Err(Error::User(format!(
                    "{name}: holds {n} Sigma rules; run a folder of rules with `spoor pack run --pack`"
                ))),
            };
        }
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        Ok(HuntText { name, text })
    }
}

impl From<&str> for HuntText {
    fn from(text: &str) -> HuntText {
        HuntText::inline(text)
    }
}

/// How to run a hunt or a pack: parameters, the time window, indicators, limits and
/// cancellation. Built with its setters; those that take text parse it as the command line does.
///
/// ```
/// let options = spoor::HuntOptions::default()
///     .param("window", "1h")
///     .since("24h")?
///     .memory_limit("2GiB")?
///     .timeout("30s")?;
/// assert_eq!(options.limits.memory, Some(2 << 30));
/// # Ok::<(), spoor::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct HuntOptions {
    /// Parameter values by name. In a pack run, `hunt_id.name` sets one hunt's and a bare name
    /// every hunt's that declares it.
    pub params: ParamValues,
    /// The time of the run and the window of events it reads.
    pub run: RunOptions,
    /// IOC files or directories (CSV, JSON, STIX 2.1, OSV), read as the `iocs` table.
    pub iocs: Vec<PathBuf>,
    /// Indicators from elsewhere, by where they came from, added to the files'.
    pub indicators: Vec<(String, Ioc)>,
    /// Memory and time limits.
    pub limits: Limits,
    /// Stops the work when cancelled (from another task or thread).
    pub cancel: CancellationToken,
    /// The scheduler of the Ballista cluster to run on (`df://host:50050`), instead of in this
    /// process.
    pub cluster: Option<String>,
}

impl Default for HuntOptions {
    fn default() -> HuntOptions {
        HuntOptions {
            params: ParamValues::new(),
            run: RunOptions { now: Utc::now(), window: None },
            iocs: Vec::new(),
            indicators: Vec::new(),
            limits: Limits::default(),
            cancel: CancellationToken::new(),
            cluster: None,
        }
    }
}

impl HuntOptions {
    /// Sets a parameter.
    ///
    /// ```
    /// let options = spoor::HuntOptions::default().param("shell", "pwsh.exe");
    /// assert_eq!(options.params["shell"], "pwsh.exe");
    /// ```
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> HuntOptions {
        self.params.insert(name.into(), value.into());
        self
    }

    /// Sets parameters written `name=value`, as `--param` takes them.
    ///
    /// ```
    /// let options = spoor::HuntOptions::default().params_text(&["min_count=4", "example.script-host-powershell.shell=pwsh.exe"])?;
    /// assert_eq!(options.params["min_count"], "4");
    /// assert!(spoor::HuntOptions::default().params_text(&["min_count"]).is_err());
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn params_text<S: AsRef<str>>(mut self, pairs: &[S]) -> Result<HuntOptions> {
        for pair in pairs {
            let pair = pair.as_ref();
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| Error::User(format!("parameter `{pair}`: write it as name=value")))?;
            self.params.insert(name.trim().to_string(), value.to_string());
        }
        Ok(self)
    }

    /// Reads only events from this long ago (`30m`, `24h`, `7d`) until now.
    ///
    /// ```
    /// let options = spoor::HuntOptions::default().since("7d")?;
    /// let (start, end) = options.run.window.unwrap();
    /// assert_eq!(end - start, chrono::Duration::days(7));
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn since(mut self, ago: &str) -> Result<HuntOptions> {
        self.run = RunOptions::since(Some(ago)).map_err(|e| Error::User(format!("since {e}")))?;
        Ok(self)
    }

    /// Reads only events in `[start, end)`.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// let start = "2020-09-04T20:09:56Z".parse().unwrap();
    /// let end = "2020-09-05T00:00:00Z".parse().unwrap();
    /// let options = spoor::HuntOptions::default().window(start, end);
    /// // Of the four process starts (20:09:55.035 to 20:09:57.091), two are in the window.
    /// let rows = store.hunt("process", &options).await?.collect().await?;
    /// assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    /// # Ok(()) }
    /// ```
    pub fn window(mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> HuntOptions {
        self.run.window = Some((start, end));
        self
    }

    /// Adds IOC files or directories.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// let dir = std::env::temp_dir().join(format!("spoor-iocs-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("c2.csv"), "type,value\ndomain,scranton.shire.com\n").unwrap();
    /// let options = spoor::HuntOptions::default().iocs([dir.join("c2.csv")]);
    /// let hits = "dns | lookup iocs on dns.question.name using domain | stats count()";
    /// let rows = store.hunt(hits, &options).await?.collect().await?;
    /// assert_eq!(rows[0].num_rows(), 1);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok(()) }
    /// ```
    pub fn iocs(mut self, paths: impl IntoIterator<Item = impl Into<PathBuf>>) -> HuntOptions {
        self.iocs.extend(paths.into_iter().map(Into::into));
        self
    }

    /// Bounds the memory a query holds (`512MiB`, `2GiB`): beyond it sorts, aggregations and
    /// joins spill to disk where they can, and the hunt fails with [`Error::Limit`] where not.
    ///
    /// ```
    /// let options = spoor::HuntOptions::default().memory_limit("512MiB")?;
    /// assert_eq!(options.limits.memory, Some(512 << 20));
    /// assert!(spoor::HuntOptions::default().memory_limit("lots").is_err());
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn memory_limit(mut self, size: &str) -> Result<HuntOptions> {
        self.limits.memory = Some(Limits::parse_size(size).map_err(|e| Error::User(format!("memory limit {e}")))?);
        Ok(self)
    }

    /// Stops any one hunt that runs longer than this (`30s`, `10m`), with [`Error::Limit`].
    ///
    /// ```
    /// let options = spoor::HuntOptions::default().timeout("30s")?;
    /// assert_eq!(options.limits.time, Some(std::time::Duration::from_secs(30)));
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn timeout(mut self, limit: &str) -> Result<HuntOptions> {
        let micros = crate::dsl::parse_duration(limit).map_err(|e| Error::User(format!("timeout {e}")))?;
        self.limits.time = Some(Duration::from_micros(micros.max(0) as u64));
        Ok(self)
    }

    /// Stops the work when `token` is cancelled, with [`Error::Cancelled`].
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// let token = spoor::CancellationToken::new();
    /// let options = spoor::HuntOptions::default().cancel_on(token.clone());
    /// token.cancel(); // from another task or thread, any time
    /// let outcome = store.hunt("process", &options).await;
    /// assert!(matches!(outcome, Err(spoor::Error::Cancelled)));
    /// # Ok(()) }
    /// ```
    pub fn cancel_on(mut self, token: CancellationToken) -> HuntOptions {
        self.cancel = token;
        self
    }

    /// Runs on the Ballista cluster whose scheduler is at `address` (`df://host:50050`, as
    /// `spoor cluster scheduler` listens), instead of in this process. The hunt is the same.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// let options = spoor::HuntOptions::default().cluster("df://scheduler:50050");
    /// assert_eq!(options.cluster.as_deref(), Some("df://scheduler:50050"));
    /// let wrong = spoor::HuntOptions::default().cluster("scheduler:50050");
    /// assert!(store.hunt("process", &wrong).await.is_err());
    /// # Ok(()) }
    /// ```
    pub fn cluster(mut self, address: impl Into<String>) -> HuntOptions {
        self.cluster = Some(address.into());
        self
    }
}

/// A table of the store with rows: how many, in how many files, from when to when.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// let tables = store.tables().await?;
/// let process = tables.iter().find(|t| t.name == "process").unwrap();
/// assert_eq!(process.rows, 4);
/// assert_eq!(process.first.unwrap().to_rfc3339(), "2020-09-04T20:09:55.035+00:00");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TableSummary {
    /// The table's name (`process`, `dns`, ...).
    pub name: String,
    /// Rows stored.
    pub rows: i64,
    /// Parquet files holding them.
    pub files: usize,
    /// The earliest event's time.
    pub first: Option<DateTime<Utc>>,
    /// The latest event's time.
    pub last: Option<DateTime<Utc>>,
}

/// A hunt's rows as they come, with their schema and the hunt's warnings.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// let rows = store.hunt("process | where process.name == \"powershell.exe\" | select host.name", &Default::default()).await?;
/// assert_eq!(rows.schema.field(0).name(), "host.name");
/// assert!(rows.empty_tables.is_empty());
/// let batches = rows.collect().await?;
/// assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
/// # Ok(()) }
/// ```
pub struct Rows {
    /// The columns of every batch.
    pub schema: SchemaRef,
    /// DataFusion's stream of batches; dropping it stops the query.
    pub stream: SendableRecordBatchStream,
    /// Problems that did not stop the hunt (rendered as `spoor check` does with [`Rows::warnings_text`]).
    pub warnings: Diagnostics,
    /// Tables the hunt reads that have no rows in this store: an empty answer from them says
    /// nothing about the hunted activity.
    pub empty_tables: Vec<String>,
    hunt: HuntText,
}

impl Rows {
    /// Every batch, in order.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// let batches = store.hunt("dns | stats count()", &Default::default()).await?.collect().await?;
    /// let counts = batches[0].column(0).as_any().downcast_ref::<arrow::array::Int64Array>().unwrap();
    /// assert_eq!(counts.value(0), 32);
    /// # Ok(()) }
    /// ```
    pub async fn collect(mut self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        while let Some(batch) = self.stream.next().await {
            out.push(batch?);
        }
        Ok(out)
    }

    /// The warnings under the lines they point at.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// let rows = store.hunt("process | where process.name == \"cmd.exe\" or true", &Default::default()).await?;
    /// for line in rows.warnings_text(false).lines() {
    ///     eprintln!("{line}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn warnings_text(&self, colour: bool) -> String {
        crate::dsl::render::pretty(&self.warnings, &self.hunt.text, &self.hunt.name, colour)
    }
}

/// What [`Store::explain`] shows.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// let plan = store.explain("process | stats count() by host.name", &Default::default(), spoor::Explain::Plan).await?;
/// assert!(plan.contains("Aggregate"));
/// let sql = store.explain("process | where process.name == \"wscript.exe\"", &Default::default(), spoor::Explain::Sql).await?;
/// assert!(sql.starts_with("SELECT"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Explain {
    /// The plan after DataFusion's optimizer.
    Plan,
    /// SQL for another engine (DataFusion's unparser).
    Sql,
    /// Runs the hunt and shows what each operator did, and how long each phase took.
    Analyze,
}

/// A store of logs: a directory of Parquet tables that [`Store::ingest`] appends to and hunts
/// read, with any in-memory tables the caller registered.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("spoor-store-doc-{}", std::process::id()));
/// let store = spoor::Store::open(&dir)?;
/// let logs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/windows/mordor");
/// store.ingest(&[logs], &Default::default())?;
/// let rows = store.hunt("process | where process.name == \"whoami.exe\"", &Default::default()).await?;
/// let batches = rows.collect().await?;
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Store {
    inner: crate::core::Store,
    registered: Vec<(String, SchemaRef, Vec<RecordBatch>)>,
}

impl Store {
    /// Opens the store in `path`, creating the directory when it does not exist, or at a URL:
    /// `s3://bucket/prefix`, `gs://…` or `az://…`, with credentials from the environment
    /// (docs/ingest.md, "In an object store"). A URL with no scheme spoor knows is an error.
    ///
    /// ```
    /// let unknown = spoor::Store::open("ftp://host/store").unwrap_err();
    /// assert!(unknown.to_string().contains("a store is a directory or an s3://, gs:// or az:// URL"));
    /// let dir = std::env::temp_dir().join(format!("spoor-open-doc-{}", std::process::id()));
    /// let store = spoor::Store::open(&dir)?; // creates the directory
    /// assert_eq!(store.path(), dir);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Ok(Store { inner: crate::core::Store::open(path.as_ref())?, registered: Vec::new() })
    }

    /// Opens a store that must exist already (hunting an empty directory is a mistake).
    ///
    /// ```
    /// let missing = std::env::temp_dir().join("spoor-no-such-store");
    /// assert!(matches!(spoor::Store::open_existing(&missing), Err(spoor::Error::User(_))));
    /// ```
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Store> {
        Ok(Store { inner: crate::core::Store::open_existing(path.as_ref())?, registered: Vec::new() })
    }

    /// The store's directory, or its URL, as it was named.
    ///
    /// ```
    /// # let store = spoor::testing::sample_store()?;
    /// assert!(store.path().join("manifest.json").exists() || store.path().is_dir());
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        self.inner.root()
    }

    /// The storage layer underneath, for what the front door does not cover.
    ///
    /// ```
    /// # let store = spoor::testing::sample_store()?;
    /// let files = store.core().files(spoor::core::Table::Process)?;
    /// assert_eq!(files.len(), 1);
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn core(&self) -> &crate::core::Store {
        &self.inner
    }

    /// Reads log files and directories into the store (blocking; run it off an async runtime's
    /// workers with `spawn_blocking`). Every record is stored, skipped or rejected, per file.
    ///
    /// ```
    /// # let store = spoor::testing::sample_store()?;
    /// let mordor = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/windows/mordor/metasploit_getsystem_rtcpef.json");
    /// let summary = store.ingest(&[mordor.into()], &Default::default())?;
    /// assert_eq!(summary.total(|f| f.read), summary.total(|f| f.stored) + summary.total(|f| f.skipped) + summary.total(|f| f.rejected));
    /// // Read again, it is known and skipped whole.
    /// let again = store.ingest(&[mordor.into()], &Default::default())?;
    /// assert_eq!(again.total(|f| f.stored), 0);
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn ingest(&self, paths: &[PathBuf], options: &IngestOptions) -> Result<IngestSummary> {
        self.ingest_with(paths, options, &Quiet)
    }

    /// [`Store::ingest`], telling `progress` how it goes.
    ///
    /// ```
    /// struct Files(std::sync::Mutex<Vec<String>>);
    /// impl spoor::core::ingest::Progress for Files {
    ///     fn start_file(&self, path: &std::path::Path, _bytes: u64) {
    ///         self.0.lock().unwrap().push(path.display().to_string());
    ///     }
    /// }
    /// # let store = spoor::testing::sample_store()?;
    /// let seen = Files(Default::default());
    /// let zeek = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus/dns/zeek/lsass_campaign01_metasploit_dns.log");
    /// store.ingest_with(&[zeek.into()], &Default::default(), &seen)?;
    /// assert_eq!(seen.0.lock().unwrap().len(), 1);
    /// # Ok::<(), spoor::Error>(())
    /// ```
    pub fn ingest_with(
        &self,
        paths: &[PathBuf],
        options: &IngestOptions,
        progress: &dyn Progress,
    ) -> Result<IngestSummary> {
        Ok(crate::core::ingest(&self.inner, paths, options, progress)?)
    }

    /// The tables that hold rows.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// let names: Vec<String> = store.tables().await?.into_iter().map(|t| t.name).collect();
    /// assert!(names.contains(&"process".to_string()) && names.contains(&"dns".to_string()));
    /// # Ok(()) }
    /// ```
    pub async fn tables(&self) -> Result<Vec<TableSummary>> {
        let ctx = session::context(&self.inner).await?;
        let mut out = Vec::new();
        for table in self.inner.tables()? {
            let s = session::table_stats(&ctx, &self.inner, table).await?;
            out.push(TableSummary {
                name: table.name().to_string(),
                rows: s.rows,
                files: s.files,
                first: s.first,
                last: s.last,
            });
        }
        Ok(out)
    }

    /// Makes rows in memory a table hunts read by `name` (a lookup list, a notebook's frame).
    /// Registered as `iocs`, with columns `type` and `value`, its indicators join the IOC files
    /// of a run that has any.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// let mut store = store;
    /// let schema = std::sync::Arc::new(arrow::datatypes::Schema::new(vec![
    ///     arrow::datatypes::Field::new("user", arrow::datatypes::DataType::Utf8, false),
    /// ]));
    /// let admins = arrow::record_batch::RecordBatch::try_new(
    ///     schema.clone(),
    ///     vec![std::sync::Arc::new(arrow::array::StringArray::from(vec!["pgustavo"]))],
    /// )?;
    /// store.register("admins", schema, vec![admins])?;
    /// let hunt = "process | lookup admins on user.name = admins.user | select process.name";
    /// assert_eq!(store.hunt(hunt, &Default::default()).await?.collect().await?[0].num_rows(), 4);
    /// # Ok(()) }
    /// ```
    pub fn register(&mut self, name: &str, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<()> {
        if crate::core::Table::from_name(name).is_some() {
            return Err(Error::User(format!("`{name}` is one of spoor's tables; pick another name")));
        }
        self.registered.retain(|(n, _, _)| n != name);
        self.registered.push((name.to_string(), schema, batches));
        Ok(())
    }

    /// A DataFusion session over the store's tables, the registered ones and the run's
    /// indicators (the `iocs` table, when there are IOC files or indicators), with its limits.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// // DataFusion's own API over the same tables, for SQL or DataFrames.
    /// let ctx = store.session(&Default::default()).await?;
    /// let df = ctx.sql("SELECT count(*) AS n FROM process").await?;
    /// let batches = df.collect().await?;
    /// assert_eq!(batches[0].num_rows(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn session(&self, options: &HuntOptions) -> Result<SessionContext> {
        self.session_with(options, !options.iocs.is_empty() || !options.indicators.is_empty()).await
    }

    /// [`Store::session`], with the `iocs` table made from the options (and a registered
    /// `iocs` table's rows) when `iocs_wanted`, even if that leaves it empty.
    async fn session_with(&self, options: &HuntOptions, iocs_wanted: bool) -> Result<SessionContext> {
        let ctx = match &options.cluster {
            None => session::context_with(&self.inner, options.limits).await?,
            Some(address) => {
                session::context_on(&self.inner, options.limits, async |state| on_cluster(address, state).await).await?
            }
        };
        let mut indicators = options.indicators.clone();
        for (name, schema, batches) in &self.registered {
            if name == crate::core::iocs::TABLE && iocs_wanted {
                let source = "the registered `iocs` table";
                let found = crate::core::iocs::from_batches(source, batches)?;
                indicators.extend(found.into_iter().map(|i| (source.to_string(), i)));
                continue;
            }
            let table = MemTable::try_new(schema.clone(), vec![batches.clone()])?;
            ctx.register_table(name.as_str(), Arc::new(table))?;
        }
        if iocs_wanted {
            crate::core::iocs::register_with(&ctx, &options.iocs, &indicators)?;
        }
        Ok(ctx)
    }

    /// Runs a hunt: its rows as a stream, stopped by the options' timeout or cancellation.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// let hunt = "chain explorer.exe -> wscript.exe -> powershell.exe | select p3.process.command_line";
    /// let rows = store.hunt(hunt, &Default::default()).await?.collect().await?;
    /// assert!(rows.iter().map(|b| b.num_rows()).sum::<usize>() > 0);
    /// // A hunt that does not check says why, under the line.
    /// let Err(spoor::Error::Hunt(invalid)) = store.hunt("proces | limit 1", &Default::default()).await else { panic!() };
    /// assert!(invalid[0].render(false).contains("unknown table `proces`"));
    /// # Ok(()) }
    /// ```
    pub async fn hunt(&self, hunt: impl Into<HuntText>, options: &HuntOptions) -> Result<Rows> {
        let hunt = hunt.into();
        let ctx = self.session(options).await?;
        let deadline = options.limits.time.map(|limit| (tokio::time::Instant::now() + limit, limit));
        let compiled = stoppable(options, deadline, compile(&ctx, &hunt, options)).await?;
        let empty_tables =
            compiled.hunt.tables().into_iter().filter(|t| !ctx.table_exist(t.as_str()).unwrap_or(false)).collect();
        let schema: SchemaRef = Arc::new(compiled.plan.schema().as_arrow().clone());
        let prepared = stoppable(options, deadline, async {
            crate::dsl::run::prepared(&ctx, &compiled.plan).await.map_err(Error::from)
        })
        .await?;
        let stream = datafusion::physical_plan::execute_stream(Arc::clone(&prepared.plan), ctx.task_ctx())?;
        let stream = until_stopped(stream, prepared, deadline, options.cancel.clone());
        let stream: SendableRecordBatchStream = Box::pin(RecordBatchStreamAdapter::new(schema.clone(), stream));
        Ok(Rows { schema, stream, warnings: compiled.warnings, empty_tables, hunt })
    }

    /// The plan of a hunt, SQL for it, or (`Explain::Analyze`) what running it did.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// let analyzed = store.explain("dns | stats count() by dns.question.name", &Default::default(), spoor::Explain::Analyze).await?;
    /// assert!(analyzed.contains("rows; compiled in"));
    /// # Ok(()) }
    /// ```
    pub async fn explain(&self, hunt: impl Into<HuntText>, options: &HuntOptions, shown: Explain) -> Result<String> {
        let hunt = hunt.into();
        let ctx = self.session(options).await?;
        let deadline = options.limits.time.map(|limit| (tokio::time::Instant::now() + limit, limit));
        stoppable(options, deadline, async {
            let started = std::time::Instant::now();
            let compiled = compile(&ctx, &hunt, options).await?;
            let compiling = started.elapsed();
            Ok(match shown {
                Explain::Sql => crate::dsl::run::to_sql(&compiled.plan)?,
                Explain::Plan => crate::dsl::run::explained(&ctx, &compiled.plan)?,
                Explain::Analyze => {
                    let analysis = crate::dsl::run::analyze(&ctx, &compiled).await?;
                    let rows = analysis.rows;
                    format!(
                        "{}\n{rows} row{}; compiled in {:.1} ms, planned in {:.1} ms, ran in {:.1} ms",
                        analysis.plan,
                        if rows == 1 { "" } else { "s" },
                        compiling.as_secs_f64() * 1e3,
                        analysis.planning.as_secs_f64() * 1e3,
                        analysis.running.as_secs_f64() * 1e3
                    )
                }
            })
        })
        .await
    }

    /// Runs every hunt of `pack` whose tables have rows, with the pack's indicators and the
    /// options'. A hunt that fails is reported in its [`HuntRun`]; the run itself fails only
    /// when it cannot start (a parameter that reaches no hunt, an unreadable IOC file) or is
    /// cancelled.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// let pack = spoor::testing::example_pack()?; // one hunt: PowerShell under a script host
    /// let runs = store.run_pack(&pack, &Default::default()).await?;
    /// let spoor::pack::Outcome::Ran { findings, .. } = &runs[0].outcome else { panic!() };
    /// assert_eq!(findings.len(), 2);
    /// assert_eq!(findings[0].entities["host"], "workstation5.theshire.local");
    /// // Parameters reach the hunts that declare them; one that reaches none is an error.
    /// let options = spoor::HuntOptions::default().param("example.script-host-powershell.shell", "pwsh.exe");
    /// let runs = store.run_pack(&pack, &options).await?;
    /// assert!(matches!(&runs[0].outcome, spoor::pack::Outcome::Ran { findings, .. } if findings.is_empty()));
    /// let typo = spoor::HuntOptions::default().param("shel", "pwsh.exe");
    /// assert!(matches!(store.run_pack(&pack, &typo).await, Err(spoor::Error::User(_))));
    /// # Ok(()) }
    /// ```
    pub async fn run_pack<'p>(&self, pack: &'p Pack, options: &HuntOptions) -> Result<Vec<HuntRun<'p>>> {
        self.run_pack_with(pack, options, &mut |_| {}).await
    }

    /// [`Store::run_pack`], telling `starting` of each hunt as it starts (for a progress bar).
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> spoor::Result<()> {
    /// # let store = spoor::testing::sample_store()?;
    /// let pack = spoor::testing::example_pack()?;
    /// let mut started = Vec::new();
    /// store.run_pack_with(&pack, &Default::default(), &mut |hunt| started.push(hunt.id().to_string())).await?;
    /// assert_eq!(started, ["example.script-host-powershell"]);
    /// # Ok(()) }
    /// ```
    pub async fn run_pack_with<'p>(
        &self,
        pack: &'p Pack,
        options: &HuntOptions,
        starting: &mut (dyn FnMut(&PackHunt) + Send),
    ) -> Result<Vec<HuntRun<'p>>> {
        let config = RunConfig { params: options.params.clone(), options: options.run.clone(), limits: options.limits };
        crate::pack::check_params(pack, &config)?;
        // Every pack run has an `iocs` table: the pack's own indicators and the options'.
        let with_pack_iocs =
            HuntOptions { iocs: pack.iocs.iter().chain(&options.iocs).cloned().collect(), ..options.clone() };
        let ctx = self.session_with(&with_pack_iocs, true).await?;
        // The store's tables with files are those the session registered (listed once, there).
        let present: Vec<String> = crate::core::Table::ALL
            .iter()
            .map(|t| t.name().to_string())
            .filter(|name| ctx.table_exist(name.as_str()).unwrap_or(false))
            .collect();
        tokio::select! {
            runs = crate::pack::run(pack, &ctx, &present, &config, starting) => Ok(runs),
            _ = options.cancel.cancelled() => Err(Error::Cancelled),
        }
    }
}

/// Checks a hunt against spoor's tables and the `iocs` table without running it: its warnings,
/// or [`Error::Hunt`] with every problem found.
///
/// ```
/// let warnings = spoor::check("process | where process.name == \"curl\"")?;
/// assert!(warnings.0.is_empty());
/// assert!(matches!(spoor::check("process | where nme == 1"), Err(spoor::Error::Hunt(_))));
/// # Ok::<(), spoor::Error>(())
/// ```
pub fn check(hunt: impl Into<HuntText>) -> Result<Diagnostics> {
    let hunt = hunt.into();
    crate::dsl::check(&hunt.text, &catalog(), &ParamValues::new())
        .map(|resolved| resolved.warnings)
        .map_err(|diagnostics| Error::hunt(&hunt.name, &hunt.text, diagnostics))
}

/// What a hunt is checked against without a store: spoor's tables and the `iocs` table.
pub(crate) fn catalog() -> crate::dsl::catalog::Catalog {
    let mut catalog = crate::dsl::catalog::Catalog::standard();
    catalog.add(crate::core::iocs::TABLE, &crate::core::iocs::schema());
    catalog
}

async fn compile(ctx: &SessionContext, hunt: &HuntText, options: &HuntOptions) -> Result<crate::dsl::Compiled> {
    crate::dsl::compile(ctx, &hunt.text, &options.params, &options.run).await.map_err(|e| match e {
        crate::dsl::Error::Hunt(diagnostics) => Error::hunt(&hunt.name, &hunt.text, diagnostics),
        other => Error::from(other),
    })
}

/// Ends when the deadline passes, with the limit it stood for; never without one.
async fn deadline_passed(deadline: Option<(tokio::time::Instant, Duration)>) -> Duration {
    match deadline {
        Some((at, limit)) => {
            tokio::time::sleep_until(at).await;
            limit
        }
        None => std::future::pending().await,
    }
}

/// `work`, unless the deadline passes or the caller cancels first.
async fn stoppable<T>(
    options: &HuntOptions,
    deadline: Option<(tokio::time::Instant, Duration)>,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::select! {
        done = work => done,
        limit = deadline_passed(deadline) => Err(Error::from(crate::dsl::Error::TimedOut(limit))),
        _ = options.cancel.cancelled() => Err(Error::Cancelled),
    }
}

/// The batches of `stream` until it ends, the deadline passes or `cancel` fires (then one error
/// and the end). `prepared` lives as long as the stream: it holds the memory of the `let`s the
/// plan reads.
fn until_stopped(
    stream: SendableRecordBatchStream,
    prepared: crate::dsl::run::Prepared,
    deadline: Option<(tokio::time::Instant, Duration)>,
    cancel: CancellationToken,
) -> impl futures::Stream<Item = datafusion::error::Result<RecordBatch>> + Send {
    let state = Some((stream, prepared, cancel));
    futures::stream::unfold(state, move |state| async move {
        let (mut stream, prepared, cancel) = state?;
        let stopped = |why: Stopped| datafusion::error::DataFusionError::External(Box::new(why));
        tokio::select! {
            next = stream.next() => next.map(|batch| (batch, Some((stream, prepared, cancel)))),
            limit = deadline_passed(deadline) => Some((Err(stopped(Stopped::TimedOut(limit))), None)),
            _ = cancel.cancelled() => Some((Err(stopped(Stopped::Cancelled)), None)),
        }
    })
}

/// A session on the cluster whose scheduler is at `address`.
#[cfg(feature = "cluster")]
pub(crate) async fn on_cluster(
    address: &str,
    state: datafusion::execution::SessionState,
) -> crate::core::Result<SessionContext> {
    spoor_cluster::connect(address, state).await.map_err(|e| crate::core::Error::User(e.to_string()))
}

#[cfg(not(feature = "cluster"))]
pub(crate) async fn on_cluster(
    address: &str,
    _: datafusion::execution::SessionState,
) -> crate::core::Result<SessionContext> {
    Err(crate::core::Error::User(format!(
        "cannot run on the cluster at {address}: this spoor was built without cluster support (build it with `--features cluster`)"
    )))
}
