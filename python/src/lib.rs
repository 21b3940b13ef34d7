//! The `spoor` Python module: thin wrappers over the Rust library. Results leave as Arrow
//! through the PyCapsule stream interface, so pyarrow, polars and DuckDB read them without a
//! copy; no hunting logic lives here.
//!
//! Every call that reads logs or runs a query lets go of the GIL and polls for signals, so a
//! notebook stays responsive and Ctrl-C interrupts a long query (the store is left as it was:
//! queries only read it).

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arrow::array::{ArrayRef, RecordBatch, StructArray};
use arrow::datatypes::{Field, SchemaRef};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyList};
use pyo3_arrow::ffi::{ArrayIterator, to_schema_pycapsule, to_stream_pycapsule};
use pyo3_arrow::input::AnyRecordBatch;

use spoor::core::ingest::{IngestOptions, IngestSummary};
use spoor::core::session;

create_exception!(
    spoor,
    HuntError,
    PyException,
    "A hunt that does not check: its message shows each problem under the source line, as `spoor check` does."
);
create_exception!(spoor, SpoorError, PyException, "A problem reading logs, the store or a file.");

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| spoor::core::session::runtime().expect("a tokio runtime"))
}

/// Runs `work` on the runtime without the GIL, checking every 100 ms for a signal (Ctrl-C
/// raises KeyboardInterrupt and cancels the work). The wait is on a channel, not on the
/// runtime's timer: a query can keep every worker busy for seconds between two yields, and
/// the timer only fires when a worker is free to drive it.
fn run<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = spoor::Result<T>> + Send + 'static,
{
    let (done, outcome) = std::sync::mpsc::channel();
    let handle = runtime().spawn(async move {
        // The receiver is gone only when the caller was interrupted and stopped waiting.
        let _ = done.send(work.await);
    });
    let outcome = py.detach(move || {
        loop {
            match outcome.recv_timeout(Duration::from_millis(100)) {
                Ok(result) => return Ok(result),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if let Err(signal) = Python::attach(|py| py.check_signals()) {
                        handle.abort();
                        return Err(signal);
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Ok(Err(spoor::Error::Internal("the query stopped without an answer".into())));
                }
            }
        }
    })?;
    outcome.map_err(py_error)
}

/// spoor's error as a Python exception: a hunt that does not check is a HuntError whose message
/// shows each problem under its line, bad arguments a ValueError, spoor's own bugs a
/// RuntimeError, the rest a SpoorError.
fn py_error(e: spoor::Error) -> PyErr {
    match e {
        spoor::Error::Hunt(_) => HuntError::new_err(e.render(false).trim_end().to_string()),
        spoor::Error::Internal(_) => PyRuntimeError::new_err(e.to_string()),
        other => SpoorError::new_err(other.to_string()),
    }
}

/// A hunt's text: the string itself, or the file it names (`.hunt`).
fn hunt_text(query_or_path: &str) -> PyResult<spoor::HuntText> {
    if query_or_path.ends_with(".hunt") && !query_or_path.contains('\n') {
        return spoor::HuntText::read(query_or_path).map_err(py_error);
    }
    Ok(spoor::HuntText::inline(query_or_path))
}

/// A log store: a directory of Parquet tables that `ingest` appends to and hunts read.
#[pyclass(module = "spoor")]
struct Store {
    /// The store, with the tables registered from Python (`register`).
    inner: spoor::Store,
    limits: session::Limits,
}

impl Store {
    /// What a call's arguments make of a run, with the store's limits.
    fn options(
        &self,
        params: Option<HashMap<String, String>>,
        since: Option<&str>,
        iocs: Option<Vec<PathBuf>>,
    ) -> PyResult<spoor::HuntOptions> {
        let mut options = spoor::HuntOptions { limits: self.limits, ..Default::default() };
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
    /// Opens the store at `path`, creating the directory when it does not exist.
    /// `memory_limit` ("512MiB", "2GiB") bounds what a query may hold: beyond it, sorts,
    /// aggregations and joins spill to disk where they can, and the hunt fails with a clear
    /// SpoorError where they cannot. `timeout` ("30s", "10m") stops any one hunt that runs
    /// longer, with a SpoorError (Ctrl-C stops one at any time, as KeyboardInterrupt).
    #[new]
    #[pyo3(signature = (path, memory_limit = None, timeout = None))]
    fn new(path: PathBuf, memory_limit: Option<&str>, timeout: Option<&str>) -> PyResult<Self> {
        let inner = spoor::Store::open(&path).map_err(py_error)?;
        let mut options = spoor::HuntOptions::default();
        if let Some(size) = memory_limit {
            options = options.memory_limit(size).map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        if let Some(limit) = timeout {
            options = options.timeout(limit).map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        Ok(Store { inner, limits: options.limits })
    }

    /// The store's directory.
    #[getter]
    fn path(&self) -> PathBuf {
        self.inner.path().to_path_buf()
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
            let table = spoor::pack::render::flat(&runs).map_err(spoor::Error::Internal)?;
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
struct IngestResult {
    summary: IngestSummary,
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

/// A hunt's rows. Arrow-native: `pyarrow.table(result)`, `polars.from_arrow(result)` and
/// DuckDB read it through `__arrow_c_stream__` without copying.
#[pyclass(module = "spoor")]
struct HuntResult {
    batches: Vec<RecordBatch>,
    schema: SchemaRef,
}

#[pymethods]
impl HuntResult {
    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    fn __len__(&self) -> usize {
        self.num_rows()
    }

    /// Column names, in order.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.schema.fields().iter().map(|f| f.name().clone()).collect()
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        to_schema_pycapsule(py, self.schema.as_ref()).map_err(PyErr::from)
    }

    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        stream_capsule(py, &self.batches, &self.schema, requested_schema)
    }

    /// The rows as a pyarrow.Table (no copy).
    fn to_pyarrow<'py>(slf: &Bound<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pyarrow = import_optional(py, "pyarrow", "to_pyarrow()")?;
        pyarrow.getattr("table")?.call1((slf,))
    }

    /// The rows as a pandas DataFrame (needs pandas and pyarrow).
    fn to_pandas<'py>(slf: &Bound<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        import_optional(py, "pandas", "to_pandas()")?;
        let pyarrow = import_optional(py, "pyarrow", "to_pandas()")?;
        pyarrow.getattr("table")?.call1((slf,))?.call_method0("to_pandas")
    }

    /// The rows as a polars DataFrame (needs polars): numbers and times are shared, not
    /// copied; polars re-lays strings out as its string views. `polars.DataFrame(result)` is
    /// the same; `polars.from_arrow(result)` gives one struct Series, as for any Arrow stream.
    fn to_polars<'py>(slf: &Bound<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let polars = import_optional(py, "polars", "to_polars()")?;
        polars.getattr("DataFrame")?.call1((slf,))
    }

    fn __repr__(&self) -> String {
        let table =
            arrow::util::pretty::pretty_format_batches(&self.first_rows(10)).map(|t| t.to_string()).unwrap_or_default();
        format!("{table}\n{} row{}", self.num_rows(), if self.num_rows() == 1 { "" } else { "s" })
    }

    /// Jupyter: the first 20 rows as an HTML table, and the row count.
    fn _repr_html_(&self) -> String {
        let mut html = String::from("<table><thead><tr>");
        for f in self.schema.fields() {
            html.push_str(&format!("<th>{}</th>", escape(f.name())));
        }
        html.push_str("</tr></thead><tbody>");
        let options = arrow::util::display::FormatOptions::default().with_null("");
        for batch in self.first_rows(20) {
            let formatters: Vec<_> = batch
                .columns()
                .iter()
                .filter_map(|c| arrow::util::display::ArrayFormatter::try_new(c.as_ref(), &options).ok())
                .collect();
            for row in 0..batch.num_rows() {
                html.push_str("<tr>");
                for f in &formatters {
                    html.push_str(&format!("<td>{}</td>", escape(&f.value(row).to_string())));
                }
                html.push_str("</tr>");
            }
        }
        let n = self.num_rows();
        html.push_str(&format!("</tbody></table><p>{n} row{}</p>", if n == 1 { "" } else { "s" }));
        html
    }
}

impl HuntResult {
    fn first_rows(&self, limit: usize) -> Vec<RecordBatch> {
        let mut out = Vec::new();
        let mut left = limit;
        for b in &self.batches {
            if left == 0 {
                break;
            }
            let take = left.min(b.num_rows());
            out.push(b.slice(0, take));
            left -= take;
        }
        out
    }
}

/// The batches as an Arrow C stream: each batch shared, not copied.
fn stream_capsule<'py>(
    py: Python<'py>,
    batches: &[RecordBatch],
    schema: &SchemaRef,
    requested_schema: Option<Bound<'py, PyCapsule>>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let arrays: Vec<Result<ArrayRef, arrow::error::ArrowError>> =
        batches.iter().map(|b| Ok(Arc::new(StructArray::from(b.clone())) as ArrayRef)).collect();
    let field = Field::new_struct("", schema.fields().clone(), false).with_metadata(schema.metadata().clone());
    let reader = Box::new(ArrayIterator::new(arrays, Arc::new(field)));
    to_stream_pycapsule(py, reader, requested_schema).map_err(PyErr::from)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn import_optional<'py>(py: Python<'py>, module: &str, what: &str) -> PyResult<Bound<'py, PyModule>> {
    py.import(module).map_err(|_| {
        pyo3::exceptions::PyImportError::new_err(format!("{what} needs the {module} package: pip install {module}"))
    })
}

/// What `Store.run_pack` found: one row per finding, most severe first.
#[pyclass(module = "spoor")]
struct PackResult {
    findings: Vec<spoor::pack::Finding>,
    table: RecordBatch,
    /// Hunts none of whose tables had data.
    #[pyo3(get)]
    skipped: Vec<String>,
}

#[pymethods]
impl PackResult {
    fn __len__(&self) -> usize {
        self.findings.len()
    }

    /// The findings, most severe first.
    #[getter]
    fn findings(&self) -> Vec<Finding> {
        self.findings.iter().cloned().map(|inner| Finding { inner }).collect()
    }

    /// Jupyter: one row per finding (severity, hunt, time, entities, evidence), with the
    /// process tree of a process-chain finding.
    fn _repr_html_(&self) -> String {
        let mut html = String::from(
            "<table><thead><tr><th>severity</th><th>hunt</th><th>@timestamp</th><th>entities</th>\
             <th>process tree</th><th>evidence</th></tr></thead><tbody>",
        );
        for f in self.findings.iter().take(50) {
            html.push_str(&format!(
                "<tr><td>{}</td><td title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&f.severity),
                escape(&f.title),
                escape(&f.hunt),
                escape(f.timestamp.as_deref().unwrap_or_default()),
                entities_html(f),
                tree_html(f),
                evidence_html(f),
            ));
        }
        let n = self.findings.len();
        html.push_str(&format!(
            "</tbody></table><p>{n} finding{}{}; {} hunt{} skipped (no data)</p>",
            if n == 1 { "" } else { "s" },
            if n > 50 { ", the first 50 shown" } else { "" },
            self.skipped.len(),
            if self.skipped.len() == 1 { "" } else { "s" },
        ));
        html
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        to_schema_pycapsule(py, self.table.schema().as_ref()).map_err(PyErr::from)
    }

    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        stream_capsule(py, std::slice::from_ref(&self.table), &self.table.schema(), requested_schema)
    }

    /// The findings table as a pyarrow.Table (no copy).
    fn to_pyarrow<'py>(slf: &Bound<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pyarrow = import_optional(py, "pyarrow", "to_pyarrow()")?;
        pyarrow.getattr("table")?.call1((slf,))
    }

    fn __repr__(&self) -> String {
        format!("PackResult({} findings, {} hunts skipped)", self.findings.len(), self.skipped.len())
    }
}

/// One finding of a pack run: what matched, who and what is involved, and where in the raw
/// logs the evidence is.
#[pyclass(module = "spoor", frozen)]
struct Finding {
    inner: spoor::pack::Finding,
}

#[pymethods]
impl Finding {
    /// Stable across runs: the hunt id and the evidence, hashed.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    /// The hunt's id, e.g. "process.install-script-downloader".
    #[getter]
    fn hunt(&self) -> &str {
        &self.inner.hunt
    }

    #[getter]
    fn title(&self) -> &str {
        &self.inner.title
    }

    /// critical, high, medium, low or info.
    #[getter]
    fn severity(&self) -> &str {
        &self.inner.severity
    }

    #[getter]
    fn confidence(&self) -> Option<&str> {
        self.inner.confidence.as_deref()
    }

    /// MITRE ATT&CK technique ids.
    #[getter]
    fn attack(&self) -> Vec<String> {
        self.inner.attack.clone()
    }

    /// The row's `@timestamp` (RFC 3339), when it has one.
    #[getter]
    fn timestamp(&self) -> Option<&str> {
        self.inner.timestamp.as_deref()
    }

    /// host, user, package (name@version), domain, ip, ci_job, project, file: those found.
    #[getter]
    fn entities(&self) -> std::collections::BTreeMap<String, String> {
        self.inner.entities.clone()
    }

    /// Where the evidence is: a list of (path, line) pairs, line None when unknown.
    #[getter]
    fn evidence(&self) -> Vec<(String, Option<i64>)> {
        self.inner.evidence.iter().map(|e| (e.path.clone(), e.line)).collect()
    }

    /// The hunt's row, column name to value.
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_python(py, &serde_json::Value::Object(self.inner.fields.clone()))
    }

    /// The processes of a process-chain finding, from the top: dicts with step, name and
    /// command_line. Empty for other findings.
    #[getter]
    fn process_tree<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_python(py, &serde_json::to_value(&self.inner.process_tree).unwrap_or_default())
    }

    /// The finding as plain data (what `spoor pack run --format ndjson` prints for it).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_python(py, &serde_json::to_value(&self.inner).unwrap_or_default())
    }

    fn __repr__(&self) -> String {
        let entities: Vec<String> = self.inner.entities.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        format!("Finding({} {} {})", self.inner.severity, self.inner.hunt, entities.join(" "))
    }

    fn __str__(&self) -> String {
        self.inner.to_text().trim_end().to_string()
    }

    /// Jupyter: the title, entities, process tree and evidence.
    fn _repr_html_(&self) -> String {
        let f = &self.inner;
        format!(
            "<div><p><b>{}</b> {} — {}</p>{}{}<p>{}</p></div>",
            escape(&f.severity.to_uppercase()),
            escape(&f.hunt),
            escape(&f.title),
            entities_html(f),
            tree_html(f),
            evidence_html(f)
        )
    }
}

fn json_to_python<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (value.to_string(),))
}

fn entities_html(f: &spoor::pack::Finding) -> String {
    f.entities.iter().map(|(k, v)| format!("{}: <code>{}</code><br>", escape(k), escape(v))).collect()
}

/// The process tree, indented as `spoor` prints it.
fn tree_html(f: &spoor::pack::Finding) -> String {
    f.process_tree_text()
        .map(|t| format!("<pre style=\"text-align:left;margin:0\">{}</pre>", escape(t.trim_end())))
        .unwrap_or_default()
}

fn evidence_html(f: &spoor::pack::Finding) -> String {
    f.evidence.iter().map(|e| format!("{}<br>", escape(&e.to_string()))).collect()
}

/// A problem `check` found in a hunt.
#[pyclass(module = "spoor", get_all)]
struct Diagnostic {
    code: String,
    severity: String,
    message: String,
    line: usize,
    column: usize,
    hint: Option<String>,
}

#[pymethods]
impl Diagnostic {
    fn __repr__(&self) -> String {
        format!("{} {}:{}: {}", self.code, self.line, self.column, self.message)
    }
}

/// Checks a hunt (its text, or a `.hunt` path) against spoor's tables and the IOC table
/// without running it: a list of Diagnostics, empty when it is clean.
#[pyfunction]
fn check(query_or_path: &str) -> PyResult<Vec<Diagnostic>> {
    let hunt = hunt_text(query_or_path)?;
    let text = hunt.text.clone();
    let diagnostics = match spoor::check(hunt) {
        Ok(warnings) => warnings,
        Err(spoor::Error::Hunt(mut hunts)) if hunts.len() == 1 => hunts.remove(0).diagnostics,
        Err(e) => return Err(py_error(e)),
    };
    Ok(diagnostics
        .iter()
        .map(|d| {
            let (line, column) = spoor::dsl::span::line_column(&text, d.span.start);
            Diagnostic {
                code: d.code.as_str().to_string(),
                severity: format!("{:?}", d.severity()).to_lowercase(),
                message: d.message.clone(),
                line,
                column,
                hint: d.hint.clone(),
            }
        })
        .collect())
}

/// The plan DataFusion will run for a hunt over `store` (or, with `sql=True`, SQL for another
/// engine).
#[pyfunction]
#[pyo3(signature = (query_or_path, store, sql = false))]
fn explain(py: Python<'_>, query_or_path: &str, store: &Store, sql: bool) -> PyResult<String> {
    let hunt = hunt_text(query_or_path)?;
    let options = store.options(None, None, None)?;
    let shown = if sql { spoor::Explain::Sql } else { spoor::Explain::Plan };
    let store = store.inner.clone();
    run(py, async move { store.explain(hunt, &options, shown).await })
}

#[pymodule]
fn _spoor(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Store>()?;
    m.add_class::<IngestResult>()?;
    m.add_class::<HuntResult>()?;
    m.add_class::<PackResult>()?;
    m.add_class::<Finding>()?;
    m.add_class::<Diagnostic>()?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add("HuntError", m.py().get_type::<HuntError>())?;
    m.add("SpoorError", m.py().get_type::<SpoorError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
