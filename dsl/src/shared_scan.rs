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
//!
//! Memory: a pack holds one scan's tests at a time. [`Sharing`] keeps only where each hunt's
//! tables are read; each scan's members give their tests when it runs ([`ScanGroup::give`]),
//! and its plan is dropped once it has run.

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
    /// Each scan's members, to be given their tests ([`ScanGroup::give`]) and planned
    /// ([`ScanGroup::plan`]) when the scan runs.
    pub scans: Vec<ScanGroup>,
    /// Each hunt that takes part: where the rows of each of its tables come from, as (scan,
    /// member). A hunt not listed runs on its own.
    pub hunts: Vec<(usize, Vec<(usize, usize)>)>,
}

/// The scans hunts share, gathered one hunt at a time. Only where each hunt's tables are read
/// is kept: each scan's members give their tests again, from a plan made anew, when it runs
/// ([`ScanGroup::give`]). A pack of thousands of Sigma rules would otherwise hold every rule's
/// tests until its scan ran (SigmaHQ's Windows rules: 20 MiB of the peak, while the largest
/// scan ran). Planning a rule of one table again costs under a millisecond; a rule over several
/// tables is planned again for each (SigmaHQ's whole tree over a small store: 25 s instead of
/// 20). Planning it once and giving all its tables' tests then held them: 32 MiB more.
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
    /// Per member, its tests and output, once given.
    given: Vec<Option<Member>>,
}

/// What one member asks of the scan.
#[derive(Debug)]
struct Member {
    filters: Vec<Expr>,
    /// None: the table's columns as they are.
    output: Option<Vec<Expr>>,
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
                    self.groups.push(ScanGroup { scan: branch.scan.clone(), members: Vec::new(), given: Vec::new() });
                    self.groups.len() - 1
                }
            };
            let group = &mut self.groups[g];
            placed.push((g, group.members.len()));
            group.members.push((hunt, b));
            group.given.push(None);
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

    /// The hunts with members, each once, in mark order: those whose plans [`ScanGroup::give`]
    /// needs.
    pub fn hunts(&self) -> Vec<usize> {
        let mut seen = HashSet::new();
        self.members.iter().map(|(hunt, _)| *hunt).filter(|hunt| seen.insert(*hunt)).collect()
    }

    /// Gives the tests of `hunt`'s members, from its plan (made as the plan [`Sharing::add`] was
    /// given): false, and nothing given, where the plan's tables are not those it was placed by.
    /// A member not given keeps no row.
    pub fn give(&mut self, hunt: usize, plan: &LogicalPlan) -> bool {
        let Some(branches) = branches(plan) else { return false };
        let mut members = Vec::new();
        for (b, branch) in branches.into_iter().enumerate() {
            let member = self.members.iter().position(|m| *m == (hunt, b));
            match member {
                Some(m) if &self.scan == branch.scan => {
                    members.push((m, Member { filters: branch.filters, output: branch.output }))
                }
                None if &self.scan != branch.scan => {}
                _ => return false,
            }
        }
        if members.len() != self.members.iter().filter(|(h, _)| *h == hunt).count() {
            return false;
        }
        for (m, member) in members {
            self.given[m] = Some(member);
        }
        true
    }

    /// The scan with a mark per member. It can only fail on a plan the engine would refuse
    /// anyway.
    pub fn plan(self) -> Result<SharedScan> {
        let ScanGroup { scan, members, given } = self;
        // Each member's filters (none keep a row for a member not given), and output.
        let mut filters = Vec::with_capacity(given.len());
        let mut outputs: Vec<Vec<Expr>> = Vec::new();
        let mut output_of = Vec::with_capacity(given.len());
        let mut all_columns = false;
        for member in given {
            let Some(Member { filters: own, output }) = member else {
                filters.push(None);
                output_of.push(None);
                continue;
            };
            filters.push(Some(own));
            let output = output.map(|output| {
                outputs.iter().position(|o| *o == output).unwrap_or_else(|| {
                    outputs.push(output);
                    outputs.len() - 1
                })
            });
            all_columns |= output.is_none();
            output_of.push(output);
        }
        let mut asking = filters.iter().flatten();
        let first = asking.next().ok_or_else(|| DataFusionError::Internal("a shared scan with no members".into()))?;
        // What every member asks is asked once, before the marks.
        let common: Vec<Expr> = first.iter().filter(|f| asking.clone().all(|m| m.contains(f))).cloned().collect();
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
            .map(|own| match own {
                Some(own) => conjunction(own.iter().filter(|f| !common_set.contains(f)).cloned()).unwrap_or(lit(true)),
                None => lit(false),
            })
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
pub async fn run(ctx: &SessionContext, scan: SharedScan) -> std::result::Result<Vec<Vec<RecordBatch>>, crate::Error> {
    let rows = async {
        let state = ctx.state();
        let SharedScan { plan, members, columns, outputs, output_of } = scan;
        // The columns before the marks, which the members' outputs read.
        let fields = plan.schema().iter().take(columns).map(|(q, f)| (q.cloned(), Arc::clone(f))).collect();
        let before_marks = DFSchema::new_with_metadata(fields, Default::default())?;
        let marked = if state.config().get_extension::<spoor_core::planner::Remote>().is_some() {
            marked_here(&state, &plan, columns).await?
        } else {
            crate::run::planned(&state, &plan).await?
        };
        // The logical marks (hundreds of rules' tests) are not needed once planned.
        drop(plan);
        let schema = marked.schema();
        let marks = (columns..schema.fields().len())
            .map(|i| Ok(Arc::new(ColumnExpr::new(schema.field(i).name(), i)) as Arc<dyn PhysicalExpr>))
            .collect::<Result<Vec<_>>>()?;
        let any = marks
            .into_iter()
            .reduce(|a, b| Arc::new(BinaryExpr::new(a, Operator::Or, b)) as Arc<dyn PhysicalExpr>)
            .ok_or_else(|| DataFusionError::Internal("a shared scan with no members".into()))?;
        let kept = Arc::new(FilterExec::try_new(any, marked)?);
        let mut stream = datafusion::physical_plan::execute_stream(kept, ctx.task_ctx())?;
        let mut dealt = Dealt::new(members.len(), columns);
        while let Some(batch) = stream.next().await {
            dealt.add(&batch?)?;
        }
        member_outputs(ctx, &before_marks, &outputs, &output_of, &dealt)
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
async fn marked_here(state: &SessionState, plan: &LogicalPlan, before_marks: usize) -> Result<Arc<dyn ExecutionPlan>> {
    let LogicalPlan::Projection(projection) = plan else {
        return Err(DataFusionError::Internal("a shared scan's plan ends in its marks' projection".into()));
    };
    let (columns, marks) = projection.expr.split_at(before_marks);
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
            let logical = match i.checked_sub(before_marks) {
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

/// Each member's output columns ([`SharedScan::outputs`], over `columns`), computed on the rows
/// dealt to it, one member at a time.
fn member_outputs(
    ctx: &SessionContext,
    columns: &DFSchema,
    outputs: &[Vec<Expr>],
    output_of: &[Option<usize>],
    dealt: &Dealt,
) -> Result<Vec<Vec<RecordBatch>>> {
    let state = ctx.state();
    // Each distinct output planned once, when a member with rows first needs it.
    let mut planned: Vec<Option<(Vec<Arc<dyn PhysicalExpr>>, arrow::datatypes::SchemaRef)>> = vec![None; outputs.len()];
    let mut out = Vec::with_capacity(output_of.len());
    for (member, output) in output_of.iter().enumerate() {
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
                let exprs = &outputs[output];
                let physical =
                    exprs.iter().map(|e| state.create_physical_expr(e.clone(), columns)).collect::<Result<Vec<_>>>()?;
                let fields = exprs.iter().map(|e| e.to_field(columns).map(|(_, f)| f)).collect::<Result<Vec<_>>>()?;
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
    /// How many columns come before the marks.
    columns: usize,
    rows: Vec<RecordBatch>,
    /// Per member: (batch, row) of each row it keeps, in order.
    kept: Vec<Vec<(usize, usize)>>,
}

impl Dealt {
    fn new(members: usize, columns: usize) -> Dealt {
        Dealt { columns, rows: Vec::new(), kept: vec![Vec::new(); members] }
    }

    /// A batch of the scan's rows, with its marks.
    fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        let b = self.rows.len();
        for (member, kept) in self.kept.iter_mut().enumerate() {
            let mark = batch.column(self.columns + member);
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
        let columns: Vec<usize> = (0..self.columns).collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::logical_expr::col;

    fn table(name: &str) -> RecordBatch {
        let schema = Schema::new(vec![Field::new("n", DataType::Int64, false), Field::new("s", DataType::Utf8, true)]);
        let n = Int64Array::from(vec![1, 2, 3, 4]);
        let s = StringArray::from(vec![Some(name), Some("b"), None, Some("b")]);
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(n), Arc::new(s)]).unwrap()
    }

    /// A hunt that keeps the rows of `table` that pass `filter`.
    async fn keep(ctx: &SessionContext, table: &str, filter: Expr) -> LogicalPlan {
        ctx.table(table).await.unwrap().filter(filter).unwrap().into_unoptimized_plan()
    }

    #[tokio::test]
    async fn members_give_their_tests_when_the_scan_runs() {
        let ctx = SessionContext::new();
        ctx.register_batch("t", table("a")).unwrap();
        ctx.register_batch("u", table("c")).unwrap();
        let hunts = [keep(&ctx, "t", col("n").gt(lit(2i64))).await, keep(&ctx, "t", col("s").eq(lit("b"))).await];
        let mut sharing = Sharing::default();
        assert!(sharing.add(0, &hunts[0]) && sharing.add(1, &hunts[1]));
        let SharedScans { mut scans, hunts: placed } = sharing.finish();
        assert_eq!((scans.len(), placed), (1, vec![(0, vec![(0, 0)]), (1, vec![(0, 1)])]));
        let mut group = scans.remove(0);
        assert_eq!(group.hunts(), [0, 1]);
        // A plan over another table is not the one the hunt was placed by: nothing is given.
        assert!(!group.give(0, &keep(&ctx, "u", col("n").gt(lit(2i64))).await));
        // Hunt 1 never gives its tests: its member keeps no row, and the other's rows are
        // those of its own filter.
        assert!(group.give(0, &hunts[0]));
        let rows = run(&ctx, group.plan().unwrap()).await.unwrap();
        let kept: Vec<usize> = rows.iter().map(|r| r.iter().map(RecordBatch::num_rows).sum()).collect();
        assert_eq!(kept, [2, 0]);
    }
}
