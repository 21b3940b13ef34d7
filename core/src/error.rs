//! The error type of spoor's core. Problems with the user's input or environment (a missing file,
//! a bad option) are kept apart from bugs in spoor, so each can be reported for what it is.
//! Problems with single records are not errors at all: they become rejects (see `ingest`).

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user asked for something that cannot be done; the message says what to do instead.
    #[error("{0}")]
    User(String),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
    #[error("query engine: {0}")]
    Engine(#[from] datafusion::error::DataFusionError),
    /// A broken invariant: a bug in spoor, never the user's fault.
    #[error("internal error (a bug in spoor; please report it): {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io { path: path.to_path_buf(), source }
    }

    pub fn parquet(path: &Path, e: impl std::fmt::Display) -> Error {
        Error::Parquet { path: path.to_path_buf(), message: e.to_string() }
    }
}
