//! Rules over rules: correlations (counts, distinct values and events of several rules close in
//! time, per group) and filters (conditions added to the rules they name).
//!
//! A correlation becomes one hunt. Each rule it reads is a `let` pipeline whose rows all have
//! the same columns (time, evidence, host, the rule's name, the group-by fields under their
//! Sigma names), so rules on different tables can be counted together:
//! - `event_count`, `value_count` and `temporal` (how many of the rules were seen) with only
//!   lower bounds count over a sliding window (`count() over groups within 5m`): a burst is
//!   found wherever it starts, as the specification asks. With an upper bound (`lt`, `lte`,
//!   `eq`), "at most" needs a fixed span to count over: the counts are per group and `bin` of
//!   the timespan, and a group with no events at all in a span is not seen.
//! - `temporal_ordered` is a `sequence by groups within span` over the rules, in order.
//!
//! A correlation may read another correlation (chained): the inner one's rows are the events
//! where its condition held.

use spoor_dsl::catalog::Catalog;

use crate::condition;
use crate::convert::{self, Converted, Matches};
use crate::mapping::{Mapping, Scope};
use crate::rule::{Bound, Correlation, CorrelationKind, Filter, Meta, Rule, RuleFile};
use crate::{Reason, Unsupported};

/// Chains deeper than this are refused (a correlation that reads itself would never end).
const MAX_DEPTH: usize = 8;

/// The rules, correlations and filters of the files converted together.
pub(crate) struct Set<'a> {
    rules: Vec<&'a Rule>,
    correlations: Vec<&'a Correlation>,
    filters: Vec<&'a Filter>,
}

/// What a reference names.
enum Item<'a> {
    Rule(&'a Rule),
    Correlation(&'a Correlation),
}

impl<'a> Set<'a> {
    /// The set of these files; a filter that tunes none of their rules is reported in `out`
    /// (it would otherwise do nothing, silently).
    pub(crate) fn new(read: &'a [(usize, RuleFile)], out: &mut Vec<(usize, Converted)>) -> Set<'a> {
        let set = Set {
            rules: read.iter().flat_map(|(_, f)| &f.rules).collect(),
            correlations: read.iter().flat_map(|(_, f)| &f.correlations).collect(),
            filters: read.iter().flat_map(|(_, f)| &f.filters).collect(),
        };
        for (index, file) in read {
            for filter in &file.filters {
                if !set.rules.iter().any(|r| applies(filter, r)) {
                    let names = filter.rules.as_ref().map_or("any rule".to_string(), |r| r.join(", "));
                    let why = Unsupported::new(
                        Reason::Reference,
                        format!(
                            "the filter tunes no rule of those read with it (it names {names}, for {})",
                            filter.logsource
                        ),
                    );
                    out.push((
                        *index,
                        Converted {
                            id: filter.meta.id.clone(),
                            title: filter.meta.title.clone(),
                            logsource: filter.logsource.to_string(),
                            hunt: Err(why),
                        },
                    ));
                }
            }
        }
        set
    }

    /// Whether a correlation reads this rule (or correlation) and does not ask for it to run on
    /// its own too.
    pub(crate) fn is_part_of_correlation(&self, meta: &Meta) -> bool {
        self.correlations.iter().any(|c| !c.generate && c.rules.iter().any(|r| meta.is(r)))
    }

    /// The rule with every filter that tunes it joined to its condition (`(rule) and (filter)`,
    /// as pySigma does), each filter's searches renamed apart from the rule's.
    pub(crate) fn filtered(&self, rule: &Rule) -> Result<Rule, Unsupported> {
        let mut out = rule.clone();
        for (n, filter) in self.filters.iter().enumerate().filter(|(_, f)| applies(f, rule)) {
            let prefix = format!("filter{}_", n + 1);
            let written = filter.detection.conditions.first().map(String::as_str).unwrap_or_default();
            let condition = condition::parse(written).map_err(|e| {
                let name = filter.meta.title.as_deref().or(filter.meta.id.as_deref()).unwrap_or("a filter");
                Unsupported::new(Reason::Condition, format!("filter `{name}`: {e}"))
            })?;
            let condition = condition.prefixed(&prefix);
            out.detection.searches.extend(
                filter.detection.searches.iter().map(|(name, search)| (format!("{prefix}{name}"), search.clone())),
            );
            for c in &mut out.detection.conditions {
                *c = format!("({c}) and {condition}");
            }
        }
        Ok(out)
    }

    fn find(&self, reference: &str) -> Option<Item<'a>> {
        let rule = self.rules.iter().find(|r| r.meta.is(reference)).map(|r| Item::Rule(r));
        rule.or_else(|| self.correlations.iter().find(|c| c.meta.is(reference)).map(|c| Item::Correlation(c)))
    }
}

/// Whether a filter tunes a rule: the rule's logsource is within the filter's, and the filter
/// names it (or names `any`).
fn applies(filter: &Filter, rule: &Rule) -> bool {
    let within = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
    let f = &filter.logsource;
    let l = &rule.logsource;
    within(&f.product, &l.product)
        && within(&f.category, &l.category)
        && within(&f.service, &l.service)
        && filter.rules.as_ref().is_none_or(|names| names.iter().any(|n| rule.meta.is(n)))
}

/// `correlation event_count of failed_logon`: what a correlation reads, for listings.
pub(crate) fn describe(c: &Correlation) -> String {
    format!("correlation {} of {}", kind_name(c.kind), c.rules.join(", "))
}

fn kind_name(kind: CorrelationKind) -> &'static str {
    match kind {
        CorrelationKind::EventCount => "event_count",
        CorrelationKind::ValueCount => "value_count",
        CorrelationKind::Temporal => "temporal",
        CorrelationKind::TemporalOrdered => "temporal_ordered",
    }
}

/// The hunt of a correlation rule.
pub(crate) fn hunt(c: &Correlation, set: &Set, mapping: &Mapping, catalog: &Catalog) -> Result<String, Unsupported> {
    let id = c.meta.id.as_deref().ok_or_else(|| Unsupported::new(Reason::Invalid, "the rule has no `id`"))?;
    let mut out = Out { lets: Vec::new(), tables: Vec::new() };
    let compiled = compile(c, set, mapping, catalog, &mut out, 0)?;
    let mut text = convert::header(&c.meta, id, &out.tables);
    text.push_str(&format!("# From Sigma ({}), converted by spoor.\n", describe(c)));
    for l in &out.lets {
        text.push_str(&format!("{l}\n"));
    }
    text.push_str(&compiled.body);
    text.push('\n');
    for stage in &compiled.findings {
        text.push_str(&format!("| {stage}\n"));
    }
    Ok(text)
}

/// What a hunt gathers while its correlations compile: the `let`s and the tables read.
struct Out {
    lets: Vec<String>,
    tables: Vec<String>,
}

/// A correlation as spoor text.
struct Compiled {
    /// The source and stages every use shares (multi-line for a sequence).
    body: String,
    /// Stages after `body` whose rows are the events where the condition held, with the
    /// common columns (for a correlation that reads this one).
    events: Vec<String>,
    /// Stages after `body` for the correlation's own findings.
    findings: Vec<String>,
    /// The group-by fields its events carry, as spoor names them.
    columns: Vec<String>,
    /// Whether its events carry `host.name`.
    host: bool,
}

fn compile(
    c: &Correlation,
    set: &Set,
    mapping: &Mapping,
    catalog: &Catalog,
    out: &mut Out,
    depth: usize,
) -> Result<Compiled, Unsupported> {
    if depth > MAX_DEPTH {
        return Err(Unsupported::new(Reason::Reference, "correlations read each other in a loop (or deeper than 8)"));
    }
    let groups: Vec<String> = c.group_by.iter().map(|g| column_name(g)).collect();
    let value = c.field.as_deref().map(column_name);
    let mut sources = Vec::new();
    let mut host = true;
    for reference in &c.rules {
        let name = convert::let_name(&format!("rule_{reference}"), catalog);
        // A rule read twice (by this correlation and one it reads) is defined once.
        if !out.lets.iter().any(|l| l.starts_with(&format!("let {name} = "))) {
            let field_of = |group: &str| alias(c, group, reference, set).unwrap_or_else(|| group.to_string());
            let mut wanted: Vec<(String, String)> = c.group_by.iter().map(|g| (column_name(g), field_of(g))).collect();
            if let (Some(v), Some(field)) = (&value, &c.field) {
                wanted.push((v.clone(), field_of(field)));
            }
            host &= events_of(reference, &name, &wanted, set, mapping, catalog, out, depth)?;
        }
        sources.push(name);
    }
    let source = sources.join(", ");
    let span = duration(&c.timespan);
    let condition = |measure: &str| {
        c.condition.iter().map(|(bound, n)| format!("{measure} {} {n}", bound.op())).collect::<Vec<_>>().join(" and ")
    };
    let host_column = host && !groups.iter().any(|g| g == "host.name");
    let evidence = |host_column: bool| {
        let mut items = vec![
            "@timestamp = min(@timestamp)".to_string(),
            "log.file.path = first(log.file.path)".to_string(),
            "log.file.line = first(log.file.line)".to_string(),
        ];
        if host_column {
            items.push("host.name = first(host.name)".to_string());
        }
        items.join(", ")
    };
    let by = |extra: Option<String>| {
        let keys: Vec<String> = groups.iter().cloned().chain(extra).collect();
        if keys.is_empty() { String::new() } else { format!(" by {}", keys.join(", ")) }
    };
    let (measure, aggregate) = match c.kind {
        CorrelationKind::EventCount => ("correlation.count", "count()".to_string()),
        CorrelationKind::ValueCount => ("correlation.values", format!("dc({})", value.clone().unwrap_or_default())),
        CorrelationKind::Temporal => ("correlation.rules", "dc(sigma.rule)".to_string()),
        CorrelationKind::TemporalOrdered => {
            return ordered(c, &sources, &groups, &span, host);
        }
    };
    let not_null = groups.iter().map(|g| format!("{g} is not null")).collect::<Vec<_>>();
    let present = if not_null.is_empty() { String::new() } else { format!(" | where {}", not_null.join(" and ")) };
    let lower_bounds_only = c.condition.iter().all(|(b, _)| matches!(b, Bound::Gt | Bound::Gte));
    if lower_bounds_only {
        let over = match groups.as_slice() {
            [one] => one.clone(),
            all => format!("({})", all.join(", ")),
        };
        Ok(Compiled {
            body: format!(
                "{source}{present}\n| extend {measure} = {aggregate} over {over} within {span}\n| where {}",
                condition(measure)
            ),
            events: Vec::new(),
            findings: vec![format!("stats {}, {measure} = max({measure}){}", evidence(host_column), by(None))],
            columns: groups,
            host,
        })
    } else {
        Ok(Compiled {
            body: format!(
                "{source}{present}\n| stats {measure} = {aggregate}, {}{}\n| where {}",
                evidence(host_column),
                by(Some(format!("correlation.window = bin(@timestamp, {span})"))),
                condition(measure)
            ),
            events: Vec::new(),
            findings: Vec::new(),
            // Its rows carry `host.name` as evidence or as a group.
            host,
            columns: groups,
        })
    }
}

/// `temporal_ordered`: the rules' events in order, per group, within the span.
fn ordered(
    c: &Correlation,
    sources: &[String],
    groups: &[String],
    span: &str,
    host: bool,
) -> Result<Compiled, Unsupported> {
    if c.condition != [(Bound::Gte, c.rules.len() as i64)] {
        return Err(Unsupported::new(
            Reason::RuleKind,
            "a temporal_ordered correlation whose condition asks for fewer than all of its rules",
        ));
    }
    let steps: Vec<String> = (1..=sources.len()).map(|i| format!("step{i}")).collect();
    let by = if groups.is_empty() { String::new() } else { format!(" by {}", groups.join(", ")) };
    let mut body = format!("sequence{by} within {span}");
    for (step, source) in steps.iter().zip(sources) {
        body.push_str(&format!("\n  {step}: {source}"));
    }
    let (first, last) = (&steps[0], &steps[steps.len() - 1]);
    let mut common = vec![
        format!("@timestamp = {last}.@timestamp"),
        format!("log.file.path = {last}.log.file.path"),
        format!("log.file.line = {last}.log.file.line"),
    ];
    let mut findings = vec![format!("@timestamp = {first}.@timestamp")];
    if host && !groups.iter().any(|g| g == "host.name") {
        common.push(format!("host.name = {first}.host.name"));
        findings.push(format!("host.name = {first}.host.name"));
    }
    for g in groups {
        common.push(format!("{g} = {first}.{g}"));
        findings.push(format!("{g} = {first}.{g}"));
    }
    for step in &steps {
        findings.push(format!("{step}.sigma.rule, {step}.@timestamp, {step}.log.file.path, {step}.log.file.line"));
    }
    Ok(Compiled {
        body,
        events: vec![format!("select {}", common.join(", "))],
        findings: vec![format!("select {}", findings.join(", "))],
        columns: groups.to_vec(),
        host,
    })
}

/// Defines `name`: the events of the rule or correlation `reference` names, with the common
/// columns and `wanted` (spoor name, Sigma field of that rule). Whether they carry `host.name`.
#[allow(clippy::too_many_arguments)]
fn events_of(
    reference: &str,
    name: &str,
    wanted: &[(String, String)],
    set: &Set,
    mapping: &Mapping,
    catalog: &Catalog,
    out: &mut Out,
    depth: usize,
) -> Result<bool, Unsupported> {
    let tag = convert::string_literal(reference);
    match set.find(reference) {
        None => Err(Unsupported::new(
            Reason::Reference,
            format!("the correlation reads `{reference}`, which no rule read with it has as its id or name"),
        )),
        Some(Item::Rule(rule)) => {
            let rule = set.filtered(rule)?;
            let Matches { lets, parts } = convert::matches(&rule, &format!("{name}_"), mapping, catalog)?;
            out.lets.extend(lets);
            let mut host = true;
            let mut part_names = Vec::new();
            for (table, mut stages) in parts {
                let has_host = catalog.get(&table).is_some_and(|t| t.column("host.name").is_some());
                host &= has_host;
                let mut columns = common_columns(&tag);
                for (column, field) in wanted {
                    let expr = mapping.field(field, Scope::of(&table, &rule.logsource), catalog)?.expr;
                    columns.push(format!("{column} = {expr}"));
                }
                if has_host && !wanted.iter().any(|(c, _)| c == "host.name") {
                    columns.push("host.name".to_string());
                }
                stages.push(format!("select {}", columns.join(", ")));
                if !out.tables.contains(&table) {
                    out.tables.push(table.clone());
                }
                part_names.push((table, stages));
            }
            if let [(table, stages)] = part_names.as_slice() {
                out.lets.push(format!("let {name} = ({})", convert::pipeline(table, stages)));
            } else {
                let mut names = Vec::new();
                for (table, stages) in &part_names {
                    let part = format!("{name}_{table}");
                    out.lets.push(format!("let {part} = ({})", convert::pipeline(table, stages)));
                    names.push(part);
                }
                out.lets.push(format!("let {name} = ({})", names.join(", ")));
            }
            Ok(host)
        }
        Some(Item::Correlation(inner)) => {
            let compiled = compile(inner, set, mapping, catalog, out, depth + 1)?;
            let mut columns = common_columns(&tag);
            for (column, field) in wanted {
                let field = column_name(field);
                if !compiled.columns.contains(&field) {
                    return Err(Unsupported::new(
                        Reason::Reference,
                        format!(
                            "`{reference}` is a correlation that does not keep `{field}` (it groups by {})",
                            compiled.columns.join(", ")
                        ),
                    ));
                }
                columns.push(if *column == field { field } else { format!("{column} = {field}") });
            }
            if compiled.host && !wanted.iter().any(|(c, _)| c == "host.name") {
                columns.push("host.name".to_string());
            }
            let mut stages = compiled.events;
            stages.push(format!("select {}", columns.join(", ")));
            let stages: String = stages.iter().map(|s| format!("\n  | {s}")).collect();
            out.lets.push(format!("let {name} = (\n  {}{stages})", compiled.body.replace('\n', "\n  ")));
            Ok(compiled.host)
        }
    }
}

/// The columns every rule's events carry in a correlation: time, evidence and the rule's name
/// (`tag`, a string literal).
fn common_columns(tag: &str) -> Vec<String> {
    vec!["@timestamp".into(), "log.file.path".into(), "log.file.line".into(), format!("sigma.rule = {tag}")]
}

/// The field a correlation's `group` is in the events of `reference`: the alias's field for
/// that rule, where `group` is an alias.
fn alias(c: &Correlation, group: &str, reference: &str, set: &Set) -> Option<String> {
    let (_, per_rule) = c.aliases.iter().find(|(a, _)| a == group)?;
    let named = |rule: &str| {
        rule == reference
            || match set.find(reference) {
                Some(Item::Rule(r)) => r.meta.is(rule),
                Some(Item::Correlation(c)) => c.meta.is(rule),
                None => false,
            }
    };
    per_rule.iter().find(|(rule, _)| named(rule)).map(|(_, field)| field.clone())
}

/// A Sigma field name as a name of spoor's language (quoted with backticks when it is not a
/// plain dotted name).
fn column_name(field: &str) -> String {
    let plain = field.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '@')
        && field.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@'))
        && !spoor_dsl::parser::is_keyword(field);
    if plain { field.to_string() } else { format!("`{}`", field.replace('`', "")) }
}

/// A timespan as a duration of spoor's language.
fn duration((written, micros): &(String, i64)) -> String {
    if written.ends_with(['s', 'm', 'h', 'd']) && written[..written.len() - 1].bytes().all(|b| b.is_ascii_digit()) {
        written.clone()
    } else {
        format!("{}s", micros / 1_000_000)
    }
}
