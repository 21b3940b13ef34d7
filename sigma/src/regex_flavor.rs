//! Sigma's regular expressions read as their authors wrote them. Rules are written for PCRE and
//! RE2 (Splunk, Sentinel, Sigma's other backends), where `\w`, `\d` and `\s` are ASCII classes;
//! spoor's engine, Rust's regex crate, reads them as Unicode classes, which match letters of
//! every script and compile far larger: SigmaHQ's `-k\s\w{1,64}` passes spoor's megabyte limit as
//! Unicode and takes a few kilobytes as ASCII. So each is written as the ASCII class of the same
//! meaning (`[[:word:]]`, `[[:digit:]]`, `[[:space:]]`) before the pattern becomes a hunt's test.
//! `\b` keeps its Unicode reading: as an assertion it matches the same places on ASCII text and
//! costs little.

use regex_syntax::ast::{self, Ast, ClassPerl, ClassPerlKind, ClassSetItem, Visitor};

/// The pattern with its `\w \W \d \D \s \S` written as ASCII classes. A pattern that does not
/// parse is given back as it is, for spoor's checker to report.
///
/// ```
/// use spoor_sigma::regex_flavor::ascii_classes;
/// assert_eq!(ascii_classes(r"-k\s\w{1,64}"), r"-k[[:space:]][[:word:]]{1,64}");
/// assert_eq!(ascii_classes(r"[\w.-]+\D"), r"[[:word:].-]+[[:^digit:]]");
/// assert_eq!(ascii_classes(r"C:\\windows"), r"C:\\windows");
/// ```
pub fn ascii_classes(pattern: &str) -> String {
    let Ok(parsed) = ast::parse::Parser::new().parse(pattern) else {
        return pattern.to_string();
    };
    let Ok(mut classes) = ast::visit(&parsed, PerlClasses::default());
    classes.sort_by_key(|(start, ..)| *start);
    let mut out = String::with_capacity(pattern.len() + 12 * classes.len());
    let mut copied = 0;
    for (start, end, replacement) in classes {
        out.push_str(&pattern[copied..start]);
        out.push_str(&replacement);
        copied = end;
    }
    out.push_str(&pattern[copied..]);
    out
}

/// Where each `\w`-like class is (byte offsets) and what it becomes there.
#[derive(Default)]
struct PerlClasses(Vec<(usize, usize, String)>);

impl PerlClasses {
    fn add(&mut self, class: &ClassPerl, in_brackets: bool) {
        let name = match class.kind {
            ClassPerlKind::Word => "word",
            ClassPerlKind::Digit => "digit",
            ClassPerlKind::Space => "space",
        };
        let negation = if class.negated { "^" } else { "" };
        let posix = format!("[:{negation}{name}:]");
        let replacement = if in_brackets { posix } else { format!("[{posix}]") };
        self.0.push((class.span.start.offset, class.span.end.offset, replacement));
    }
}

impl Visitor for PerlClasses {
    type Output = Vec<(usize, usize, String)>;
    type Err = std::convert::Infallible;

    fn finish(self) -> Result<Self::Output, Self::Err> {
        Ok(self.0)
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), Self::Err> {
        if let Ast::ClassPerl(class) = ast {
            self.add(class, false);
        }
        Ok(())
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), Self::Err> {
        if let ClassSetItem::Perl(class) = item {
            self.add(class, true);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ascii_classes;
    use spoor_dsl::functions::validate_regex;

    #[test]
    fn every_class_becomes_its_ascii_twin_in_and_out_of_brackets() {
        assert_eq!(
            ascii_classes(r"\w\W\d\D\s\S"),
            "[[:word:]][[:^word:]][[:digit:]][[:^digit:]][[:space:]][[:^space:]]"
        );
        assert_eq!(ascii_classes(r"[^\s\d,]"), "[^[:space:][:digit:],]");
        assert_eq!(ascii_classes(r"(?i)\bab\w+"), r"(?i)\bab[[:word:]]+");
    }

    #[test]
    fn escapes_and_invalid_patterns_are_left_alone() {
        assert_eq!(ascii_classes(r"\\w\.d"), r"\\w\.d");
        assert_eq!(ascii_classes(r"\w("), r"\w(");
    }

    #[test]
    fn the_ascii_reading_matches_what_pcre_matches() {
        let matches = |pattern: &str, text: &str| regex::Regex::new(&ascii_classes(pattern)).unwrap().is_match(text);
        assert!(matches(r"^\w+$", "svchost_1"));
        assert!(!matches(r"^\w+$", "café"), "PCRE's \\w is ASCII");
        assert!(matches(r"^\D$", "é"));
    }

    /// SigmaHQ's svchost rule (f17211f1) did not run: as Unicode its regex is over the limit.
    #[test]
    fn a_sigmahq_regex_too_large_as_unicode_runs_as_ascii() {
        let pattern = r"-k\s\w{1,64}(?:\s?(?:-p|-s))?";
        assert!(validate_regex(pattern, false).is_err());
        assert_eq!(validate_regex(&ascii_classes(pattern), false), Ok(()));
    }
}
