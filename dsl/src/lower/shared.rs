//! `let` definitions computed once for all their uses.
//!
//! Each use of a `let` pipeline is a copy of its definition (`ir::RelKind::Let`), and DataFusion
//! plans each copy with the filters of that use, and the join filters found at run time, pushed
//! into its Parquet scans: what a large table needs. A definition over small tables that a hunt
//! uses several times is cheaper computed once: it is planned once, as a [`SharedLet`] table
//! that every use scans; before the hunt's plan runs, [`definitions`] lists the shared `let`s
//! it reads, the runner computes each into memory, and [`reading`] points the plan at those
//! rows. [`inlined`] puts the definitions back in place, for SQL that another engine can run.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::datasource::{TableType, provider_as_source, source_as_provider};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, TableScan};
use datafusion::physical_plan::ExecutionPlan;

use crate::ir::{Rel, RelKind};

/// The `let`s of `query` to compute once: used more than once, reading only tables that `small`
/// accepts.
pub fn chosen(query: &Rel, small: impl Fn(&str) -> bool) -> HashSet<String> {
    let mut uses: HashMap<&str, (usize, &Rel)> = HashMap::new();
    count_uses(query, &mut uses);
    uses.into_iter()
        .filter(|(_, (count, definition))| *count > 1 && definition.scans().iter().all(|(table, _)| small(table)))
        .map(|(name, _)| name.to_string())
        .collect()
}

fn count_uses<'r>(rel: &'r Rel, uses: &mut HashMap<&'r str, (usize, &'r Rel)>) {
    if let RelKind::Let { name, input } = &rel.kind {
        uses.entry(name).or_insert((0, input)).0 += 1;
    }
    rel.inputs().into_iter().for_each(|input| count_uses(input, uses));
}

/// A `let` definition planned once, read by each of its uses.
#[derive(Debug)]
pub struct SharedLet {
    name: String,
    plan: LogicalPlan,
    schema: SchemaRef,
}

impl SharedLet {
    pub fn new(name: &str, plan: LogicalPlan) -> SharedLet {
        let schema = Arc::new(plan.schema().as_arrow().clone());
        SharedLet { name: name.to_string(), plan, schema }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The definition's plan, which may itself read shared `let`s.
    pub fn plan(&self) -> &LogicalPlan {
        &self.plan
    }
}

#[async_trait]
impl TableProvider for SharedLet {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    /// Used only when a plan runs without its definitions computed first (executed directly by
    /// a DataFusion session): the definition is planned again for this use alone.
    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = match projection {
            None => self.plan.clone(),
            Some(indices) => LogicalPlanBuilder::from(self.plan.clone()).select(indices.iter().copied())?.build()?,
        };
        state.create_physical_plan(&plan).await
    }
}

fn shared_let(scan: &TableScan) -> Option<Arc<dyn TableProvider>> {
    source_as_provider(&scan.source).ok().filter(|provider| provider.is::<SharedLet>())
}

/// The shared `let`s `plan` reads, each once, every one after those its definition reads.
pub fn definitions(plan: &LogicalPlan) -> Vec<Arc<dyn TableProvider>> {
    let mut out: Vec<Arc<dyn TableProvider>> = Vec::new();
    collect(plan, &mut out);
    out
}

fn collect(plan: &LogicalPlan, out: &mut Vec<Arc<dyn TableProvider>>) {
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Some(provider) = shared_let(scan)
            && let Some(shared) = provider.downcast_ref::<SharedLet>()
            && !out.iter().any(|p| p.downcast_ref::<SharedLet>().is_some_and(|s| s.name == shared.name))
        {
            collect(&shared.plan, out);
            out.push(provider);
        }
        Ok(TreeNodeRecursion::Continue)
    });
}

/// `plan` with each shared `let` it reads replaced by the table `computed` holds for its name.
pub fn reading(plan: LogicalPlan, computed: &HashMap<String, Arc<dyn TableProvider>>) -> Result<LogicalPlan> {
    let table_for = |scan: &TableScan| {
        shared_let(scan).and_then(|p| p.downcast_ref::<SharedLet>().and_then(|s| computed.get(&s.name)).cloned())
    };
    plan.transform_up_with_subqueries(|node| match node {
        LogicalPlan::TableScan(scan) => Ok(match table_for(&scan) {
            Some(table) => {
                Transformed::yes(LogicalPlan::TableScan(TableScan { source: provider_as_source(table), ..scan }))
            }
            None => Transformed::no(LogicalPlan::TableScan(scan)),
        }),
        other => Ok(Transformed::no(other)),
    })
    .map(|t| t.data)
}

/// `plan` with each shared `let` written out at every use, as the language defines it.
pub fn inlined(plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|node| {
        let LogicalPlan::TableScan(scan) = &node else { return Ok(Transformed::no(node)) };
        let Some(provider) = shared_let(scan) else { return Ok(Transformed::no(node)) };
        let Some(shared) = provider.downcast_ref::<SharedLet>() else { return Ok(Transformed::no(node)) };
        let mut definition = LogicalPlanBuilder::from(inlined(shared.plan.clone())?);
        if let Some(indices) = &scan.projection {
            definition = definition.select(indices.iter().copied())?;
        }
        Ok(Transformed::yes(definition.alias(scan.table_name.clone())?.build()?))
    })
    .map(|t| t.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::resolve::ParamValues;

    fn chosen_in(hunt: &str, small: &[&str]) -> Vec<String> {
        let resolved = crate::run::check(hunt, &Catalog::standard(), &ParamValues::new()).unwrap();
        let mut names: Vec<String> = chosen(&resolved.hunt.query, |t| small.contains(&t)).into_iter().collect();
        names.sort();
        names
    }

    #[test]
    fn a_let_used_more_than_once_over_small_tables_is_computed_once() {
        let hunt = r#"let publishes = (audit | where audit.activity == "package_publish")
            let firsts = (publishes | stats first = min(@timestamp) by package.name)
            publishes | lookup firsts on package.name = firsts.package.name
              | lookup firsts as again on package.name = again.package.name"#;
        assert_eq!(chosen_in(hunt, &["audit"]), ["firsts", "publishes"]);
        // `publishes` is read by the query and by each copy of `firsts`.
        assert_eq!(chosen_in(hunt, &[]), Vec::<String>::new(), "audit is not small here");
    }

    #[test]
    fn a_let_used_once_or_reading_a_large_table_is_planned_at_its_use() {
        let once = r#"let publishes = (audit | where audit.activity == "package_publish")
            publishes | where user.name == "jasonsaayman""#;
        assert_eq!(chosen_in(once, &["audit"]), Vec::<String>::new());
        let mixed = r#"let installs = (process | where process.name == "npm" | lookup ci on host.name = ci.host.name)
            installs | lookup installs as again on process.entity_id = again.process.entity_id"#;
        assert_eq!(chosen_in(mixed, &["ci"]), Vec::<String>::new(), "process is not small");
        assert_eq!(chosen_in(mixed, &["ci", "process"]), ["installs"]);
    }
}
