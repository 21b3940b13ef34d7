//! A Sigma file read from YAML: its detection rules, correlation rules and filters, as written.

use yaml_rust2::{Yaml, YamlLoader};

use crate::{Reason, Unsupported};

/// What every kind of Sigma rule says of itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    pub id: Option<String>,
    /// The name other rules refer to it by (correlations, filters), besides its id.
    pub name: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub modified: Option<String>,
    pub references: Vec<String>,
    pub tags: Vec<String>,
    pub falsepositives: Vec<String>,
    pub level: Option<String>,
}

impl Meta {
    /// Whether a reference (a `rules:` entry of a correlation or filter) names this rule.
    pub fn is(&self, reference: &str) -> bool {
        self.id.as_deref() == Some(reference) || self.name.as_deref() == Some(reference)
    }
}

/// One Sigma detection rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rule {
    pub meta: Meta,
    pub logsource: Logsource,
    pub detection: Detection,
}

/// Named searches and the condition over them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detection {
    /// Named searches, in the rule's order.
    pub searches: Vec<(String, Search)>,
    /// The condition (several are alternatives, as Sigma 1 allowed).
    pub conditions: Vec<String>,
}

/// A correlation rule: a count, a count of distinct values, or events of several rules close
/// in time, per group.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    pub meta: Meta,
    pub kind: CorrelationKind,
    /// The rules it correlates, by id or name, in order.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    /// The span, as written (`5m`) and in microseconds.
    pub timespan: (String, i64),
    /// Bounds on the count, all of which hold (`gte: 10`, or `gt: 100` and `lte: 200`).
    pub condition: Vec<(Bound, i64)>,
    /// value_count: the field whose distinct values are counted.
    pub field: Option<String>,
    /// `alias → (rule → field)`: one group-by name for fields that differ by rule.
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    /// Whether the correlated rules also run on their own.
    pub generate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationKind {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
}

/// A bound of a correlation's condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
}

impl Bound {
    /// The operator of spoor's language.
    pub fn op(self) -> &'static str {
        match self {
            Bound::Gt => ">",
            Bound::Gte => ">=",
            Bound::Lt => "<",
            Bound::Lte => "<=",
            Bound::Eq => "==",
        }
    }
}

/// A filter: a condition added to the rules it names (or to every rule of its logsource), to
/// tune them without editing them.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub meta: Meta,
    pub logsource: Logsource,
    /// The rules it applies to, by id or name; None for `any`/`all`.
    pub rules: Option<Vec<String>>,
    pub detection: Detection,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logsource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

impl std::fmt::Display for Logsource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [("product", &self.product), ("category", &self.category), ("service", &self.service)]
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}")))
            .collect();
        write!(f, "{}", parts.join(", "))
    }
}

/// A search identifier's body.
#[derive(Debug, Clone, PartialEq)]
pub enum Search {
    /// A map: every field test holds.
    AllOf(Vec<FieldTest>),
    /// A list of maps: one of them holds.
    AnyOf(Vec<Vec<FieldTest>>),
    /// A list of plain values: one of them appears in the event's text (keywords).
    Keywords(Vec<Value>),
}

/// `Field|mod|mod: value or list`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldTest {
    /// None for a keyword map entry (`'|all': [...]`).
    pub field: Option<String>,
    pub modifiers: Vec<String>,
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    /// Kept as written (`1.5`).
    Float(String),
    Bool(bool),
    Null,
}

impl Value {
    /// The value as Sigma compares it to text.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Text(t) | Value::Float(t) => Some(t.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => None,
        }
    }
}

/// What a YAML file holds: its rules, and the documents that are not detection rules (each
/// with why it does not run).
#[derive(Debug, Default)]
pub struct RuleFile {
    pub rules: Vec<Rule>,
    pub correlations: Vec<Correlation>,
    pub filters: Vec<Filter>,
    pub other: Vec<(Option<String>, Option<String>, Unsupported)>,
}

/// Reads every document of a rule file.
pub fn read(text: &str) -> Result<RuleFile, Unsupported> {
    let docs =
        YamlLoader::load_from_str(text).map_err(|e| Unsupported::new(Reason::Invalid, format!("not YAML: {e}")))?;
    let mut file = RuleFile::default();
    for doc in docs {
        if doc.is_null() {
            continue;
        }
        let text = |key: &str| scalar(&doc[key]);
        let read = if !doc["correlation"].is_badvalue() {
            correlation(&doc).map(|c| file.correlations.push(c))
        } else if !doc["filter"].is_badvalue() && doc["detection"].is_badvalue() {
            filter(&doc).map(|f| file.filters.push(f))
        } else if !doc["action"].is_badvalue() {
            Err(Unsupported::new(
                Reason::RuleKind,
                "a rule collection's `action` document (Sigma 1): write each rule whole",
            ))
        } else {
            rule(&doc).map(|r| file.rules.push(r))
        };
        if let Err(why) = read {
            file.other.push((text("id"), text("title"), why));
        }
    }
    Ok(file)
}

fn invalid(message: impl Into<String>) -> Unsupported {
    Unsupported::new(Reason::Invalid, message)
}

fn rule(doc: &Yaml) -> Result<Rule, Unsupported> {
    if doc.as_hash().is_none() {
        return Err(invalid("a rule must be a YAML map"));
    }
    let detection = doc["detection"].as_hash().ok_or_else(|| invalid("the rule has no `detection` map"))?;
    Ok(Rule { meta: meta(doc), logsource: logsource(&doc["logsource"]), detection: self::detection(detection, &[])? })
}

/// A detection map (or a filter's): its searches and condition, leaving out the keys in `skip`.
fn detection(map: &yaml_rust2::yaml::Hash, skip: &[&str]) -> Result<Detection, Unsupported> {
    let mut searches = Vec::new();
    let mut conditions = Vec::new();
    for (key, body) in map {
        let name = scalar(key).ok_or_else(|| invalid("a search name must be text"))?;
        match name.as_str() {
            "condition" => match body {
                Yaml::Array(items) => conditions.extend(items.iter().filter_map(scalar)),
                other => conditions.extend(scalar(other)),
            },
            "timeframe" => {
                return Err(Unsupported::new(
                    Reason::RuleKind,
                    "`timeframe` with an aggregating condition (Sigma 1): write it as a correlation rule",
                ));
            }
            skipped if skip.contains(&skipped) => {}
            _ => searches.push((name.clone(), search(&name, body)?)),
        }
    }
    if conditions.is_empty() {
        return Err(Unsupported::new(Reason::Condition, "the detection has no `condition`"));
    }
    Ok(Detection { searches, conditions })
}

fn logsource(logsource: &Yaml) -> Logsource {
    let lower = |key: &str| scalar(&logsource[key]).map(|s| s.to_ascii_lowercase());
    Logsource { product: lower("product"), category: lower("category"), service: lower("service") }
}

fn meta(doc: &Yaml) -> Meta {
    Meta {
        id: scalar(&doc["id"]),
        name: scalar(&doc["name"]),
        title: scalar(&doc["title"]),
        status: scalar(&doc["status"]),
        description: scalar(&doc["description"]),
        author: scalar(&doc["author"]),
        date: scalar(&doc["date"]),
        modified: scalar(&doc["modified"]),
        references: list(&doc["references"]),
        tags: list(&doc["tags"]),
        falsepositives: list(&doc["falsepositives"]),
        level: scalar(&doc["level"]),
    }
}

fn correlation(doc: &Yaml) -> Result<Correlation, Unsupported> {
    let c = &doc["correlation"];
    if c.as_hash().is_none() {
        return Err(invalid("`correlation` must be a map"));
    }
    let kind = match scalar(&c["type"]).as_deref() {
        Some("event_count") => CorrelationKind::EventCount,
        Some("value_count") => CorrelationKind::ValueCount,
        Some("temporal") => CorrelationKind::Temporal,
        Some("temporal_ordered") => CorrelationKind::TemporalOrdered,
        Some(other) => return Err(Unsupported::new(Reason::RuleKind, format!("a correlation of type `{other}`"))),
        None => return Err(invalid("the correlation has no `type`")),
    };
    let rules = list(&c["rules"]);
    if rules.is_empty() {
        return Err(invalid("the correlation names no `rules`"));
    }
    let written = scalar(&c["timespan"]).ok_or_else(|| invalid("the correlation has no `timespan`"))?;
    let micros = timespan(&written)
        .ok_or_else(|| invalid(format!("timespan `{written}` is not a number and s, m, h, d or w")))?;
    let mut condition = Vec::new();
    let mut field = None;
    for (key, value) in c["condition"].as_hash().into_iter().flatten() {
        let key = scalar(key).unwrap_or_default();
        let bound = match key.as_str() {
            "gt" => Bound::Gt,
            "gte" => Bound::Gte,
            "lt" => Bound::Lt,
            "lte" => Bound::Lte,
            "eq" => Bound::Eq,
            "field" => {
                field = scalar(value);
                continue;
            }
            other => {
                return Err(invalid(format!("the correlation's condition has `{other}`, not gt, gte, lt, lte or eq")));
            }
        };
        let n = value.as_i64().ok_or_else(|| invalid(format!("the correlation's `{key}` is not a whole number")))?;
        condition.push((bound, n));
    }
    match kind {
        CorrelationKind::EventCount | CorrelationKind::ValueCount if condition.is_empty() => {
            return Err(invalid("the correlation has no `condition` (gte: 10, say)"));
        }
        CorrelationKind::ValueCount if field.is_none() => {
            return Err(invalid("a value_count correlation's condition needs the `field` whose values it counts"));
        }
        // Without a condition, every rule's event is needed.
        CorrelationKind::Temporal | CorrelationKind::TemporalOrdered if condition.is_empty() => {
            condition.push((Bound::Gte, rules.len() as i64));
        }
        _ => {}
    }
    let aliases = c["aliases"]
        .as_hash()
        .into_iter()
        .flatten()
        .filter_map(|(alias, per_rule)| {
            let fields = per_rule.as_hash()?.iter().filter_map(|(r, f)| Some((scalar(r)?, scalar(f)?))).collect();
            Some((scalar(alias)?, fields))
        })
        .collect();
    Ok(Correlation {
        meta: meta(doc),
        kind,
        rules,
        group_by: list(&c["group-by"]),
        timespan: (written, micros),
        condition,
        field,
        aliases,
        generate: c["generate"].as_bool().unwrap_or(false) || doc["generate"].as_bool().unwrap_or(false),
    })
}

/// `5m` in microseconds (s, m, h, d, and w for weeks).
fn timespan(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let n: i64 = text[..text.len() - unit.len_utf8()].parse().ok().filter(|n| *n > 0)?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    n.checked_mul(seconds * 1_000_000)
}

fn filter(doc: &Yaml) -> Result<Filter, Unsupported> {
    let f = doc["filter"].as_hash().ok_or_else(|| invalid("`filter` must be a map"))?;
    let rules = match &doc["filter"]["rules"] {
        Yaml::String(s) if s.eq_ignore_ascii_case("any") || s.eq_ignore_ascii_case("all") => None,
        other => Some(list(other)),
    };
    if rules.as_ref().is_some_and(Vec::is_empty) {
        return Err(invalid("the filter names no `rules`"));
    }
    Ok(Filter { meta: meta(doc), logsource: logsource(&doc["logsource"]), rules, detection: detection(f, &["rules"])? })
}

fn search(name: &str, body: &Yaml) -> Result<Search, Unsupported> {
    let invalid = |m: String| Unsupported::new(Reason::Invalid, format!("search `{name}`: {m}"));
    match body {
        Yaml::Hash(_) => Ok(Search::AllOf(field_tests(name, body)?)),
        Yaml::Array(items) if items.iter().all(|i| matches!(i, Yaml::Hash(_))) && !items.is_empty() => {
            Ok(Search::AnyOf(items.iter().map(|i| field_tests(name, i)).collect::<Result<_, _>>()?))
        }
        Yaml::Array(items) => {
            let values = items
                .iter()
                .map(value)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid("a list of keywords holds something other than plain values".into()))?;
            Ok(Search::Keywords(values))
        }
        other => match value(other) {
            Some(v) => Ok(Search::Keywords(vec![v])),
            None => Err(invalid("expected a map, a list of maps or a list of keywords".into())),
        },
    }
}

fn field_tests(name: &str, map: &Yaml) -> Result<Vec<FieldTest>, Unsupported> {
    let invalid = |m: String| Unsupported::new(Reason::Invalid, format!("search `{name}`: {m}"));
    let mut tests = Vec::new();
    for (key, values) in map.as_hash().into_iter().flatten() {
        let key = scalar(key).ok_or_else(|| invalid("a field name must be text".into()))?;
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default().trim();
        let modifiers: Vec<String> = parts.map(|m| m.trim().to_ascii_lowercase()).collect();
        let values = match values {
            Yaml::Array(items) => items.iter().map(value).collect::<Option<Vec<_>>>(),
            single => value(single).map(|v| vec![v]),
        }
        .ok_or_else(|| invalid(format!("`{key}` holds something other than plain values")))?;
        tests.push(FieldTest { field: (!field.is_empty()).then(|| field.to_string()), modifiers, values });
    }
    Ok(tests)
}

fn value(y: &Yaml) -> Option<Value> {
    Some(match y {
        Yaml::String(s) => Value::Text(s.clone()),
        Yaml::Integer(i) => Value::Int(*i),
        Yaml::Real(r) => Value::Float(r.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Null => Value::Null,
        _ => return None,
    })
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn list(y: &Yaml) -> Vec<String> {
    match y {
        Yaml::Array(items) => items.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_searches_in_order_with_modifiers_and_lists() {
        let file = read(
            "title: t\nid: x\nlogsource: {product: Windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: ['\\a.exe', '\\b.exe']\n    EventID: 1\n  filter:\n    - User: null\n    - User|contains: SYSTEM\n  keywords: [evil, 5]\n  condition: sel and not filter\n",
        )
        .unwrap();
        let r = &file.rules[0];
        assert_eq!(r.logsource.product.as_deref(), Some("windows"));
        let searches = &r.detection.searches;
        assert_eq!(searches[0].0, "sel");
        let Search::AllOf(tests) = &searches[0].1 else { panic!() };
        assert_eq!(tests[0].modifiers, vec!["endswith"]);
        assert_eq!(tests[0].values.len(), 2);
        assert_eq!(tests[1].values, vec![Value::Int(1)]);
        assert!(matches!(&searches[1].1, Search::AnyOf(maps) if maps.len() == 2));
        assert_eq!(searches[2].1, Search::Keywords(vec![Value::Text("evil".into()), Value::Int(5)]));
    }

    #[test]
    fn reads_correlations_with_their_bounds_aliases_and_default_condition() {
        let file = read(
            "title: a\nid: c\ncorrelation:\n  type: value_count\n  rules: [x]\n  group-by: [ip]\n  timespan: 90m\n  condition: {field: User, gt: 100, lte: 200}\n  aliases:\n    ip: {x: SourceIp}\n---\ntitle: b\ncorrelation: {type: temporal, rules: [x, y], group-by: [h], timespan: 1d}\n",
        )
        .unwrap();
        let c = &file.correlations[0];
        assert_eq!(
            (c.kind, c.timespan.1, c.field.as_deref()),
            (CorrelationKind::ValueCount, 5_400_000_000, Some("User"))
        );
        assert_eq!(c.condition, vec![(Bound::Gt, 100), (Bound::Lte, 200)]);
        assert_eq!(c.aliases, vec![("ip".to_string(), vec![("x".to_string(), "SourceIp".to_string())])]);
        assert_eq!(file.correlations[1].condition, vec![(Bound::Gte, 2)]);
    }

    #[test]
    fn a_correlation_without_what_it_needs_is_reported_not_dropped() {
        let file = read("title: a\nid: c\ncorrelation: {type: event_count, rules: [x], timespan: 1h}\n").unwrap();
        assert!(file.correlations.is_empty());
        assert_eq!(file.other[0].2.code, Reason::Invalid);
        assert!(file.other[0].2.message.contains("condition"), "{}", file.other[0].2);
    }

    #[test]
    fn reads_filters_for_named_rules_or_all() {
        let file = read(
            "title: f\nlogsource: {product: windows}\nfilter:\n  rules: [r1]\n  sel: {User|startswith: adm_}\n  condition: not sel\n---\ntitle: g\nlogsource: {product: windows}\nfilter: {rules: any, sel: {User: x}, condition: not sel}\n",
        )
        .unwrap();
        assert_eq!(file.filters[0].rules, Some(vec!["r1".to_string()]));
        assert_eq!(file.filters[0].detection.searches.len(), 1);
        assert_eq!(file.filters[1].rules, None);
    }
}
