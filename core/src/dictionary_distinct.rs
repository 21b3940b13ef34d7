//! `DictionaryDistinctExec`: the distinct combinations of dictionary columns, found on their
//! dictionaries' keys instead of their text.
//!
//! spoor stores labels (host, user and process names) as dictionaries, and hunts group by them
//! all the time; `count_distinct(host.name) by process.name` becomes, in DataFusion's plan, a
//! partial aggregate that finds the distinct `(process.name, host.name)` pairs of its partition.
//! DataFusion groups dictionary columns through its row format, which writes out each row's
//! text and hashes it: over 5 M process events that partial step alone took 320 ms of CPU.
//! This operator takes its place. A batch's dictionary holds each name once, so it interns the
//! dictionary's few values (once per dictionary, not per row) and then works on numbers: each
//! row's keys become one combination, a bit in a bit set while the columns have few values
//! (as labels do), else a 128-bit number in a hash set.
//!
//! It emits what DataFusion's partial aggregate would: the distinct combinations, as dictionary
//! columns of the same names and types, for the final aggregate to merge across partitions.
//! Like that partial step it may emit early: when the memory pool refuses it more room, it
//! hands on what it holds and starts afresh (the final step removes the repeats).
//!
//! [`on_dictionary_keys`] puts it in a physical plan where it applies: a partial, unfiltered,
//! unordered group-by with no aggregate functions over one to four columns that are all
//! `Dictionary(Int32, Utf8)`.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, DictionaryArray, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Int32Type, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{HashMap, HashSet, Result, internal_err};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet, RecordOutput};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PhysicalExpr, PlanProperties, apply_expression_roots,
};
use futures::StreamExt;

/// A combination holds one id a column, 32 bits each.
const MOST_COLUMNS: usize = 4;

/// The id of a null (a null key, or a key to a null value).
const NULL: u32 = u32::MAX;

/// A name's bytes beside its text: the `Arc`'s counts, the map's entry and the list's pointer.
const NAME_OVERHEAD: usize = 48;

/// `plan` with each partial aggregate that only finds the distinct combinations of dictionary
/// columns replaced by a [`DictionaryDistinctExec`].
pub fn on_dictionary_keys(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        let Some(aggregate) = node.downcast_ref::<AggregateExec>() else {
            return Ok(Transformed::no(node));
        };
        match DictionaryDistinctExec::replacing(aggregate)? {
            Some(exec) => Ok(Transformed::yes(Arc::new(exec) as Arc<dyn ExecutionPlan>)),
            None => Ok(Transformed::no(node)),
        }
    })
    .map(|t| t.data)
}

/// The operator: for each partition of its input, the distinct combinations of some of its
/// dictionary columns.
#[derive(Debug)]
pub struct DictionaryDistinctExec {
    input: Arc<dyn ExecutionPlan>,
    /// The grouped columns, as the replaced aggregate named them.
    columns: Vec<(Arc<dyn PhysicalExpr>, String)>,
    /// The positions of those columns in the input's batches.
    positions: Vec<usize>,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl DictionaryDistinctExec {
    /// The operator that does `aggregate`'s work, if `aggregate` is a partial aggregate it can
    /// replace.
    fn replacing(aggregate: &AggregateExec) -> Result<Option<DictionaryDistinctExec>> {
        let group_by = aggregate.group_expr();
        let input_schema = aggregate.input().schema();
        if *aggregate.mode() != AggregateMode::Partial
            || !aggregate.is_unordered_unfiltered_group_by_distinct()
            || aggregate.limit_options().is_some()
            || !group_by.is_single()
            || group_by.expr().is_empty()
            || group_by.expr().len() > MOST_COLUMNS
        {
            return Ok(None);
        }
        let mut positions = Vec::new();
        for (expr, _) in group_by.expr() {
            let Some(column) = expr.downcast_ref::<Column>() else { return Ok(None) };
            if !is_label(input_schema.field(column.index()).data_type()) {
                return Ok(None);
            }
            positions.push(column.index());
        }
        Ok(Some(DictionaryDistinctExec {
            input: Arc::clone(aggregate.input()),
            columns: group_by.expr().to_vec(),
            positions,
            properties: Arc::clone(aggregate.properties()),
            metrics: ExecutionPlanMetricsSet::new(),
        }))
    }
}

fn is_label(data_type: &DataType) -> bool {
    *data_type == crate::schema::Kind::Label.data_type()
}

impl DisplayAs for DictionaryDistinctExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let columns: Vec<String> = self.columns.iter().map(|(expr, name)| format!("{expr} as {name}")).collect();
        write!(f, "DictionaryDistinctExec: gby=[{}]", columns.join(", "))
    }
}

impl ExecutionPlan for DictionaryDistinctExec {
    fn name(&self) -> &str {
        "DictionaryDistinctExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        apply_expression_roots(self.columns.iter().map(|(expr, _)| expr), f)
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("DictionaryDistinctExec takes one input, not {}", children.len());
        }
        Ok(Arc::new(DictionaryDistinctExec {
            input: children.remove(0),
            columns: self.columns.clone(),
            positions: self.positions.clone(),
            properties: Arc::clone(&self.properties),
            metrics: ExecutionPlanMetricsSet::new(),
        }))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let reservation =
            MemoryConsumer::new(format!("DictionaryDistinctExec[{partition}]")).register(context.memory_pool());
        let distinct = Distinct {
            positions: self.positions.clone(),
            names: (0..self.positions.len()).map(|_| Names::default()).collect(),
            seen: Combinations::default(),
            schema: self.schema(),
            batch_size: context.session_config().batch_size(),
            reservation,
        };
        let state = State {
            input,
            distinct,
            ready: VecDeque::new(),
            done: false,
            metrics: BaselineMetrics::new(&self.metrics, partition),
        };
        // An error ends the stream.
        let stream = futures::stream::try_unfold(state, |mut state| async move {
            Ok(state.next().await?.map(|batch| (batch, state)))
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema(), stream)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// One partition's stream: its input, what it has found, and the batches ready to hand on.
struct State {
    input: SendableRecordBatchStream,
    distinct: Distinct,
    ready: VecDeque<RecordBatch>,
    done: bool,
    metrics: BaselineMetrics,
}

impl State {
    async fn next(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some(batch) = self.ready.pop_front() {
                return Ok(Some(batch.record_output(&self.metrics)));
            }
            if self.done {
                return Ok(None);
            }
            match self.input.next().await {
                Some(batch) => {
                    let batch = batch?;
                    let _timer = self.metrics.elapsed_compute().timer();
                    if !self.distinct.add(&batch)? {
                        // The pool has no more room: hand on what is held, and start afresh.
                        self.ready.extend(self.distinct.take()?);
                    }
                }
                None => {
                    let _timer = self.metrics.elapsed_compute().timer();
                    self.ready.extend(self.distinct.take()?);
                    self.done = true;
                }
            }
        }
    }
}

/// The distinct combinations seen so far, each column's values as ids of its [`Names`].
struct Distinct {
    positions: Vec<usize>,
    names: Vec<Names>,
    seen: Combinations,
    schema: SchemaRef,
    batch_size: usize,
    reservation: MemoryReservation,
}

impl Distinct {
    /// Adds the combinations of `batch`; false when the memory pool would not cover them.
    fn add(&mut self, batch: &RecordBatch) -> Result<bool> {
        let mut columns = Vec::with_capacity(self.positions.len());
        for (&position, names) in self.positions.iter().zip(&mut self.names) {
            let Some(column) = batch.column(position).as_dictionary_opt::<Int32Type>() else {
                return internal_err!("DictionaryDistinctExec expected a dictionary in column {position}");
            };
            names.intern(column.values())?;
            columns.push(column);
        }
        let counts: Vec<usize> = self.names.iter().map(Names::len).collect();
        self.seen.make_room(&counts);
        let ids = self.names.iter().map(Names::last_ids);
        let keys = columns.iter().map(|column| column.keys());
        self.seen.add(keys.zip(ids), batch.num_rows());
        let held = self.seen.size() + self.names.iter().map(Names::size).sum::<usize>();
        Ok(self.reservation.try_resize(held).is_ok())
    }

    /// What is held, as batches of the replaced aggregate's columns; then holds nothing.
    fn take(&mut self) -> Result<Vec<RecordBatch>> {
        // Taken whole, so its room goes back too.
        let seen = std::mem::take(&mut self.seen).into_vec();
        let values: Vec<ArrayRef> = self.names.iter().map(|names| Arc::new(names.values()) as ArrayRef).collect();
        let mut batches = Vec::new();
        for chunk in seen.chunks(self.batch_size.max(1)) {
            let columns = values
                .iter()
                .enumerate()
                .map(|(column, values)| {
                    let keys: Int32Array = chunk
                        .iter()
                        .map(|combination| match (combination >> (32 * column)) as u32 {
                            NULL => None,
                            id => Some(id as i32),
                        })
                        .collect();
                    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(keys, Arc::clone(values))?) as ArrayRef)
                })
                .collect::<Result<Vec<_>>>()?;
            batches.push(RecordBatch::try_new(Arc::clone(&self.schema), columns)?);
        }
        self.names.iter_mut().for_each(Names::clear);
        self.reservation.free();
        Ok(batches)
    }
}

/// Bits a set of combinations may take before it becomes a hash set: 2^24 bits, 2 MiB.
const MOST_BITS: u32 = 24;

/// The combinations seen. While the columns have few values, a combination is a bit in a set
/// of them all: a row costs a few additions and one bit, where a hash set hashes, probes and
/// compares (over 5 M process events, 42-51 ms of CPU as a set, 19-21 as bits). Each column gets
/// the bits its ids need and one to spare, with 0 for null; past [`MOST_BITS`] in all, it is a
/// hash set of 128-bit combinations, 32 bits a column.
enum Combinations {
    Bits {
        bits: Vec<u64>,
        /// Where each column's part of a bit's position starts, and how wide it is.
        fields: Vec<(u32, u32)>,
    },
    Set(HashSet<u128>),
}

impl Default for Combinations {
    fn default() -> Self {
        Combinations::Bits { bits: Vec::new(), fields: Vec::new() }
    }
}

impl Combinations {
    /// Makes room for ids below `counts` in each column: wider fields for the bits, or a set.
    fn make_room(&mut self, counts: &[usize]) {
        let Combinations::Bits { fields, .. } = self else { return };
        let fits = fields.len() == counts.len()
            && fields.iter().zip(counts).all(|(&(_, width), &count)| (count as u64) < 1 << width);
        if fits {
            return;
        }
        let held = std::mem::take(self).into_vec();
        let widths: Vec<u32> = counts.iter().map(|&count| u64::BITS - (count as u64).leading_zeros() + 1).collect();
        let total: u32 = widths.iter().sum();
        *self = if total <= MOST_BITS {
            let fields: Vec<(u32, u32)> = widths
                .iter()
                .scan(0, |start, &width| Some((std::mem::replace(start, *start + width), width)))
                .collect();
            Combinations::Bits { bits: vec![0; (1usize << total).div_ceil(64)], fields }
        } else {
            Combinations::Set(HashSet::default())
        };
        self.extend(held);
    }

    /// Adds each row's combination of `columns`' ids: a column is its keys and the ids of its
    /// dictionary's values.
    fn add<'a>(&mut self, columns: impl Iterator<Item = (&'a Int32Array, &'a [u32])>, rows: usize) {
        match self {
            Combinations::Bits { bits, fields } => {
                let mut positions = vec![0usize; rows];
                for ((keys, ids), &(start, _)) in columns.zip(fields.iter()) {
                    // A key's part of a position: its id plus one (0 is null), moved to its field.
                    let parts: Vec<usize> =
                        ids.iter().map(|&id| if id == NULL { 0 } else { (id as usize + 1) << start }).collect();
                    for_each_key(keys, &mut positions, |position, key| {
                        *position += key.map_or(0, |key| parts[key as usize]);
                    });
                }
                for position in positions {
                    bits[position / 64] |= 1 << (position % 64);
                }
            }
            Combinations::Set(set) => {
                let mut combinations = vec![0u128; rows];
                for (column, (keys, ids)) in columns.enumerate() {
                    let shift = 32 * column;
                    for_each_key(keys, &mut combinations, |combination, key| {
                        let id = key.map_or(NULL, |key| ids[key as usize]);
                        *combination |= u128::from(id) << shift;
                    });
                }
                set.extend(combinations);
            }
        }
    }

    /// The combinations held, 32 bits a column with [`NULL`] for null.
    fn into_vec(self) -> Vec<u128> {
        match self {
            Combinations::Bits { bits, fields } => {
                let mut held = Vec::new();
                for (word, &set) in bits.iter().enumerate().filter(|(_, set)| **set != 0) {
                    let mut rest = set;
                    while rest != 0 {
                        let position = word * 64 + rest.trailing_zeros() as usize;
                        rest &= rest - 1;
                        let combination =
                            fields.iter().enumerate().fold(0u128, |combination, (column, &(start, width))| {
                                let part = (position >> start) as u32 & ((1 << width) - 1);
                                let id = part.checked_sub(1).unwrap_or(NULL);
                                combination | u128::from(id) << (32 * column)
                            });
                        held.push(combination);
                    }
                }
                held
            }
            Combinations::Set(set) => set.into_iter().collect(),
        }
    }

    fn extend(&mut self, combinations: Vec<u128>) {
        match self {
            Combinations::Bits { bits, fields } => {
                for combination in combinations {
                    let position = fields.iter().enumerate().fold(0usize, |position, (column, &(start, _))| {
                        let part = match (combination >> (32 * column)) as u32 {
                            NULL => 0,
                            id => id as usize + 1,
                        };
                        position + (part << start)
                    });
                    bits[position / 64] |= 1 << (position % 64);
                }
            }
            Combinations::Set(set) => set.extend(combinations),
        }
    }

    /// Bytes held.
    fn size(&self) -> usize {
        match self {
            Combinations::Bits { bits, .. } => bits.capacity() * size_of::<u64>(),
            Combinations::Set(set) => set.capacity() * size_of::<u128>(),
        }
    }
}

/// Calls `f` with each row's slot and key (`None` where the key is null).
fn for_each_key<T>(keys: &Int32Array, slots: &mut [T], mut f: impl FnMut(&mut T, Option<i32>)) {
    match keys.nulls().filter(|nulls| nulls.null_count() > 0) {
        None => slots.iter_mut().zip(keys.values()).for_each(|(slot, &key)| f(slot, Some(key))),
        Some(nulls) => slots
            .iter_mut()
            .zip(keys.values())
            .enumerate()
            .for_each(|(row, (slot, &key))| f(slot, nulls.is_valid(row).then_some(key))),
    }
}

/// The values of one column, each given an id in the order first seen.
#[derive(Default)]
struct Names {
    ids: HashMap<Arc<str>, u32>,
    values: Vec<Arc<str>>,
    /// The last dictionary seen and its values' ids: a Parquet column's batches share one.
    last: Option<(ArrayRef, Vec<u32>)>,
    bytes: usize,
}

impl Names {
    /// Gives each value of `dictionary` (a string array) an id, for [`Names::last_ids`].
    fn intern(&mut self, dictionary: &ArrayRef) -> Result<()> {
        let same = self.last.as_ref().is_some_and(|(last, _)| Arc::ptr_eq(last, dictionary));
        if !same {
            let Some(strings) = dictionary.as_string_opt::<i32>() else {
                return internal_err!("DictionaryDistinctExec expected a dictionary of strings");
            };
            let ids =
                strings.iter().map(|value| value.map_or(Ok(NULL), |value| self.id(value))).collect::<Result<_>>()?;
            self.last = Some((Arc::clone(dictionary), ids));
        }
        Ok(())
    }

    fn id(&mut self, value: &str) -> Result<u32> {
        if let Some(&id) = self.ids.get(value) {
            return Ok(id);
        }
        let id = u32::try_from(self.values.len()).ok().filter(|&id| id != NULL);
        let Some(id) = id else {
            return internal_err!("DictionaryDistinctExec holds at most 2^32 - 1 values a column");
        };
        let value: Arc<str> = value.into();
        self.bytes += value.len() + NAME_OVERHEAD;
        self.ids.insert(Arc::clone(&value), id);
        self.values.push(value);
        Ok(id)
    }

    /// The ids of the values of the dictionary [`Names::intern`] was last given.
    fn last_ids(&self) -> &[u32] {
        self.last.as_ref().map(|(_, ids)| ids.as_slice()).unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    fn values(&self) -> StringArray {
        self.values.iter().map(|v| Some(v.as_ref())).collect()
    }

    fn size(&self) -> usize {
        self.bytes
    }

    fn clear(&mut self) {
        *self = Names::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray as Strings};
    use arrow::datatypes::{Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::execution::memory_pool::GreedyMemoryPool;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::physical_plan::{collect, displayable};
    use datafusion::prelude::{SessionConfig, SessionContext};

    fn label(values: &[Option<&str>]) -> ArrayRef {
        let strings: Strings = values.iter().copied().collect();
        Arc::new(
            arrow::compute::cast(&strings, &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)))
                .unwrap(),
        )
    }

    /// Process names and the hosts they ran on, in several batches and partitions (each
    /// batch its own dictionary), with null names, null hosts, and a null in a dictionary.
    fn processes() -> Vec<Vec<RecordBatch>> {
        let label_type = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let schema = Arc::new(Schema::new(vec![
            Field::new("process.name", label_type.clone(), true),
            Field::new("host.name", label_type, true),
            Field::new("pid", DataType::Int64, true),
        ]));
        let batch = |names: &[Option<&str>], hosts: &[Option<&str>]| {
            let pids: Int64Array = (0..names.len() as i64).map(Some).collect();
            RecordBatch::try_new(Arc::clone(&schema), vec![label(names), label(hosts), Arc::new(pids)]).unwrap()
        };
        // A dictionary whose values include a null: the key of row 1 points at it.
        let with_null_value = {
            let keys = Int32Array::from(vec![0, 1, 2]);
            let values: ArrayRef = Arc::new(Strings::from(vec![Some("sh"), None, Some("curl")]));
            let names: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::try_new(keys, values).unwrap());
            let pids: Int64Array = vec![Some(7), Some(8), Some(9)].into();
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![names, label(&[Some("b"), Some("c"), Some("a")]), Arc::new(pids)],
            )
            .unwrap()
        };
        vec![
            vec![
                batch(&[Some("sh"), Some("sh"), Some("node"), None], &[Some("a"), Some("a"), Some("b"), Some("a")]),
                batch(&[Some("curl"), Some("sh"), Some("node")], &[Some("a"), Some("c"), None]),
            ],
            vec![batch(&[Some("node"), Some("sh"), None], &[Some("b"), Some("a"), Some("c")]), with_null_value],
        ]
    }

    async fn run(sql: &str, pool_bytes: Option<usize>) -> (String, String) {
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(bytes) = pool_bytes {
            runtime = runtime.with_memory_pool(Arc::new(GreedyMemoryPool::new(bytes)));
        }
        let config = SessionConfig::new().with_target_partitions(2).with_batch_size(2);
        let ctx = SessionContext::new_with_config_rt(config, runtime.build_arc().unwrap());
        let batches = processes();
        let schema = batches[0][0].schema();
        ctx.register_table("p", Arc::new(MemTable::try_new(schema, batches).unwrap())).unwrap();
        let plan = || async { ctx.sql(sql).await.unwrap().create_physical_plan().await.unwrap() };
        let plain = collect(plan().await, ctx.task_ctx()).await.unwrap();
        let rewritten = on_dictionary_keys(plan().await).unwrap();
        let shown = displayable(rewritten.as_ref()).indent(false).to_string();
        let ours = collect(rewritten, ctx.task_ctx()).await.unwrap();
        let table = |b: &[RecordBatch]| arrow::util::pretty::pretty_format_batches(b).unwrap().to_string();
        assert_eq!(table(&plain), table(&ours), "{sql}\n{shown}");
        (table(&ours), shown)
    }

    const HOSTS_BY_NAME: &str = r#"SELECT CAST("process.name" AS TEXT) AS name, count(DISTINCT "host.name") AS hosts
        FROM p GROUP BY "process.name" ORDER BY name NULLS LAST"#;

    #[tokio::test]
    async fn count_distinct_by_a_label_gives_datafusions_answer() {
        let (table, plan) = run(HOSTS_BY_NAME, None).await;
        assert!(
            plan.contains("DictionaryDistinctExec: gby=[process.name@0 as process.name, host.name@1 as alias1]"),
            "{plan}"
        );
        // Null hosts are not counted; a null name (a null key or a null value) is a group.
        assert_eq!(
            table.lines().filter(|l| l.starts_with("| ")).skip(1).collect::<Vec<_>>(),
            ["| curl | 1     |", "| node | 1     |", "| sh   | 3     |", "|      | 2     |"]
        );
    }

    #[tokio::test]
    async fn distinct_pairs_give_datafusions_answer() {
        let (table, plan) = run(
            r#"SELECT CAST(n AS TEXT) AS n, CAST(h AS TEXT) AS h
               FROM (SELECT DISTINCT "process.name" AS n, "host.name" AS h FROM p) ORDER BY n, h"#,
            None,
        )
        .await;
        assert!(plan.contains("DictionaryDistinctExec"), "{plan}");
        // (curl, a) (node, b) (node, null) (sh, a) (sh, b) (sh, c) (null, a) (null, c)
        assert_eq!(table.lines().filter(|l| l.starts_with("| ")).count(), 1 + 8, "{table}");
    }

    #[test]
    fn a_pool_without_room_has_it_hand_on_what_it_holds() {
        use datafusion::execution::memory_pool::MemoryPool;
        let pool: Arc<dyn MemoryPool> = Arc::new(GreedyMemoryPool::new(64));
        let batch = &processes()[0][0];
        let mut distinct = Distinct {
            positions: vec![0, 1],
            names: vec![Names::default(), Names::default()],
            seen: Combinations::default(),
            schema: Arc::new(Schema::new(batch.schema().fields()[..2].to_vec())),
            batch_size: 8192,
            reservation: MemoryConsumer::new("test").register(&pool),
        };
        assert!(!distinct.add(batch).unwrap(), "64 bytes cannot hold the set");
        let handed_on = distinct.take().unwrap();
        let table = arrow::util::pretty::pretty_format_batches(&handed_on).unwrap().to_string();
        // (sh, a) twice in the batch, once here; then nothing held, and the pool is free again.
        assert_eq!(handed_on.iter().map(RecordBatch::num_rows).sum::<usize>(), 3, "{table}");
        assert!(std::mem::take(&mut distinct.seen).into_vec().is_empty() && pool.reserved() == 0);
        assert!(distinct.add(&processes()[1][1]).is_ok());
    }

    /// Combinations kept as bits, then as a set once the columns hold too many values: each
    /// one found once, nulls included, across the change.
    #[test]
    fn combinations_survive_wider_fields_and_the_change_to_a_set() {
        let mut combinations = Combinations::default();
        let mut expected = std::collections::BTreeSet::new();
        // Batches whose columns have 3, then 300, then 9,000 values: bits, wider bits, a set.
        for (batch, values) in [3usize, 300, 9_000].into_iter().enumerate() {
            let rows = 2 * values;
            let keys_a: Int32Array = (0..rows).map(|r| (r % 7 != 3).then_some((r % values) as i32)).collect();
            let keys_b: Int32Array = (0..rows).map(|r| Some(((r / 2) % values) as i32)).collect();
            // Ids as Names gives them: new values get new ids; one value of `b` is null.
            let ids_a: Vec<u32> = (0..values as u32).collect();
            let ids_b: Vec<u32> = (0..values as u32).map(|v| if v == 1 { NULL } else { v + 5 }).collect();
            combinations.make_room(&[values, values + 5]);
            combinations.add([(&keys_a, ids_a.as_slice()), (&keys_b, ids_b.as_slice())].into_iter(), rows);
            for r in 0..rows {
                let a = if keys_a.is_valid(r) { ids_a[keys_a.value(r) as usize] } else { NULL };
                let b = ids_b[keys_b.value(r) as usize];
                expected.insert(u128::from(a) | u128::from(b) << 32);
            }
            let is_set = matches!(combinations, Combinations::Set(_));
            assert_eq!(is_set, batch == 2, "batch {batch}");
        }
        let found: std::collections::BTreeSet<u128> =
            std::mem::take(&mut combinations).into_vec().into_iter().collect();
        assert_eq!(found.len(), expected.len());
        assert_eq!(found, expected);
    }

    #[tokio::test]
    async fn other_groupings_are_left_to_datafusion() {
        for sql in [
            r#"SELECT "process.name", count(*) FROM p GROUP BY "process.name" ORDER BY 1"#,
            r#"SELECT DISTINCT "process.name", pid FROM p ORDER BY 1, 2"#,
        ] {
            let (_, plan) = run(sql, None).await;
            assert!(!plan.contains("DictionaryDistinctExec"), "{sql}\n{plan}");
        }
    }
}
