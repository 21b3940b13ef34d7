//! spoor's end-to-end tests, one module per area, in one test binary: each test binary links
//! DataFusion, and linking one instead of seventeen saves most of a test build. The file-driven
//! language tests (`tests/language.rs`, over `tests/language/*.slt`) keep their own harness.

mod common;

mod cli;
#[cfg(feature = "cluster")]
mod cluster;
mod confinement;
mod crash_safe_ingest;
mod demo;
mod docs;
mod documented;
mod fuzz_regressions;
mod hostile_hunts;
mod hostile_input;
mod hunting;
mod ingest;
mod job;
mod limits;
mod lockfiles;
mod object_storage;
mod pack;
mod reliability_doc;
mod session;
mod sigma;
