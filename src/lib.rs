//! spoor: hunt threats in security logs.
//!
//! This crate is the facade: it re-exports the layers so an embedding program depends on one
//! crate. [`core`] ingests logs into normalized Arrow tables stored as Parquet and opens them for
//! querying with DataFusion; [`dsl`] is the hunting language, compiled to DataFusion plans.

pub use spoor_core as core;
pub use spoor_dsl as dsl;

pub mod job;
pub mod pack;
pub mod testing;
