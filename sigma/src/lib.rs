//! Sigma rules as spoor hunts.
//!
//! A Sigma rule becomes the text of an equivalent `.hunt`, which spoor then checks, plans and
//! runs like any hunt it was given: what `spoor sigma convert` prints is exactly what runs.
//! ```text
//! YAML ─read─► rule::Rule ─convert (mapping: logsource → table, field → column)─► .hunt text
//! ```
//! - [`rule`]: the YAML read into a rule: metadata, logsource, searches, conditions.
//! - [`condition`]: the condition language (`1 of selection_* and not filter`), parsed with nom.
//! - [`value`]: values and modifiers (`contains`, `windash`, `base64offset`, `re`, ...) turned
//!   into the tests spoor's language has; [`regex_flavor`]: `re` patterns read as PCRE reads
//!   them (`\w` is ASCII).
//! - [`mapping`]: which table a logsource reads and which column a field is; data
//!   (`mapping.toml`), extended by a user's own file.
//! - [`convert`](mod@convert): the hunt text; correlation rules and filters, which read other
//!   rules, are converted with them ([`convert_set`]).
//!
//! A rule that cannot run says why ([`Unsupported`], with a stable reason code), so a rules
//! tree is never silently thinned.

pub mod condition;
pub mod convert;
mod correlation;
pub mod mapping;
pub mod regex_flavor;
pub mod rule;
pub mod value;

pub use convert::{Converted, convert, convert_set};
pub use mapping::Mapping;
pub use rule::Rule;

/// Why a rule cannot run in spoor. `code` is stable, for counting reasons over a rules tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Unsupported {
    pub code: Reason,
    pub message: String,
}

/// The kinds of reasons a rule does not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// Not valid YAML, or not shaped like a Sigma rule.
    Invalid,
    /// A condition that does not parse or names no search.
    Condition,
    /// A logsource no table of spoor's holds.
    Logsource,
    /// A field spoor's ingest does not keep for this logsource.
    Field,
    /// A modifier spoor does not implement (or a combination it cannot express).
    Modifier,
    /// A kind of rule, or a form of one, that spoor does not run.
    RuleKind,
    /// A correlation names a rule that is not among those read with it, or a filter tunes none.
    Reference,
    /// The converted hunt does not pass spoor's checker (a regular expression feature the
    /// linear-time engine lacks, a type that does not fit).
    Check,
}

impl Reason {
    /// The reason's stable name (`logsource`, `modifier`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Reason::Invalid => "invalid",
            Reason::Condition => "condition",
            Reason::Logsource => "logsource",
            Reason::Field => "field",
            Reason::Modifier => "modifier",
            Reason::RuleKind => "rule-kind",
            Reason::Reference => "reference",
            Reason::Check => "check",
        }
    }
}

impl Unsupported {
    pub fn new(code: Reason, message: impl Into<String>) -> Unsupported {
        Unsupported { code, message: message.into() }
    }
}
