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

/// What a program built on spoor mostly does, for [`tune_allocator`].
///
/// ```
/// let reading = std::env::args().nth(1).is_some_and(|command| command == "ingest");
/// let workload = if reading { spoor::Workload::Ingest } else { spoor::Workload::Pack };
/// assert_ne!(spoor::Workload::Ingest, spoor::Workload::Pack);
/// # let _ = workload;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Reading logs into a store: the same buffers allocated and freed record after record.
    Ingest,
    /// One hunt (or its plan): a scan's buffers allocated and freed batch after batch, for a
    /// second or so, with someone waiting for the answer.
    Hunt,
    /// Packs of hunts and Sigma rules, jobs, a cluster's servers: thousands of plans, each
    /// table's rows freed as it goes, for as long as the run takes.
    Pack,
}

/// Sets the allocator's options for a workload; call it first thing in `main`, before the work
/// allocates (mimalloc applies them to the memory it takes from the system from then on).
///
/// - Both: no transparent huge pages. Each first touch of a huge page zeroes 2 MiB and keeps it
///   resident, however little of it is used: an EVTX ingest spent a seventh of its time zeroing
///   pages, and without them took 250 MiB instead of 320; SigmaHQ's Windows rules over a million
///   stored events peaked at 602 MiB instead of 687, a second faster, with the same findings.
/// - [`Workload::Pack`]: freed memory goes back to the system at once (and arenas are committed
///   as they fill) rather than being kept for a second: SigmaHQ's Windows rules over a million
///   stored events peaked at 827 MiB with mimalloc's defaults, 689 MiB with this, no slower.
/// - [`Workload::Hunt`]: freed memory is kept for 100 ms. Given back at once, as for a pack,
///   the pages of each batch's buffers were returned and faulted in again batch after batch:
///   half of a one-hunt scan's CPU time was the kernel's (a filter over 5 M process events,
///   0.52-0.55 s; 0.28-0.33 s this way, 123 MiB then 165-169 MiB).
///
/// (docs/performance.md has the runs.)
///
/// ```
/// fn main() {
///     spoor::tune_allocator(spoor::Workload::Pack);
///     // ... then the program's work.
/// }
/// ```
pub fn tune_allocator(workload: Workload) {
    #[cfg(feature = "mimalloc")]
    {
        // mimalloc's option numbers (its `mi_option_e`, the same in its versions 2 and 3).
        const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
        const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
        let purge_delay_ms = match workload {
            Workload::Ingest => None,
            Workload::Hunt => Some(100),
            Workload::Pack => Some(0),
        };
        if let Some(delay) = purge_delay_ms {
            // SAFETY: plain setters of the allocator's options; called before other threads start.
            unsafe {
                libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
                libmimalloc_sys::mi_option_set(PURGE_DELAY, delay);
            }
        }
    }
    #[cfg(not(feature = "mimalloc"))]
    let _ = workload;
    // mimalloc reads its own THP option once, before `main`; the process-wide switch works at
    // any time, for every allocator.
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with integer arguments only; failure (an old kernel) leaves THP as it was.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
