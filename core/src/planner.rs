//! spoor's query planner: DataFusion's, which also plans spoor's own operators
//! ([`crate::keep_first`]), hands sorted rows out in order, and finds the distinct values of
//! dictionary columns on their keys ([`crate::dictionary_distinct`]).
//!
//! Hunts are planned with it whatever session they run in (`spoor_dsl::run`); sessions from
//! `session::context` use it for every query, SQL included.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::execution::SessionState;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, Partitioning};
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};

use crate::keep_first::KeepFirstPlanner;

#[derive(Debug, Default)]
pub struct Planner;

/// Set in a session's configuration (`SessionConfig::with_extension`) when its queries run
/// elsewhere (on a cluster): its own query planner plans them, not [`Planner`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Remote;

/// `plan` (optimized) planned for `state`: by spoor's planner, which knows spoor's own
/// operators, whichever planner the state has (a session made by `SessionContext::new` has
/// DataFusion's), unless the session runs its queries elsewhere ([`Remote`]).
pub async fn physical(state: &SessionState, plan: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>> {
    if state.config().get_extension::<Remote>().is_some() && distributable(plan)? {
        let remote = state.query_planner().create_physical_plan(plan, state).await?;
        Ok(Arc::new(crate::from_cluster::FromClusterExec::new(remote)))
    } else {
        Planner.create_physical_plan(plan, state).await
    }
}

/// Whether a cluster can run `plan`. Ballista 55 cannot send a recursive query (a chain with
/// `->>`) to its executors: such a hunt runs in this process instead, whole, reading the same
/// store (`spoor explain --analyze` shows its plan without Ballista's `DistributedQueryExec`).
pub fn distributable(plan: &LogicalPlan) -> Result<bool> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    let mut recursive = false;
    plan.apply(|node| {
        recursive |= matches!(node, LogicalPlan::RecursiveQuery(_));
        Ok(if recursive { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    })?;
    Ok(!recursive)
}

/// Set in a session's configuration when its physical plans are cut into stages and sent to
/// other processes (a cluster's scheduler): such a plan may hold only operators those processes
/// can decode, so [`crate::dictionary_distinct`] is left out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Staged;

#[async_trait]
impl QueryPlanner for Planner {
    async fn create_physical_plan(&self, plan: &LogicalPlan, session: &dyn Session) -> Result<Arc<dyn ExecutionPlan>> {
        let planner = DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(KeepFirstPlanner)]);
        let plan = in_order(planner.create_physical_plan(plan, session).await?)?;
        if session.config().get_extension::<Staged>().is_some() {
            return Ok(plan);
        }
        crate::dictionary_distinct::on_dictionary_keys(plan)
    }
}

/// `plan` with the order of its sort kept to its output.
///
/// DataFusion runs a step that computes (an `extend`, the casts of a result) over a sort's rows
/// in parallel by dealing the sorted batches out round-robin to several partitions, each still
/// sorted. Its optimizer guarantees the order only at the sort, below that step, and whoever
/// runs the plan then concatenates the partitions in whatever order they finish: sorted rows
/// would come out shuffled batch by batch. Such a repartition between the sort and the output
/// is taken out, so the steps above it run on the sort's one partition, in order; that costs
/// little, as the sort has already gathered every row into one stream.
fn in_order(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    if let Some(repartition) = plan.downcast_ref::<RepartitionExec>()
        && matches!(repartition.partitioning(), Partitioning::RoundRobinBatch(_))
        && repartition.input().output_partitioning().partition_count() == 1
        && repartition.input().output_ordering().is_some()
    {
        return Ok(Arc::clone(repartition.input()));
    }
    let children = plan.children();
    let [child] = children.as_slice() else { return Ok(plan) };
    if !plan.maintains_input_order()[0] {
        return Ok(plan);
    }
    let kept = in_order(Arc::clone(child))?;
    replace_children_if_necessary(plan, vec![kept])
}
