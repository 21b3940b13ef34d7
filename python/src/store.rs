//! `Store`: a log store, its ingest and tables, hunts and pack runs (all through `spoor::Store`).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use pyo3_arrow::input::AnyRecordBatch;
use spoor::core::ingest::{IngestOptions, IngestSummary};
use spoor::core::session;
use std::collections::HashMap;
use std::path::PathBuf;

use crate::*;

/// A log store: a directory of Parquet tables that `ingest` appends to and hunts read.
#[pyclass(module = "spoor")]
pub(crate) struct Store {
    /// The store, with the tables registered from Python (`register`).
    pub(crate) inner: spoor::Store,
    pub(crate) limits: session::Limits,
    /// The Ballista cluster hunts run on, if any.
    pub(crate) cluster: Option<String>,
}

impl Store {
    /// What a call's arguments make of a run, with the store's limits.
    pub(crate) fn options(
        &self,
        params: Option<HashMap<String, String>>,
        since: Option<&str>,
        iocs: Option<Vec<PathBuf>>,
    ) -> PyResult<spoor::HuntOptions> {
        let mut options =
            spoor::HuntOptions { limits: self.limits, cluster: self.cluster.clone(), ..Default::default() };
        options.params = params.unwrap_or_default().into_iter().collect();
        options.iocs = iocs.unwrap_or_default();
        if let Some(ago) = since {
            options = options.since(ago).map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        Ok(options)
    }
}

#[pymethods]
impl Store {
    /// Opens the store at `path`, creating the directory when it does not exist, or at a URL
    /// (`s3://bucket/prefix`, `gs://…`, `az://…`; credentials from the environment).
    /// `memory_limit` ("512MiB", "2GiB") bounds what a query may hold: beyond it, sorts,
    /// aggregations and joins spill to disk where they can, and the hunt fails with a clear
    /// SpoorError where they cannot. `timeout` ("30s", "10m") stops any one hunt that runs
    /// longer, with a SpoorError (Ctrl-C stops one at any time, as KeyboardInterrupt).
    /// `cluster` ("df://scheduler:50050") runs hunts on that Ballista cluster instead of here.
    #[new]
    #[pyo3(signature = (path, memory_limit = None, timeout = None, cluster = None))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        memory_limit: Option<&str>,
        timeout: Option<&str>,
        cluster: Option<String>,
    ) -> PyResult<Self> {
        // Opening a store in an object store makes requests: other Python threads run meanwhile.
        let inner = py.detach(|| spoor::Store::open(&path)).map_err(py_error)?;
        let mut options = spoor::HuntOptions::default();
        if let Some(size) = memory_limit {
            options = options.memory_limit(size).map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        if let Some(limit) = timeout {
            options = options.timeout(limit).map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        Ok(Store { inner, limits: options.limits, cluster })
    }

    /// The store's directory (a `Path`), or its URL (a `str`: a `Path` would fold its `//`).
    #[getter]
    fn path<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let path = self.inner.path();
        if spoor::core::location::is_url(path) {
            Ok(path.to_string_lossy().into_pyobject(py)?.into_any())
        } else {
            Ok(path.to_path_buf().into_pyobject(py)?.into_any())
        }
    }

    /// Reads log files and directories into the store's tables (formats detected from content,
    /// or `format=` one of `spoor formats`). Returns what was read, stored and rejected, per file.
    /// `assets=` a CSV of addresses and host names names the hosts behind a network sensor's
    /// addresses.
    #[pyo3(signature = (paths, format = "auto", mapping = None, assets = None))]
    fn ingest(
        &self,
        py: Python<'_>,
        paths: Vec<PathBuf>,
        format: &str,
        mapping: Option<PathBuf>,
        assets: Option<PathBuf>,
    ) -> PyResult<IngestResult> {
        let format = spoor::core::formats::Format::chosen(format).map_err(PyValueError::new_err)?;
        let mapping = mapping
            .map(|m| spoor::core::formats::mapping::Mapping::load(&m))
            .transpose()
            .map_err(|e| SpoorError::new_err(e.to_string()))?;
        let assets = assets
            .map(|a| spoor::core::assets::Assets::load(&a))
            .transpose()
            .map_err(|e| SpoorError::new_err(e.to_string()))?;
        let options = IngestOptions { format, mapping, assets, ..Default::default() };
        let store = self.inner.clone();
        let summary = run(py, async move {
            tokio::task::spawn_blocking(move || store.ingest(&paths, &options))
                .await
                .map_err(|e| spoor::Error::Internal(e.to_string()))?
        })?;
        Ok(IngestResult { summary })
    }

    /// The tables that hold data: a list of dicts with `name`, `rows`, `files`, `first`, `last`.
    fn tables<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let store = self.inner.clone();
        let tables = run(py, async move { store.tables().await })?;
        let list = PyList::empty(py);
        for t in tables {
            let d = PyDict::new(py);
            d.set_item("name", t.name)?;
            d.set_item("rows", t.rows)?;
            d.set_item("files", t.files)?;
            d.set_item("first", t.first)?;
            d.set_item("last", t.last)?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// Runs a hunt (its text, or the path of a `.hunt` file) and returns its rows.
    /// `params` overrides the hunt's `param`s; `since` (e.g. "24h") reads only recent events;
    /// `iocs` adds IOC files or directories as the `iocs` table. Raises HuntError when the hunt
    /// does not check.
    #[pyo3(signature = (query_or_path, params = None, since = None, iocs = None))]
    fn hunt(
        &self,
        py: Python<'_>,
        query_or_path: &str,
        params: Option<HashMap<String, String>>,
        since: Option<&str>,
        iocs: Option<Vec<PathBuf>>,
    ) -> PyResult<HuntResult> {
        let hunt = hunt_text(query_or_path)?;
        let options = self.options(params, since, iocs)?;
        let store = self.inner.clone();
        let (batches, schema) = run(py, async move {
            let rows = store.hunt(hunt, &options).await?;
            let schema = rows.schema.clone();
            Ok((rows.collect().await?, schema))
        })?;
        Ok(HuntResult { batches, schema })
    }

    /// Makes in-memory data a table hunts can read or look up (`lookup <name> on ...`): a
    /// pandas or polars DataFrame, a pyarrow Table, or anything with `__arrow_c_stream__`.
    /// A frame named `iocs` with `type` and `value` columns also adds its indicators to the
    /// IOC files of `run_pack` and of `hunt(..., iocs=...)`.
    fn register(&mut self, name: &str, data: AnyRecordBatch) -> PyResult<()> {
        let table = data.into_table().map_err(PyErr::from)?;
        let (batches, schema) = table.into_inner();
        self.inner.register(name, schema, batches).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Runs every hunt of a pack (default `hunts`) whose tables have data, with the pack's
    /// indicators, any `iocs` files and the rows of a frame registered as `iocs` added.
    /// Returns the findings as a table (Arrow, one row per finding) and as `Finding` objects
    /// (`.findings`: hunt, severity, entities, evidence, fields, process tree, id).
    /// `params` as on the command line: `{"window": "1h"}` for every hunt that declares
    /// `window`, `{"c2.beaconing.min_count": "4"}` for one hunt.
    #[pyo3(signature = (path = PathBuf::from("hunts"), since = None, iocs = None, params = None))]
    fn run_pack(
        &self,
        py: Python<'_>,
        path: PathBuf,
        since: Option<&str>,
        iocs: Option<Vec<PathBuf>>,
        params: Option<HashMap<String, String>>,
    ) -> PyResult<PackResult> {
        let pack = spoor::pack::load(&path).map_err(|e| py_error(e.into()))?;
        let options = self.options(params, since, iocs)?;
        let store = self.inner.clone();
        let (findings, table, skipped, failed) = run(py, async move {
            let runs = store.run_pack(&pack, &options).await?;
            let findings: Vec<spoor::pack::Finding> =
                spoor::pack::render::all_findings(&runs).into_iter().cloned().collect();
            let table = spoor::pack::render::flat(&runs)?;
            let mut skipped = Vec::new();
            let mut failed = Vec::new();
            for r in &runs {
                match &r.outcome {
                    spoor::pack::Outcome::Skipped { .. } => skipped.push(r.hunt.id().to_string()),
                    spoor::pack::Outcome::Failed(e) => failed.push(format!("{}: {e}", r.hunt.id())),
                    spoor::pack::Outcome::Ran { .. } => {}
                }
            }
            Ok((findings, table, skipped, failed))
        })?;
        if !failed.is_empty() {
            return Err(SpoorError::new_err(failed.join("\n")));
        }
        Ok(PackResult { findings, table, skipped })
    }

    fn __repr__(&self) -> String {
        format!("spoor.Store({:?})", self.inner.path().display().to_string())
    }
}

/// What `Store.ingest` did.
#[pyclass(module = "spoor")]
pub(crate) struct IngestResult {
    pub(crate) summary: IngestSummary,
}

#[pymethods]
impl IngestResult {
    /// Records stored per table.
    #[getter]
    fn rows(&self) -> HashMap<String, u64> {
        self.summary.rows().into_iter().map(|(t, n)| (t.name().to_string(), n)).collect()
    }

    #[getter]
    fn read(&self) -> u64 {
        self.summary.total(|f| f.read)
    }

    #[getter]
    fn stored(&self) -> u64 {
        self.summary.total(|f| f.stored)
    }

    #[getter]
    fn skipped(&self) -> u64 {
        self.summary.total(|f| f.skipped)
    }

    #[getter]
    fn rejected(&self) -> u64 {
        self.summary.total(|f| f.rejected)
    }

    /// Per file: a dict with `path`, `format`, `read`, `stored`, `skipped`, `rejected`,
    /// `reject_reasons` and `skip_reasons` ({reason: count}), `unrecognized_actions` ({audit
    /// action spoor does not recognize: count}) and `error`.
    #[getter]
    fn files<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for f in &self.summary.files {
            let d = PyDict::new(py);
            d.set_item("path", f.path.display().to_string())?;
            d.set_item("format", f.format.map(|x| x.name()))?;
            d.set_item("read", f.read)?;
            d.set_item("stored", f.stored)?;
            d.set_item("skipped", f.skipped)?;
            d.set_item("rejected", f.rejected)?;
            let reasons = PyDict::new(py);
            for (reason, tally) in &f.reject_reasons {
                reasons.set_item(reason, tally.count)?;
            }
            d.set_item("reject_reasons", reasons)?;
            let reasons = PyDict::new(py);
            for (reason, tally) in &f.skip_reasons {
                reasons.set_item(reason, tally.count)?;
            }
            d.set_item("skip_reasons", reasons)?;
            let actions = PyDict::new(py);
            for (action, tally) in &f.unrecognized_actions {
                actions.set_item(action, tally.count)?;
            }
            d.set_item("unrecognized_actions", actions)?;
            d.set_item("error", f.error.as_ref().map(|e| e.to_string()))?;
            list.append(d)?;
        }
        Ok(list)
    }

    fn __repr__(&self) -> String {
        format!(
            "IngestResult(files={}, read={}, stored={}, skipped={}, rejected={})",
            self.summary.files.len(),
            self.read(),
            self.stored(),
            self.skipped(),
            self.rejected()
        )
    }
}
