//! The resolved hunt: every name bound to a column, every expression typed, `let`s and
//! parameters substituted. This is what [`crate::lower`] turns into a DataFusion plan.

use serde::Serialize;

use crate::ast::{BinaryOp, LookupMode};
use crate::functions::Function;
use crate::types::Type;

#[derive(Debug, Clone, Serialize)]
pub struct Hunt {
    pub meta: Meta,
    pub query: Rel,
}

/// The header, checked.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Meta {
    pub id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub severity: Option<String>,
    /// ATT&CK technique ids (`T1195.002`).
    pub attack: Vec<String>,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub author: Option<String>,
    /// How sure a match is to be malicious: low, medium or high.
    pub confidence: Option<String>,
    /// spoor's tables the hunt needs (checked against the query).
    pub tables: Vec<String>,
    /// Benign activity known to match.
    pub false_positives: Vec<String>,
    pub version: Option<String>,
    /// How mature the hunt is (Sigma's `stable`, `test`, `experimental`, ...).
    pub status: Option<String>,
    /// When it was written and last changed (as its author wrote them).
    pub date: Option<String>,
    pub modified: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub name: String,
    pub ty: Type,
}

/// A relation and the fields it yields.
#[derive(Debug, Clone, Serialize)]
pub struct Rel {
    pub kind: RelKind,
    pub fields: Vec<Field>,
}

impl Rel {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The relations this one reads.
    pub fn inputs(&self) -> Vec<&Rel> {
        match &self.kind {
            RelKind::Scan { .. } | RelKind::Values { .. } => Vec::new(),
            RelKind::Union(inputs) => inputs.iter().collect(),
            RelKind::Filter { input, .. }
            | RelKind::Project { input, .. }
            | RelKind::Sort { input, .. }
            | RelKind::Limit { input, .. }
            | RelKind::Distinct { input, .. }
            | RelKind::Dedup { input, .. }
            | RelKind::Expand { input, .. }
            | RelKind::Aggregate { input, .. }
            | RelKind::Stack { input, .. }
            | RelKind::Beacon { input, .. }
            | RelKind::Window { input, .. }
            | RelKind::Let { input, .. } => vec![input],
            RelKind::Lookup { input, list, .. } => vec![input, list],
            RelKind::Sequence(s) => s.steps.iter().chain(&s.until).chain(&s.absent).map(|step| &step.input).collect(),
            RelKind::Chain(c) => c.steps.iter().map(|(_, r)| r).chain([&c.processes]).collect(),
        }
    }

    /// Relations on the longest path from this one to a table: how deep its plan nests.
    pub fn depth(&self) -> usize {
        let below = self.inputs().into_iter().map(Rel::depth).max().unwrap_or(0);
        // A `let` use adds no stage of its own.
        if matches!(self.kind, RelKind::Let { .. }) { below } else { 1 + below }
    }

    /// A table read through filters and projections only: planning it twice reads the table
    /// twice, which costs little more than once (projection and filter pushdown).
    pub fn is_plain_read(&self) -> bool {
        match &self.kind {
            RelKind::Scan { .. } | RelKind::Values { .. } => true,
            RelKind::Filter { input, .. } | RelKind::Project { input, .. } | RelKind::Let { input, .. } => {
                input.is_plain_read()
            }
            _ => false,
        }
    }

    /// Every table this relation reads, with whether it is one of spoor's own (in reading order,
    /// repeated where read twice).
    pub fn scans(&self) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        collect_scans(self, &mut out);
        out
    }
}

impl Hunt {
    /// spoor's tables the hunt reads, sorted: a store without any of them gives it nothing to hunt.
    pub fn tables(&self) -> Vec<String> {
        self.read(true)
    }

    /// The lookup tables (IOC lists, registered frames) the hunt reads, sorted.
    pub fn lookups(&self) -> Vec<String> {
        self.read(false)
    }

    fn read(&self, builtin: bool) -> Vec<String> {
        let mut names: Vec<String> =
            self.query.scans().into_iter().filter(|(_, b)| *b == builtin).map(|(n, _)| n).collect();
        names.sort();
        names.dedup();
        names
    }
}

#[derive(Debug, Clone, Serialize)]
pub enum RelKind {
    /// A whole table (a store table or a registered lookup).
    Scan {
        table: String,
        builtin: bool,
        /// The whole table, whatever window the run reads (`history dns`).
        history: bool,
    },
    /// Literal rows of one column, `value` (a `let` list used as a lookup).
    Values {
        values: Vec<Value>,
        ty: Type,
    },
    /// Several relations read as one, columns matched by name.
    Union(Vec<Rel>),
    Filter {
        input: Box<Rel>,
        predicate: TExpr,
    },
    /// The output is exactly these named expressions.
    Project {
        input: Box<Rel>,
        items: Vec<(String, TExpr)>,
    },
    Sort {
        input: Box<Rel>,
        keys: Vec<(TExpr, bool)>,
    },
    Limit {
        input: Box<Rel>,
        n: u64,
    },
    Distinct {
        input: Box<Rel>,
        fields: Vec<String>,
    },
    Dedup {
        input: Box<Rel>,
        fields: Vec<String>,
    },
    /// One row per element of the list `field`, which becomes the element.
    Expand {
        input: Box<Rel>,
        field: String,
    },
    Aggregate {
        input: Box<Rel>,
        groups: Vec<(String, TExpr)>,
        aggregates: Vec<(String, Aggregate)>,
    },
    Stack {
        input: Box<Rel>,
        rare: bool,
        fields: Vec<String>,
        across: Option<String>,
        limit: Option<u64>,
    },
    Lookup {
        input: Box<Rel>,
        list: Box<Rel>,
        alias: String,
        field: String,
        column: String,
        mode: LookupMode,
        /// Keep rows that match nothing (list columns null).
        keep: bool,
    },
    Beacon {
        input: Box<Rel>,
        by: Vec<String>,
    },
    /// Every input row, with aggregates over the rows that share its values of some fields.
    Window {
        input: Box<Rel>,
        windows: Vec<Window>,
    },
    Sequence(Box<Sequence>),
    Chain(Box<Chain>),
    /// One use of a `let` pipeline: its definition, expanded here. Uses of one name are equal,
    /// so the lowering may compute the definition once for all of them.
    Let {
        name: String,
        input: Box<Rel>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Sequence {
    pub steps: Vec<Step>,
    /// Microseconds between the first and the last step, at most.
    pub within: i64,
    pub until: Option<Step>,
    /// An absent last step: matches are the earlier steps with no such event after them.
    pub absent: Option<Step>,
}

/// One step: its input (a table, filtered) with columns renamed `alias.column`, and the
/// condition linking it to earlier steps (over the renamed columns of both).
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub alias: String,
    pub input: Rel,
    pub link: Option<TExpr>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chain {
    /// Each step's processes, with columns renamed `alias.column`.
    pub steps: Vec<(String, Rel)>,
    pub descendant: Vec<bool>,
    /// The whole process table (unfiltered), for PID-reuse checks and descendant walks.
    pub processes: Rel,
}

/// What `beacon` adds to its keys, in order (see `functions::intervals` for the measures).
pub const BEACON_FIELDS: [(&str, Type); 14] = [
    ("beacon.count", Type::Int),
    ("beacon.first", Type::Time),
    ("beacon.last", Type::Time),
    ("beacon.interval", Type::Float),
    ("beacon.stddev", Type::Float),
    ("beacon.jitter", Type::Float),
    ("beacon.median", Type::Float),
    ("beacon.skew", Type::Float),
    ("beacon.madm", Type::Float),
    ("beacon.coverage", Type::Float),
    ("beacon.bytes", Type::Float),
    ("beacon.bytes_skew", Type::Float),
    ("beacon.bytes_madm", Type::Float),
    ("beacon.score", Type::Float),
];

/// The column `beacon` reads connection sizes from, where its input has it.
pub const BEACON_SIZE: &str = "source.bytes";

/// `name = aggregate over (by...)`.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub name: String,
    pub aggregate: Aggregate,
    pub by: Vec<String>,
    /// `within`: over the rows of the span (microseconds) that ends at the row's `@timestamp`;
    /// None for the whole partition.
    pub within: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Aggregate {
    pub function: AggregateFunction,
    pub arg: Option<TExpr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AggregateFunction {
    Count,
    CountDistinct,
    Min,
    Max,
    Sum,
    Avg,
    Stddev,
    /// Earliest by `@timestamp`.
    First,
    /// Latest by `@timestamp`.
    Last,
    /// Distinct values, sorted.
    Values,
    /// All values, in time order.
    List,
}

#[derive(Debug, Clone, Serialize)]
pub struct TExpr {
    pub kind: TExprKind,
    pub ty: Type,
}

#[derive(Debug, Clone, Serialize)]
pub enum TExprKind {
    Column(String),
    Literal(Value),
    Not(Box<TExpr>),
    Negate(Box<TExpr>),
    Binary {
        op: BinaryOp,
        left: Box<TExpr>,
        right: Box<TExpr>,
    },
    /// `expr in (literals)`; `cidr` when the list holds networks.
    InList {
        expr: Box<TExpr>,
        list: Vec<Value>,
        negated: bool,
        nocase: bool,
        cidr: bool,
    },
    /// `value in list_column`.
    InColumn {
        expr: Box<TExpr>,
        list: Box<TExpr>,
        negated: bool,
    },
    IsNull {
        expr: Box<TExpr>,
        negated: bool,
    },
    Call {
        function: &'static Function,
        args: Vec<TExpr>,
    },
    /// Bytes read as text (invalid UTF-8 becomes U+FFFD).
    BytesToText(Box<TExpr>),
    Now,
    WindowStart,
    WindowEnd,
}

/// A constant: the literal as written, once resolved (same variants as the syntax's).
pub use crate::ast::Literal as Value;

impl TExpr {
    pub fn column(name: impl Into<String>, ty: Type) -> TExpr {
        TExpr { kind: TExprKind::Column(name.into()), ty }
    }

    pub fn literal(value: Value, ty: Type) -> TExpr {
        TExpr { kind: TExprKind::Literal(value), ty }
    }
}

/// Every column an expression reads.
pub fn collect_columns<'e>(e: &'e TExpr, out: &mut Vec<&'e str>) {
    match &e.kind {
        TExprKind::Column(c) => out.push(c),
        TExprKind::Literal(_) | TExprKind::Now | TExprKind::WindowStart | TExprKind::WindowEnd => {}
        TExprKind::Not(x) | TExprKind::Negate(x) | TExprKind::BytesToText(x) => collect_columns(x, out),
        TExprKind::IsNull { expr, .. } | TExprKind::InList { expr, .. } => collect_columns(expr, out),
        TExprKind::InColumn { expr, list, .. } => {
            collect_columns(expr, out);
            collect_columns(list, out);
        }
        TExprKind::Binary { left, right, .. } => {
            collect_columns(left, out);
            collect_columns(right, out);
        }
        TExprKind::Call { args, .. } => args.iter().for_each(|a| collect_columns(a, out)),
    }
}

fn collect_scans(rel: &Rel, out: &mut Vec<(String, bool)>) {
    match &rel.kind {
        RelKind::Scan { table, builtin, .. } => out.push((table.clone(), *builtin)),
        _ => rel.inputs().into_iter().for_each(|r| collect_scans(r, out)),
    }
}
