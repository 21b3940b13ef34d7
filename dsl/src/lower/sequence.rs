//! Sequences and process chains, as joins.
//!
//! A sequence joins its steps in order: each step's rows must come after the previous step's
//! (by time, then file and line), satisfy the step's links, and fall within the span of the
//! first. The matching policy (docs/language.md, "Sequences") then keeps, for each first event,
//! the earliest completion, and for each last event, the match that started latest.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::JoinType;
use datafusion::datasource::cte_worktable::CteWorkTable;
use datafusion::datasource::provider_as_source;
use datafusion::error::Result;
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::functions::string::expr_fn::concat;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, SortExpr, cast, lit, when};

use super::{Direct, Lowerer, col, interval, keep_first};
use crate::ir::{Chain, Rel, Sequence, Step};

/// How deep `->>` follows descendants: deeper trees are not real process trees.
pub const MAX_DESCENDANT_DEPTH: i64 = 64;

/// How far apart two sources may time one process start (see `children`).
pub const TWIN_WINDOW_MICROS: i64 = 10_000_000;

fn c(alias: &str, column: &str) -> Expr {
    col(&format!("{alias}.{column}"))
}

/// `b` happened after `a`: later, or at the same microsecond but later in the logs.
fn after(b: &str, a: &str) -> Expr {
    let (bt, at) = (c(b, "@timestamp"), c(a, "@timestamp"));
    let (bp, ap) = (c(b, "log.file.path"), c(a, "log.file.path"));
    let (bl, al) = (c(b, "log.file.line"), c(a, "log.file.line"));
    bt.clone().gt(at.clone()).or(bt.eq(at).and(bp.clone().gt(ap.clone()).or(bp.eq(ap).and(bl.gt(al)))))
}

/// The identity of a step's event: its time, file and line.
fn identity(alias: &str) -> Vec<Expr> {
    ["@timestamp", "log.file.path", "log.file.line"].iter().map(|k| c(alias, k)).collect()
}

/// `columns` of `plan` (named `from` + column) as `to.column`: the keys one side of a join needs.
fn renamed(plan: LogicalPlanBuilder, from: &str, to: &str, columns: &[&str]) -> Result<LogicalPlanBuilder> {
    plan.projected(columns.iter().map(|k| col(&format!("{from}{k}")).alias(format!("{to}.{k}"))))
}

/// The column of a chain step's key for links to its children (see `first_step`).
fn key_column(alias: &str) -> String {
    format!("__spoor_key.{alias}")
}

/// The column of a step's parent's key (see `Lowerer::with_parent_keys`).
fn parent_key_column(alias: &str) -> String {
    format!("__spoor_parent_key.{alias}")
}

/// `plan`'s columns and one more, `value` named `name`.
fn with_column(plan: LogicalPlanBuilder, value: Expr, name: &str) -> Result<LogicalPlanBuilder> {
    let plan = plan.build()?;
    let mut items: Vec<Expr> = plan.schema().fields().iter().map(|f| col(f.name())).collect();
    items.push(value.alias(name));
    LogicalPlanBuilder::from(plan).projected(items)
}

fn text(e: Expr) -> Expr {
    cast(e, DataType::Utf8)
}

/// A process's key in a chain's links: its entity id, else its host, PID and start time.
fn seen_key(alias: &str) -> Expr {
    coalesce(vec![c(alias, "process.entity_id"), start_key(alias)])
}

/// A process without an entity id, by its host, PID and start time. The separators cannot
/// occur in an entity id, so the two kinds of key never meet.
fn start_key(alias: &str) -> Expr {
    concat(vec![
        lit("\u{1}"),
        text(c(alias, "host.name")),
        lit("\u{1}"),
        text(c(alias, "process.pid")),
        lit("\u{1}"),
        text(cast(c(alias, "@timestamp"), DataType::Int64)),
    ])
}

/// A process whose start the capture missed, as its children name it: host, PID and program.
fn unseen_key(alias: &str, pid: &str, executable: &str) -> Expr {
    concat(vec![
        lit("\u{2}"),
        text(c(alias, "host.name")),
        lit("\u{1}"),
        text(c(alias, pid)),
        lit("\u{1}"),
        text(c(alias, executable)),
    ])
}

/// `start` is a start of the process `child` names as its parent by PID: same host, that PID.
fn started_as_parent(start: &str, child: &str) -> Vec<Expr> {
    vec![c(start, "host.name").eq(c(child, "host.name")), c(start, "process.pid").eq(c(child, "process.parent.pid"))]
}

fn order(alias: &str, ascending: bool) -> Vec<SortExpr> {
    identity(alias).into_iter().map(|e| e.sort(ascending, false)).collect()
}

impl Lowerer<'_> {
    pub(super) fn sequence(&self, s: &Sequence, rel: &Rel) -> Result<LogicalPlanBuilder> {
        let first = &s.steps[0].alias;
        let within = |later: &str| c(later, "@timestamp").lt_eq(c(first, "@timestamp") + interval(s.within));
        let mut plan = self.rel(&s.steps[0].input)?;
        let mut previous = first.as_str();
        for step in &s.steps[1..] {
            let mut on = vec![after(&step.alias, previous), within(&step.alias)];
            on.extend(step.link.as_ref().map(|l| self.expr(l)));
            plan = plan.join_on(self.rel(&step.input)?.build()?, JoinType::Inner, on)?;
            previous = &step.alias;
        }
        let last = previous;
        if let Some(absent) = &s.absent {
            // No such event after the last present step, within the span of the first.
            let mut on = vec![after(&absent.alias, last), within(&absent.alias)];
            on.extend(absent.link.as_ref().map(|l| self.expr(l)));
            plan = plan.join_on(self.rel(&absent.input)?.build()?, JoinType::LeftAnti, on)?;
        }
        if let Some(until) = &s.until {
            plan = self.cancel(plan, until, first, last)?;
        }
        if s.steps.len() > 1 {
            // One match per first event: the earliest completion.
            let later: Vec<SortExpr> = s.steps[1..].iter().flat_map(|st| order(&st.alias, true)).collect();
            plan = keep_first(plan, identity(first), later)?;
            // One match per last event: the one that started latest (the tightest).
            plan = keep_first(plan, identity(last), order(first, false))?;
        }
        let mut out = vec![c(first, "@timestamp").alias("@timestamp")];
        out.extend(self.output(rel).into_iter().filter(|f| f.name != "@timestamp").map(|f| col(&f.name)));
        plan.projected(out)
    }

    /// Drops matches with an `until` event between their first and last steps.
    fn cancel(&self, plan: LogicalPlanBuilder, until: &Step, first: &str, last: &str) -> Result<LogicalPlanBuilder> {
        let mut on = vec![after(&until.alias, first), after(last, &until.alias)];
        on.extend(until.link.as_ref().map(|l| self.expr(l)));
        plan.join_on(self.rel(&until.input)?.build()?, JoinType::LeftAnti, on)
    }

    pub(super) fn chain(&self, chain: &Chain, rel: &Rel) -> Result<LogicalPlanBuilder> {
        let mut plan = self.first_step(chain)?;
        let mut fields: Vec<crate::ir::Field> = self.output(&chain.steps[0].1).into_iter().cloned().collect();
        for (i, (alias, step)) in chain.steps.iter().enumerate().skip(1) {
            let parent = &chain.steps[i - 1].0;
            let child = self.rel(step)?.build()?;
            plan = if chain.descendant[i - 1] {
                self.descendants(plan, &fields, parent, alias, child, chain)?
            } else {
                // The first step's keys are computed with it: some of its processes were read
                // from their children.
                let parent_key = if i == 1 { col(&key_column(parent)) } else { seen_key(parent) };
                let children = self.with_parent_keys(child, alias, chain)?;
                plan.join_on(children.build()?, JoinType::Inner, [col(&parent_key_column(alias)).eq(parent_key)])?
            };
            fields.extend(self.output(step).into_iter().cloned());
        }
        let last = &chain.steps[chain.steps.len() - 1].0;
        let mut out = vec![c(last, "@timestamp").alias("@timestamp")];
        out.extend(self.output(rel).into_iter().filter(|f| f.name != "@timestamp").map(|f| col(&f.name)));
        plan.projected(out)
    }

    /// A step's processes with the key of their parent (`parent_key_column`), each link then
    /// being one join on keys (`seen_key`).
    ///
    /// A child that names its parent's entity id has it as the key. A child without one (auditd,
    /// osquery, Security 4688) is matched by host and PID: its parent is the latest process
    /// started on its host with its parent PID, at or before it (a later start of that PID means
    /// the PID was reused), if that process has no entity id either (entity ids link first);
    /// where none started, its parent is one whose start the capture missed (`unseen_key`). Only
    /// rows without entity ids take this path, so a fleet whose agents give entity ids pays
    /// nothing for it.
    fn with_parent_keys(&self, child: LogicalPlan, alias: &str, chain: &Chain) -> Result<LogicalPlanBuilder> {
        let own: Vec<Expr> = child.schema().fields().iter().map(|f| col(f.name())).collect();
        let key = parent_key_column(alias);
        let parent_entity = c(alias, "process.parent.entity_id");
        let with_ids = LogicalPlanBuilder::from(child.clone()).keep(parent_entity.clone().is_not_null())?;
        let by_entity = with_column(with_ids, parent_entity.clone(), &key)?;
        let without = LogicalPlanBuilder::from(child).keep(parent_entity.is_null())?;
        let without = self.without_twins(without, alias, chain)?;
        const START: &str = "__spoor_start";
        let starts = renamed(
            self.rel(&chain.processes)?,
            "",
            START,
            &["host.name", "process.pid", "@timestamp", "process.entity_id"],
        )?;
        let mut before = started_as_parent(START, alias);
        before.push(c(START, "@timestamp").lt_eq(c(alias, "@timestamp")));
        let candidates = without.join_on(starts.build()?, JoinType::Left, before)?;
        // The latest: no other start of that PID on that host after it, up to the child's.
        // Of two at the same time (one process recorded by two sources), the one without an
        // entity id is the one this path may link.
        const LATER: &str = "__spoor_later";
        let later = renamed(self.rel(&chain.processes)?, "", LATER, &["host.name", "process.pid", "@timestamp"])?;
        let mut between = started_as_parent(LATER, alias);
        between.extend([
            c(LATER, "@timestamp").gt(c(START, "@timestamp")),
            c(LATER, "@timestamp").lt_eq(c(alias, "@timestamp")),
        ]);
        let latest = candidates.join_on(later.build()?, JoinType::LeftAnti, between)?;
        let parent = when(
            c(START, "@timestamp").is_null(),
            unseen_key(alias, "process.parent.pid", "process.parent.executable"),
        )
        .when(c(START, "process.entity_id").is_null(), start_key(START))
        .end()?;
        // The child's own columns (not the starts') and its parent's key.
        let mut resolved = own;
        resolved.push(parent.alias(&key));
        let by_pid = latest.projected(resolved)?.keep(col(&key).is_not_null())?;
        by_entity.union(by_pid.build()?)
    }

    /// Leaves out the children whose start a source with entity ids recorded too (Security 4688
    /// beside Sysmon 1: same host, PID and program), which are matched by entity id already.
    /// The two times agree only roughly: flat exports time Security events by when the collector
    /// received them (NXLog's `@timestamp` in the Mordor datasets is 1-2 s after Sysmon's
    /// `UtcTime`), and some shippers write local time as UTC, moving one source by whole quarter
    /// hours (4 h in OTRF's cmd_mshta sample). So: within ten seconds of a whole number of
    /// quarter hours, up to 14 h. One program on one host taking its own PID again at such a
    /// distance does not happen in practice.
    fn without_twins(&self, children: LogicalPlanBuilder, alias: &str, chain: &Chain) -> Result<LogicalPlanBuilder> {
        const TWIN: &str = "__spoor_twin";
        let with_ids = self.rel(&chain.processes)?.keep(col("process.entity_id").is_not_null())?;
        let twins = renamed(with_ids, "", TWIN, &["host.name", "process.pid", "process.name", "@timestamp"])?;
        let micros = |e: Expr| cast(e, DataType::Int64);
        let apart = micros(c(TWIN, "@timestamp")) - micros(c(alias, "@timestamp"));
        const QUARTER_HOUR: i64 = 15 * 60 * 1_000_000;
        const FAR: i64 = 14 * 4 * QUARTER_HOUR;
        // Distance to the nearest whole quarter hour: ((apart + FAR + window) mod 15 min) - window.
        let off_quarter = (apart.clone() + lit(FAR + TWIN_WINDOW_MICROS)) % lit(QUARTER_HOUR);
        children.join_on(
            twins.build()?,
            JoinType::LeftAnti,
            [
                c(TWIN, "host.name").eq(c(alias, "host.name")),
                c(TWIN, "process.pid").eq(c(alias, "process.pid")),
                c(TWIN, "process.name").eq(c(alias, "process.name")),
                apart.clone().between(lit(-FAR), lit(FAR)),
                off_quarter.lt_eq(lit(2 * TWIN_WINDOW_MICROS)),
            ],
        )
    }

    /// The first step's processes: those seen starting, and those a seen process names as its
    /// parent whose own start is not in the store (the capture began after they started, as
    /// explorer.exe's does). A step read from a child has `event.action` `from_child`, the
    /// child's time, file and line, and of its own fields only those the child names
    /// (`process.parent.*`: name, executable, command line, entity id, pid, user).
    fn first_step(&self, chain: &Chain) -> Result<LogicalPlanBuilder> {
        let (alias, step) = &chain.steps[0];
        let seen = self.rel(step)?;
        if chain.steps.len() < 2 {
            return Ok(seen);
        }
        let seen = seen.build()?;
        let processes = self.rel(&chain.processes)?.build()?;
        let has = |column: &str| processes.schema().has_column_with_unqualified_name(column);
        let from_child = |column: &str| -> Expr {
            let source = match column {
                "event.action" => return lit("from_child"),
                "process.name"
                | "process.executable"
                | "process.command_line"
                | "process.entity_id"
                | "process.pid" => format!("process.parent.{}", &column["process.".len()..]),
                "user.name" => "process.parent.user.name".to_string(),
                "@timestamp" | "host.name" | "log.file.path" | "log.file.line" | "spoor.format" => column.to_string(),
                _ => return lit(datafusion::scalar::ScalarValue::Null),
            };
            if has(&source) { col(&source) } else { lit(datafusion::scalar::ScalarValue::Null) }
        };
        // The step's columns before its condition (which may read more than the step gives).
        let (unfiltered, predicate) = match &step.kind {
            crate::ir::RelKind::Filter { input, predicate } => (self.rel(input)?.build()?, Some(predicate)),
            _ => (seen.clone(), None),
        };
        let prefix = format!("{alias}.");
        let items: Vec<Expr> = unfiltered
            .schema()
            .fields()
            .iter()
            .map(|f| {
                let column = f.name().strip_prefix(&prefix).unwrap_or(f.name());
                cast(from_child(column), f.data_type().clone()).alias(f.name())
            })
            .collect();
        let mut named = LogicalPlanBuilder::from(processes)
            .keep(col("process.parent.entity_id").is_not_null().or(col("process.parent.pid").is_not_null()))?
            .projected(items)?;
        if let Some(predicate) = predicate {
            named = named.keep(self.expr(predicate))?;
        }
        let named = named.projected(seen.schema().fields().iter().map(|f| col(f.name())))?;
        // Only parents not seen starting: by entity id, or where there is none, by host and PID
        // of a start before the child's. Two joins on keys (one with an `or` would join on the
        // host alone), before one row per parent is kept: whether a parent was seen does not
        // depend on which child names it, and the earliest child after a start is the earliest
        // of all.
        const SEEN: &str = "__spoor_seen";
        let seen_keys = renamed(
            LogicalPlanBuilder::from(seen.clone()),
            &prefix,
            SEEN,
            &["host.name", "process.entity_id", "process.pid", "@timestamp"],
        )?
        .build()?;
        let same_host = c(SEEN, "host.name").eq(c(alias, "host.name"));
        // By entity id, whether a parent was seen depends on its host and entity id alone, so
        // the children's two keys are compared first and only the children of parents not seen
        // are read whole, by a join on those keys that reads nothing when every parent was seen
        // (over the benchmark fleet, 870 K children of `node` were read in full only to be
        // dropped). The starts on the left: a hash join builds its table from the left, and the
        // starts' two keys take a fraction of the room of the children's.
        const UNSEEN: &str = "__spoor_unseen";
        let with_entity = named.clone().keep(c(alias, "process.entity_id").is_not_null())?;
        let named_keys = renamed(with_entity.clone(), &prefix, UNSEEN, &["host.name", "process.entity_id"])?;
        let unseen_keys = LogicalPlanBuilder::from(seen_keys.clone()).join_on(
            named_keys.build()?,
            JoinType::RightAnti,
            [
                c(SEEN, "host.name").eq(c(UNSEEN, "host.name")),
                c(SEEN, "process.entity_id").eq(c(UNSEEN, "process.entity_id")),
            ],
        )?;
        let by_entity = unseen_keys.join_on(
            with_entity.build()?,
            JoinType::RightSemi,
            [
                c(UNSEEN, "host.name").eq(c(alias, "host.name")),
                c(UNSEEN, "process.entity_id").eq(c(alias, "process.entity_id")),
            ],
        )?;
        // Without an entity id, by host and PID of a start before the child's.
        let by_pid = named.keep(c(alias, "process.entity_id").is_null())?.join_on(
            seen_keys,
            JoinType::LeftAnti,
            [
                same_host,
                c(SEEN, "process.pid").eq(c(alias, "process.pid")),
                c(SEEN, "@timestamp").lt_eq(c(alias, "@timestamp")),
            ],
        )?;
        let unseen = by_entity.union(by_pid.build()?)?;
        // One row per parent: the first child that names it.
        let parent: Vec<Expr> = ["host.name", "process.entity_id", "process.pid", "process.executable"]
            .iter()
            .filter(|k| seen.schema().has_column_with_unqualified_name(&format!("{prefix}{k}")))
            .map(|k| c(alias, k))
            .collect();
        let unseen = keep_first(unseen, parent, order(alias, true))?;
        if chain.descendant[0] {
            // `->>` walks entity ids alone.
            return LogicalPlanBuilder::from(seen).union(unseen.build()?);
        }
        // Each with its key for the link to its children (`with_parent_keys`).
        let unseen_key =
            coalesce(vec![c(alias, "process.entity_id"), unseen_key(alias, "process.pid", "process.executable")]);
        let key = key_column(alias);
        with_column(LogicalPlanBuilder::from(seen), seen_key(alias), &key)?
            .union(with_column(unseen, unseen_key, &key)?.build()?)
    }

    /// Descendants at any depth, by entity id: a recursive walk down from each parent row.
    fn descendants(
        &self,
        parents: LogicalPlanBuilder,
        parent_fields: &[crate::ir::Field],
        parent: &str,
        child_alias: &str,
        child: LogicalPlan,
        chain: &Chain,
    ) -> Result<LogicalPlanBuilder> {
        const NODE: &str = "__spoor_node";
        const DEPTH: &str = "__spoor_depth";
        const WALK: &str = "__spoor_walk";
        let carried: Vec<Expr> = parent_fields.iter().map(|f| col(&f.name)).collect();
        let mut anchor_items = carried.clone();
        anchor_items.extend([c(parent, "process.entity_id").alias(NODE), lit(0i64).alias(DEPTH)]);
        let anchor = parents.projected(anchor_items)?.build()?;
        let work_table = Arc::new(CteWorkTable::new(WALK, Arc::clone(anchor.schema().inner())));
        let processes = self.rel(&chain.processes)?.projected([
            col("process.entity_id").alias("__spoor_walk_id"),
            col("process.parent.entity_id").alias("__spoor_walk_parent"),
        ])?;
        let mut step_items = carried.clone();
        step_items.extend([col("__spoor_walk_id").alias(NODE), (col(DEPTH) + lit(1i64)).alias(DEPTH)]);
        let recursive = LogicalPlanBuilder::scan(WALK, provider_as_source(work_table), None)?
            .keep(col(DEPTH).lt(lit(MAX_DESCENDANT_DEPTH)))?
            .join_on(processes.build()?, JoinType::Inner, [col("__spoor_walk_parent").eq(col(NODE))])?
            .projected(step_items)?
            .build()?;
        let walk = LogicalPlanBuilder::from(anchor).to_recursive_query(WALK.to_string(), recursive, false)?;
        let joined =
            walk.join_on(child, JoinType::Inner, [c(child_alias, "process.parent.entity_id").eq(col(NODE))])?;
        // A descendant reached by two paths is one match.
        let mut keep = carried;
        keep.extend(self.child_columns(&chain.steps, child_alias));
        joined.projected(keep)?.distinct()
    }

    fn child_columns(&self, steps: &[(String, Rel)], alias: &str) -> Vec<Expr> {
        steps
            .iter()
            .find(|(a, _)| a == alias)
            .map(|(_, r)| self.output(r).into_iter().map(|f| col(&f.name)).collect())
            .unwrap_or_default()
    }
}
