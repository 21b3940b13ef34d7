//! spoor's core: the normalized tables, the parsers that fill them, the Parquet store that keeps
//! them, and the DataFusion session that queries them.
//!
//! Data flows one way:
//! ```text
//! files ─► input (decompress, split lines) ─► formats::detect ─► formats::<parser> ─► Event
//!       ─► event::TableBuilder (Arrow) ─► store::StoreWriter (Parquet, write then rename)
//! store ─► session::context (listing tables, date pruning) ─► DataFusion
//! ```
//! - [`schema`]: every table and column, defined once; `docs/schema.md` is generated from it.
//! - [`formats`]: one module per input format family, and format detection; `archive`:
//!   `.zip` and `.tar.gz` read member by member.
//! - [`audit_activities`]: what audit actions mean, whatever their source calls them (data).
//! - [`ingest`](mod@ingest): the driver that accounts for every record (stored, skipped or rejected).
//! - [`walk`]: the files under a directory, as every command that takes one reads them.
//! - [`store`]: the layout, in a directory or an object store ([`location`]); `manifest`: what each ingest read and wrote, its commit
//!   point; [`session`]: the query side; `planner`: its query planner, which knows
//!   `keep_first`, an operator of spoor's own.
//!
//! The modules hidden from these pages (`archive`, `confine`, `event`, `input`, `keep_first`,
//! `lock`, `manifest`, `planner`) are shared by spoor's own crates and are not an API.

// What an embedder uses: the tables, formats, ingest, indicators, the store and its session.
pub mod assets;
pub mod audit_activities;
pub mod error;
pub mod formats;
pub mod ingest;
pub mod iocs;
pub mod location;
pub mod schema;
pub mod session;
pub mod store;
pub mod walk;

// Plumbing that spoor's own crates share: public for them, not an API (it changes without
// notice), so hidden from the documentation.
#[doc(hidden)]
pub mod archive;
#[doc(hidden)]
pub mod aws_profile;
#[doc(hidden)]
pub mod confine;
mod dictionary_distinct;
#[doc(hidden)]
pub mod event;
#[doc(hidden)]
pub mod from_cluster;
#[doc(hidden)]
pub mod input;
#[doc(hidden)]
pub mod keep_first;
#[doc(hidden)]
pub mod lock;
#[doc(hidden)]
pub mod manifest;
#[doc(hidden)]
pub mod planner;

pub use error::{Error, Result};
pub use formats::Format;
pub use ingest::{IngestOptions, IngestSummary, ingest};
pub use schema::Table;
pub use store::Store;
