//! `HuntResult`: a hunt's rows, leaving as an Arrow stream (and as HTML in a notebook).

use arrow::array::{ArrayRef, RecordBatch, StructArray};
use arrow::datatypes::{Field, SchemaRef};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use pyo3_arrow::ffi::{ArrayIterator, to_schema_pycapsule, to_stream_pycapsule};
use std::sync::Arc;

/// A hunt's rows. Arrow-native: `pyarrow.table(result)`, `polars.from_arrow(result)` and
/// DuckDB read it through `__arrow_c_stream__` without copying.
#[pyclass(module = "spoor")]
pub(crate) struct HuntResult {
    pub(crate) batches: Vec<RecordBatch>,
    pub(crate) schema: SchemaRef,
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
        let table = arrow::util::pretty::pretty_format_batches(&spoor::render::first_rows(&self.batches, 10))
            .map(|t| t.to_string())
            .unwrap_or_default();
        format!("{table}\n{} row{}", self.num_rows(), if self.num_rows() == 1 { "" } else { "s" })
    }

    /// Jupyter: the first 20 rows as an HTML table, and the row count.
    fn _repr_html_(&self) -> String {
        spoor::render::html(&self.schema, &self.batches, 20)
    }
}

/// The batches as an Arrow C stream: each batch shared, not copied.
pub(crate) fn stream_capsule<'py>(
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

pub(crate) fn import_optional<'py>(py: Python<'py>, module: &str, what: &str) -> PyResult<Bound<'py, PyModule>> {
    py.import(module).map_err(|_| {
        pyo3::exceptions::PyImportError::new_err(format!("{what} needs the {module} package: pip install {module}"))
    })
}
