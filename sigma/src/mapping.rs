//! Which table a Sigma logsource reads and which column a Sigma field is: data, from
//! `mapping.toml` (shipped with spoor) and any file a user adds, whose entries win.

use std::collections::BTreeMap;

use serde::Deserialize;
use spoor_dsl::ast::{Expr, ExprKind};
use spoor_dsl::catalog::Catalog;
use spoor_dsl::types::Type;

use crate::rule::{FieldTest, Logsource, Value};
use crate::{Reason, Unsupported};

/// The mapping shipped with spoor.
pub const BUILTIN: &str = include_str!("../mapping.toml");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub products: BTreeMap<String, Product>,
    #[serde(default)]
    pub logsources: Vec<LogsourceMap>,
    #[serde(default)]
    pub services: Services,
    /// Field → expression, for every table whose columns it names.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Table → field → expression, before `fields`.
    #[serde(default)]
    pub tables: BTreeMap<String, BTreeMap<String, String>>,
    /// `expand` placeholders (`%Workstations%`) → the values they stand for, which only the
    /// user knows (their domain controllers, their admins' workstations).
    #[serde(default)]
    pub placeholders: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// The rows of the product's events.
    #[serde(rename = "where")]
    pub filter: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsourceMap {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
    pub tables: Vec<String>,
    #[serde(rename = "where")]
    pub filter: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Services {
    /// The tables a Windows channel's events can be in.
    #[serde(default)]
    pub tables: Vec<String>,
    /// Sigma service name → Windows channel.
    #[serde(default)]
    pub channels: BTreeMap<String, String>,
}

/// Where a logsource's events are: tables and the conditions that pick its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub tables: Vec<String>,
    pub filters: Vec<String>,
}

/// A Sigma field in a table: the expression that reads it and its type.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    pub expr: String,
    pub ty: Type,
    /// Whether it reads a column (or expression) rather than `winlog.event_data`.
    pub mapped: bool,
}

impl Mapping {
    /// spoor's own mapping.
    pub fn builtin() -> Mapping {
        Mapping::parse(BUILTIN).expect("the built-in Sigma mapping parses")
    }

    /// Reads a mapping file; every field expression and row filter must parse.
    pub fn parse(text: &str) -> Result<Mapping, String> {
        let mapping: Mapping = toml::from_str(text).map_err(|e| e.to_string())?;
        let filters = mapping.products.values().filter_map(|p| p.filter.as_ref());
        let filters = filters.chain(mapping.logsources.iter().filter_map(|l| l.filter.as_ref()));
        let fields = mapping.fields.iter().chain(mapping.tables.values().flatten());
        for (what, expr) in filters.map(|f| ("row filter", f)).chain(fields.map(|(name, e)| (name.as_str(), e))) {
            spoor_dsl::parser::parse_expression(expr).map_err(|d| {
                format!("{what} `{expr}` does not parse: {}", d.iter().next().map_or("", |d| d.message.as_str()))
            })?;
        }
        Ok(mapping)
    }

    /// Adds a user's mapping: its entries win over these.
    pub fn extend(&mut self, other: Mapping) {
        self.products.extend(other.products);
        let mut logsources = other.logsources;
        logsources.append(&mut self.logsources);
        self.logsources = logsources;
        for table in other.services.tables {
            if !self.services.tables.contains(&table) {
                self.services.tables.push(table);
            }
        }
        self.services.channels.extend(other.services.channels);
        self.fields.extend(other.fields);
        self.placeholders.extend(other.placeholders);
        for (table, fields) in other.tables {
            self.tables.entry(table).or_default().extend(fields);
        }
    }

    /// The tables and rows of a logsource.
    pub fn route(&self, logsource: &Logsource) -> Result<Route, Unsupported> {
        let product_filter =
            logsource.product.as_ref().and_then(|p| self.products.get(p)).and_then(|p| p.filter.clone());
        let same = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
        let entry = self.logsources.iter().find(|m| {
            m.category.is_some() == logsource.category.is_some()
                && same(&m.category, &logsource.category)
                && same(&m.service, &logsource.service)
                && same(&m.product, &logsource.product)
                && (m.service.is_some() || logsource.service.is_none() || logsource.category.is_some())
        });
        let mut filters: Vec<String> = product_filter.into_iter().collect();
        if let Some(entry) = entry {
            filters.extend(entry.filter.clone());
            return Ok(Route { tables: entry.tables.clone(), filters });
        }
        // A Windows service is a channel (`[services]`).
        if let (Some(service), None, Some("windows")) =
            (&logsource.service, &logsource.category, logsource.product.as_deref())
            && let Some(channel) = self.services.channels.get(service)
        {
            filters.push(format!("winlog.channel =~ {}", crate::convert::string_literal(channel)));
            return Ok(Route { tables: self.services.tables.clone(), filters });
        }
        Err(Unsupported::new(Reason::Logsource, format!("no table of spoor's holds the logsource `{logsource}`")))
    }

    /// The field test with its `expand` placeholders replaced by their values (a value naming
    /// several placeholders becomes every combination); the test itself when it has no `expand`.
    pub fn expand(&self, test: &FieldTest) -> Result<FieldTest, Unsupported> {
        if !test.modifiers.iter().any(|m| m == "expand") {
            return Ok(test.clone());
        }
        let mut values = Vec::new();
        for value in &test.values {
            let Value::Text(text) = value else {
                values.push(value.clone());
                continue;
            };
            let mut expanded = vec![text.clone()];
            // Bounded: a placeholder's value may itself look like one.
            for _ in 0..16 {
                let Some((name, written)) = expanded.first().and_then(|t| placeholder(t)) else { break };
                let stands_for = self.placeholders.get(&name).filter(|v| !v.is_empty()).ok_or_else(|| {
                    Unsupported::new(
                        Reason::Modifier,
                        format!("`expand` needs the values of `%{name}%`: give them under [placeholders] in a --sigma-mapping file"),
                    )
                })?;
                expanded =
                    expanded.iter().flat_map(|t| stands_for.iter().map(|v| t.replacen(&written, v, 1))).collect();
            }
            values.extend(expanded.into_iter().map(Value::Text));
        }
        let modifiers = test.modifiers.iter().filter(|m| *m != "expand").cloned().collect();
        Ok(FieldTest { field: test.field.clone(), modifiers, values })
    }

    /// The expression for `field` in `table`: its mapping where the table has every column it
    /// names, else the field under its own name in `winlog.event_data`.
    pub fn field(&self, field: &str, table: &str, catalog: &Catalog) -> Result<FieldRef, Unsupported> {
        let info = catalog
            .get(table)
            .ok_or_else(|| Unsupported::new(Reason::Logsource, format!("spoor has no table `{table}`")))?;
        let mapped = self.tables.get(table).and_then(|f| f.get(field)).or_else(|| self.fields.get(field));
        if let Some(expr) = mapped {
            let columns = dotted_names(expr);
            if columns.iter().all(|c| info.column(c).is_some() || c.starts_with("winlog.event_data.")) {
                let ty = match columns.as_slice() {
                    [only] if only == expr => info.column(only).cloned().unwrap_or(Type::Text),
                    _ => Type::Text,
                };
                return Ok(FieldRef { expr: expr.clone(), ty, mapped: true });
            }
        }
        if info.column("winlog.event_data").is_none() {
            return Err(Unsupported::new(
                Reason::Field,
                format!("the field `{field}` has no column in `{table}`, which keeps no other fields"),
            ));
        }
        let plain = field.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let expr = if plain {
            format!("winlog.event_data.{field}")
        } else {
            format!("get(winlog.event_data, {})", crate::convert::string_literal(field))
        };
        Ok(FieldRef { expr, ty: Type::Text, mapped: false })
    }
}

/// The first `%name%` in a text: the name, and the placeholder as written.
fn placeholder(text: &str) -> Option<(String, String)> {
    let start = text.find('%')?;
    let len = text[start + 1..].find('%')?;
    let name = &text[start + 1..start + 1 + len];
    let plain = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if plain {
        return Some((name.to_string(), format!("%{name}%")));
    }
    placeholder(&text[start + 1..])
}

/// The dotted names an expression reads (columns: functions, keywords and `let`s have no dot).
fn dotted_names(expr: &str) -> Vec<String> {
    fn walk(e: &Expr, out: &mut Vec<String>) {
        match &e.kind {
            ExprKind::Name(n) if n.contains('.') || n.starts_with('@') => out.push(n.clone()),
            ExprKind::Name(_) | ExprKind::Literal(_) => {}
            ExprKind::List(items) => items.iter().for_each(|i| walk(i, out)),
            ExprKind::Not(inner) | ExprKind::Negate(inner) => walk(inner, out),
            ExprKind::IsNull { expr, .. } => walk(expr, out),
            ExprKind::Binary { left, right, .. } => {
                walk(left, out);
                walk(right, out);
            }
            ExprKind::In { expr, list, .. } => {
                walk(expr, out);
                walk(list, out);
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|a| walk(a, out)),
            ExprKind::Over { call, by, .. } => {
                walk(call, out);
                out.extend(by.iter().map(|b| b.name.clone()));
            }
        }
    }
    let mut out = Vec::new();
    // Expressions that do not parse were refused by `Mapping::parse`.
    if let Ok(e) = spoor_dsl::parser::parse_expression(expr) {
        walk(&e, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logsource(product: &str, category: Option<&str>, service: Option<&str>) -> Logsource {
        Logsource {
            product: Some(product.into()),
            category: category.map(Into::into),
            service: service.map(Into::into),
        }
    }

    #[test]
    fn routes_categories_and_services() {
        let m = Mapping::builtin();
        let r = m.route(&logsource("windows", Some("registry_set"), None)).unwrap();
        assert_eq!(r.tables, vec!["registry"]);
        assert_eq!(r.filters.len(), 2);
        let r = m.route(&logsource("windows", None, Some("security"))).unwrap();
        assert!(r.tables.contains(&"authentication".to_string()));
        assert_eq!(r.filters[1], "winlog.channel =~ 'Security'");
        let e = m.route(&logsource("aws", None, Some("cloudtrail"))).unwrap_err();
        assert_eq!(e.code, Reason::Logsource);
    }

    #[test]
    fn fields_read_columns_where_the_table_has_them() {
        let m = Mapping::builtin();
        let c = Catalog::standard();
        assert_eq!(m.field("CommandLine", "process", &c).unwrap().expr, "process.command_line");
        // The registry table has no command line: the field is looked for under its own name.
        assert_eq!(m.field("CommandLine", "registry", &c).unwrap().expr, "winlog.event_data.CommandLine");
        assert_eq!(m.field("Hashes", "library", &c).unwrap().expr.matches("dll.hash").count(), 8);
        assert_eq!(m.field("Threat Name", "windows", &c).unwrap().expr, "get(winlog.event_data, 'Threat Name')");
        assert_eq!(m.field("ProcessId", "process", &c).unwrap().ty, Type::Int);
    }

    #[test]
    fn dotted_names_skip_strings_and_functions() {
        assert_eq!(
            dotted_names(r#"if(user.domain is null, user.name, concat(user.domain, "\\", "a.b"))"#),
            vec!["user.domain", "user.name", "user.domain"]
        );
    }
}
