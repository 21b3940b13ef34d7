//! spoor's query planner: DataFusion's, which also plans spoor's own operators
//! ([`crate::keep_first`]) and hands sorted rows out in order.
//!
//! Hunts are planned with it whatever session they run in (`spoor_dsl::run`); sessions from
//! `session::context` use it for every query, SQL included.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};

use crate::keep_first::KeepFirstPlanner;

#[derive(Debug, Default)]
pub struct Planner;

#[async_trait]
impl QueryPlanner for Planner {
    async fn create_physical_plan(&self, plan: &LogicalPlan, session: &dyn Session) -> Result<Arc<dyn ExecutionPlan>> {
        let planner = DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(KeepFirstPlanner)]);
        Ok(merged_in_order(planner.create_physical_plan(plan, session).await?))
    }
}

/// `plan` with its partitions merged in its order, where they are each in that order.
///
/// DataFusion runs a step that computes (an `extend`, the casts of a result) over a sort's rows
/// in parallel by dealing the sorted batches out to several partitions, each still sorted. Its
/// optimizer guarantees the order only at the sort, below that step, and whoever runs the plan
/// then concatenates the partitions in whatever order they finish: sorted rows would come out
/// shuffled batch by batch. A merge at the top restores the order the plan promises.
fn merged_in_order(plan: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
    if plan.output_partitioning().partition_count() <= 1 {
        return plan;
    }
    match plan.output_ordering().cloned() {
        Some(ordering) => Arc::new(SortPreservingMergeExec::new(ordering, plan)),
        None => plan,
    }
}
