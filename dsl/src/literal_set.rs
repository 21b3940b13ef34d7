//! Many case-insensitive LIKE tests of one column, answered by one search.
//!
//! A pack of Sigma rules asks thousands of `process.command_line ILIKE '%-enc%'`-shaped
//! questions of the same few columns. Arrow answers each by itself, building a matcher for each
//! pattern on every batch and reading the column once per pattern. Here every literal asked of a
//! column goes into one Aho-Corasick automaton (ASCII case-insensitive) built once per plan; one
//! pass over a batch's values finds every literal wherever it occurs, and each test (contains,
//! starts with, ends with, equals) reads its answer from that pass.
//!
//! In the plan each test is `spoor_literal_hit(column)`, all of one column's sharing one
//! [`LiteralSet`]: the first test evaluated on a batch runs the search for all of them, and the
//! others take their answers from it. The answers are those of the ILIKEs they replace, nulls
//! included, for ASCII literals (the only ones taken): Unicode case folding and ASCII folding
//! differ only for the Kelvin sign and the long s, which fold to `k` and `s`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use arrow::array::{Array, ArrayData, ArrayRef, AsArray, BooleanArray, BooleanBufferBuilder};
use arrow::buffer::Buffer;
use arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// A column with fewer tests than this keeps its ILIKEs: one search would not pay.
const FEWEST: usize = 4;

/// Batches whose answers are kept, per set: a projection evaluates its tests batch by batch,
/// but partitions run side by side.
const CACHED: usize = 8;

/// Where a literal must sit in the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
enum Anchor {
    Anywhere,
    Start,
    End,
    Whole,
}

/// Every case-insensitive LIKE over a plain text column among `exprs`, with ASCII literal
/// patterns, replaced by a test of the column's [`LiteralSet`], where a column has enough of
/// them. `schema` is the schema the expressions read.
pub fn rewrite(exprs: Vec<Expr>, schema: &DFSchema) -> Result<Vec<Expr>> {
    // Per column: its distinct (literal, anchor) tests, in order of first use.
    let mut tests: Vec<(Expr, Vec<(String, Anchor)>)> = Vec::new();
    for e in &exprs {
        e.apply(|e| {
            if let Some((target, literal, anchor)) = literal_test(e, schema) {
                let at = match tests.iter().position(|(t, _)| *t == target) {
                    Some(at) => at,
                    None => {
                        tests.push((target, Vec::new()));
                        tests.len() - 1
                    }
                };
                if !tests[at].1.contains(&(literal.clone(), anchor)) {
                    tests[at].1.push((literal, anchor));
                }
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        })?;
    }
    let sets: Vec<(Expr, Arc<LiteralSet>)> = tests
        .into_iter()
        .filter(|(_, t)| t.len() >= FEWEST)
        .enumerate()
        .map(|(id, (target, tests))| Ok((target, Arc::new(LiteralSet::new(id, tests)?))))
        .collect::<Result<_>>()?;
    if sets.is_empty() {
        return Ok(exprs);
    }
    exprs
        .into_iter()
        .map(|e| {
            e.transform(|e| {
                let Some((target, literal, anchor)) = literal_test(&e, schema) else { return Ok(Transformed::no(e)) };
                let Some((_, set)) = sets.iter().find(|(t, _)| *t == target) else { return Ok(Transformed::no(e)) };
                let Some(test) = set.index.get(&(literal, anchor)).copied() else { return Ok(Transformed::no(e)) };
                let hit =
                    LiteralHit { set: Arc::clone(set), test, signature: Signature::any(1, Volatility::Immutable) };
                Ok(Transformed::yes(ScalarUDF::new_from_impl(hit).call(vec![target])))
            })
            .map(|t| t.data)
        })
        .collect()
}

/// `target ILIKE 'pattern'` over a plain text column, with the pattern one ASCII literal and
/// `%` at either end: the column, the literal and where it must sit.
fn literal_test(e: &Expr, schema: &DFSchema) -> Option<(Expr, String, Anchor)> {
    let Expr::Like(Like { negated: false, expr, pattern, escape_char: Some('\\'), case_insensitive: true }) = e else {
        return None;
    };
    let Expr::Column(_) = expr.as_ref() else { return None };
    let plain_text = matches!(expr.get_type(schema).ok()?, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    let Expr::Literal(ScalarValue::Utf8(Some(pattern)), _) = pattern.as_ref() else { return None };
    if !plain_text || !pattern.is_ascii() {
        return None;
    }
    let (start, rest) = match pattern.strip_prefix('%') {
        Some(rest) => (false, rest),
        None => (true, pattern.as_str()),
    };
    // A trailing `%` is a wildcard unless escaped (`\%`).
    let (end, middle) = match rest.strip_suffix('%') {
        Some(middle) if !middle.ends_with('\\') || middle.ends_with("\\\\") => (false, middle),
        _ => (true, rest),
    };
    let mut literal = String::with_capacity(middle.len());
    let mut chars = middle.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => literal.push(chars.next()?),
            '%' | '_' => return None,
            c => literal.push(c),
        }
    }
    if literal.is_empty() {
        return None;
    }
    let anchor = match (start, end) {
        (false, false) => Anchor::Anywhere,
        (true, false) => Anchor::Start,
        (false, true) => Anchor::End,
        (true, true) => Anchor::Whole,
    };
    Some((expr.as_ref().clone(), literal, anchor))
}

/// The literal tests of one column: one automaton, and the answers of recent batches.
pub struct LiteralSet {
    id: usize,
    automaton: AhoCorasick,
    /// Per literal of the automaton: the tests that use it, and where it must sit.
    uses: Vec<Vec<(usize, Anchor)>>,
    /// Each test's number.
    index: HashMap<(String, Anchor), usize>,
    /// (the batch's column, its answers), newest last.
    answers: Mutex<Vec<(Identity, Arc<Answers>)>>,
}

/// Which column a batch's answers are for: the column's first buffer (its offsets or views,
/// a few bytes a row), where in it the column starts and ends, and where its other buffers
/// (the text) are. Holding that first buffer keeps its address from being taken by another
/// batch's column while the answers are kept, without holding the text.
struct Identity {
    buffer: Buffer,
    others: Vec<usize>,
    offset: usize,
    len: usize,
}

impl Identity {
    fn of(data: &ArrayData) -> Option<Identity> {
        let buffer = data.buffers().first()?.clone();
        let others = data.buffers()[1..].iter().map(|b| b.as_ptr() as usize).collect();
        Some(Identity { buffer, others, offset: data.offset(), len: data.len() })
    }

    fn is(&self, other: &Identity) -> bool {
        self.buffer.as_ptr() == other.buffer.as_ptr()
            && self.others == other.others
            && (self.offset, self.len) == (other.offset, other.len)
    }
}

/// Every test's answer for one batch's column. Most tests hold on no row of a batch: they share
/// one answer, and only the others keep one of their own (thousands of tests would otherwise
/// keep a bit per row each, for each batch remembered).
struct Answers {
    /// (test, its answer) for the tests that hold on some row, by test: a slot for every test
    /// would cost the set's thousands of tests some 90 bytes each per batch remembered.
    held: Vec<(usize, BooleanArray)>,
    /// The answer of the others: false, or null where the value is.
    nowhere: BooleanArray,
}

impl Answers {
    fn of(&self, test: usize) -> BooleanArray {
        match self.held.binary_search_by_key(&test, |(t, _)| *t) {
            Ok(at) => self.held[at].1.clone(),
            Err(_) => self.nowhere.clone(),
        }
    }
}

impl std::fmt::Debug for LiteralSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LiteralSet({} tests)", self.index.len())
    }
}

impl LiteralSet {
    fn new(id: usize, tests: Vec<(String, Anchor)>) -> Result<LiteralSet> {
        let mut literals: Vec<String> = Vec::new();
        let mut literal_at: HashMap<String, usize> = HashMap::new();
        let mut uses: Vec<Vec<(usize, Anchor)>> = Vec::new();
        let mut index = HashMap::new();
        for (test, (literal, anchor)) in tests.into_iter().enumerate() {
            let at = *literal_at.entry(literal.to_ascii_lowercase()).or_insert_with_key(|lowered| {
                literals.push(lowered.clone());
                uses.push(Vec::new());
                literals.len() - 1
            });
            uses[at].push((test, anchor));
            index.insert((literal, anchor), test);
        }
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&literals)
            .map_err(|e| datafusion::error::DataFusionError::Execution(format!("literal set: {e}")))?;
        Ok(LiteralSet { id, automaton, uses, index, answers: Mutex::new(Vec::new()) })
    }

    /// Every test's answer for this batch's column: searched once, then remembered.
    fn answers(&self, column: &ArrayRef) -> Result<Arc<Answers>> {
        let identity = Identity::of(&column.to_data());
        if let (Ok(cached), Some(identity)) = (self.answers.lock(), &identity)
            && let Some((_, answers)) = cached.iter().find(|(i, _)| i.is(identity))
        {
            return Ok(Arc::clone(answers));
        }
        let answers = Arc::new(self.search(column)?);
        if let (Ok(mut cached), Some(identity)) = (self.answers.lock(), identity) {
            if cached.len() >= CACHED {
                cached.remove(0);
            }
            cached.push((identity, Arc::clone(&answers)));
        }
        Ok(answers)
    }

    fn search(&self, column: &ArrayRef) -> Result<Answers> {
        let rows = column.len();
        // A test's answer is made when it first holds.
        let mut found: Vec<Option<BooleanBufferBuilder>> = (0..self.index.len()).map(|_| None).collect();
        let mut test_row = |row: usize, text: &str| {
            for m in self.automaton.find_overlapping_iter(text) {
                for (test, anchor) in &self.uses[m.pattern().as_usize()] {
                    let holds = match anchor {
                        Anchor::Anywhere => true,
                        Anchor::Start => m.start() == 0,
                        Anchor::End => m.end() == text.len(),
                        Anchor::Whole => m.start() == 0 && m.end() == text.len(),
                    };
                    if holds {
                        found[*test]
                            .get_or_insert_with(|| {
                                let mut b = BooleanBufferBuilder::new(rows);
                                b.append_n(rows, false);
                                b
                            })
                            .set_bit(row, true);
                    }
                }
            }
        };
        match column.data_type() {
            DataType::Utf8 => column.as_string::<i32>().iter().enumerate().for_each(|(row, t)| {
                if let Some(t) = t {
                    test_row(row, t)
                }
            }),
            DataType::LargeUtf8 => column.as_string::<i64>().iter().enumerate().for_each(|(row, t)| {
                if let Some(t) = t {
                    test_row(row, t)
                }
            }),
            DataType::Utf8View => column.as_string_view().iter().enumerate().for_each(|(row, t)| {
                if let Some(t) = t {
                    test_row(row, t)
                }
            }),
            other => return exec_err!("spoor_literal_hit reads text, not {other}"),
        }
        let nulls = column.logical_nulls();
        let held = found
            .into_iter()
            .enumerate()
            .filter_map(|(test, b)| b.map(|mut b| (test, BooleanArray::new(b.finish(), nulls.clone()))))
            .collect();
        let nowhere = BooleanArray::new(arrow::buffer::BooleanBuffer::new_unset(rows), nulls);
        Ok(Answers { held, nowhere })
    }
}

/// One test of a [`LiteralSet`]: `spoor_literal_hit(column)`.
#[derive(Debug)]
struct LiteralHit {
    set: Arc<LiteralSet>,
    test: usize,
    signature: Signature,
}

impl PartialEq for LiteralHit {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.set, &other.set) && self.test == other.test
    }
}

impl Eq for LiteralHit {}

impl Hash for LiteralHit {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.set.id, self.test).hash(state);
    }
}

impl ScalarUDFImpl for LiteralHit {
    fn name(&self) -> &str {
        "spoor_literal_hit"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(column) = args.args.first() else { return exec_err!("spoor_literal_hit takes a column") };
        let column = column.to_array(args.number_rows)?;
        Ok(ColumnarValue::Array(Arc::new(self.set.answers(&column)?.of(self.test))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::logical_expr::{col, lit};

    fn ilike(pattern: &str) -> Expr {
        Expr::Like(Like::new(false, Box::new(col("t")), Box::new(lit(pattern)), Some('\\'), true))
    }

    #[test]
    fn each_test_answers_as_its_ilike_does() {
        let schema = DFSchema::try_from(Schema::new(vec![Field::new("t", DataType::Utf8, true)])).unwrap();
        let patterns = ["%-ENC%", "powershell%", "%.exe", "cmd.exe", "%50\\%%", "%a_b%"];
        let rewritten = rewrite(patterns.iter().map(|p| ilike(p)).collect(), &schema).unwrap();
        // `_` is a wildcard: that one stays a LIKE.
        assert!(matches!(rewritten[5], Expr::Like(_)));
        let rows: ArrayRef = Arc::new(StringArray::from(vec![
            Some("PowerShell -enc AAA"),
            Some("c:\\x\\CMD.EXE"),
            Some("cmd.exe"),
            None,
            Some("50% done"),
            Some("-Enc"),
        ]));
        let Expr::ScalarFunction(f) = &rewritten[0] else { panic!("{}", rewritten[0]) };
        let hit = f.func.inner().downcast_ref::<LiteralHit>().unwrap();
        let answers = hit.set.answers(&rows).unwrap();
        let column = |i: usize| answers.of(i).iter().collect::<Vec<_>>();
        let (t, f, n) = (Some(true), Some(false), None);
        assert_eq!(column(0), vec![t, f, f, n, f, t], "%-ENC%");
        assert_eq!(column(1), vec![t, f, f, n, f, f], "powershell%");
        assert_eq!(column(2), vec![f, t, t, n, f, f], "%.exe");
        assert_eq!(column(3), vec![f, f, t, n, f, f], "cmd.exe");
        assert_eq!(column(4), vec![f, f, f, n, t, f], "%50\\%%");
        // Asked again of the same batch, the answers come from the one search.
        assert!(Arc::ptr_eq(&answers, &hit.set.answers(&rows).unwrap()));
    }
}

/// A [`LiteralHit`] as it travels to a cluster: its set's tests, in order, and which it is.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct TravellingHit {
    id: usize,
    tests: Vec<(String, Anchor)>,
    test: usize,
}

/// The travelling form of `udf`, when it is a [`LiteralHit`].
pub(crate) fn travelling(udf: &ScalarUDF) -> Option<TravellingHit> {
    let hit = udf.inner().downcast_ref::<LiteralHit>()?;
    let mut tests: Vec<(&(String, Anchor), &usize)> = hit.set.index.iter().collect();
    tests.sort_by_key(|(_, test)| **test);
    Some(TravellingHit { id: hit.set.id, tests: tests.into_iter().map(|(t, _)| t.clone()).collect(), test: hit.test })
}

/// A [`LiteralHit`] again. The hits of one set arrive one by one; they share one set again (one
/// search per batch), found by its tests while any of them is alive.
pub(crate) fn arrived(hit: TravellingHit) -> Result<ScalarUDF> {
    static SETS: std::sync::LazyLock<Mutex<HashMap<(usize, Vec<(String, Anchor)>), std::sync::Weak<LiteralSet>>>> =
        std::sync::LazyLock::new(Default::default);
    let mut sets = SETS.lock().unwrap_or_else(|e| e.into_inner());
    sets.retain(|_, set| set.strong_count() > 0);
    let key = (hit.id, hit.tests);
    let set = match sets.get(&key).and_then(std::sync::Weak::upgrade) {
        Some(set) => set,
        None => {
            let set = Arc::new(LiteralSet::new(key.0, key.1.clone())?);
            sets.insert(key, Arc::downgrade(&set));
            set
        }
    };
    Ok(ScalarUDF::new_from_impl(LiteralHit {
        set,
        test: hit.test,
        signature: Signature::any(1, Volatility::Immutable),
    }))
}
