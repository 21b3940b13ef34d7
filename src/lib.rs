//! spoor: hunt threats in security logs.
//!
//! This crate is the front door. A [`Store`] ingests logs into normalized Arrow tables stored as
//! Parquet, runs hunts written in spoor's language (rows as a stream of Arrow batches), explains
//! them, and runs hunt packs into findings; [`HuntOptions`] carries what a run takes (parameters,
//! time window, indicators, limits, cancellation) and [`Error`] says whose problem a failure is.
//! The command line, the Python module and scheduled jobs all stand on it.
//!
//! ```no_run
//! # async fn demo() -> spoor::Result<()> {
//! let store = spoor::Store::open("store")?;
//! store.ingest(&["logs/".into()], &Default::default())?;
//! let pack = spoor::pack::load("hunts".as_ref())?;
//! for run in store.run_pack(&pack, &spoor::HuntOptions::default()).await? {
//!     println!("{}: {:?}", run.hunt.id(), run.outcome);
//! }
//! # Ok(()) }
//! ```
//!
//! The layers underneath stay reachable for what the front door does not cover: [`core`]
//! (ingest, schemas, storage, the DataFusion session) and [`dsl`] (the language, compiled to
//! DataFusion plans).

// Every public item of the facade is documented: it is what embedders read first.
#![warn(missing_docs)]

pub use spoor_core as core;
pub use spoor_dsl as dsl;

mod error;
mod store;

pub mod job;
pub mod pack;
pub mod render;
pub mod sigma;
#[doc(hidden)]
pub mod testing;

pub use error::{Error, InvalidHunt, Result};

/// The README's Rust examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
pub use store::{Explain, HuntOptions, HuntText, Rows, Store, TableSummary, check};
pub use tokio_util::sync::CancellationToken;

/// Programs built on this crate (the `spoor` command, the benchmarks and tests; not the Python
/// module, which Python loads with dlopen) allocate through mimalloc. Planning and running a
/// hunt allocate and free small objects by the thousand (expressions, schemas, statistics); with
/// glibc's malloc that was about a quarter of a small hunt's CPU time. A program with its own global allocator turns off the
/// default `mimalloc` feature.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Has the allocator give freed memory back to the system at once (and commit the arenas it
/// makes from now on as they fill), rather than keep what a phase freed for a second: a pack run
/// frees its thousands of plans and each table's rows as it goes. SigmaHQ's Windows rules over a
/// million stored events peaked at 827 MiB with mimalloc's defaults, 689 MiB with this, no
/// slower (docs/performance.md). Call it first thing in `main`. (mimalloc reads its first
/// arena's settings before `main`: `MIMALLOC_ARENA_EAGER_COMMIT=0` in the environment gave 613.)
///
/// ```
/// fn main() {
///     spoor::return_freed_memory_promptly();
///     // ... then the program's work.
/// }
/// ```
pub fn return_freed_memory_promptly() {
    #[cfg(feature = "mimalloc")]
    {
        // mimalloc's option numbers (its `mi_option_e`, the same in its versions 2 and 3).
        const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
        const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
        // SAFETY: plain setters of the allocator's options; called before other threads start.
        unsafe {
            libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
            libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
        }
    }
}
