//! One diagnostic model for every stage (parse, resolve, lower), with stable codes.
//!
//! A diagnostic says what is wrong (`message`), where (`span`, with a short `label` under the
//! caret), and what to do about it (`hint`). How it is shown is the business of [`crate::render`].

use serde::Serialize;

use crate::span::Span;

/// Stable codes: tests, docs and users' tooling refer to these; never renumber one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Code {
    /// The text is not valid syntax.
    Syntax,
    UnknownTable,
    UnknownField,
    TypeMismatch,
    UnknownFunction,
    WrongArguments,
    InvalidRegex,
    InvalidLiteral,
    TooDeep,
    DuplicateName,
    Parameter,
    Header,
    Aggregate,
    Sequence,
    UnknownHeaderKey,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "E001",
            Code::UnknownTable => "E002",
            Code::UnknownField => "E003",
            Code::TypeMismatch => "E004",
            Code::UnknownFunction => "E005",
            Code::WrongArguments => "E006",
            Code::InvalidRegex => "E007",
            Code::InvalidLiteral => "E008",
            Code::TooDeep => "E009",
            Code::DuplicateName => "E010",
            Code::Parameter => "E011",
            Code::Header => "E012",
            Code::Aggregate => "E013",
            Code::Sequence => "E014",
            Code::UnknownHeaderKey => "W001",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Code::UnknownHeaderKey => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// Every code with a one-line description, for `docs/language.md` and `spoor check --codes`.
    pub const ALL: &'static [(Code, &'static str)] = &[
        (Code::Syntax, "the text is not valid syntax"),
        (Code::UnknownTable, "the source names no known table, list or `let`"),
        (Code::UnknownField, "no such field in the stage's input"),
        (Code::TypeMismatch, "an operator or function got a value of the wrong type"),
        (Code::UnknownFunction, "no such function"),
        (Code::WrongArguments, "a function got the wrong number or kind of arguments"),
        (Code::InvalidRegex, "a regular expression does not compile or is too large"),
        (Code::InvalidLiteral, "a time, duration, IP address or CIDR literal is malformed"),
        (Code::TooDeep, "expressions or `let` definitions are nested too deeply"),
        (Code::DuplicateName, "a name is defined twice"),
        (Code::Parameter, "a parameter is unknown or its value has the wrong type"),
        (Code::Header, "the header is missing a required key or has a bad value"),
        (Code::Aggregate, "an aggregate is used where it cannot be, or a non-aggregate where one is needed"),
        (Code::Sequence, "a sequence or chain is malformed"),
        (Code::UnknownHeaderKey, "the header has a key spoor does not know (warning)"),
    ];
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub span: Span,
    /// A few words shown under the caret.
    pub label: Option<String>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { code, message: message.into(), span, label: None, hint: None }
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// Everything found wrong with one hunt. An `Err(Diagnostics)` holds at least one error.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Ordered by position, so the first error in the text is shown first.
    pub fn sorted(mut self) -> Diagnostics {
        self.0.sort_by_key(|d| (d.span.start, d.span.end));
        self.0.dedup_by(|a, b| a.span == b.span && a.message == b.message);
        self
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{} at {}..{}: {}", d.code, d.span.start, d.span.end, d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Closest candidate by edit distance, for "did you mean" hints.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name_lower = name.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&name_lower, &candidate.to_ascii_lowercase());
        // A suffix match (`name` for `process.name`) is a good guess too.
        let distance = if candidate.ends_with(&format!(".{name}")) { distance.min(1) } else { distance };
        let limit = (name.chars().count() / 3).max(2);
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_name() {
        let names = ["process.name", "process.parent.name", "host.name"];
        assert_eq!(did_you_mean("process.nme", names), Some("process.name"));
        assert_eq!(did_you_mean("hostname", names), Some("host.name"));
        assert_eq!(did_you_mean("zzz", names), None);
    }

    #[test]
    fn codes_are_unique() {
        let mut codes: Vec<_> = Code::ALL.iter().map(|(c, _)| c.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), Code::ALL.len());
    }
}
