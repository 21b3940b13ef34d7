//! The syntax tree: what the hunt says, as written, with spans. Nothing here is resolved yet:
//! a field is a name, a function a name, a table a name.

use serde::Serialize;

use crate::span::Span;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hunt {
    pub header: Vec<HeaderEntry>,
    pub lets: Vec<Let>,
    pub params: Vec<Param>,
    pub pipeline: Pipeline,
}

/// `key: value` in the `---` block at the top of a hunt file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeaderEntry {
    pub key: Ident,
    pub value: HeaderValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum HeaderValue {
    Text(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `let name = expression` or `let name = (pipeline)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Let {
    pub name: Ident,
    pub value: LetValue,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum LetValue {
    Expr(Expr),
    Pipeline(Pipeline),
}

/// `param name = default`: a run may override the default (`--param name=value`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    pub name: Ident,
    pub default: Expr,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pipeline {
    pub source: Source,
    pub stages: Vec<Stage>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Source {
    /// One table, or several read as one (columns matched by name); `history` reads them whole,
    /// whatever window the run reads (`history dns`).
    Tables {
        names: Vec<Ident>,
        history: Option<Span>,
    },
    Sequence(Sequence),
    Chain(Chain),
}

/// Ordered events, each stage matched after the previous one, all within `within`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sequence {
    /// Fields every stage must share.
    pub by: Vec<Ident>,
    pub within: Expr,
    pub stages: Vec<SequenceStep>,
    /// An event that, seen between the first and the last stage, cancels the match.
    pub until: Option<SequenceStep>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequenceStep {
    pub alias: Ident,
    /// `alias: not table where ...`: no such event may follow the previous stage within the span.
    pub absent: bool,
    pub table: Ident,
    pub condition: Option<Expr>,
    pub span: Span,
}

/// A process tree path: `chain node -> (sh, bash) ->> curl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chain {
    pub steps: Vec<ChainStep>,
    /// `links[i]` joins `steps[i]` to `steps[i + 1]`.
    pub links: Vec<ChainLink>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ChainLink {
    /// `->`: the next step is a child.
    Child,
    /// `->>`: the next step is a descendant at any depth.
    Descendant,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainStep {
    pub alias: Option<Ident>,
    pub matcher: ChainMatcher,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ChainMatcher {
    /// Process names, case-insensitive; `*` and `?` are wildcards.
    Names(Vec<(String, Span)>),
    /// `[condition]` on the process's fields.
    Condition(Expr),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    pub kind: StageKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StageKind {
    Where(Expr),
    /// Keep only these fields (a named item computes or renames).
    Select(Vec<Item>),
    /// Add computed fields, keeping all.
    Extend(Vec<Item>),
    /// `rename new = old`.
    Rename(Vec<(Ident, Ident)>),
    Sort(Vec<SortKey>),
    Limit(u64, Span),
    /// Unique combinations of these fields.
    Distinct(Vec<Ident>),
    /// The first row (by `@timestamp`) of each combination of these fields, all fields kept.
    Dedup(Vec<Ident>),
    /// One row per element of a list field (rows whose list is empty or null are dropped).
    Expand(Ident),
    Stats {
        aggregates: Vec<Item>,
        by: Vec<Item>,
    },
    /// `rare` / `top`: values by how many distinct `across` values (hosts by default) saw them.
    Stack {
        rare: bool,
        fields: Vec<Ident>,
        across: Option<Ident>,
        limit: Option<(u64, Span)>,
    },
    Lookup(Lookup),
    /// Connection or lookup regularity per key.
    Beacon {
        by: Vec<Ident>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub name: Option<Ident>,
    pub expr: Expr,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lookup {
    /// A table, IOC list or `let` name.
    pub source: Ident,
    pub alias: Option<Ident>,
    pub field: Ident,
    /// The lookup's column to match (default `value`, or the only column).
    pub column: Option<Ident>,
    pub mode: LookupMode,
    /// `keep`: rows without a match stay, with the list's columns null (a left join).
    pub keep: Option<Span>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LookupMode {
    Exact,
    /// Case-insensitive.
    Nocase,
    /// The value or any subdomain of it (`evil.com` matches `a.b.evil.com`), case-insensitive.
    Domain,
    /// The field is an IP inside the lookup's CIDR (or equal to its address).
    Cidr,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExprKind {
    /// A field, a `let` or a parameter, by name (`process.name`, `p1.host.name`).
    Name(String),
    Literal(Literal),
    /// `[a, b, c]`
    List(Vec<Expr>),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `x in (a, b)`, `x in~ list`, `x not in (...)`.
    In {
        expr: Box<Expr>,
        list: Box<Expr>,
        negated: bool,
        nocase: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    Call {
        function: Ident,
        args: Vec<Expr>,
    },
    /// `count() over source.ip`: an aggregate over the rows sharing these fields' values, next
    /// to each row (`extend` and `select` only); with `within 5m`, over those of them in the
    /// span that ends at the row's time (a sliding window).
    Over {
        call: Box<Expr>,
        by: Vec<Ident>,
        within: Option<Box<Expr>>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Literal {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    /// Microseconds since the Unix epoch, UTC.
    Time(i64),
    /// Microseconds.
    Duration(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `=~`: equal ignoring case.
    EqNocase,
    /// `!~`
    NotEqNocase,
    Contains {
        nocase: bool,
    },
    StartsWith {
        nocase: bool,
    },
    EndsWith {
        nocase: bool,
    },
    /// Glob with `*` and `?`.
    Like {
        nocase: bool,
    },
    /// Regular expression (linear time).
    Matches {
        nocase: bool,
    },
    Add,
    Sub,
    Mul,
    /// `/`: always a fraction for numbers (`283 / 353` is 0.80...), as in SPL and DuckDB.
    Div,
    /// `//`: the whole number of times the divisor fits, truncated toward zero.
    IntDiv,
    /// The remainder of a division, with the sign of the dividend.
    Mod,
}

impl BinaryOp {
    pub fn is_arithmetic(self) -> bool {
        use BinaryOp::*;
        matches!(self, Add | Sub | Mul | Div | IntDiv | Mod)
    }

    pub fn symbol(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Or => "or",
            And => "and",
            Eq => "==",
            NotEq => "!=",
            Lt => "<",
            LtEq => "<=",
            Gt => ">",
            GtEq => ">=",
            EqNocase => "=~",
            NotEqNocase => "!~",
            Contains { nocase: false } => "contains",
            Contains { nocase: true } => "contains~",
            StartsWith { nocase: false } => "startswith",
            StartsWith { nocase: true } => "startswith~",
            EndsWith { nocase: false } => "endswith",
            EndsWith { nocase: true } => "endswith~",
            Like { nocase: false } => "like",
            Like { nocase: true } => "like~",
            Matches { nocase: false } => "matches",
            Matches { nocase: true } => "matches~",
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            IntDiv => "//",
            Mod => "%",
        }
    }
}
