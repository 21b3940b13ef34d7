//! `KeepFirst` against the window it stands for: on the same rows, both keep the same ones.

use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::util::pretty::pretty_format_batches;
use datafusion::datasource::MemTable;
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::memory_pool::GreedyMemoryPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, col, lit};
use datafusion::prelude::{SessionConfig, SessionContext};
use spoor_core::keep_first::KeepFirst;
use spoor_core::planner::Planner;

/// Rows `(k, t, n)`: `keys` distinct keys (one in seven NULL), times that repeat (ties), and
/// `n` numbering the rows in arrival order; in `batches` batches, in one partition.
fn rows(count: usize, keys: u64, batches: usize) -> Vec<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, true),
        Field::new("t", DataType::Int64, true),
        Field::new("n", DataType::Int64, false),
    ]));
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut k, mut t, mut n) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..count {
        let key = next() % keys;
        k.push((key % 7 != 3).then(|| format!("key{key}")));
        t.push((next() % 11 != 0).then(|| (next() % 50) as i64));
        n.push(i as i64);
    }
    let per = count.div_ceil(batches.max(1)).max(1);
    (0..count)
        .step_by(per)
        .map(|start| {
            let end = (start + per).min(count);
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(StringArray::from(k[start..end].to_vec())),
                    Arc::new(Int64Array::from(t[start..end].to_vec())),
                    Arc::new(Int64Array::from(n[start..end].to_vec())),
                ],
            )
            .unwrap()
        })
        .collect()
}

fn session(batches: Vec<RecordBatch>, ctx: SessionContext) -> SessionContext {
    let table = MemTable::try_new(batches[0].schema(), vec![batches]).unwrap();
    ctx.register_table("events", Arc::new(table)).unwrap();
    ctx
}

async fn scan(ctx: &SessionContext) -> LogicalPlan {
    ctx.table("events").await.unwrap().into_unoptimized_plan()
}

/// The rows `plan` gives, sorted, as text.
async fn run(ctx: &SessionContext, plan: LogicalPlan) -> Result<String, String> {
    let state = ctx.state();
    let optimized = state.optimize(&plan).map_err(|e| e.to_string())?;
    let physical = Planner.create_physical_plan(&optimized, &state).await.map_err(|e| e.to_string())?;
    let batches = datafusion::physical_plan::collect(physical, ctx.task_ctx()).await.map_err(|e| e.to_string())?;
    if batches.is_empty() {
        return Ok(String::new());
    }
    let sorted = ctx.read_batches(batches).unwrap().sort(vec![col("n").sort(true, true)]).unwrap();
    Ok(pretty_format_batches(&sorted.collect().await.unwrap()).unwrap().to_string())
}

/// Latest time first (nulls last), ties to the earliest row: a total order, so both agree.
fn latest() -> Vec<datafusion::logical_expr::SortExpr> {
    vec![col("t").sort(false, false), col("n").sort(true, false)]
}

#[tokio::test]
async fn keeps_what_the_window_and_the_aggregate_keep() {
    // Many keys in few batches; few keys in many batches; many keys over many batches (enough
    // kept rows are beaten later that they are compacted away, once); a single batch.
    for (count, keys, batches) in [(5_000, 400, 3), (60_000, 5, 40), (300_000, 3_000, 600), (300, 1_000, 1)] {
        let ctx = session(rows(count, keys, batches), SessionContext::new());
        let node = KeepFirst::new(scan(&ctx).await, vec![col("k")], latest());
        let (window, aggregate) = (node.as_window().unwrap(), node.as_aggregate().unwrap());
        let (kept, expected) = (run(&ctx, node.into_plan()).await.unwrap(), run(&ctx, window).await.unwrap());
        assert_eq!(kept, expected, "{count} rows, {keys} keys, {batches} batches");
        assert_eq!(kept, run(&ctx, aggregate).await.unwrap(), "as an aggregate: {count} rows, {keys} keys");
        assert!(kept.lines().count() > 5, "{kept}");
    }
}

#[tokio::test]
async fn ties_keep_the_row_that_arrived_first() {
    // Ordered by time alone, rows with a key's latest time tie: the first to arrive stays, which
    // is what ordering by time and then arrival (`n`) keeps.
    let ctx = session(rows(20_000, 30, 8), SessionContext::new());
    let by_time = KeepFirst::new(scan(&ctx).await, vec![col("k")], vec![col("t").sort(false, false)]);
    let expected = KeepFirst::new(scan(&ctx).await, vec![col("k")], latest()).as_window().unwrap();
    assert_eq!(run(&ctx, by_time.into_plan()).await.unwrap(), run(&ctx, expected).await.unwrap());
}

#[tokio::test]
async fn filters_on_other_columns_stay_above() {
    // Keeping the latest row per key then filtering on time is not filtering then keeping.
    let ctx = session(rows(3_000, 2_000, 3), SessionContext::new());
    let kept = KeepFirst::new(scan(&ctx).await, vec![col("k")], latest()).into_plan();
    let filtered = |plan: LogicalPlan, on: Expr| LogicalPlanBuilder::from(plan).filter(on).unwrap().build().unwrap();
    let window = KeepFirst::new(scan(&ctx).await, vec![col("k")], latest()).as_window().unwrap();
    for on in [col("t").lt(lit(25i64)), col("k").lt(lit("key3"))] {
        let got = run(&ctx, filtered(kept.clone(), on.clone())).await.unwrap();
        let expected = run(&ctx, filtered(window.clone(), on.clone())).await.unwrap();
        assert_eq!(got, expected, "{on}");
        assert!(got.lines().count() > 5, "{on}: {got}");
    }
}

#[tokio::test]
async fn over_the_memory_limit_is_an_error() {
    let runtime = RuntimeEnvBuilder::new().with_memory_pool(Arc::new(GreedyMemoryPool::new(64 * 1024))).build_arc();
    let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), runtime.unwrap());
    let ctx = session(rows(50_000, 40_000, 10), ctx);
    let node = KeepFirst::new(scan(&ctx).await, vec![col("k")], latest());
    let error = run(&ctx, node.into_plan()).await.unwrap_err();
    assert!(error.contains("Resources exhausted"), "{error}");
}
