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
//! - [`formats`]: one module per input format family, and format detection; [`archive`]:
//!   `.zip` and `.tar.gz` read member by member.
//! - [`audit_activities`]: what audit actions mean, whatever their source calls them (data).
//! - [`ingest`]: the driver that accounts for every record (stored, skipped or rejected).
//! - [`store`]: the on-disk layout; [`manifest`]: what each ingest read and wrote, its commit
//!   point; [`session`]: the query side; [`planner`]: its query planner, which knows
//!   [`keep_first`], an operator of spoor's own.

pub mod archive;
pub mod assets;
pub mod audit_activities;
pub mod confine;
pub mod error;
pub mod event;
pub mod formats;
pub mod ingest;
pub mod input;
pub mod iocs;
pub mod keep_first;
pub mod lock;
pub mod manifest;
pub mod planner;
pub mod schema;
pub mod session;
pub mod store;

pub use error::{Error, Result};
pub use formats::Format;
pub use ingest::{IngestOptions, IngestSummary, ingest};
pub use schema::Table;
pub use store::Store;
