//! `PackResult` and `Finding`: a pack run's findings, as Arrow rows and as objects.

use arrow::array::RecordBatch;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use pyo3_arrow::ffi::to_schema_pycapsule;

use crate::*;

/// What `Store.run_pack` found: one row per finding, most severe first.
#[pyclass(module = "spoor")]
pub(crate) struct PackResult {
    pub(crate) findings: Vec<spoor::pack::Finding>,
    pub(crate) table: RecordBatch,
    /// Hunts none of whose tables had data.
    #[pyo3(get)]
    pub(crate) skipped: Vec<String>,
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
        spoor::pack::render::html::findings(&self.findings, self.skipped.len(), 50)
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
pub(crate) struct Finding {
    pub(crate) inner: spoor::pack::Finding,
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

    /// Who wrote the hunt (a Sigma rule's author), where it says.
    #[getter]
    fn author(&self) -> Option<&str> {
        self.inner.author.as_deref()
    }

    /// MITRE ATT&CK technique ids.
    #[getter]
    fn attack(&self) -> Vec<String> {
        self.inner.attack.to_vec()
    }

    /// The row's `@timestamp` (RFC 3339), when it has one.
    #[getter]
    fn timestamp(&self) -> Option<&str> {
        self.inner.timestamp.as_deref()
    }

    /// host, user, package (name@version), domain, ip, ci_job, project, file: those found.
    #[getter]
    fn entities(&self) -> std::collections::BTreeMap<String, String> {
        self.inner.entities.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Where the evidence is: a list of (path, line) pairs, line None when unknown.
    #[getter]
    fn evidence(&self) -> Vec<(String, Option<i64>)> {
        self.inner.evidence.iter().map(|e| (e.path.clone(), e.line)).collect()
    }

    /// The hunt's row, column name to value.
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_python(py, &serde_json::Value::Object(self.inner.fields.to_map()))
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
        spoor::pack::render::html::finding(&self.inner)
    }
}

pub(crate) fn json_to_python<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (value.to_string(),))
}
