//! Which columns each relation must produce for the stages above it.
//!
//! DataFusion's optimizer prunes columns too, but only after the plan is built; a sequence over
//! three tables carries ~70 columns through every join and window while it is being built, and
//! building is most of a hunt's compile time. So the lowering asks this map first and builds each
//! node only as wide as needed. Nodes not in the map keep every column.
//!
//! A `let` computed once for all its uses ([`super::shared`]) is planned from one of its copies,
//! which must produce every column any use asks for.

use std::collections::{HashMap, HashSet};

use crate::ir::{Rel, RelKind, TExpr, collect_columns};

pub type Needed = HashMap<*const Rel, HashSet<String>>;

/// What the lowering needs to know of columns.
pub struct Pruned<'r> {
    /// For each node the lowering builds, the columns asked of it.
    pub needed: Needed,
    /// For each `let` computed once, by name: the copy of its definition to plan.
    pub shared: HashMap<String, &'r Rel>,
}

/// The columns each node of `root`'s pipeline must produce (the root all its fields), with the
/// `let`s named in `shared` planned once, from their first use, for all their uses.
pub fn needed<'r>(root: &'r Rel, shared: &HashSet<String>) -> Pruned<'r> {
    let mut walk = Walk { needed: Needed::new(), sharing: shared, shared: HashMap::new() };
    visit(root, root.fields.iter().map(|f| f.name.clone()).collect(), &mut walk);
    // A definition asked for more columns than it was last visited with is visited again; its
    // own shared uses may then ask for more in turn. Sets only grow, so this ends.
    let mut visited: HashMap<String, HashSet<String>> = HashMap::new();
    loop {
        let pending: Vec<(String, &Rel, HashSet<String>)> = walk
            .shared
            .iter()
            .filter(|(name, (_, columns))| visited.get(*name) != Some(columns))
            .map(|(name, (definition, columns))| (name.clone(), *definition, columns.clone()))
            .collect();
        if pending.is_empty() {
            break;
        }
        for (name, definition, columns) in pending {
            visited.insert(name, columns.clone());
            visit(definition, columns, &mut walk);
        }
    }
    Pruned {
        needed: walk.needed,
        shared: walk.shared.into_iter().map(|(name, (definition, _))| (name, definition)).collect(),
    }
}

struct Walk<'r, 's> {
    needed: Needed,
    sharing: &'s HashSet<String>,
    /// Each shared `let` met so far: its first use's definition and the columns all uses ask for.
    shared: HashMap<String, (&'r Rel, HashSet<String>)>,
}

/// Columns that order events and identify them (dedup, first/last, sequence policy).
const EVENT_ORDER: [&str; 3] = ["@timestamp", "log.file.path", "log.file.line"];

fn add(set: &mut HashSet<String>, e: &TExpr) {
    let mut columns = Vec::new();
    collect_columns(e, &mut columns);
    set.extend(columns.into_iter().map(str::to_string));
}

fn visit<'r>(rel: &'r Rel, needed: HashSet<String>, out: &mut Walk<'r, '_>) {
    out.needed.insert(rel as *const Rel, needed.clone());
    let mut below = needed;
    match &rel.kind {
        RelKind::Scan { .. } | RelKind::Values { .. } => {}
        RelKind::Union(inputs) => {
            for input in inputs {
                visit(input, below.clone(), out);
            }
        }
        RelKind::Filter { input, predicate } => {
            add(&mut below, predicate);
            visit(input, below, out);
        }
        RelKind::Project { input, items } => {
            let mut used = HashSet::new();
            for (name, e) in items {
                if below.contains(name) {
                    add(&mut used, e);
                }
            }
            visit(input, used, out);
        }
        RelKind::Sort { input, keys } => {
            keys.iter().for_each(|(e, _)| add(&mut below, e));
            visit(input, below, out);
        }
        RelKind::Limit { input, .. } => visit(input, below, out),
        RelKind::Let { name, input } if out.sharing.contains(name) => {
            let (_, columns) = out.shared.entry(name.clone()).or_insert_with(|| (input, HashSet::new()));
            columns.extend(below);
        }
        RelKind::Let { input, .. } => visit(input, below, out),
        RelKind::Distinct { input, fields } => visit(input, fields.iter().cloned().collect(), out),
        RelKind::Dedup { input, fields } => {
            below.extend(fields.iter().cloned());
            below.extend(EVENT_ORDER.map(String::from));
            visit(input, below, out);
        }
        RelKind::Expand { input, field } => {
            below.insert(field.clone());
            visit(input, below, out);
        }
        RelKind::Aggregate { input, groups, aggregates } => {
            let mut used: HashSet<String> = EVENT_ORDER.map(String::from).into();
            groups.iter().for_each(|(_, e)| add(&mut used, e));
            aggregates.iter().filter_map(|(_, a)| a.arg.as_ref()).for_each(|e| add(&mut used, e));
            visit(input, used, out);
        }
        RelKind::Stack { input, fields, across, .. } => {
            visit(input, fields.iter().cloned().chain(across.clone()).collect(), out);
        }
        RelKind::Lookup { input, list, alias, field, .. } => {
            let prefix = format!("{alias}.");
            let mut used: HashSet<String> = below.into_iter().filter(|c| !c.starts_with(&prefix)).collect();
            used.insert(field.clone());
            visit(input, used, out);
            // The lowering joins every column of the list.
            visit(list, list.fields.iter().map(|f| f.name.clone()).collect(), out);
        }
        RelKind::Window { input, windows } => {
            for w in windows {
                below.remove(&w.name);
                below.extend(w.by.iter().cloned());
                if w.within.is_some() {
                    below.insert("@timestamp".to_string());
                }
                if let Some(arg) = &w.aggregate.arg {
                    add(&mut below, arg);
                }
            }
            visit(input, below, out);
        }
        RelKind::Beacon { input, by } => {
            let mut used: HashSet<String> = by.iter().cloned().chain(["@timestamp".to_string()]).collect();
            if input.field(crate::ir::BEACON_SIZE).is_some() {
                used.insert(crate::ir::BEACON_SIZE.to_string());
            }
            visit(input, used, out);
        }
        RelKind::Sequence(s) => {
            // Every column a link reads, whichever step it belongs to.
            let mut links = HashSet::new();
            for step in s.steps.iter().chain(&s.until).chain(&s.absent) {
                if let Some(l) = &step.link {
                    add(&mut links, l);
                }
            }
            for step in s.steps.iter().chain(&s.until).chain(&s.absent) {
                let keep = step_columns(&step.alias, &step.input, &below, &links, &[]);
                visit(&step.input, keep, out);
            }
        }
        RelKind::Chain(c) => {
            const LINKS: [&str; 7] = [
                "process.entity_id",
                "process.parent.entity_id",
                "host.name",
                "process.pid",
                "process.parent.pid",
                "process.executable",
                "process.parent.executable",
            ];
            let links = HashSet::new();
            for (alias, step) in &c.steps {
                let keep = step_columns(alias, step, &below, &links, &LINKS);
                visit(step, keep, out);
            }
            // The walk, the PID-reuse and twin checks, and the first step's parents read from
            // their children (`Lowerer::first_step`).
            const NAMED: [&str; 8] = [
                "@timestamp",
                "process.name",
                "process.parent.name",
                "process.parent.executable",
                "process.parent.command_line",
                "process.parent.user.name",
                "log.file.path",
                "log.file.line",
            ];
            let walk: HashSet<String> =
                LINKS.iter().chain(&NAMED).chain(&["spoor.format"]).map(|c| c.to_string()).collect();
            visit(&c.processes, walk, out);
        }
    }
}

/// A step's columns (`alias.column`) that the result, a link or the matching itself needs.
fn step_columns(
    alias: &str,
    step: &Rel,
    wanted: &HashSet<String>,
    links: &HashSet<String>,
    always: &[&str],
) -> HashSet<String> {
    let own = |c: &str| format!("{alias}.{c}");
    let mut keep: HashSet<String> = EVENT_ORDER.iter().chain(always).map(|c| own(c)).collect();
    keep.extend(step.fields.iter().map(|f| &f.name).filter(|n| wanted.contains(*n) || links.contains(*n)).cloned());
    keep
}
