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

/// Programs built on this crate (the `spoor` command, the benchmarks and tests; not the Python
/// module, which Python loads with dlopen) allocate through mimalloc. Planning and running a
/// hunt allocate and free small objects by the thousand (expressions, schemas, statistics); with
/// glibc's malloc that was about a quarter of a small hunt's CPU time. A program with its own global allocator turns off the
/// default `mimalloc` feature.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
