//! `KeepFirst`: of the rows that share a key, keep the first by an order.
//!
//! Hunts ask this often: a sequence keeps one match per first event and one per last event,
//! `dedup` keeps the first event of each group. SQL says it with a window
//! (`row_number() OVER (PARTITION BY keys ORDER BY order) = 1`), which DataFusion plans as a hash
//! repartition, a sort of every row, the window and a filter. On the small inputs hunts mostly
//! feed it, planning those operators cost more than running them (measured on the pack bench:
//! without its two windows a 13 ms sequence hunt ran in 8). This operator is one pass with a hash
//! map from key to the best row so far, and holds only those rows, not its whole input.
//!
//! Three pieces, as DataFusion's extension points want them: the logical node [`KeepFirst`],
//! the operator [`KeepFirstExec`], and [`KeepFirstPlanner`], which turns the one into the other
//! for spoor's query planner (`crate::planner`). The node also says what it means in plain SQL
//! ([`KeepFirst::as_window`]), for exporting a hunt to another engine, and as an aggregate
//! ([`KeepFirst::as_aggregate`]), which is how a cluster runs it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, UInt32Array};
use arrow::compute::{SortOptions, interleave_record_batch, take_record_batch};
use arrow::row::{RowConverter, SortField};
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Column, DFSchemaRef, DataFusionError, Result, internal_err};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, Extension, LogicalPlan, LogicalPlanBuilder, SortExpr, UserDefinedLogicalNode,
    UserDefinedLogicalNodeCore, col, lit,
};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet, RecordOutput};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties, Partitioning, PhysicalExpr,
    PlanProperties, apply_expression_roots,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use futures::{StreamExt, TryStreamExt};

/// The logical node: `input`'s rows, only the first of each `keys` group by `order`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Hash)]
pub struct KeepFirst {
    input: LogicalPlan,
    keys: Vec<Expr>,
    order: Vec<SortExpr>,
}

impl KeepFirst {
    pub fn new(input: LogicalPlan, keys: Vec<Expr>, order: Vec<SortExpr>) -> KeepFirst {
        KeepFirst { input, keys, order }
    }

    /// The node as a DataFusion plan (an extension node, which [`KeepFirstPlanner`] plans).
    pub fn into_plan(self) -> LogicalPlan {
        LogicalPlan::Extension(Extension { node: Arc::new(self) })
    }

    /// The same rows, said as SQL says them: a `row_number()` window, kept where it is 1.
    pub fn as_window(&self) -> Result<LogicalPlan> {
        const RANK: &str = "__spoor_rank";
        let columns: Vec<Expr> = self.input.schema().columns().into_iter().map(Expr::Column).collect();
        let rank = row_number().partition_by(self.keys.clone()).order_by(self.order.clone()).build()?.alias(RANK);
        LogicalPlanBuilder::from(self.input.clone())
            .window(vec![rank])?
            .filter(col(RANK).eq(lit(1u64)))?
            .project(columns)?
            .build()
    }

    /// The same rows as an aggregate: per key, the first whole row by `order` (one
    /// `first_value` of a struct of every column, so a tie in `order` still gives one row).
    ///
    /// This is the form a cluster runs. A window needs its input sorted on its keys, and
    /// DataFusion leaves out of that sort a key a filter made constant; when the filter runs in
    /// another stage, the stage with the window no longer knows it is constant and refuses to
    /// start ("Expects PARTITION BY expression to be ordered"). An aggregate needs no order.
    pub fn as_aggregate(&self) -> Result<LogicalPlan> {
        use datafusion::functions::core::expr_fn::{coalesce, get_field, named_struct};
        use datafusion::functions_aggregate::expr_fn::first_value;
        const ROW: &str = "__spoor_first_row";
        let columns = self.input.schema().columns();
        let fields = columns.iter().enumerate().flat_map(|(i, c)| [lit(format!("c{i}")), Expr::Column(c.clone())]);
        let first = first_value(named_struct(fields.collect()), self.order.clone()).alias(ROW);
        let schema = self.input.schema();
        let mut out = Vec::with_capacity(columns.len());
        for (i, (c, field)) in columns.iter().zip(schema.fields()).enumerate() {
            let mut value = get_field(col(ROW), format!("c{i}"));
            // A struct's fields read as nullable; the node's columns are its input's, exactly.
            if !field.is_nullable() {
                let never = lit(datafusion::scalar::ScalarValue::new_default(field.data_type())?);
                value = coalesce(vec![value, never]);
            }
            out.push(value.alias_qualified(c.relation.clone(), c.name.clone()));
        }
        LogicalPlanBuilder::from(self.input.clone()).aggregate(self.keys.clone(), vec![first])?.project(out)?.build()
    }

    /// Replaces every `KeepFirst` in `plan` by [`KeepFirst::as_window`] (SQL for other engines).
    pub fn as_windows(plan: LogicalPlan) -> Result<LogicalPlan> {
        Self::replace(plan, KeepFirst::as_window)
    }

    /// Replaces every `KeepFirst` in `plan` by [`KeepFirst::as_aggregate`] (for a cluster).
    pub fn as_aggregates(plan: LogicalPlan) -> Result<LogicalPlan> {
        Self::replace(plan, KeepFirst::as_aggregate)
    }

    fn replace(plan: LogicalPlan, by: fn(&KeepFirst) -> Result<LogicalPlan>) -> Result<LogicalPlan> {
        use datafusion::common::tree_node::{Transformed, TreeNode};
        plan.transform_up(|node| match &node {
            LogicalPlan::Extension(e) => match e.node.as_any().downcast_ref::<KeepFirst>() {
                Some(keep) => Ok(Transformed::yes(by(keep)?)),
                None => Ok(Transformed::no(node)),
            },
            _ => Ok(Transformed::no(node)),
        })
        .map(|t| t.data)
    }
}

impl UserDefinedLogicalNodeCore for KeepFirst {
    fn name(&self) -> &str {
        "KeepFirst"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        self.input.schema()
    }

    fn expressions(&self) -> Vec<Expr> {
        self.keys.iter().cloned().chain(self.order.iter().map(|s| s.expr.clone())).collect()
    }

    /// A filter on the keys only keeps or drops whole groups, so it may run before this node;
    /// any other filter would change which row is first.
    fn prevent_predicate_push_down_columns(&self) -> HashSet<String> {
        let is_key = |c: &Column| {
            let mut keys = self.keys.iter().filter_map(|k| k.try_as_col());
            keys.any(|k| k.name == c.name && (k.relation.is_none() || k.relation == c.relation))
        };
        // DataFusion matches these by bare name: a key that shares its name with another column
        // is held back with it.
        self.input.schema().columns().into_iter().filter(|c| !is_key(c)).map(|c| c.name).collect()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "KeepFirst: keys=[{}], order=[{}]", listed(&self.keys), listed(&self.order))
    }

    fn with_exprs_and_inputs(&self, exprs: Vec<Expr>, mut inputs: Vec<LogicalPlan>) -> Result<Self> {
        if inputs.len() != 1 || exprs.len() != self.keys.len() + self.order.len() {
            return internal_err!("KeepFirst takes one input and {} expressions", self.keys.len() + self.order.len());
        }
        let (keys, order) = exprs.split_at(self.keys.len());
        let order = order.iter().zip(&self.order).map(|(e, s)| e.clone().sort(s.asc, s.nulls_first)).collect();
        Ok(KeepFirst { input: inputs.remove(0), keys: keys.to_vec(), order })
    }

    /// The output is the input's columns: the parent's needs pass through, and DataFusion adds
    /// the columns of the keys and the order.
    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        Some(vec![output_columns.to_vec()])
    }
}

/// Plans [`KeepFirst`] nodes as [`KeepFirstExec`].
#[derive(Debug, Default)]
pub struct KeepFirstPlanner;

#[async_trait]
impl ExtensionPlanner for KeepFirstPlanner {
    async fn plan_extension(
        &self,
        planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session: &dyn Session,
        planning: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(keep) = node.as_any().downcast_ref::<KeepFirst>() else { return Ok(None) };
        let ([logical], [input]) = (logical_inputs, physical_inputs) else {
            return internal_err!("KeepFirst planned with {} inputs", physical_inputs.len());
        };
        let schema = logical.schema();
        let keys = keep
            .keys
            .iter()
            .map(|k| planner.create_physical_expr(k, schema, session, planning))
            .collect::<Result<_>>()?;
        let order = keep
            .order
            .iter()
            .map(|s| {
                let expr = planner.create_physical_expr(&s.expr, schema, session, planning)?;
                Ok(PhysicalSortExpr::new(expr, SortOptions { descending: !s.asc, nulls_first: s.nulls_first }))
            })
            .collect::<Result<_>>()?;
        Ok(Some(Arc::new(KeepFirstExec::try_new(Arc::clone(input), keys, order)?)))
    }
}

/// The operator: reads its whole input (one partition), keeps the best row of each key, and
/// emits the kept rows ordered by key, so a hunt's rows come out the same way every run however
/// its input arrived (for a sequence: by its last event, as the window it replaces did).
#[derive(Debug)]
pub struct KeepFirstExec {
    input: Arc<dyn ExecutionPlan>,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    order: Vec<PhysicalSortExpr>,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl KeepFirstExec {
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        keys: Vec<Arc<dyn PhysicalExpr>>,
        order: Vec<PhysicalSortExpr>,
    ) -> Result<KeepFirstExec> {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(input.schema()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        let exec = KeepFirstExec {
            input,
            keys,
            order,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        };
        exec.converters()?; // a key or order type the row format cannot take fails here, at planning
        Ok(exec)
    }

    /// Row formats of the keys (equality) and the order (byte order is the sort order).
    fn converters(&self) -> Result<(RowConverter, RowConverter)> {
        let schema = self.input.schema();
        let ascending = SortOptions { descending: false, nulls_first: false };
        let keys = self
            .keys
            .iter()
            .map(|k| Ok(SortField::new_with_options(k.data_type(&schema)?, ascending)))
            .collect::<Result<_>>()?;
        let order = self
            .order
            .iter()
            .map(|s| Ok(SortField::new_with_options(s.expr.data_type(&schema)?, s.options)))
            .collect::<Result<_>>()?;
        Ok((RowConverter::new(keys)?, RowConverter::new(order)?))
    }
}

impl DisplayAs for KeepFirstExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "KeepFirstExec: keys=[{}], order=[{}]", listed(&self.keys), listed(&self.order))
    }
}

impl ExecutionPlan for KeepFirstExec {
    fn name(&self) -> &str {
        "KeepFirstExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::SinglePartition]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        apply_expression_roots(self.keys.iter().chain(self.order.iter().map(|s| &s.expr)), f)
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("KeepFirstExec takes one input, not {}", children.len());
        }
        Ok(Arc::new(KeepFirstExec::try_new(children.remove(0), self.keys.clone(), self.order.clone())?))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 || self.input.output_partitioning().partition_count() != 1 {
            return internal_err!("KeepFirstExec runs on one partition of one input partition");
        }
        let (key_rows, order_rows) = self.converters()?;
        let best = Best {
            keys: self.keys.clone(),
            order: self.order.iter().map(|s| Arc::clone(&s.expr)).collect(),
            key_rows,
            order_rows,
            slots: HashMap::new(),
            kept: Vec::new(),
            stored: 0,
            kept_bytes: 0,
            slot_bytes: 0,
            reservation: MemoryConsumer::new("KeepFirstExec").register(context.memory_pool()),
        };
        let input = self.input.execute(0, Arc::clone(&context))?;
        let metrics = BaselineMetrics::new(&self.metrics, partition);
        let batch_size = context.session_config().batch_size();
        let rows = async move {
            let mut best = best.fill(input, &metrics).await?;
            let kept = {
                let _timer = metrics.elapsed_compute().timer();
                best.gather(batch_size)?
            };
            let batches = kept.into_iter().map(move |b| Ok::<_, DataFusionError>(b.record_output(&metrics)));
            Ok::<_, DataFusionError>(futures::stream::iter(batches))
        };
        let stream = futures::stream::once(rows).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema(), stream)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// Where the best row of a key is: its order (in row format) and its place in `Best::kept`.
struct Slot {
    order: Box<[u8]>,
    batch: u32,
    row: u32,
}

/// The best row of every key seen so far.
struct Best {
    keys: Vec<Arc<dyn PhysicalExpr>>,
    order: Vec<Arc<dyn PhysicalExpr>>,
    key_rows: RowConverter,
    order_rows: RowConverter,
    slots: HashMap<Box<[u8]>, Slot>,
    /// Rows that were best when their batch ended; some have been beaten since.
    kept: Vec<RecordBatch>,
    stored: usize,
    /// What `kept` and `slots` hold, for the memory pool.
    kept_bytes: usize,
    slot_bytes: usize,
    reservation: MemoryReservation,
}

/// A slot's bytes beside its key and order: the map's entry, the boxes' headers.
const SLOT_OVERHEAD: usize = 64;

impl Best {
    async fn fill(mut self, mut input: SendableRecordBatchStream, metrics: &BaselineMetrics) -> Result<Best> {
        while let Some(batch) = input.next().await {
            let batch = batch?;
            let _timer = metrics.elapsed_compute().timer();
            self.add(&batch)?;
        }
        Ok(self)
    }

    fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        let evaluate = |exprs: &[Arc<dyn PhysicalExpr>]| -> Result<Vec<ArrayRef>> {
            exprs.iter().map(|e| e.evaluate(batch)?.into_array(batch.num_rows())).collect()
        };
        let keys = self.key_rows.convert_columns(&evaluate(&self.keys)?)?;
        let order = self.order_rows.convert_columns(&evaluate(&self.order)?)?;
        let pending = u32::try_from(self.kept.len()).map_err(|_| too_many())?;
        let mut won = Vec::new();
        for i in 0..batch.num_rows() {
            let row = u32::try_from(i).map_err(|_| too_many())?;
            let (key, rank) = (keys.row(i), order.row(i));
            match self.slots.get_mut(key.as_ref()) {
                // Ties keep the row that came first.
                Some(slot) if rank.as_ref() >= &*slot.order => continue,
                Some(slot) => {
                    self.slot_bytes = self.slot_bytes + rank.as_ref().len() - slot.order.len();
                    *slot = Slot { order: rank.as_ref().into(), batch: pending, row };
                }
                None => {
                    self.slot_bytes += key.as_ref().len() + rank.as_ref().len() + SLOT_OVERHEAD;
                    self.slots.insert(key.as_ref().into(), Slot { order: rank.as_ref().into(), batch: pending, row });
                }
            }
            won.push(row);
        }
        // Of this batch's winners, keep those no later row of the batch beat, renumbered.
        let mut survivors = Vec::with_capacity(won.len());
        for row in won {
            if let Some(slot) = self.slots.get_mut(keys.row(row as usize).as_ref())
                && (slot.batch, slot.row) == (pending, row)
            {
                slot.row = survivors.len() as u32;
                survivors.push(row);
            }
        }
        if survivors.is_empty() {
            return Ok(());
        }
        self.stored += survivors.len();
        let survivors = take_record_batch(batch, &UInt32Array::from(survivors))?;
        self.kept_bytes += survivors.get_array_memory_size();
        self.kept.push(survivors);
        // Beaten rows are dead weight: once they outnumber the live ones, drop them.
        if self.stored - self.slots.len() > self.slots.len().max(8192) {
            self.kept = self.gather(usize::MAX)?;
            self.stored = self.slots.len();
            self.kept_bytes = self.kept.iter().map(RecordBatch::get_array_memory_size).sum();
        }
        self.reservation.try_resize(self.kept_bytes + self.slot_bytes)
    }

    /// The live rows ordered by key, in batches of at most `batch_size` rows; slots point into
    /// the new batches.
    fn gather(&mut self, batch_size: usize) -> Result<Vec<RecordBatch>> {
        let mut slots: Vec<(&Box<[u8]>, &mut Slot)> = self.slots.iter_mut().collect();
        // Key rows compare as the keys sort, ascending with nulls last.
        slots.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut slots: Vec<&mut Slot> = slots.into_iter().map(|(_, s)| s).collect();
        let sources: Vec<&RecordBatch> = self.kept.iter().collect();
        let mut out = Vec::new();
        for (n, chunk) in slots.chunks_mut(batch_size.max(1)).enumerate() {
            let at: Vec<(usize, usize)> = chunk.iter().map(|s| (s.batch as usize, s.row as usize)).collect();
            out.push(interleave_record_batch(&sources, &at)?);
            for (row, slot) in chunk.iter_mut().enumerate() {
                (slot.batch, slot.row) = (n as u32, row as u32);
            }
        }
        Ok(out)
    }
}

fn listed<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}

fn too_many() -> DataFusionError {
    DataFusionError::ResourcesExhausted("KeepFirst holds at most 2^32 batches of 2^32 rows".into())
}
