//! A Sigma rule read from YAML: its metadata, logsource and detection, as written.

use yaml_rust2::{Yaml, YamlLoader};

use crate::{Reason, Unsupported};

/// One Sigma detection rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rule {
    pub id: Option<String>,
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
    pub logsource: Logsource,
    /// Named searches, in the rule's order.
    pub searches: Vec<(String, Search)>,
    /// The condition (several are alternatives, as Sigma 1 allowed).
    pub conditions: Vec<String>,
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
        let kind = if !doc["correlation"].is_badvalue() {
            Some("a correlation rule")
        } else if !doc["filter"].is_badvalue() && doc["detection"].is_badvalue() {
            Some("a filter rule")
        } else if !doc["action"].is_badvalue() {
            Some("a rule collection's `action` document (Sigma 1)")
        } else {
            None
        };
        if let Some(kind) = kind {
            let why = Unsupported::new(Reason::RuleKind, format!("{kind}: spoor runs detection rules only, so far"));
            file.other.push((text("id"), text("title"), why));
            continue;
        }
        match rule(&doc) {
            Ok(r) => file.rules.push(r),
            Err(why) => file.other.push((text("id"), text("title"), why)),
        }
    }
    Ok(file)
}

fn rule(doc: &Yaml) -> Result<Rule, Unsupported> {
    let invalid = |m: String| Unsupported::new(Reason::Invalid, m);
    if doc.as_hash().is_none() {
        return Err(invalid("a rule must be a YAML map".into()));
    }
    let detection = doc["detection"].as_hash().ok_or_else(|| invalid("the rule has no `detection` map".into()))?;
    let mut searches = Vec::new();
    let mut conditions = Vec::new();
    for (key, body) in detection {
        let name = scalar(key).ok_or_else(|| invalid("a search name must be text".into()))?;
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
            _ => searches.push((name.clone(), search(&name, body)?)),
        }
    }
    if conditions.is_empty() {
        return Err(Unsupported::new(Reason::Condition, "the detection has no `condition`"));
    }
    let logsource = &doc["logsource"];
    Ok(Rule {
        id: scalar(&doc["id"]),
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
        logsource: Logsource {
            product: scalar(&logsource["product"]).map(|s| s.to_ascii_lowercase()),
            category: scalar(&logsource["category"]).map(|s| s.to_ascii_lowercase()),
            service: scalar(&logsource["service"]).map(|s| s.to_ascii_lowercase()),
        },
        searches,
        conditions,
    })
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
        assert_eq!(r.searches[0].0, "sel");
        let Search::AllOf(tests) = &r.searches[0].1 else { panic!() };
        assert_eq!(tests[0].modifiers, vec!["endswith"]);
        assert_eq!(tests[0].values.len(), 2);
        assert_eq!(tests[1].values, vec![Value::Int(1)]);
        assert!(matches!(&r.searches[1].1, Search::AnyOf(maps) if maps.len() == 2));
        assert_eq!(r.searches[2].1, Search::Keywords(vec![Value::Text("evil".into()), Value::Int(5)]));
    }

    #[test]
    fn correlation_documents_are_reported_not_dropped() {
        let file = read("title: a\nid: c\ncorrelation: {type: event_count, rules: [x]}\n").unwrap();
        assert!(file.rules.is_empty());
        assert_eq!(file.other[0].2.code, Reason::RuleKind);
    }
}
