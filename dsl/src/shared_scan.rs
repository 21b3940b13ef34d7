//! Many hunts, one scan: hunts that each keep the rows of one table that pass their filters (a
//! Sigma rule, most detections) are planned together, so the table is read once for all of
//! them instead of once each.
//!
//! ```text
//! scan t ─► filter (what every member asks: the window, the product's rows)
//!        ─► project (the table's columns the members read, and a true/false mark per member)
//!        ─► filter (any mark is true), added to the physical plan
//! ```
//! Each member's test is computed once per row, in one projection, where DataFusion's common
//! subexpression elimination computes what several members share once. The last filter is added
//! after DataFusion's optimizer has run: in the logical plan, filter pushdown would inline every
//! mark into it and compute each test twice. The rows are then dealt to the members by their
//! marks (`Dealt`), and each member's own output columns (a union's columns, say, with nulls
//! for those its table lacks) computed on its rows alone, so each gets exactly the rows and
//! columns its own plan would have given, and a table is read once whatever shapes its members
//! give their rows.

use std::collections::HashSet;

use arrow::array::{Array, BooleanArray};
use arrow::compute::interleave_record_batch;
use arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema};
use datafusion::error::{DataFusionError, Result};
use futures::StreamExt;
use std::sync::Arc;

use datafusion::execution::SessionState;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::utils::{conjunction, disjunction, split_conjunction};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Operator, lit};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{BinaryExpr, Column as ColumnExpr};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion::prelude::SessionContext;

/// The name of a member's mark column.
const MARK: &str = "spoor.shared_scan.member";

/// A scan that several hunts share.
#[derive(Debug, Clone)]
pub struct SharedScan {
    /// The plan: the table's columns the members read, then a mark per member, for every row
    /// that passes what all members ask ([`run`] keeps the rows some mark keeps).
    pub plan: LogicalPlan,
    /// The members, in mark order: (the hunt, as [`Sharing::add`] was told, which of its tables).
    pub members: Vec<(usize, usize)>,
    /// How many columns come before the marks.
    pub columns: usize,
    /// The members' distinct output columns, over the columns before the marks.
    pub outputs: Vec<Vec<Expr>>,
    /// Per member, its output in [`SharedScan::outputs`]; None: the columns as they are.
    pub output_of: Vec<Option<usize>>,
}

/// The scans a set of hunts share, and which hunts they serve.
#[derive(Debug, Default)]
pub struct SharedScans {
    /// Each scan's members, to be planned ([`ScanGroup::plan`]) when the scan runs: a plan
    /// holds its members' tests and their literal sets.
    pub scans: Vec<ScanGroup>,
    /// Each hunt that takes part: where the rows of each of its tables come from, as (scan,
    /// member). A hunt not listed runs on its own.
    pub hunts: Vec<(usize, Vec<(usize, usize)>)>,
}

/// The scans hunts share, gathered one hunt at a time: a hunt's plan is taken apart as it is
/// added and need not be kept. A pack of thousands of Sigma rules would otherwise hold every
/// rule's plan (each projecting a wide table's columns) until the last one was planned; the
/// members of a table mostly give their rows the same columns, which are kept once.
///
/// A hunt that keeps the rows of one table (or of several, read as one) that pass its filters
/// takes part; each of its tables joins the scan of that table. Any other hunt runs on its own.
#[derive(Debug, Default)]
pub struct Sharing {
    groups: Vec<ScanGroup>,
    hunts: Vec<(usize, Vec<(usize, usize)>)>,
}

/// The members of one scan.
#[derive(Debug)]
pub struct ScanGroup {
    scan: LogicalPlan,
    /// (hunt, which of its tables), in mark order.
    members: Vec<(usize, usize)>,
    /// Per member, its filters.
    filters: Vec<Vec<Expr>>,
    /// The members' distinct outputs, and each member's.
    outputs: Vec<Vec<Expr>>,
    output_of: Vec<Option<usize>>,
    /// Whether some member keeps the table's columns as they are.
    all_columns: bool,
}

impl Sharing {
    /// Adds `hunt`'s plan: true when the hunt joins shared scans (its plan is no longer
    /// needed), false when it runs on its own.
    pub fn add(&mut self, hunt: usize, plan: &LogicalPlan) -> bool {
        let Some(branches) = branches(plan) else { return false };
        let mut placed = Vec::with_capacity(branches.len());
        for (b, branch) in branches.into_iter().enumerate() {
            let g = match self.groups.iter().position(|g| &g.scan == branch.scan) {
                Some(g) => g,
                None => {
                    self.groups.push(ScanGroup {
                        scan: branch.scan.clone(),
                        members: Vec::new(),
                        filters: Vec::new(),
                        outputs: Vec::new(),
                        output_of: Vec::new(),
                        all_columns: false,
                    });
                    self.groups.len() - 1
                }
            };
            let group = &mut self.groups[g];
            placed.push((g, group.members.len()));
            group.members.push((hunt, b));
            group.filters.push(branch.filters);
            let output = branch.output.map(|output| {
                group.outputs.iter().position(|o| *o == output).unwrap_or_else(|| {
                    group.outputs.push(output);
                    group.outputs.len() - 1
                })
            });
            group.all_columns |= output.is_none();
            group.output_of.push(output);
        }
        self.hunts.push((hunt, placed));
        true
    }

    /// The scans, and which hunts they serve.
    pub fn finish(self) -> SharedScans {
        SharedScans { scans: self.groups, hunts: self.hunts }
    }
}

/// One table a hunt reads, taken apart: its output columns (in the hunt's own output schema),
/// its filters, the scan under them.
struct Branch<'a> {
    output: Option<Vec<Expr>>,
    filters: Vec<Expr>,
    scan: &'a LogicalPlan,
}

/// `Projection? → (Union of branches | branch)`, each branch `Projection? → Filter* →
/// TableScan` with no subquery in its filters; None for any other shape. A union's projection
/// is folded into each branch, so each gives the hunt's own output columns.
fn branches(plan: &LogicalPlan) -> Option<Vec<Branch<'_>>> {
    let (top, node) = match plan {
        LogicalPlan::Projection(p) => (Some(p), p.input.as_ref()),
        other => (None, other),
    };
    let LogicalPlan::Union(union) = node else {
        let mut branch = branch(node)?;
        if let Some(top) = top {
            branch.output = Some(folded(&top.expr, top.schema.as_ref(), branch.output.as_deref())?);
        }
        return Some(vec![branch]);
    };
    // Several tables read as one are unions of unions: their leaves, in order, are the tables.
    fn leaves<'p>(plan: &'p LogicalPlan, out: &mut Vec<&'p LogicalPlan>) {
        match plan {
            LogicalPlan::Union(u) => u.inputs.iter().for_each(|i| leaves(i, out)),
            leaf => out.push(leaf),
        }
    }
    let mut inputs = Vec::new();
    leaves(node, &mut inputs);
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        let mut branch = branch(input)?;
        let output = match top {
            Some(top) => folded(&top.expr, top.schema.as_ref(), branch.output.as_deref())?,
            None => {
                let names = union.schema.fields().iter().map(|f| Expr::Column(Column::from_name(f.name())));
                folded(&names.collect::<Vec<_>>(), union.schema.as_ref(), branch.output.as_deref())?
            }
        };
        branch.output = Some(output);
        out.push(branch);
    }
    Some(out)
}

fn branch(plan: &LogicalPlan) -> Option<Branch<'_>> {
    // Named as the projection's schema names them.
    let (output, mut node) = match plan {
        LogicalPlan::Projection(p) => {
            let named = p.expr.iter().zip(p.schema.fields()).map(|(e, f)| e.clone().unalias().alias(f.name()));
            (Some(named.collect()), p.input.as_ref())
        }
        other => (None, other),
    };
    // Filters nearest the scan first: a hunt's first `where`s say which rows are its kind
    // (a Windows channel, a product's rows) and are cheap, and a member's mark evaluates its
    // filters in order, stopping where a batch has no row left (DataFusion's `and`), so the
    // costly tests of its condition run only on batches that hold rows of its kind.
    let mut stages = Vec::new();
    loop {
        match node {
            LogicalPlan::Filter(f) => {
                stages.push(split_conjunction(&f.predicate).into_iter().cloned().collect::<Vec<_>>());
                node = f.input.as_ref();
            }
            LogicalPlan::TableScan(_) => break,
            _ => return None,
        }
    }
    let filters: Vec<Expr> = stages.into_iter().rev().flatten().collect();
    let subquery = |e: &Expr| {
        e.exists(|e| Ok(matches!(e, Expr::ScalarSubquery(_) | Expr::InSubquery(_) | Expr::Exists(_)))).unwrap_or(true)
    };
    if filters.iter().any(subquery) || filters.is_empty() {
        return None;
    }
    Some(Branch { output, filters, scan: node })
}

/// `outer` (named as `schema` says) over `inner`: each column `outer` reads replaced by the
/// `inner` expression of that name (the scan's column where there is no `inner`).
fn folded(outer: &[Expr], schema: &DFSchema, inner: Option<&[Expr]>) -> Option<Vec<Expr>> {
    // By name, once: a union's projection names hundreds of columns.
    let by_name: Option<std::collections::HashMap<&str, &Expr>> = inner.map(|exprs| {
        exprs
            .iter()
            .filter_map(|e| match e {
                Expr::Alias(a) => Some((a.name.as_str(), e)),
                _ => None,
            })
            .collect()
    });
    let inner_of = |name: &str| -> Option<Expr> {
        match &by_name {
            None => Some(Expr::Column(Column::from_name(name))),
            Some(by_name) => by_name.get(name).map(|e| (*e).clone().unalias()),
        }
    };
    outer
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut missing = false;
            let replaced = e
                .clone()
                .unalias()
                .transform(|e| match e {
                    Expr::Column(c) => match inner_of(&c.name) {
                        Some(inner) => Ok(Transformed::yes(inner)),
                        None => {
                            missing = true;
                            Ok(Transformed::no(Expr::Column(c)))
                        }
                    },
                    other => Ok(Transformed::no(other)),
                })
                .ok()?
                .data;
            (!missing).then(|| replaced.alias(schema.field(i).name()))
        })
        .collect()
}

impl ScanGroup {
    /// The members, in mark order: (the hunt, as [`Sharing::add`] was told, which of its tables).
    pub fn members(&self) -> &[(usize, usize)] {
        &self.members
    }

    /// The scan with a mark per member. It can only fail on a plan the engine would refuse
    /// anyway.
    pub fn plan(self) -> Result<SharedScan> {
        let ScanGroup { scan, members, filters, outputs, output_of, all_columns } = self;
        let first = filters.first().ok_or_else(|| DataFusionError::Internal("a shared scan with no members".into()))?;
        // What every member asks is asked once, before the marks.
        let common: Vec<Expr> = first.iter().filter(|f| filters.iter().all(|m| m.contains(f))).cloned().collect();
        let common_set: HashSet<&Expr> = common.iter().collect();
        // The table's columns some member's output reads (all of them where a member keeps the
        // table's columns as they are).
        let read: HashSet<&str> =
            outputs.iter().flatten().flat_map(|e| e.column_refs()).map(|c| c.name.as_str()).collect();
        let mut projected: Vec<Expr> = scan
            .schema()
            .columns()
            .into_iter()
            .filter(|c| all_columns || read.contains(c.name.as_str()))
            .map(Expr::Column)
            .collect();
        let columns = projected.len();
        let marks: Vec<Expr> = filters
            .iter()
            .map(|own| conjunction(own.iter().filter(|f| !common_set.contains(f)).cloned()).unwrap_or(lit(true)))
            .collect();
        // The literals the members look for in each column are looked for in one search.
        let marks = crate::literal_set::rewrite(marks, scan.schema())?;
        projected.extend(marks.into_iter().enumerate().map(|(i, mark)| mark.alias(format!("{MARK}.{i}"))));
        let mut builder = LogicalPlanBuilder::from(scan);
        if let Some(common) = conjunction(common) {
            builder = builder.filter(common)?;
        }
        let plan = builder.project(projected)?.build()?;
        Ok(SharedScan { plan, members, columns, outputs, output_of })
    }
}

/// Runs a shared scan: the rows some member keeps, dealt to the members (`Dealt`), each
/// member's in one batch.
pub async fn run(ctx: &SessionContext, scan: &SharedScan) -> std::result::Result<Vec<Vec<RecordBatch>>, crate::Error> {
    let rows = async {
        let state = ctx.state();
        let marked = if state.config().get_extension::<spoor_core::planner::Remote>().is_some() {
            marked_here(&state, scan).await?
        } else {
            crate::run::planned(&state, &scan.plan).await?
        };
        let schema = marked.schema();
        let marks = (scan.columns..schema.fields().len())
            .map(|i| Ok(Arc::new(ColumnExpr::new(schema.field(i).name(), i)) as Arc<dyn PhysicalExpr>))
            .collect::<Result<Vec<_>>>()?;
        let any = marks
            .into_iter()
            .reduce(|a, b| Arc::new(BinaryExpr::new(a, Operator::Or, b)) as Arc<dyn PhysicalExpr>)
            .ok_or_else(|| DataFusionError::Internal("a shared scan with no members".into()))?;
        let kept = Arc::new(FilterExec::try_new(any, marked)?);
        let mut stream = datafusion::physical_plan::execute_stream(kept, ctx.task_ctx())?;
        let mut dealt = Dealt::new(scan.members.len());
        while let Some(batch) = stream.next().await {
            dealt.add(scan, &batch?)?;
        }
        outputs(ctx, scan, &dealt)
    };
    rows.await.map_err(crate::run::failed)
}

/// How many members' tests one query on a cluster carries (see [`marked_here`]): a pack of
/// Sigma rules reads a table once per 32 rules, not once per rule, and each query stays small
/// enough for the scheduler to decode and plan in well under Ballista's client timeout (20 s);
/// with 256, the 202 rules of SigmaHQ's regression suite did not, on a debug build.
const MEMBERS_PER_REMOTE_QUERY: usize = 32;

/// On a cluster: the executors keep the rows some member's test keeps and send their columns;
/// the marks are computed here, on those rows only. The members are sent
/// [`MEMBERS_PER_REMOTE_QUERY`] at a time, one query each, whose rows have only their own
/// members' marks set.
///
/// Not the plan with its marks: every row of the table would come back to this process to be
/// filtered here; a scheduler rebuilding a projection of hundreds of marks (the rules of a
/// Sigma pack) resolves each of their columns against the whole plan below, in time that grows
/// with the square of the marks' size; and a plan carrying all of them (the SigmaHQ rules of
/// one table) is a message Ballista 55's client fails to send.
async fn marked_here(state: &SessionState, scan: &SharedScan) -> Result<Arc<dyn ExecutionPlan>> {
    let LogicalPlan::Projection(projection) = &scan.plan else {
        return Err(DataFusionError::Internal("a shared scan's plan ends in its marks' projection".into()));
    };
    let (columns, marks) = projection.expr.split_at(scan.columns);
    let marks: Vec<Expr> = marks.iter().map(|m| m.clone().unalias()).collect();
    let mut chunks = Vec::new();
    for (n, own) in marks.chunks(MEMBERS_PER_REMOTE_QUERY).enumerate() {
        let first = n * MEMBERS_PER_REMOTE_QUERY;
        // The columns the members' outputs read, and those these members' tests read.
        let mut sent: Vec<Expr> = columns.to_vec();
        let mut seen: HashSet<Column> = columns.iter().flat_map(|c| c.column_refs()).cloned().collect();
        for column in own.iter().flat_map(|m| m.column_refs()) {
            if seen.insert(column.clone()) {
                sent.push(Expr::Column(column.clone()));
            }
        }
        let any = disjunction(own.iter().cloned())
            .ok_or_else(|| DataFusionError::Internal("a shared scan with no members".into()))?;
        let kept = LogicalPlanBuilder::from(Arc::clone(&projection.input)).filter(any)?.project(sent)?.build()?;
        let remote = crate::run::planned(state, &kept).await?;
        let schema = kept.schema();
        // Simplified as the optimizer would have (some functions exist only to be rewritten).
        let context = SimplifyContext::builder()
            .with_schema(Arc::clone(schema))
            .with_config_options(Arc::clone(state.config_options()))
            .build();
        let simplifier = ExprSimplifier::new(context);
        let mut exprs: Vec<(Arc<dyn PhysicalExpr>, String)> = Vec::with_capacity(projection.expr.len());
        for (i, (_, field)) in projection.schema.iter().enumerate() {
            let logical = match i.checked_sub(scan.columns) {
                None => columns[i].clone().unalias(),
                Some(mark) if (first..first + own.len()).contains(&mark) => simplifier.simplify(marks[mark].clone())?,
                Some(_) => lit(false),
            };
            exprs.push((state.create_physical_expr(logical, schema)?, field.name().clone()));
        }
        chunks.push(Arc::new(ProjectionExec::try_new(exprs, remote)?) as Arc<dyn ExecutionPlan>);
    }
    match chunks.len() {
        1 => Ok(chunks.remove(0)),
        _ => Ok(UnionExec::try_new(chunks)?),
    }
}

/// Each member's output columns, computed on the rows dealt to it, one member at a time.
fn outputs(ctx: &SessionContext, scan: &SharedScan, dealt: &Dealt) -> Result<Vec<Vec<RecordBatch>>> {
    let fields = scan.plan.schema().iter().take(scan.columns).map(|(q, f)| (q.cloned(), Arc::clone(f))).collect();
    let columns = DFSchema::new_with_metadata(fields, Default::default())?;
    let state = ctx.state();
    // Each distinct output planned once, when a member with rows first needs it.
    let mut planned: Vec<Option<(Vec<Arc<dyn PhysicalExpr>>, arrow::datatypes::SchemaRef)>> =
        vec![None; scan.outputs.len()];
    let mut out = Vec::with_capacity(scan.members.len());
    for (member, output) in scan.output_of.iter().enumerate() {
        let Some(rows) = dealt.rows_of(member)? else {
            out.push(Vec::new());
            continue;
        };
        let Some(output) = *output else {
            out.push(vec![rows]);
            continue;
        };
        let (exprs, schema) = match &mut planned[output] {
            Some(done) => &*done,
            slot => {
                let exprs = &scan.outputs[output];
                let physical = exprs
                    .iter()
                    .map(|e| state.create_physical_expr(e.clone(), &columns))
                    .collect::<Result<Vec<_>>>()?;
                let fields = exprs.iter().map(|e| e.to_field(&columns).map(|(_, f)| f)).collect::<Result<Vec<_>>>()?;
                &*slot.insert((physical, Arc::new(arrow::datatypes::Schema::new(fields))))
            }
        };
        let arrays = exprs
            .iter()
            .map(|e| e.evaluate(&rows).and_then(|v| v.into_array(rows.num_rows())))
            .collect::<Result<Vec<_>>>()?;
        out.push(vec![RecordBatch::try_new(Arc::clone(schema), arrays)?]);
    }
    Ok(out)
}

/// The rows of a shared scan dealt to its members as they come: the columns before the marks,
/// and for each member (in [`SharedScan::members`] order) which of those rows its mark keeps.
/// A member's rows are gathered into one batch when asked for: a member keeps a few rows of
/// many batches, and each batch of a wide table costs its columns' buffers however few rows it
/// holds.
struct Dealt {
    rows: Vec<RecordBatch>,
    /// Per member: (batch, row) of each row it keeps, in order.
    kept: Vec<Vec<(usize, usize)>>,
}

impl Dealt {
    fn new(members: usize) -> Dealt {
        Dealt { rows: Vec::new(), kept: vec![Vec::new(); members] }
    }

    /// A batch of the scan's rows, with its marks.
    fn add(&mut self, scan: &SharedScan, batch: &RecordBatch) -> Result<()> {
        let b = self.rows.len();
        for (member, kept) in self.kept.iter_mut().enumerate() {
            let mark = batch.column(scan.columns + member);
            let mark = mark
                .as_any()
                .downcast_ref::<BooleanArray>()
                .ok_or_else(|| DataFusionError::Internal(format!("mark {member} is not true/false")))?;
            if mark.true_count() == 0 {
                continue;
            }
            // A null mark keeps no row, as a filter's null does.
            kept.extend(mark.iter().enumerate().filter(|(_, m)| *m == Some(true)).map(|(row, _)| (b, row)));
        }
        let columns: Vec<usize> = (0..scan.columns).collect();
        self.rows.push(batch.project(&columns)?);
        Ok(())
    }

    /// The rows `member` keeps, as one batch; None where it keeps none.
    fn rows_of(&self, member: usize) -> Result<Option<RecordBatch>> {
        let kept = &self.kept[member];
        if kept.is_empty() {
            return Ok(None);
        }
        let rows: Vec<&RecordBatch> = self.rows.iter().collect();
        Ok(Some(interleave_record_batch(&rows, kept)?))
    }
}
