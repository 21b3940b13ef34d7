//! spoor's one error type, as DataFusion separates a plan error from an internal one: whose
//! problem it is decides what a program does with it. The user's input ([`Error::User`],
//! [`Error::Io`]) and hunts that do not check ([`Error::Hunt`]) are for the person to fix; limits
//! ([`Error::Limit`]) for them to raise or read less; [`Error::Cancelled`] is what they asked for;
//! [`Error::Engine`] and [`Error::Internal`] are spoor's or DataFusion's to fix.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

use crate::dsl::{Diagnostics, render};

/// What went wrong, and whose it is to fix.
///
/// ```
/// match spoor::Store::open_existing("/no/such/store") {
///     Err(e @ spoor::Error::User(_)) => assert_eq!(e.exit_code(), 2),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user asked for something that cannot be done; the message says what to do instead.
    #[error("{0}")]
    User(String),
    /// A file that cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Hunts that do not check, each with its diagnostics.
    #[error("{}", invalid_summary(.0))]
    Hunt(Vec<InvalidHunt>),
    /// A hunt needed more memory, or took longer, than its limit allows.
    #[error("{0}")]
    Limit(String),
    /// A sink of a job did not take its findings (a file that cannot be written, a webhook that
    /// does not answer); they stay pending and the next cycle delivers them.
    #[error("{0}")]
    Delivery(String),
    /// The caller cancelled the work.
    #[error("cancelled")]
    Cancelled,
    /// The query engine failed: not the user's doing.
    #[error("query engine: {0}")]
    Engine(DataFusionError),
    /// A broken invariant: a bug in spoor, never the user's fault.
    #[error("internal error (a bug in spoor; please report it): {0}")]
    Internal(String),
}

/// spoor's result type.
///
/// ```
/// fn tables_named(names: &[&str]) -> spoor::Result<Vec<spoor::core::Table>> {
///     names.iter().map(|n| spoor::core::Table::from_name(n).ok_or_else(|| spoor::Error::User(format!("no table `{n}`")))).collect()
/// }
/// assert!(tables_named(&["process", "dns"]).is_ok());
/// assert!(tables_named(&["proces"]).is_err());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A hunt that does not check: its name (a file's path, or `<query>`), its text and what is
/// wrong with it.
///
/// ```
/// let Err(spoor::Error::Hunt(invalid)) = spoor::check("dns | where dns.question.nme == \"x\"") else { panic!() };
/// assert_eq!(invalid[0].name, "<query>");
/// assert_eq!(invalid[0].diagnostics.0[0].code.as_str(), "E003");
/// ```
#[derive(Debug, Clone)]
pub struct InvalidHunt {
    /// Its file's path, or `<query>`.
    pub name: String,
    /// Its text, which the diagnostics' spans point into.
    pub text: String,
    /// Every problem found.
    pub diagnostics: Diagnostics,
}

impl InvalidHunt {
    /// The diagnostics under the lines they point at, as `spoor check` prints them.
    ///
    /// ```
    /// let Err(spoor::Error::Hunt(invalid)) = spoor::check("proces | limit 1") else { panic!() };
    /// let text = invalid[0].render(false);
    /// assert!(text.starts_with("error[E002]: unknown table `proces`"));
    /// assert!(text.contains(" --> <query>:1:1"));
    /// ```
    pub fn render(&self, colour: bool) -> String {
        render::pretty(&self.diagnostics, &self.text, &self.name, colour)
    }
}

fn invalid_summary(hunts: &[InvalidHunt]) -> String {
    let names: Vec<&str> = hunts.iter().map(|h| h.name.as_str()).collect();
    match hunts {
        [one] => format!("{} does not check: {}", one.name, one.diagnostics.0.first().map_or("", |d| &d.message)),
        _ => format!("{} hunts do not check: {}", hunts.len(), names.join(", ")),
    }
}

impl Error {
    /// The exit status a command line gives this error: 2 for everything the user can act on,
    /// 3 for the engine's failures and spoor's bugs, 130 when cancelled (as a shell reports
    /// Ctrl-C).
    ///
    /// ```
    /// assert_eq!(spoor::Error::Cancelled.exit_code(), 130);
    /// assert_eq!(spoor::Error::Internal("a bug".into()).exit_code(), 3);
    /// ```
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::User(_) | Error::Io { .. } | Error::Hunt(_) | Error::Limit(_) | Error::Delivery(_) => 2,
            Error::Cancelled => 130,
            Error::Engine(_) | Error::Internal(_) => 3,
        }
    }

    /// The error as a person reads it: a hunt's diagnostics in full, the rest as one line.
    ///
    /// ```
    /// assert_eq!(spoor::Error::User("no such pack".into()).render(false), "error: no such pack\n");
    /// let hunt = spoor::check("process | where nme == 1").unwrap_err();
    /// assert!(hunt.render(false).contains("process | where nme == 1\n"));
    /// ```
    pub fn render(&self, colour: bool) -> String {
        match self {
            Error::Hunt(hunts) => hunts.iter().map(|h| h.render(colour)).collect(),
            other => format!("error: {other}\n"),
        }
    }

    /// Wraps an I/O error with the file it happened on: `.map_err(Error::io(path))`.
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn hunt(name: &str, text: &str, diagnostics: Diagnostics) -> Error {
        Error::Hunt(vec![InvalidHunt { name: name.to_string(), text: text.to_string(), diagnostics }])
    }
}

impl From<crate::core::Error> for Error {
    fn from(e: crate::core::Error) -> Error {
        match e {
            crate::core::Error::User(message) => Error::User(message),
            crate::core::Error::Io { path, source } => Error::Io { path, source },
            crate::core::Error::Parquet { path, message } => Error::User(format!("{}: {message}", path.display())),
            crate::core::Error::Engine(e) => Error::from(e),
            crate::core::Error::Internal(message) => Error::Internal(message),
        }
    }
}

impl From<DataFusionError> for Error {
    fn from(e: DataFusionError) -> Error {
        match e.find_root() {
            DataFusionError::ResourcesExhausted(reason) => {
                Error::from(crate::dsl::Error::ResourcesExhausted(reason.clone()))
            }
            DataFusionError::External(inner) => match inner.downcast_ref::<Stopped>() {
                Some(Stopped::TimedOut(limit)) => Error::from(crate::dsl::Error::TimedOut(*limit)),
                Some(Stopped::Cancelled) => Error::Cancelled,
                None => Error::Engine(e),
            },
            _ => Error::Engine(e),
        }
    }
}

impl From<arrow::error::ArrowError> for Error {
    fn from(e: arrow::error::ArrowError) -> Error {
        Error::Engine(DataFusionError::from(e))
    }
}

impl From<parquet::errors::ParquetError> for Error {
    fn from(e: parquet::errors::ParquetError) -> Error {
        Error::Engine(DataFusionError::from(e))
    }
}

/// A hunt's own errors. Its text and name are not known here, so a hunt's diagnostics are
/// wrapped where they are (the [`crate::Store`] methods do).
impl From<crate::dsl::Error> for Error {
    fn from(e: crate::dsl::Error) -> Error {
        match e {
            crate::dsl::Error::Hunt(diagnostics) => Error::hunt("<query>", "", diagnostics),
            crate::dsl::Error::Engine(e) => Error::from(e),
            limit @ (crate::dsl::Error::ResourcesExhausted(_) | crate::dsl::Error::TimedOut(_)) => {
                Error::Limit(limit.to_string())
            }
        }
    }
}

impl From<crate::pack::PackError> for Error {
    fn from(e: crate::pack::PackError) -> Error {
        match e {
            crate::pack::PackError::Invalid(hunts) => Error::Hunt(
                hunts
                    .into_iter()
                    .map(|(path, text, diagnostics)| InvalidHunt {
                        name: path.display().to_string(),
                        text,
                        diagnostics,
                    })
                    .collect(),
            ),
            other => Error::User(other.to_string()),
        }
    }
}

/// Why a stream of rows stopped early, carried through DataFusion's error type (a stream's
/// items are `Result<RecordBatch, DataFusionError>`) and turned back into an [`Error`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum Stopped {
    #[error("the hunt ran longer than its time limit of {0:?}")]
    TimedOut(std::time::Duration),
    #[error("cancelled")]
    Cancelled,
}
