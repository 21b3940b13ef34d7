//! The `spoor` Python module: thin wrappers over the Rust library. Results leave as Arrow
//! through the PyCapsule stream interface, so pyarrow, polars and DuckDB read them without a
//! copy; no hunting logic lives here.
//!
//! Every call that reads logs or runs a query lets go of the GIL and polls for signals, so a
//! notebook stays responsive and Ctrl-C interrupts a long query (the store is left as it was:
//! queries only read it).
//!
//! A module per class: `store` (Store, IngestResult), `rows` (HuntResult), `findings`
//! (PackResult, Finding); this file the module itself, the query runtime, errors, `check` and
//! `explain`.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;

mod findings;
mod rows;
mod store;

use findings::*;
use rows::*;
use store::*;

create_exception!(
    spoor,
    HuntError,
    PyException,
    "A hunt that does not check: its message shows each problem under the source line, as `spoor check` does."
);
create_exception!(spoor, SpoorError, PyException, "A problem reading logs, the store or a file.");

pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| spoor::core::session::runtime().expect("a tokio runtime"))
}

/// Runs `work` on the runtime without the GIL, checking every 100 ms for a signal (Ctrl-C
/// raises KeyboardInterrupt and cancels the work). The wait is on a channel, not on the
/// runtime's timer: a query can keep every worker busy for seconds between two yields, and
/// the timer only fires when a worker is free to drive it.
pub(crate) fn run<T, F>(py: Python<'_>, work: F) -> PyResult<T>
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
pub(crate) fn py_error(e: spoor::Error) -> PyErr {
    match e {
        spoor::Error::Hunt(_) => HuntError::new_err(e.render(false).trim_end().to_string()),
        spoor::Error::Internal(_) => PyRuntimeError::new_err(e.to_string()),
        other => SpoorError::new_err(other.to_string()),
    }
}

/// A hunt's text: the string itself, or the file it names (`.hunt`).
pub(crate) fn hunt_text(query_or_path: &str) -> PyResult<spoor::HuntText> {
    if query_or_path.ends_with(".hunt") && !query_or_path.contains('\n') {
        return spoor::HuntText::read(query_or_path).map_err(py_error);
    }
    Ok(spoor::HuntText::inline(query_or_path))
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
