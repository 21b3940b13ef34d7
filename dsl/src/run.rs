//! The stages put together against a DataFusion session: check, compile, run, explain, export.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::common::runtime::SpawnedTask;
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::error::DataFusionError;
use datafusion::execution::SessionState;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, Operator, binary_expr};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::unparser::Unparser;
use datafusion::sql::unparser::dialect::{DefaultDialect, Dialect};

use crate::catalog::Catalog;
use crate::diagnostic::Diagnostics;
use crate::functions;
use crate::ir::{self, Rel};
use crate::lower::{Sources, shared};
use crate::options::RunOptions;
use crate::resolve::{ParamValues, Resolved};

/// A hunt that failed: the author's mistake (diagnostics to show with the source), or the
/// engine's failure while planning or running.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Hunt(Diagnostics),
    #[error("query engine: {0}")]
    Engine(#[from] DataFusionError),
    /// The memory limit was reached by an operator that cannot spill (or spilling was not enough).
    #[error(
        "the hunt needs more memory than its limit allows: raise the limit (--memory-limit, memory_limit) or read less (--since, tighter filters) ({0})"
    )]
    ResourcesExhausted(String),
    #[error(
        "the hunt ran longer than its time limit of {0:?} and was stopped: raise the limit (--timeout, timeout) or read less (--since, tighter filters)"
    )]
    TimedOut(std::time::Duration),
}

/// Parses and resolves a hunt against a catalog: everything `spoor check` reports.
/// Syntax errors do not hide the others: what parsed is resolved too, and all are reported.
pub fn check(source: &str, catalog: &Catalog, params: &ParamValues) -> Result<Resolved, Diagnostics> {
    let (ast, mut diagnostics) = crate::parser::parse_recovering(source);
    let Some(ast) = ast else { return Err(diagnostics) };
    match crate::resolve::resolve(&ast, catalog, params) {
        Ok(resolved) if !diagnostics.has_errors() => Ok(resolved),
        Ok(resolved) => {
            diagnostics.extend(resolved.warnings);
            Err(diagnostics.sorted())
        }
        Err(more) => {
            diagnostics.extend(more);
            Err(diagnostics.sorted())
        }
    }
}

/// The store's tables plus every other table registered in the session (lookups, IOC lists).
pub async fn catalog(ctx: &SessionContext) -> Result<Catalog, DataFusionError> {
    let mut catalog = Catalog::standard();
    for name in ctx.catalog("datafusion").and_then(|c| c.schema("public")).map(|s| s.table_names()).unwrap_or_default()
    {
        if spoor_core::Table::from_name(&name).is_some() {
            continue;
        }
        if let Ok(provider) = ctx.table_provider(name.as_str()).await {
            catalog.add(&name, &provider.schema());
        }
    }
    Ok(catalog)
}

/// A hunt ready to run.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub hunt: ir::Hunt,
    pub warnings: Diagnostics,
    /// DataFusion's logical plan, with spoor's own nodes (`KeepFirst`) in it: run it with
    /// [`run`], or in a session from `spoor_core::session`, whose planner knows them.
    pub plan: LogicalPlan,
}

/// Parse → resolve → lower, against the tables of `ctx`.
pub async fn compile(
    ctx: &SessionContext,
    source: &str,
    params: &ParamValues,
    options: &RunOptions,
) -> Result<Compiled, Error> {
    compile_with(ctx, &catalog(ctx).await?, source, params, options).await
}

/// [`compile`] against a catalog of `ctx`'s tables already read (one for every hunt of a pack).
pub async fn compile_with(
    ctx: &SessionContext,
    catalog: &Catalog,
    source: &str,
    params: &ParamValues,
    options: &RunOptions,
) -> Result<Compiled, Error> {
    let resolved = check(source, catalog, params).map_err(Error::Hunt)?;
    let sources = sources(ctx, &resolved.hunt.query).await?;
    let shared = shared::chosen(&resolved.hunt.query, |table| small(ctx, &sources, table));
    let plan = crate::lower::lower_sharing(&resolved.hunt, &sources, options, &shared)?;
    Ok(Compiled { hunt: resolved.hunt, warnings: resolved.warnings, plan })
}

/// A table that a `let` computed once may read: a small store table
/// (`spoor_core::session::SMALL_TABLE_BYTES`) or one held in memory (IOC lists, frames from a
/// notebook). None on a cluster: there the whole hunt is one plan, its `let`s joined in it, and
/// no rows come back to this process before its results.
fn small(ctx: &SessionContext, sources: &Sources, table: &str) -> bool {
    let state = ctx.state_ref();
    let state = state.read();
    let config = state.config();
    if config.get_extension::<spoor_core::planner::Remote>().is_some() {
        return false;
    }
    let in_memory = sources
        .get(table)
        .and_then(|source| datafusion::datasource::source_as_provider(source).ok())
        .is_some_and(|provider| provider.is::<MemTable>());
    let sizes = config.get_extension::<spoor_core::session::TableSizes>();
    in_memory || sizes.is_some_and(|s| s.is_small(table))
}

/// Runs `hunt` (compiling and running one, say), stopping it past `limit`: the query's future is
/// dropped, which cancels every task DataFusion started for it.
pub async fn within<T>(
    limit: Option<std::time::Duration>,
    hunt: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match limit {
        None => hunt.await,
        Some(limit) => tokio::time::timeout(limit, hunt).await.unwrap_or(Err(Error::TimedOut(limit))),
    }
}

/// The rows a compiled hunt finds.
pub async fn run(ctx: &SessionContext, compiled: &Compiled) -> Result<Vec<RecordBatch>, Error> {
    run_plan(ctx, &compiled.plan).await
}

/// The rows of a plan the lowering made (a hunt's, or a [`crate::shared_scan::SharedScan`]'s).
pub async fn run_plan(ctx: &SessionContext, plan: &LogicalPlan) -> Result<Vec<RecordBatch>, Error> {
    let collected = async {
        // Held while the plan runs: the memory its computed `let`s take is counted until then.
        let prepared = prepared(ctx, plan).await?;
        datafusion::physical_plan::collect(Arc::clone(&prepared.plan), ctx.task_ctx()).await
    };
    collected.await.map_err(failed)
}

/// `plan` optimized, then planned by spoor's planner (which knows spoor's own operators)
/// whichever planner `ctx` has, unless it runs elsewhere ([`spoor_core::planner::physical`]).
pub async fn planned(state: &SessionState, plan: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>, DataFusionError> {
    spoor_core::planner::physical(state, &state.optimize(plan)?).await
}

/// A hunt ready to run: its physical plan, reading the rows of the `let`s computed once
/// ([`crate::lower::shared`]), which are computed.
pub struct Prepared {
    pub plan: Arc<dyn ExecutionPlan>,
    /// Each computed `let`'s name and the plan that computed it, with its metrics.
    pub lets: Vec<(String, Arc<dyn ExecutionPlan>)>,
    /// The memory the `let`s' rows take, counted in the session's memory pool (so against
    /// `--memory-limit`) until this is dropped.
    _held: Vec<MemoryReservation>,
}

/// Computes the `let`s `plan` computes once while the optimizer works on `plan` itself, then
/// plans it to read their rows. The two overlap because, on the small tables such `let`s read,
/// each takes about as long as the other (a few milliseconds): the optimizer needs only the
/// `let`s' schemas, and the physical planner their rows (for their sizes, which pick each
/// join's sides).
pub async fn prepared(ctx: &SessionContext, plan: &LogicalPlan) -> Result<Prepared, DataFusionError> {
    let state = ctx.state();
    let definitions = shared::definitions(plan);
    if definitions.is_empty() {
        return Ok(Prepared { plan: planned(&state, plan).await?, lets: Vec::new(), _held: Vec::new() });
    }
    // Aborted when dropped, as when the hunt is stopped while the optimizer works.
    let computing = SpawnedTask::spawn(computed(ctx.clone(), definitions));
    let optimized = state.optimize(plan)?;
    let lets = computing.join().await.map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))??;
    let physical = spoor_core::planner::physical(&state, &shared::reading(optimized, &lets.rows)?).await?;
    Ok(Prepared { plan: physical, lets: lets.plans, _held: lets.held })
}

/// The rows of shared `let`s, as tables by name, with what computed them.
struct Computed {
    rows: HashMap<String, Arc<dyn TableProvider>>,
    plans: Vec<(String, Arc<dyn ExecutionPlan>)>,
    held: Vec<MemoryReservation>,
}

/// Computes `definitions` in order, so each reads the rows of those before it.
async fn computed(ctx: SessionContext, definitions: Vec<Arc<dyn TableProvider>>) -> Result<Computed, DataFusionError> {
    let state = ctx.state();
    let mut out = Computed { rows: HashMap::new(), plans: Vec::new(), held: Vec::new() };
    for provider in definitions {
        let Some(definition) = provider.downcast_ref::<shared::SharedLet>() else { continue };
        let physical = planned(&state, &shared::reading(definition.plan().clone(), &out.rows)?).await?;
        let batches = datafusion::physical_plan::collect(Arc::clone(&physical), ctx.task_ctx()).await?;
        let consumer = MemoryConsumer::new(format!("let {}", definition.name()));
        let reservation = consumer.register(&ctx.runtime_env().memory_pool);
        reservation.try_grow(batches.iter().map(RecordBatch::get_array_memory_size).sum())?;
        out.held.push(reservation);
        out.rows.insert(definition.name().to_string(), Arc::new(MemTable::try_new(provider.schema(), vec![batches])?));
        out.plans.push((definition.name().to_string(), physical));
    }
    Ok(out)
}

/// A failed run: out of memory is the user's to fix (a limit or a narrower hunt); the rest is
/// the engine's.
pub(crate) fn failed(e: DataFusionError) -> Error {
    match e.find_root() {
        DataFusionError::ResourcesExhausted(reason) => Error::ResourcesExhausted(reason.clone()),
        _ => Error::Engine(e),
    }
}

/// The plan after DataFusion's optimizer, as text: what will run, with the filters pushed into
/// scans. The `let`s computed once come first, each under its name.
pub fn explained(ctx: &SessionContext, plan: &LogicalPlan) -> Result<String, Error> {
    let state = ctx.state();
    let mut out = String::new();
    for provider in shared::definitions(plan) {
        if let Some(definition) = provider.downcast_ref::<shared::SharedLet>() {
            let optimized = state.optimize(definition.plan())?;
            out += &computed_once(definition.name(), &optimized.display_indent().to_string());
        }
    }
    out += &state.optimize(plan)?.display_indent().to_string();
    Ok(out)
}

/// A `let` computed once, as explain and analyze show it before the hunt's own plan.
fn computed_once(name: &str, plan: &str) -> String {
    format!("{name}, computed once for all its uses:\n{plan}\n")
}

/// What running the hunt did: DataFusion's physical plan with each operator's metrics (rows out,
/// time spent, bytes read, files and row groups pruned), as SQL's `EXPLAIN ANALYZE` shows them,
/// and how long planning and running took. The rows found are counted, not kept.
pub async fn analyze(ctx: &SessionContext, compiled: &Compiled) -> Result<Analysis, Error> {
    let started = std::time::Instant::now();
    let prepared = prepared(ctx, &compiled.plan).await.map_err(failed)?;
    let planned = started.elapsed();
    let batches =
        datafusion::physical_plan::collect(Arc::clone(&prepared.plan), ctx.task_ctx()).await.map_err(failed)?;
    let shown = |plan: &Arc<dyn ExecutionPlan>| {
        datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(plan.as_ref())
            .indent(false)
            .to_string()
    };
    let mut plan = String::new();
    for (name, computed) in &prepared.lets {
        plan += &computed_once(name, &shown(computed));
    }
    plan += &shown(&prepared.plan);
    Ok(Analysis {
        plan,
        rows: batches.iter().map(RecordBatch::num_rows).sum(),
        planning: planned,
        running: started.elapsed() - planned,
    })
}

/// See [`analyze`].
#[derive(Debug)]
pub struct Analysis {
    pub plan: String,
    pub rows: usize,
    /// DataFusion's optimizer and physical planner (the hunt was already compiled), and the
    /// `let`s computed once.
    pub planning: std::time::Duration,
    pub running: std::time::Duration,
}

/// SQL for the plan, from DataFusion's unparser, to run the hunt on another engine.
pub fn to_sql(plan: &LogicalPlan) -> Result<String, Error> {
    let plan = shared::inlined(without_result_casts(plan.clone())?)?;
    let plan = spoor_core::keep_first::KeepFirst::as_windows(plan)?;
    Ok(Unparser::new(&ExportDialect).plan_to_sql(&plan)?.to_string())
}

/// The plan without the casts that give results dictionary-stored text as plain text
/// (`lower::lower`): in SQL a dictionary is an engine's encoding, not a type. A projection left
/// with nothing else to do goes too.
fn without_result_casts(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    use datafusion::logical_expr::expr::{Alias, Cast};
    let LogicalPlan::Projection(projection) = &plan else { return Ok(plan) };
    let input = Arc::clone(&projection.input);
    let uncast = |e: &Expr| -> datafusion::error::Result<Expr> {
        let Expr::Alias(Alias { expr, name, .. }) = e else { return Ok(e.clone()) };
        let Expr::Cast(Cast { expr: inner, field }) = expr.as_ref() else { return Ok(e.clone()) };
        let source = inner.get_type(input.schema())?;
        let decoded = spoor_core::schema::without_dictionaries(&source).is_some_and(|t| &t == field.data_type());
        Ok(if decoded { inner.as_ref().clone().alias(name) } else { e.clone() })
    };
    let exprs = projection.expr.iter().map(uncast).collect::<datafusion::error::Result<Vec<_>>>()?;
    let passes_through = exprs.len() == input.schema().fields().len()
        && exprs.iter().zip(input.schema().columns()).all(|(e, c)| match e {
            Expr::Column(x) => *x == c,
            Expr::Alias(Alias { expr, name, .. }) => {
                matches!(expr.as_ref(), Expr::Column(x) if *x == c && *name == c.name)
            }
            _ => false,
        });
    if passes_through {
        return Ok(Arc::unwrap_or_clone(input));
    }
    Ok(LogicalPlan::Projection(datafusion::logical_expr::Projection::try_new(exprs, input)?))
}

/// DataFusion's default SQL, with spoor's regex test written as the `~` / `~*` operators other
/// engines know.
struct ExportDialect;

impl Dialect for ExportDialect {
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        DefaultDialect {}.identifier_quote_style(identifier)
    }

    fn scalar_function_to_sql_overrides(
        &self,
        unparser: &Unparser,
        name: &str,
        args: &[Expr],
    ) -> datafusion::error::Result<Option<datafusion::sql::sqlparser::ast::Expr>> {
        let operator = match name {
            functions::MATCHES => Operator::RegexMatch,
            functions::MATCHES_NOCASE => Operator::RegexIMatch,
            _ => return Ok(None),
        };
        let [text, pattern] = args else { return Ok(None) };
        unparser.expr_to_sql(&binary_expr(text.clone(), operator, pattern.clone())).map(Some)
    }
}

/// A table source for every table the hunt reads. spoor's own tables that the store has no data
/// for yet read as empty, so a hunt runs (and finds nothing) instead of failing.
pub async fn sources(ctx: &SessionContext, query: &Rel) -> Result<Sources, DataFusionError> {
    let names = query.scans();
    let mut sources = Sources::new();
    for (name, builtin) in names {
        if sources.contains_key(&name) {
            continue;
        }
        let provider = match ctx.table_provider(name.as_str()).await {
            Ok(p) => p,
            Err(e) if !builtin => return Err(e),
            Err(_) => {
                let table = spoor_core::Table::from_name(&name)
                    .ok_or_else(|| DataFusionError::Internal(format!("`{name}` is not a spoor table")))?;
                Arc::new(MemTable::try_new(table.schema(), vec![vec![]])?)
            }
        };
        sources.insert(name, provider_as_source(provider));
    }
    Ok(sources)
}
