//! spoor's hunting language.
//!
//! A hunt goes through one public function per stage, each in its own module with its own types:
//! ```text
//! text ─parse─► ast::Hunt ─resolve─► ir::Hunt ─lower─► DataFusion LogicalPlan ─► run / explain / SQL
//! ```
//! - [`parser`]: nom parsers; syntax errors with spans, recovering at the next `|`.
//! - [`resolve`](mod@resolve): names, `let`s and parameters resolved against a [`Catalog`](catalog::Catalog) of tables, types
//!   checked; every problem found is reported at once.
//! - `lower`: the typed tree becomes a DataFusion `LogicalPlan`, built with
//!   `LogicalPlanBuilder` and `Expr` (never SQL text).
//! - [`diagnostic`] is the one error model (stable codes, spans, hints); [`render`] shows
//!   diagnostics to people (rustc style) and to machines (JSON).
//!
//! Semantic errors are [`Diagnostics`]; failures inside DataFusion while planning or running are
//! [`Error::Engine`], kept apart because they are not the hunt author's fault.

pub mod ast;
pub mod diagnostic;
pub mod parser;
pub mod span;

pub use diagnostic::{Code, Diagnostic, Diagnostics};
pub use parser::parse;
pub use span::Span;
pub mod catalog;
pub mod functions;
pub mod ir;
pub mod resolve;
pub mod types;
pub use resolve::{ParamValues, Resolved, resolve};
// The lowering's internals and the fixture loader are shared with spoor's own crates, not an API.
#[doc(hidden)]
pub mod lower;
pub mod options;
pub use lower::{Sources, lower};
pub use options::{RunOptions, parse_duration};
pub mod literal_set;
pub mod render;
pub mod run;
pub mod shared_scan;
pub mod travel;
pub use run::{Compiled, Error, check, compile};
#[doc(hidden)]
pub mod fixtures;
