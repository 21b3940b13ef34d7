//! Stage 3, lower: [`crate::ir::Hunt`] → DataFusion [`LogicalPlan`], built with `LogicalPlanBuilder`
//! and `Expr`. The engine's optimizer then pushes filters into the Parquet scans (row-group and
//! `date` partition pruning) and picks join strategies.

mod expr;
mod prune;
mod sequence;
pub mod shared;
mod stages;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::common::{Column, JoinType, UnnestOptions};
use datafusion::error::{DataFusionError, Result};
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::expr_rewriter::normalize_col;
use datafusion::logical_expr::{
    Aggregate, Expr, ExprFunctionExt, Filter, LogicalPlan, LogicalPlanBuilder, Projection, Sort, SortExpr, TableSource,
    WindowFunctionDefinition, cast, lit,
};
use datafusion::scalar::ScalarValue;

use spoor_core::keep_first::KeepFirst;

use crate::ir::{Rel, RelKind};
use crate::options::RunOptions;
use crate::types::Type;

pub use expr::{col, glob_to_like};

/// The table sources a plan reads, by name (store tables, lookups).
pub type Sources = HashMap<String, Arc<dyn TableSource>>;

/// Lowers a resolved hunt to a logical plan, each `let` planned at each of its uses.
pub fn lower(hunt: &crate::ir::Hunt, sources: &Sources, options: &RunOptions) -> Result<LogicalPlan> {
    lower_sharing(hunt, sources, options, &HashSet::new())
}

/// As [`lower`], with the `let`s named in `shared` planned once for all their uses (see
/// [`shared`]; [`shared::chosen`] picks them).
pub fn lower_sharing(
    hunt: &crate::ir::Hunt,
    sources: &Sources,
    options: &RunOptions,
    shared: &HashSet<String>,
) -> Result<LogicalPlan> {
    let pruned = prune::needed(&hunt.query, shared);
    let lowerer = Lowerer {
        sources,
        options,
        needed: pruned.needed,
        shared: pruned.shared,
        planned: RefCell::new(HashMap::new()),
    };
    let plan = lowerer.rel(&hunt.query)?;
    // Results are plain Arrow: decoded bytes show as text (invalid UTF-8 as U+FFFD) and
    // dictionary-stored text as text, whatever the storage chose for speed.
    let schema = plan.schema().clone();
    let plain: Vec<Option<arrow::datatypes::DataType>> = hunt
        .query
        .fields
        .iter()
        .map(|f| {
            let index = schema.index_of_column_by_name(None, &f.name)?;
            spoor_core::schema::without_dictionaries(schema.field(index).data_type())
        })
        .collect();
    if !hunt.query.fields.iter().any(|f| f.ty == Type::Bytes) && plain.iter().all(Option::is_none) {
        return plan.build();
    }
    let items = hunt.query.fields.iter().zip(plain).map(|(f, plain)| match (&f.ty, plain) {
        (Type::Bytes, _) => crate::functions::bytes_to_text(col(&f.name)).alias(&f.name),
        (_, Some(plain)) => cast(col(&f.name), plain).alias(&f.name),
        (_, None) => col(&f.name),
    });
    plan.projected(items)?.build()
}

pub(crate) struct Lowerer<'a> {
    sources: &'a Sources,
    options: &'a RunOptions,
    needed: prune::Needed,
    /// The `let`s computed once: the copy of each definition to plan.
    shared: HashMap<String, &'a Rel>,
    /// Those planned so far, as the table their uses read.
    planned: RefCell<HashMap<String, Arc<dyn TableSource>>>,
}

/// The `date` partition column of store tables.
const DATE: &str = spoor_core::session::DATE_PARTITION;

impl Lowerer<'_> {
    /// The fields of `rel` the stages above it use (all of them when it was not analysed).
    pub(crate) fn output<'r>(&self, rel: &'r Rel) -> Vec<&'r crate::ir::Field> {
        match self.needed.get(&(rel as *const Rel)) {
            Some(needed) => rel.fields.iter().filter(|f| needed.contains(&f.name)).collect(),
            None => rel.fields.iter().collect(),
        }
    }

    fn is_needed(&self, rel: &Rel, name: &str) -> bool {
        self.needed.get(&(rel as *const Rel)).is_none_or(|n| n.contains(name))
    }

    fn expr(&self, e: &crate::ir::TExpr) -> Expr {
        expr::expr(e, self.options)
    }

    pub(crate) fn rel(&self, rel: &Rel) -> Result<LogicalPlanBuilder> {
        match &rel.kind {
            RelKind::Scan { table, builtin, history } => self.scan(table, *builtin && !*history, rel),
            RelKind::Values { values, ty } => {
                if values.is_empty() {
                    // An empty list: a relation with the column and no rows.
                    let empty = LogicalPlanBuilder::values(vec![vec![lit(ScalarValue::Utf8(None))]])?;
                    return empty.keep(lit(false))?.projected([col("column1").alias("value")]);
                }
                let rows: Vec<Vec<Expr>> = values.iter().map(|v| vec![expr::value(v, ty)]).collect();
                LogicalPlanBuilder::values(rows)?.projected([col("column1").alias("value")])
            }
            RelKind::Union(inputs) => {
                let mut out: Option<LogicalPlanBuilder> = None;
                for input in inputs {
                    let items: Vec<Expr> = self
                        .output(rel)
                        .into_iter()
                        .map(|f| match input.field(&f.name) {
                            Some(_) => col(&f.name),
                            None => cast(lit(ScalarValue::Null), data_type(&f.ty)).alias(&f.name),
                        })
                        .collect();
                    let plan = self.rel(input)?.projected(items)?.build()?;
                    out = Some(match out {
                        None => LogicalPlanBuilder::from(plan),
                        Some(b) => b.union(plan)?,
                    });
                }
                out.ok_or_else(|| DataFusionError::Internal("union of no inputs".into()))
            }
            RelKind::Filter { input, predicate } => self.rel(input)?.keep(self.expr(predicate)),
            RelKind::Project { input, items } => self
                .rel(input)?
                .projected(items.iter().filter(|(n, _)| self.is_needed(rel, n)).map(|(n, e)| self.expr(e).alias(n))),
            RelKind::Sort { input, keys } => {
                let keys: Vec<SortExpr> = keys.iter().map(|(e, desc)| self.expr(e).sort(!desc, *desc)).collect();
                self.rel(input)?.ordered(keys)
            }
            RelKind::Limit { input, n } => self.rel(input)?.limit(0, Some(usize::try_from(*n).unwrap_or(usize::MAX))),
            RelKind::Distinct { input, fields } => {
                self.rel(input)?.projected(fields.iter().map(|f| col(f)))?.distinct()
            }
            RelKind::Dedup { input, fields } => {
                let inner = self.rel(input)?;
                let order = event_order(input, "");
                keep_first(inner, fields.iter().map(|f| col(f)).collect(), order)?
                    .projected(self.output(rel).into_iter().map(|f| col(&f.name)))
            }
            RelKind::Expand { input, field } => self
                .rel(input)?
                .unnest_column_with_options(Column::from_name(field), UnnestOptions::new().with_preserve_nulls(false)),
            RelKind::Aggregate { input, groups, aggregates } => {
                let groups: Vec<Expr> = groups.iter().map(|(n, e)| self.expr(e).alias(n)).collect();
                let order = event_order(input, "");
                let finished: Vec<Expr> = rel
                    .fields
                    .iter()
                    .map(|f| match aggregates.iter().find(|(n, _)| *n == f.name) {
                        Some((n, a)) => finish(a, n),
                        None => col(&f.name),
                    })
                    .collect();
                let aggregates: Vec<Expr> =
                    aggregates.iter().map(|(n, a)| Ok(self.aggregate(a, &order)?.alias(n))).collect::<Result<_>>()?;
                self.rel(input)?.grouped(groups, aggregates)?.projected(finished)
            }
            RelKind::Stack { input, rare, fields, across, limit } => {
                self.stack(self.rel(input)?, *rare, fields, across.as_deref(), *limit)
            }
            RelKind::Lookup { input, list, alias, field, column, mode, keep } => {
                let join = if *keep { JoinType::Left } else { JoinType::Inner };
                self.lookup(input, list, alias, field, column, *mode, join, rel)
            }
            RelKind::Beacon { input, by } => {
                self.beacon(self.rel(input)?, by, input.field(crate::ir::BEACON_SIZE).is_some())
            }
            RelKind::Window { input, windows } => {
                // Unnamed in the window nodes, named by a projection above them, as DataFusion's
                // SQL planner does (its physical planner takes window expressions unaliased).
                let mut computed: Vec<(&str, Expr)> = Vec::new();
                for w in windows.iter().filter(|w| self.is_needed(rel, &w.name)) {
                    computed.push((&w.name, over(self.aggregate(&w.aggregate, &[])?, &w.by, w.within)?));
                }
                let input = self.rel(input)?.build()?;
                if computed.is_empty() {
                    return Ok(LogicalPlanBuilder::from(input));
                }
                // Qualified as the window node will qualify them, so their names are its columns'.
                for (_, e) in &mut computed {
                    *e = datafusion::logical_expr::expr_rewriter::normalize_col(e.clone(), &input)?;
                }
                // One window node per partitioning, as the engine requires.
                let distinct: Vec<Expr> = computed.iter().map(|(_, e)| e.clone()).fold(Vec::new(), |mut all, e| {
                    if !all.contains(&e) {
                        all.push(e);
                    }
                    all
                });
                let windowed = LogicalPlanBuilder::window_plan(input, distinct)?;
                LogicalPlanBuilder::from(windowed).projected(self.output(rel).into_iter().map(|f| {
                    match computed.iter().find(|(n, _)| *n == f.name) {
                        Some((n, e)) => Expr::Column(Column::from_name(e.schema_name().to_string())).alias(*n),
                        None => col(&f.name),
                    }
                }))
            }
            RelKind::Sequence(s) => self.sequence(s, rel),
            RelKind::Chain(c) => self.chain(c, rel),
            RelKind::Let { name, input } => match self.shared.get(name) {
                None => self.rel(input),
                Some(definition) => {
                    let source = self.planned_once(name, definition)?;
                    let schema = source.schema();
                    let indices = self
                        .output(rel)
                        .into_iter()
                        .map(|f| schema.index_of(&f.name))
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    LogicalPlanBuilder::scan(name.as_str(), source, Some(indices))
                }
            },
        }
    }

    /// The table every use of the shared `let` `name` reads: its definition, planned on first use.
    fn planned_once(&self, name: &str, definition: &Rel) -> Result<Arc<dyn TableSource>> {
        if let Some(source) = self.planned.borrow().get(name) {
            return Ok(Arc::clone(source));
        }
        let plan =
            self.rel(definition)?.projected(self.output(definition).into_iter().map(|f| col(&f.name)))?.build()?;
        let source = datafusion::datasource::provider_as_source(Arc::new(shared::SharedLet::new(name, plan)));
        self.planned.borrow_mut().insert(name.to_string(), Arc::clone(&source));
        Ok(source)
    }

    /// A table, read within the run's window where `windowed` (spoor's own tables, unless read
    /// with `history`).
    fn scan(&self, table: &str, windowed: bool, rel: &Rel) -> Result<LogicalPlanBuilder> {
        let source = self
            .sources
            .get(table)
            .ok_or_else(|| DataFusionError::Plan(format!("table `{table}` is not registered in this session")))?;
        let Some((start, end)) = self.options.window.filter(|_| windowed) else {
            // Only the hunt's columns, named in the scan itself (exported SQL stays `SELECT .. FROM t`).
            let schema = source.schema();
            let indices =
                rel.fields.iter().map(|f| schema.index_of(&f.name)).collect::<std::result::Result<Vec<_>, _>>()?;
            return LogicalPlanBuilder::scan(table, Arc::clone(source), Some(indices));
        };
        let mut builder = LogicalPlanBuilder::scan(table, Arc::clone(source), None)?;
        {
            let has_date = source.schema().field_with_name(DATE).is_ok();
            let ts = col("@timestamp");
            let mut predicate =
                ts.clone().gt_eq(expr::time(start.timestamp_micros())).and(ts.lt(expr::time(end.timestamp_micros())));
            if has_date {
                // Partition pruning: whole `date=` directories outside the window are skipped.
                let day = |t: DateTime<Utc>| {
                    lit(ScalarValue::Date32(Some((t.date_naive() - chrono::NaiveDate::default()).num_days() as i32)))
                };
                predicate = predicate.and(col(DATE).gt_eq(day(start))).and(col(DATE).lt_eq(day(end)));
            }
            builder = builder.keep(predicate)?;
        }
        builder.projected(self.output(rel).into_iter().map(|f| col(&f.name)))
    }

    fn aggregate(&self, a: &crate::ir::Aggregate, order: &[SortExpr]) -> Result<Expr> {
        use crate::ir::AggregateFunction::*;
        let arg = || a.arg.as_ref().map(|e| self.expr(e)).unwrap_or(lit(1));
        Ok(match a.function {
            Count => match &a.arg {
                None => agg::count(lit(1)),
                Some(_) => agg::count(arg()),
            },
            CountDistinct => agg::count_distinct(arg()),
            Min => agg::min(arg()),
            Max => agg::max(arg()),
            Sum => agg::sum(arg()),
            Avg => agg::avg(arg()),
            Stddev => agg::stddev_pop(arg()),
            First => agg::first_value(arg(), order.to_vec()),
            Last => agg::last_value(arg(), order.to_vec()),
            // Sorted afterwards by `finish`: ordered by its argument, the aggregate would have
            // its whole input sorted first (206 K DNS rows for `c2.rare-domains`) where sorting
            // each group's few distinct values is enough.
            Values => agg::array_agg(arg()).distinct().build()?,
            List => agg::array_agg(arg()).order_by(order.to_vec()).build()?,
        })
    }
}

/// An aggregate over the rows that share the values of `by` (all rows when there are none);
/// with `within`, over those of them no more than that many microseconds before the row.
pub(crate) fn over(aggregate: Expr, by: &[String], within: Option<i64>) -> Result<Expr> {
    let Expr::AggregateFunction(f) = aggregate else {
        return Err(DataFusionError::Internal(format!("`{aggregate}` is not an aggregate function")));
    };
    let mut window = datafusion::logical_expr::expr::WindowFunction::new(
        WindowFunctionDefinition::AggregateUDF(f.func),
        f.params.args,
    );
    window.params.partition_by = by.iter().map(|b| col(b)).collect();
    window.params.distinct = f.params.distinct;
    if let Some(micros) = within {
        use datafusion::logical_expr::{WindowFrame, WindowFrameBound, WindowFrameUnits};
        let span = ScalarValue::new_interval_mdn(0, 0, micros.saturating_mul(1000));
        window.params.order_by = vec![col("@timestamp").sort(true, false)];
        window.params.window_frame = WindowFrame::new_bounds(
            WindowFrameUnits::Range,
            WindowFrameBound::Preceding(span),
            WindowFrameBound::CurrentRow,
        );
    }
    Ok(Expr::WindowFunction(Box::new(window)))
}

/// An aggregate's column as the stage outputs it: `values()` sorted (ascending, nulls last).
fn finish(a: &crate::ir::Aggregate, name: &str) -> Expr {
    match a.function {
        crate::ir::AggregateFunction::Values => {
            datafusion::functions_nested::expr_fn::array_sort(col(name), lit("ASC"), lit("NULLS LAST")).alias(name)
        }
        _ => col(name),
    }
}

/// Plan nodes built directly. `LogicalPlanBuilder` qualifies every column by walking the whole
/// input plan, once per call, which made lowering a sequence quadratic in its size (5 ms for a
/// 50-line hunt). spoor names every column unqualified and unique, so there is nothing to qualify.
pub(crate) trait Direct: Sized {
    fn projected(self, exprs: impl IntoIterator<Item = Expr>) -> Result<LogicalPlanBuilder>;
    fn keep(self, predicate: Expr) -> Result<LogicalPlanBuilder>;
    fn ordered(self, keys: Vec<SortExpr>) -> Result<LogicalPlanBuilder>;
    fn grouped(
        self,
        groups: impl IntoIterator<Item = Expr>,
        aggregates: impl IntoIterator<Item = Expr>,
    ) -> Result<LogicalPlanBuilder>;
}

impl Direct for LogicalPlanBuilder {
    fn projected(self, exprs: impl IntoIterator<Item = Expr>) -> Result<LogicalPlanBuilder> {
        let node = Projection::try_new(exprs.into_iter().collect(), Arc::new(self.build()?))?;
        Ok(LogicalPlanBuilder::from(LogicalPlan::Projection(node)))
    }

    fn keep(self, predicate: Expr) -> Result<LogicalPlanBuilder> {
        Ok(LogicalPlanBuilder::from(LogicalPlan::Filter(Filter::try_new(predicate, Arc::new(self.build()?))?)))
    }

    fn ordered(self, keys: Vec<SortExpr>) -> Result<LogicalPlanBuilder> {
        Ok(LogicalPlanBuilder::from(LogicalPlan::Sort(Sort {
            expr: keys,
            input: Arc::new(self.build()?),
            fetch: None,
        })))
    }

    /// The aggregates' names are given in a projection above the `Aggregate`, as DataFusion's
    /// SQL planner does: its optimizer recognizes aggregates only unnamed (a lone
    /// `count_distinct` by some key becomes a grouping on key and value, then a count, instead
    /// of a hash set per group).
    fn grouped(
        self,
        groups: impl IntoIterator<Item = Expr>,
        aggregates: impl IntoIterator<Item = Expr>,
    ) -> Result<LogicalPlanBuilder> {
        let groups: Vec<Expr> = groups.into_iter().collect();
        let mut unnamed: Vec<Expr> = Vec::new();
        let mut outputs: Vec<(usize, Option<String>)> = Vec::new();
        for aggregate in aggregates {
            let (aggregate, name) = match aggregate {
                Expr::Alias(alias) => (*alias.expr, Some(alias.name)),
                other => (other, None),
            };
            // The same aggregate twice under two names is computed once.
            let index = match unnamed.iter().position(|u| *u == aggregate) {
                Some(index) => index,
                None => {
                    unnamed.push(aggregate);
                    unnamed.len() - 1
                }
            };
            outputs.push((index, name));
        }
        let group_count = groups.len();
        // The aggregates' columns qualified by their table, as DataFusion's builder would: their
        // names (`min(audit.@timestamp)`) are then those a plan rebuilt from its serialized form
        // gives them, as a cluster does. (Not the groups': a group column keeps its name either
        // way, and qualified beside its unqualified alias it would be ambiguous.)
        let input = self.build()?;
        let unnamed = unnamed.into_iter().map(|e| normalize_col(e, &input)).collect::<Result<Vec<_>>>()?;
        let node = Aggregate::try_new(Arc::new(input), groups, unnamed)?;
        let schema = Arc::clone(&node.schema);
        let column = |i: usize| Expr::Column(Column::from(schema.qualified_field(i)));
        let mut named: Vec<Expr> = (0..group_count).map(column).collect();
        named.extend(outputs.into_iter().map(|(index, name)| {
            let value = column(group_count + index);
            match name {
                Some(name) => value.alias(name),
                None => value,
            }
        }));
        LogicalPlanBuilder::from(LogicalPlan::Aggregate(node)).projected(named)
    }
}

/// The order events happened in: time, then file and line, so ties break the same way every run.
pub(crate) fn event_order(rel: &Rel, prefix: &str) -> Vec<SortExpr> {
    ["@timestamp", "log.file.path", "log.file.line"]
        .iter()
        .map(|c| format!("{prefix}{c}"))
        .filter(|c| rel.field(c).is_some())
        .map(|c| col(&c).sort(true, false))
        .collect()
}

/// Of each group of rows with equal `keys`, the first by `order` (spoor's own operator; see
/// `spoor_core::keep_first`).
pub(crate) fn keep_first(
    input: LogicalPlanBuilder,
    keys: Vec<Expr>,
    order: Vec<SortExpr>,
) -> Result<LogicalPlanBuilder> {
    Ok(LogicalPlanBuilder::from(KeepFirst::new(input.build()?, keys, order).into_plan()))
}

pub(crate) fn data_type(ty: &Type) -> arrow::datatypes::DataType {
    use arrow::datatypes::{DataType, Field};
    match ty {
        Type::Text | Type::Ip => DataType::Utf8,
        Type::Int | Type::Duration => DataType::Int64,
        Type::Float => DataType::Float64,
        Type::Bool => DataType::Boolean,
        Type::Time => expr::time_type(),
        Type::Bytes => DataType::Binary,
        Type::List(inner) => DataType::List(Arc::new(Field::new("item", data_type(inner), true))),
        Type::Map => spoor_core::schema::Kind::Map.data_type(),
        Type::Null => DataType::Null,
    }
}

pub(crate) use expr::interval;
