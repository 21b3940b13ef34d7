//! A Sigma rule as the text of a `.hunt`: its metadata as the header, each search the
//! condition uses as a `let`, the logsource as the table and its row filters, the condition as
//! the last `where`.

use spoor_dsl::catalog::Catalog;
use spoor_dsl::types::Type;

use crate::condition::{self, Condition};
use crate::mapping::{FieldRef, Mapping, Scope};
use crate::rule::{self, FieldTest, Meta, Rule, Search, Value};
use crate::value::{self, Anchor, Piece, Planned, Test};
use crate::{Reason, Unsupported};

/// One rule of a Sigma file, converted or not.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The rule's id (a rule without one cannot be converted).
    pub id: Option<String>,
    pub title: Option<String>,
    /// The rule's logsource, as written.
    pub logsource: String,
    /// The hunt's text, or why the rule cannot run.
    pub hunt: Result<String, Unsupported>,
}

/// Converts every rule in a Sigma YAML file (a correlation or filter may name only rules of
/// the same file; [`convert_set`] reads several together).
pub fn convert(yaml: &str, mapping: &Mapping, catalog: &Catalog) -> Vec<Converted> {
    convert_set(&[yaml], mapping, catalog).into_iter().map(|(_, c)| c).collect()
}

/// Converts the rules of several files together, so that a correlation or a filter may name a
/// rule of any of them. Each result comes with the index of its file. A rule that a
/// correlation reads is part of the correlation's hunt and is not converted on its own, unless
/// the correlation says `generate: true`; a filter is part of the hunts of the rules it tunes.
pub fn convert_set(files: &[&str], mapping: &Mapping, catalog: &Catalog) -> Vec<(usize, Converted)> {
    let mut out = Vec::new();
    let mut read = Vec::new();
    for (index, yaml) in files.iter().enumerate() {
        match rule::read(yaml) {
            Ok(file) => read.push((index, file)),
            Err(why) => {
                out.push((index, Converted { id: None, title: None, logsource: String::new(), hunt: Err(why) }))
            }
        }
    }
    let set = crate::correlation::Set::new(&read, &mut out);
    for (index, file) in &read {
        for r in &file.rules {
            if set.is_part_of_correlation(&r.meta) {
                continue;
            }
            let converted = set.filtered(r).and_then(|r| hunt(&r, mapping, catalog));
            out.push((
                *index,
                Converted {
                    id: r.meta.id.clone(),
                    title: r.meta.title.clone(),
                    logsource: r.logsource.to_string(),
                    hunt: converted,
                },
            ));
        }
        for c in file.correlations.iter().filter(|c| !set.is_part_of_correlation(&c.meta)) {
            out.push((
                *index,
                Converted {
                    id: c.meta.id.clone(),
                    title: c.meta.title.clone(),
                    logsource: crate::correlation::describe(c),
                    hunt: crate::correlation::hunt(c, &set, mapping, catalog),
                },
            ));
        }
        out.extend(file.other.iter().map(|(id, title, why)| {
            (
                *index,
                Converted { id: id.clone(), title: title.clone(), logsource: String::new(), hunt: Err(why.clone()) },
            )
        }));
    }
    out.sort_by_key(|(index, _)| *index);
    out
}

/// The events a detection rule matches, as spoor pipelines: one per table it reads.
pub(crate) struct Matches {
    /// `let` lines of the searches (rules that read one table).
    pub lets: Vec<String>,
    /// Per table: the table and the stages after it (`where ...`).
    pub parts: Vec<(String, Vec<String>)>,
}

/// The hunt for one rule.
pub fn hunt(rule: &Rule, mapping: &Mapping, catalog: &Catalog) -> Result<String, Unsupported> {
    let id = rule.meta.id.as_deref().ok_or_else(|| Unsupported::new(Reason::Invalid, "the rule has no `id`"))?;
    let matches = matches(rule, "", mapping, catalog)?;
    let tables: Vec<String> = matches.parts.iter().map(|(t, _)| t.clone()).collect();
    let mut out = header(&rule.meta, id, &tables);
    out.push_str(&format!("# From Sigma ({}), converted by spoor.\n", rule.logsource));
    for l in &matches.lets {
        out.push_str(&format!("{l}\n"));
    }
    if let [(table, stages)] = matches.parts.as_slice() {
        out.push_str(table);
        out.push('\n');
        for stage in stages {
            out.push_str(&format!("| {stage}\n"));
        }
    } else {
        // Several tables: each reads the searches with its own columns, so each has its own pipeline.
        let mut names = Vec::new();
        for (table, stages) in &matches.parts {
            let name = format!("in_{table}");
            out.push_str(&format!("let {name} = ({})\n", pipeline(table, stages)));
            names.push(name);
        }
        out.push_str(&names.join(", "));
        out.push('\n');
    }
    Ok(out)
}

/// `table | stage | stage` on one line.
pub(crate) fn pipeline(table: &str, stages: &[String]) -> String {
    std::iter::once(table.to_string()).chain(stages.iter().cloned()).collect::<Vec<_>>().join(" | ")
}

/// The events `rule` matches; its searches' `let`s are named with `prefix` (so that several
/// rules' searches can sit in one hunt).
pub(crate) fn matches(rule: &Rule, prefix: &str, mapping: &Mapping, catalog: &Catalog) -> Result<Matches, Unsupported> {
    let route = mapping.route(&rule.logsource)?;
    let detection = &rule.detection;
    let conditions = detection
        .conditions
        .iter()
        .map(|c| condition::parse(c).map_err(|e| Unsupported::new(Reason::Condition, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let condition = if conditions.len() == 1 {
        conditions.into_iter().next().unwrap_or(Condition::Search(String::new()))
    } else {
        Condition::Or(conditions)
    };
    let names: Vec<&str> = detection.searches.iter().map(|(n, _)| n.as_str()).collect();
    check_names(&condition, &names)?;
    let negated = negated_searches(&condition, &names);
    let mut out = Matches { lets: Vec::new(), parts: Vec::new() };
    let scope = |table| Scope::of(table, &rule.logsource);
    let tables = mapping.narrowed(&route, event_ids(&condition, &names, detection).as_deref());
    if let [table] = tables.as_slice() {
        let mut used = Vec::new();
        searches_used(&condition, &names, &mut used);
        for (name, search) in detection.searches.iter().filter(|(n, _)| used.contains(&n.as_str())) {
            let expr = search_expr(search, scope(table), mapping, catalog)?;
            let expr = if negated.contains(&name.as_str()) { format!("coalesce({expr}, false)") } else { expr };
            out.lets.push(format!("let {} = {expr}", let_name(&format!("{prefix}{name}"), catalog)));
        }
        let mut stages: Vec<String> = route.filters.iter().map(|f| format!("where {f}")).collect();
        let search = |n: &str| Ok(let_name(&format!("{prefix}{n}"), catalog));
        stages.push(format!("where {}", condition_expr(&condition, &names, &search)?));
        out.parts.push((table.clone(), stages));
    } else {
        for table in &tables {
            let inline = |name: &str| -> Result<String, Unsupported> {
                let search = &detection.searches.iter().find(|(n, _)| n == name).map(|(_, s)| s).ok_or_else(|| {
                    Unsupported::new(Reason::Condition, format!("the condition names no search `{name}`"))
                })?;
                let expr = search_expr(search, scope(table), mapping, catalog)?;
                Ok(if negated.contains(&name) { format!("coalesce({expr}, false)") } else { format!("({expr})") })
            };
            let mut stages: Vec<String> = route.filters.iter().map(|f| format!("where {f}")).collect();
            stages.push(format!("where {}", condition_expr(&condition, &names, &inline)?));
            out.parts.push((table.clone(), stages));
        }
    }
    Ok(out)
}

pub(crate) fn header(rule: &Meta, id: &str, tables: &[String]) -> String {
    let mut h = String::from("---\n");
    h.push_str(&format!("id: {id}\n"));
    let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let quoted = |s: &str| {
        let s = one_line(s);
        if s.starts_with(['[', '"', '|', '>']) { format!("\"{s}\"") } else { s }
    };
    if let Some(title) = &rule.title {
        h.push_str(&format!("title: {}\n", quoted(title)));
    }
    if let Some(description) = &rule.description {
        h.push_str("description: |\n");
        for line in description.trim().lines() {
            h.push_str(&format!("  {}\n", if line.trim().is_empty() { "." } else { line.trim_end() }));
        }
    }
    for (key, value) in
        [("author", &rule.author), ("status", &rule.status), ("date", &rule.date), ("modified", &rule.modified)]
    {
        if let Some(v) = value {
            h.push_str(&format!("{key}: {}\n", quoted(v)));
        }
    }
    let severity = match rule.level.as_deref() {
        Some("informational") => "info",
        Some(l @ ("low" | "medium" | "high" | "critical")) => l,
        _ => "medium",
    };
    h.push_str(&format!("severity: {severity}\n"));
    let attack: Vec<String> = rule
        .tags
        .iter()
        .filter_map(|t| t.strip_prefix("attack."))
        .filter(|t| t.len() >= 5 && t.starts_with(['t', 'T']) && t[1..5].bytes().all(|b| b.is_ascii_digit()))
        .map(|t| t.to_ascii_uppercase())
        .collect();
    if !attack.is_empty() {
        h.push_str(&format!("attack: [{}]\n", attack.join(", ")));
    }
    for (key, items) in
        [("tags", &rule.tags), ("false_positives", &rule.falsepositives), ("references", &rule.references)]
    {
        if !items.is_empty() {
            h.push_str(&format!("{key}:\n"));
            for item in items {
                h.push_str(&format!("  - {}\n", one_line(item)));
            }
        }
    }
    h.push_str(&format!("tables: [{}]\n", tables.join(", ")));
    h.push_str("---\n");
    h
}

fn check_names(c: &Condition, names: &[&str]) -> Result<(), Unsupported> {
    match c {
        Condition::Search(n) if !names.contains(&n.as_str()) => {
            Err(Unsupported::new(Reason::Condition, format!("the condition names no search `{n}`")))
        }
        Condition::Of { pattern, .. } if !names.iter().any(|n| condition::pattern_matches(pattern, n)) => {
            Err(Unsupported::new(Reason::Condition, format!("no search matches `{pattern}`")))
        }
        Condition::Not(inner) => check_names(inner, names),
        Condition::And(items) | Condition::Or(items) => items.iter().try_for_each(|i| check_names(i, names)),
        _ => Ok(()),
    }
}

fn searches_used<'a>(c: &Condition, names: &[&'a str], used: &mut Vec<&'a str>) {
    let mut add = |n: &'a str| {
        if !used.contains(&n) {
            used.push(n);
        }
    };
    match c {
        Condition::Search(s) => names.iter().filter(|n| **n == s).for_each(|n| add(n)),
        Condition::Of { pattern, .. } => {
            names.iter().filter(|n| condition::pattern_matches(pattern, n)).for_each(|n| add(n))
        }
        Condition::Not(inner) => searches_used(inner, names, used),
        Condition::And(items) | Condition::Or(items) => items.iter().for_each(|i| searches_used(i, names, used)),
    }
}

/// The event ids (`EventID`) every event the condition matches has, where the condition says:
/// a search that names them, held by every branch of an `or` and by some part of an `and`.
fn event_ids(c: &Condition, names: &[&str], detection: &rule::Detection) -> Option<Vec<i64>> {
    let of_search = |name: &str| -> Option<Vec<i64>> {
        let search = detection.searches.iter().find(|(n, _)| n == name).map(|(_, s)| s)?;
        let of_map = |tests: &[FieldTest]| -> Option<Vec<i64>> {
            let test = tests.iter().find(|t| t.field.as_deref() == Some("EventID") && t.modifiers.is_empty())?;
            test.values
                .iter()
                .map(|v| match v {
                    Value::Int(n) => Some(*n),
                    Value::Text(t) => t.trim().parse().ok(),
                    _ => None,
                })
                .collect()
        };
        match search {
            Search::AllOf(tests) => of_map(tests),
            Search::AnyOf(maps) => maps.iter().map(|m| of_map(m)).collect::<Option<Vec<_>>>().map(|v| v.concat()),
            Search::Keywords(_) => None,
        }
    };
    let any = |sets: Vec<Option<Vec<i64>>>| sets.into_iter().collect::<Option<Vec<_>>>().map(|v| v.concat());
    let every = |sets: Vec<Option<Vec<i64>>>| sets.into_iter().flatten().min_by_key(Vec::len);
    let matching = |pattern: &str| -> Vec<Option<Vec<i64>>> {
        names.iter().filter(|n| condition::pattern_matches(pattern, n)).map(|n| of_search(n)).collect()
    };
    match c {
        Condition::Search(name) => of_search(name),
        Condition::Not(_) => None,
        Condition::Or(items) => any(items.iter().map(|i| event_ids(i, names, detection)).collect()),
        Condition::And(items) => every(items.iter().map(|i| event_ids(i, names, detection)).collect()),
        Condition::Of { all: false, pattern } => any(matching(pattern)),
        Condition::Of { all: true, pattern } => every(matching(pattern)),
    }
}

/// Searches under a `not`: a missing field makes a test null, and Sigma counts it as no match,
/// so these are made false rather than null (`not null` would drop the row).
fn negated_searches<'a>(c: &Condition, names: &[&'a str]) -> Vec<&'a str> {
    fn walk<'a>(c: &Condition, names: &[&'a str], under_not: bool, out: &mut Vec<&'a str>) {
        match c {
            Condition::Not(inner) => walk(inner, names, true, out),
            Condition::And(items) | Condition::Or(items) => items.iter().for_each(|i| walk(i, names, under_not, out)),
            leaf if under_not => {
                let mut used = Vec::new();
                searches_used(leaf, names, &mut used);
                out.extend(used.into_iter().filter(|u| !out.contains(u)).collect::<Vec<_>>());
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(c, names, false, &mut out);
    out
}

fn condition_expr(
    c: &Condition,
    names: &[&str],
    search: &dyn Fn(&str) -> Result<String, Unsupported>,
) -> Result<String, Unsupported> {
    let group = |items: Vec<String>, op: &str| {
        if items.len() == 1 { items.into_iter().next().unwrap_or_default() } else { format!("({})", items.join(op)) }
    };
    Ok(match c {
        Condition::Search(n) => search(n)?,
        Condition::Not(inner) => format!("not {}", condition_expr(inner, names, search)?),
        Condition::And(items) => {
            group(items.iter().map(|i| condition_expr(i, names, search)).collect::<Result<_, _>>()?, " and ")
        }
        Condition::Or(items) => {
            group(items.iter().map(|i| condition_expr(i, names, search)).collect::<Result<_, _>>()?, " or ")
        }
        Condition::Of { all, pattern } => {
            let matched: Vec<String> = names
                .iter()
                .filter(|n| condition::pattern_matches(pattern, n))
                .map(|n| search(n))
                .collect::<Result<_, _>>()?;
            group(matched, if *all { " and " } else { " or " })
        }
    })
}

/// A search's name as a `let` name: letters, digits and `_`, never a keyword or a table's name
/// (a search called `registry` would hide the table).
pub(crate) fn let_name(name: &str, catalog: &Catalog) -> String {
    let mut out: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    let taken = spoor_dsl::parser::is_keyword(&out) || catalog.get(&out).is_some() || out == "iocs";
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || taken {
        out = format!("search_{out}");
    }
    out
}

fn search_expr(search: &Search, at: Scope, mapping: &Mapping, catalog: &Catalog) -> Result<String, Unsupported> {
    let all_of = |tests: &[FieldTest]| -> Result<String, Unsupported> {
        let parts = tests.iter().map(|t| field_test_expr(t, at, mapping, catalog)).collect::<Result<Vec<_>, _>>()?;
        Ok(join(parts, " and "))
    };
    match search {
        Search::AllOf(tests) => all_of(tests),
        Search::AnyOf(maps) => Ok(join(maps.iter().map(|m| all_of(m)).collect::<Result<Vec<_>, _>>()?, " or ")),
        Search::Keywords(values) => {
            field_test_expr(&FieldTest { field: None, modifiers: vec![], values: values.clone() }, at, mapping, catalog)
        }
    }
}

/// Joins with `and` or `or`, wrapping parts that hold the other operator.
fn join(parts: Vec<String>, op: &str) -> String {
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    parts.into_iter().map(|p| if needs_parens(&p) { format!("({p})") } else { p }).collect::<Vec<_>>().join(op)
}

fn needs_parens(expr: &str) -> bool {
    // Operators at the top level: outside parentheses and strings.
    let (mut depth, mut quote) = (0i32, None::<char>);
    let bytes: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some('"') if c == '\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '(' => depth += 1,
                ')' => depth -= 1,
                ' ' if depth == 0 => {
                    let rest: String = bytes[i..].iter().take(5).collect();
                    if rest.starts_with(" or ") || rest.starts_with(" and ") {
                        return true;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    false
}

fn field_test_expr(test: &FieldTest, at: Scope, mapping: &Mapping, catalog: &Catalog) -> Result<String, Unsupported> {
    let mut planned = value::plan(&mapping.expand(test)?)?;
    if planned.field.is_none() {
        keywords_anywhere(&mut planned);
    }
    let mut targets: Vec<FieldRef> = match &planned.field {
        Some(field) => vec![mapping.field(field, at, catalog)?],
        None => keyword_fields(at, mapping, catalog),
    };
    if let Some(part) = planned.time_part {
        for target in &mut targets {
            if target.ty != Type::Time {
                return Err(Unsupported::new(
                    Reason::Modifier,
                    format!("the time modifier `{part}` on `{}`, which is not a time in spoor", target.expr),
                ));
            }
            *target = FieldRef { expr: format!("time_part({}, '{part}')", target.expr), ty: Type::Int, lines: false };
        }
    }
    let per_target = targets
        .iter()
        .map(|target| planned_expr(&planned, target, at, mapping, catalog))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(join(per_target, " or "))
}

/// Keywords are searched in the event's text, as SIEMs search raw events: a keyword with no
/// wildcard may sit anywhere in a value (`if=` in `if=/dev/zero`); one with wildcards is matched
/// as written.
fn keywords_anywhere(planned: &mut Planned) {
    for test in planned.values.iter_mut().flatten() {
        match test {
            Test::Pattern { pieces, .. } if !pieces.iter().any(|p| matches!(p, Piece::Any | Piece::One)) => {
                pieces.insert(0, Piece::Any);
                pieces.push(Piece::Any);
            }
            Test::Number(n) => {
                *test = Test::Pattern { pieces: vec![Piece::Any, Piece::Text(n.to_string()), Piece::Any], cased: false }
            }
            _ => {}
        }
    }
}

/// What a keyword search reads: the table's text columns, and the values of the map that keeps
/// the product's other fields (one text, a line a value), as Sigma searches the whole event.
fn keyword_fields(at: Scope, mapping: &Mapping, catalog: &Catalog) -> Vec<FieldRef> {
    const NOT_EVENT_TEXT: &[&str] = &["spoor.format", "log.file.path", "event.ingested", "@timestamp"];
    let Some(info) = catalog.get(at.table) else { return Vec::new() };
    let columns = info
        .columns
        .iter()
        .filter(|(name, ty)| *ty == Type::Text && !NOT_EVENT_TEXT.contains(&name.as_str()))
        .map(|(name, _)| FieldRef { expr: name.clone(), ty: Type::Text, lines: false });
    let others = mapping.others(at, catalog).into_iter().map(|map| FieldRef {
        expr: format!("concat(\"\\n\", join(map_values({map}), \"\\n\"), \"\\n\")"),
        ty: Type::Text,
        lines: true,
    });
    columns.chain(others).collect()
}

fn planned_expr(
    planned: &Planned,
    target: &FieldRef,
    at: Scope,
    mapping: &Mapping,
    catalog: &Catalog,
) -> Result<String, Unsupported> {
    let mut simple: Vec<Simple> = Vec::new();
    let mut rest: Vec<String> = Vec::new();
    for alternatives in &planned.values {
        // With `all`, a value's alternatives (its windash spellings) count as one: any of them.
        let groupable = !planned.all || alternatives.len() == 1;
        let mut alts: Vec<String> = Vec::new();
        for test in alternatives {
            match simple_test(test, target) {
                Some(s) if groupable => simple.push(s),
                Some(s) => alts.push(s.render_one()),
                None => alts.push(test_expr(test, target, at, mapping, catalog)?),
            }
        }
        match planned.all {
            true if !alts.is_empty() => rest.push(join(alts, " or ")),
            _ => rest.extend(alts),
        }
    }
    let op = if planned.all { " and " } else { " or " };
    let mut parts: Vec<String> = group_simple(simple, planned.all);
    parts.extend(rest);
    let expr = join(parts, op);
    Ok(if planned.negated { format!("not coalesce({expr}, false)") } else { expr })
}

/// A test that is one operator and one literal: several with the same operator are written as
/// one (`in~ (...)`, `contains~ any(...)`).
struct Simple {
    target: String,
    op: &'static str,
    literal: String,
}

impl Simple {
    fn render_one(&self) -> String {
        format!("{} {} {}", self.target, self.op, self.literal)
    }
}

fn group_simple(simple: Vec<Simple>, all: bool) -> Vec<String> {
    let mut groups: Vec<(String, &'static str, Vec<String>)> = Vec::new();
    for s in simple {
        match groups.iter_mut().find(|(t, op, _)| *t == s.target && *op == s.op) {
            Some(g) => g.2.push(s.literal),
            None => groups.push((s.target, s.op, vec![s.literal])),
        }
    }
    groups
        .into_iter()
        .map(|(target, op, literals)| {
            if literals.len() == 1 {
                return format!("{target} {op} {}", literals[0]);
            }
            let list = literals.join(", ");
            match (op, all) {
                ("=~", false) => format!("{target} in~ ({list})"),
                ("==", false) => format!("{target} in ({list})"),
                (_, false) => format!("{target} {op} any({list})"),
                (_, true) => format!("{target} {op} all({list})"),
            }
        })
        .collect()
}

/// A pattern for one line of several: it starts after a newline and ends before one, unless
/// it starts or ends with `*`.
fn one_line(pieces: &[Piece]) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut push = |piece: Piece| match (out.last_mut(), piece) {
        (Some(Piece::Text(last)), Piece::Text(t)) => last.push_str(&t),
        (_, piece) => out.push(piece),
    };
    if !matches!(pieces.first(), Some(Piece::Any)) {
        push(Piece::Any);
        push(Piece::Text("\n".into()));
    }
    pieces.iter().cloned().for_each(&mut push);
    if !matches!(pieces.last(), Some(Piece::Any)) {
        push(Piece::Text("\n".into()));
        push(Piece::Any);
    }
    out
}

/// The target as text, for tests on text.
fn as_text(target: &FieldRef) -> String {
    match target.ty {
        Type::Text | Type::Map => target.expr.clone(),
        _ => format!("concat({})", target.expr),
    }
}

fn simple_test(test: &Test, target: &FieldRef) -> Option<Simple> {
    let s = |target: String, op: &'static str, literal: String| Some(Simple { target, op, literal });
    match test {
        Test::Number(n) => match target.ty {
            _ if target.lines => s(target.expr.clone(), "contains", string_literal(&format!("\n{n}\n"))),
            Type::Int | Type::Float => s(target.expr.clone(), "==", n.to_string()),
            _ => s(as_text(target), "==", string_literal(&n.to_string())),
        },
        Test::Pattern { pieces, cased } => {
            // A number or a boolean written as text, for a numeric or boolean column.
            if let ([Piece::Text(t)], Type::Int) = (pieces.as_slice(), &target.ty)
                && let Ok(n) = t.trim().parse::<i64>()
            {
                return s(target.expr.clone(), "==", n.to_string());
            }
            if let ([Piece::Text(t)], Type::Bool) = (pieces.as_slice(), &target.ty)
                && let Ok(b) = t.trim().to_ascii_lowercase().parse::<bool>()
            {
                return s(target.expr.clone(), "==", b.to_string());
            }
            let text = as_text(target);
            let nocase = !cased;
            let pieces = if target.lines { one_line(pieces) } else { pieces.clone() };
            let (op, literal): (&'static str, &str) = match pieces.as_slice() {
                [] => ("==", ""),
                [Piece::Text(t)] => (if nocase { "=~" } else { "==" }, t),
                [Piece::Any, Piece::Text(t), Piece::Any] => (if nocase { "contains~" } else { "contains" }, t),
                [Piece::Text(t), Piece::Any] => (if nocase { "startswith~" } else { "startswith" }, t),
                [Piece::Any, Piece::Text(t)] => (if nocase { "endswith~" } else { "endswith" }, t),
                _ => {
                    let literal_wildcards =
                        pieces.iter().any(|p| matches!(p, Piece::Text(t) if t.contains(['*', '?'])));
                    if literal_wildcards || pieces.as_slice() == [Piece::Any] {
                        return None;
                    }
                    let glob: String = pieces
                        .iter()
                        .map(|p| match p {
                            Piece::Text(t) => t.as_str(),
                            Piece::Any => "*",
                            Piece::One => "?",
                        })
                        .collect();
                    return s(text, if nocase { "like~" } else { "like" }, string_literal(&glob));
                }
            };
            s(text, op, string_literal(literal))
        }
        _ => None,
    }
}

fn test_expr(
    test: &Test,
    target: &FieldRef,
    at: Scope,
    mapping: &Mapping,
    catalog: &Catalog,
) -> Result<String, Unsupported> {
    Ok(match test {
        Test::Null => format!("{} is null", target.expr),
        Test::Exists(true) => format!("{} is not null", target.expr),
        Test::Exists(false) => format!("{} is null", target.expr),
        Test::Regex(pattern) => format!("{} matches {}", as_text(target), string_literal(pattern)),
        Test::Cidr(network) => format!("cidr_match({}, {})", target.expr, string_literal(network)),
        Test::Compare(op, number) => match target.ty {
            Type::Int | Type::Float => format!("{} {op} {number}", target.expr),
            _ => {
                return Err(Unsupported::new(
                    Reason::Modifier,
                    format!("a number comparison on `{}`, which spoor keeps as text", target.expr),
                ));
            }
        },
        Test::FieldRef { other, anchor } => {
            let other = mapping.field(other, at, catalog)?;
            let op = match anchor {
                Anchor::Equal => "=~",
                Anchor::Contains => "contains~",
                Anchor::StartsWith => "startswith~",
                Anchor::EndsWith => "endswith~",
            };
            format!("{} {op} {}", as_text(target), as_text(&other))
        }
        Test::Pattern { pieces, .. } if pieces.as_slice() == [Piece::Any] => {
            format!("{} is not null", target.expr)
        }
        Test::Pattern { pieces, cased } => {
            // Wildcards next to literal `*` or `?`: a regular expression says both.
            let mut re = String::from(if *cased { "(?s)^" } else { "(?is)^" });
            for p in pieces {
                match p {
                    Piece::Text(t) => re.push_str(&regex::escape(t)),
                    Piece::Any => re.push_str(".*"),
                    Piece::One => re.push('.'),
                }
            }
            re.push('$');
            format!("{} matches {}", as_text(target), string_literal(&re))
        }
        // Numbers are simple tests, written by `simple_test`.
        Test::Number(n) => format!("{} == {n}", target.expr),
    })
}

/// A string literal of spoor's language: `'...'` (taken as written) when it can be, else
/// `"..."` with escapes.
pub fn string_literal(text: &str) -> String {
    if !text.contains('\'') && !text.chars().any(|c| c.is_control()) {
        return format!("'{text}'");
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hunt_of(detection: &str) -> String {
        let yaml = format!(
            "title: t\nid: r1\nlogsource: {{product: windows, category: process_creation}}\ndetection:\n{detection}"
        );
        let file = rule::read(&yaml).unwrap();
        hunt(&file.rules[0], &Mapping::builtin(), &Catalog::standard()).unwrap()
    }

    #[test]
    fn all_values_each_with_any_of_their_windash_spellings() {
        let one = hunt_of("  sel:\n    CommandLine|contains|all|windash: '-x'\n  condition: sel\n");
        assert!(one.contains("process.command_line contains~ '-x' or process.command_line contains~ '/x'"), "{one}");
        assert!(!one.contains("all("), "{one}");
        let two = hunt_of("  sel:\n    CommandLine|contains|all|windash: ['-x', 'y']\n  condition: sel\n");
        assert!(two.contains("process.command_line contains~ 'y' and ("), "{two}");
    }

    #[test]
    fn expand_reads_placeholders_from_the_mapping() {
        let yaml = "title: t\nid: r1\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Computer|expand: '%dc%'\n    CommandLine|contains|expand: '%dom%\\%dc%'\n  condition: sel\n";
        let rule = &rule::read(yaml).unwrap().rules[0];
        let why = hunt(rule, &Mapping::builtin(), &Catalog::standard()).unwrap_err();
        assert!(why.message.contains("`%dc%`"), "{why}");
        let mut mapping = Mapping::builtin();
        mapping.extend(Mapping::parse("[placeholders]\ndc = ['dc1', 'dc2']\ndom = ['corp']\n").unwrap());
        let h = hunt(rule, &mapping, &Catalog::standard()).unwrap();
        assert!(h.contains("host.name in~ ('dc1', 'dc2')"), "{h}");
        assert!(h.contains(r"process.command_line contains~ any('corp\dc1', 'corp\dc2')"), "{h}");
    }

    #[test]
    fn time_modifiers_compare_a_part_of_the_time() {
        let h = hunt_of("  sel:\n    '@timestamp|hour': 3\n    '@timestamp|minute|gte': 30\n  condition: sel\n");
        assert!(h.contains("time_part(@timestamp, 'hour') == 3 and time_part(@timestamp, 'minute') >= 30"), "{h}");
        let yaml = "title: t\nid: r1\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    CommandLine|hour: 3\n  condition: sel\n";
        let why = hunt(&rule::read(yaml).unwrap().rules[0], &Mapping::builtin(), &Catalog::standard()).unwrap_err();
        assert_eq!(why.code, Reason::Modifier, "{why}");
    }

    #[test]
    fn literal_wildcards_become_an_escaped_regular_expression() {
        let h = hunt_of("  sel:\n    CommandLine: 'a\\*b*c.d'\n  condition: sel\n");
        assert!(h.contains(r"process.command_line matches '(?is)^a\*b.*c\.d$'"), "{h}");
    }

    #[test]
    fn a_search_named_like_a_table_is_renamed() {
        let h = hunt_of("  registry:\n    Image: x\n  condition: registry\n");
        assert!(h.contains("let search_registry = "), "{h}");
    }
}
