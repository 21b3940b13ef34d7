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
    /// Which of spoor's tables an event of a Windows channel with an id can be in, where the
    /// caller knows (the ingest's own routing, which this crate does not see): a rule about a
    /// channel that names its event ids reads only those tables, not every Windows table.
    #[serde(skip)]
    pub event_tables: Option<fn(&str, i64) -> Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// The rows of the product's events.
    #[serde(rename = "where")]
    pub filter: Option<String>,
    /// The map column that keeps the product's fields no column takes, under the product's own
    /// names (`winlog.event_data`, `zeek.fields`): where a field with no mapping is read.
    pub others: Option<String>,
    /// Field → expression for the product's rules, before `[tables]` and `[fields]`: the
    /// product's own names for what spoor keeps in columns (Zeek's `id.orig_h`).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsourceMap {
    pub product: Option<String>,
    pub category: Option<String>,
    /// `*`: any service of the product, whose name `{service}` in `where` stands for.
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
    /// The Windows channel, for a channel's logsource.
    pub channel: Option<String>,
}

/// A Sigma field in a table: the expression that reads it and its type.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    pub expr: String,
    pub ty: Type,
    /// The expression is several values, a line each between newlines (a map's values for a
    /// keyword search): a test of one value is a test of one line.
    pub lines: bool,
}

/// Where a rule's fields are read: the table, and the product whose names they are.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub table: &'a str,
    pub product: Option<&'a str>,
}

impl<'a> Scope<'a> {
    /// The fields of a rule of `logsource`, in `table`.
    pub fn of(table: &'a str, logsource: &'a Logsource) -> Scope<'a> {
        Scope { table, product: logsource.product.as_deref() }
    }
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
        let fields = fields.chain(mapping.products.values().flat_map(|p| &p.fields));
        for (what, expr) in filters.map(|f| ("row filter", f)).chain(fields.map(|(name, e)| (name.as_str(), e))) {
            spoor_dsl::parser::parse_expression(&expr.replace("{service}", "'service'")).map_err(|d| {
                format!("{what} `{expr}` does not parse: {}", d.iter().next().map_or("", |d| d.message.as_str()))
            })?;
        }
        Ok(mapping)
    }

    /// Adds a user's mapping: its entries win over these.
    pub fn extend(&mut self, other: Mapping) {
        for (name, theirs) in other.products {
            let ours = self.products.entry(name).or_default();
            ours.filter = theirs.filter.or(ours.filter.take());
            ours.others = theirs.others.or(ours.others.take());
            ours.fields.extend(theirs.fields);
        }
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
        self.event_tables = other.event_tables.or(self.event_tables);
        for (table, fields) in other.tables {
            self.tables.entry(table).or_default().extend(fields);
        }
    }

    /// The tables and rows of a logsource.
    pub fn route(&self, logsource: &Logsource) -> Result<Route, Unsupported> {
        let product_filter =
            logsource.product.as_ref().and_then(|p| self.products.get(p)).and_then(|p| p.filter.clone());
        let same = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
        let any_service = |m: &LogsourceMap| m.service.as_deref() == Some("*") && logsource.service.is_some();
        let entry = self.logsources.iter().find(|m| {
            m.category.is_some() == logsource.category.is_some()
                && same(&m.category, &logsource.category)
                && (same(&m.service, &logsource.service) || any_service(m))
                && same(&m.product, &logsource.product)
                && (m.service.is_some() || logsource.service.is_none() || logsource.category.is_some())
        });
        let mut filters: Vec<String> = product_filter.into_iter().collect();
        if let Some(entry) = entry {
            let service = crate::convert::string_literal(logsource.service.as_deref().unwrap_or_default());
            filters.extend(entry.filter.as_ref().map(|f| f.replace("{service}", &service)));
            return Ok(Route { tables: entry.tables.clone(), filters, channel: None });
        }
        if logsource.product.as_deref() == Some("windows") && logsource.category.is_none() {
            let tables = self.services.tables.clone();
            let Some(service) = &logsource.service else {
                // No service: every Windows event (keyword rules over all channels).
                return Ok(Route { tables, filters, channel: None });
            };
            // A service is a channel (`[services]`); one the table does not name is read from
            // the channels whose names spell it.
            let channel = self.services.channels.get(service);
            filters.push(match channel {
                Some(channel) => format!("winlog.channel =~ {}", crate::convert::string_literal(channel)),
                None => {
                    format!("winlog.channel matches~ {}", crate::convert::string_literal(&spelled_channel(service)))
                }
            });
            return Ok(Route { tables, filters, channel: channel.cloned() });
        }
        Err(Unsupported::new(Reason::Logsource, format!("no table of spoor's holds the logsource `{logsource}`")))
    }

    /// The route's tables that can hold events of these ids (all of them where the ids, the
    /// channel or the ingest's routing are unknown).
    pub fn narrowed(&self, route: &Route, event_ids: Option<&[i64]>) -> Vec<String> {
        let (Some(ids), Some(channel), Some(tables_of)) = (event_ids, &route.channel, self.event_tables) else {
            return route.tables.clone();
        };
        let holding: Vec<String> = ids.iter().flat_map(|id| tables_of(channel, *id)).collect();
        let tables: Vec<String> = route.tables.iter().filter(|t| holding.contains(t)).cloned().collect();
        if tables.is_empty() { route.tables.clone() } else { tables }
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

    /// The expression for `field` where `at` says: its mapping (the product's, the table's, then
    /// every table's) where the table has every column it names, else the field under its own
    /// name in the map that keeps the product's other fields.
    pub fn field(&self, field: &str, at: Scope, catalog: &Catalog) -> Result<FieldRef, Unsupported> {
        let table = at.table;
        let info = catalog
            .get(table)
            .ok_or_else(|| Unsupported::new(Reason::Logsource, format!("spoor has no table `{table}`")))?;
        let product = at.product.and_then(|p| self.products.get(p));
        let mapped = [product.map(|p| &p.fields), self.tables.get(table), Some(&self.fields)]
            .into_iter()
            .flatten()
            .filter_map(|fields| fields.get(field));
        let others = self.others(at, catalog);
        let readable = |c: &String| info.column(c).is_some() || others.iter().any(|m| c.starts_with(&format!("{m}.")));
        for expr in mapped {
            let columns = dotted_names(expr);
            if columns.iter().all(readable) {
                let ty = match columns.as_slice() {
                    [only] if only == expr => info.column(only).cloned().unwrap_or(Type::Text),
                    _ => Type::Text,
                };
                return Ok(FieldRef { expr: expr.clone(), ty, lines: false });
            }
        }
        let reads: Vec<String> = others.iter().map(|map| map_entry(map, field)).collect();
        match reads.as_slice() {
            [] => Err(Unsupported::new(
                Reason::Field,
                format!("the field `{field}` has no column in `{table}`, which keeps no other fields"),
            )),
            [one] => Ok(FieldRef { expr: one.clone(), ty: Type::Text, lines: false }),
            several => Ok(FieldRef { expr: format!("coalesce({})", several.join(", ")), ty: Type::Text, lines: false }),
        }
    }

    /// The map column of the table that keeps the other fields of the rule's product; where the
    /// product names none or the table lacks it, those of every product the table has.
    pub fn others(&self, at: Scope, catalog: &Catalog) -> Vec<String> {
        let Some(info) = catalog.get(at.table) else { return Vec::new() };
        let named = at.product.and_then(|p| self.products.get(p)).and_then(|p| p.others.clone());
        let candidates: Vec<String> = match named {
            Some(map) if info.column(&map).is_some() => vec![map],
            _ => self.products.values().filter_map(|p| p.others.clone()).collect(),
        };
        let mut out: Vec<String> = Vec::new();
        for map in candidates {
            if info.column(&map) == Some(&Type::Map) && !out.contains(&map) {
                out.push(map);
            }
        }
        out
    }
}

/// The channels a Sigma service's name spells, as a regex: its words in order, each joined to
/// the next by a dash, a slash, a space or nothing, after an optional `Microsoft-Windows-`, the
/// last word as a stem (`analytic` in `Analytical`), then any `/Log` (`appmodel-runtime` is
/// `Microsoft-Windows-AppModel-Runtime/Admin`; `smbserver-connectivity`,
/// `Microsoft-Windows-SmbServer/Connectivity`).
fn spelled_channel(service: &str) -> String {
    let words: Vec<String> = service.split(['-', '_', ' ']).filter(|w| !w.is_empty()).map(regex::escape).collect();
    format!("^(Microsoft-Windows-)?{}[a-z]*(/[^/]*)?$", words.join("[-/ ]?"))
}

/// `map.Field`, or `get(map, 'Field')` for a name that is not an identifier.
fn map_entry(map: &str, field: &str) -> String {
    let plain = field.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain { format!("{map}.{field}") } else { format!("get({map}, {})", crate::convert::string_literal(field)) }
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
        // Every Windows event, for a rule that names no service or category.
        let r = m.route(&logsource("windows", None, None)).unwrap();
        assert_eq!((r.tables, r.filters.len()), (m.services.tables.clone(), 1));
    }

    #[test]
    fn a_service_the_table_does_not_name_reads_the_channels_that_spell_it() {
        let m = Mapping::builtin();
        let r = m.route(&logsource("windows", None, Some("smbserver-connectivity"))).unwrap();
        assert_eq!(
            r.filters[1],
            "winlog.channel matches~ '^(Microsoft-Windows-)?smbserver[-/ ]?connectivity[a-z]*(/[^/]*)?$'"
        );
        assert_eq!(r.channel, None);
        let spells = |service: &str, channel: &str| {
            regex::RegexBuilder::new(&spelled_channel(service))
                .case_insensitive(true)
                .build()
                .unwrap()
                .is_match(channel)
        };
        assert!(spells("smbserver-connectivity", "Microsoft-Windows-SmbServer/Connectivity"));
        assert!(spells("appmodel-runtime", "Microsoft-Windows-AppModel-Runtime/Admin"));
        assert!(spells("dns-server-analytic", "Microsoft-Windows-DNSServer/Analytical"));
        assert!(spells("smbclient-connectivity", "Microsoft-Windows-SmbClient/Connectivity"));
        assert!(!spells("smbserver-connectivity", "Microsoft-Windows-SmbServer/Security"));
        assert!(!spells("appmodel-runtime", "Microsoft-Windows-AppModel-State/Debug"));
        // Over the channels the table names (pySigma's names), the spelling never picks another
        // service's channel.
        for (service, _) in &m.services.channels {
            let wrong: Vec<_> =
                m.services.channels.iter().filter(|(s, c)| *s != service && spells(service, c)).collect();
            assert!(wrong.is_empty(), "{service} spells {wrong:?}");
        }
    }

    #[test]
    fn fields_read_columns_where_the_table_has_them() {
        let m = Mapping::builtin();
        let c = Catalog::standard();
        let windows = |table| Scope { table, product: Some("windows") };
        assert_eq!(m.field("CommandLine", windows("process"), &c).unwrap().expr, "process.command_line");
        // The registry table has no command line: the field is looked for under its own name.
        assert_eq!(m.field("CommandLine", windows("registry"), &c).unwrap().expr, "winlog.event_data.CommandLine");
        assert_eq!(m.field("Hashes", windows("library"), &c).unwrap().expr.matches("dll.hash").count(), 8);
        assert_eq!(
            m.field("Threat Name", windows("windows"), &c).unwrap().expr,
            "get(winlog.event_data, 'Threat Name')"
        );
        assert_eq!(m.field("ProcessId", windows("process"), &c).unwrap().ty, Type::Int);
    }

    #[test]
    fn a_products_own_names_and_its_other_fields() {
        let m = Mapping::builtin();
        let c = Catalog::standard();
        let zeek = |table| Scope { table, product: Some("zeek") };
        assert_eq!(m.field("id.orig_h", zeek("zeek"), &c).unwrap().expr, "source.ip");
        assert_eq!(m.field("operation", zeek("zeek"), &c).unwrap().expr, "zeek.fields.operation");
        assert_eq!(m.field("certificate.serial", zeek("tls"), &c).unwrap().expr, "tls.server.x509.serial_number");
        // A dns.log field kept by its ECS meaning is given back as Zeek writes it; another
        // log's field of that name is its own.
        assert_eq!(
            m.field("AA", zeek("dns"), &c).unwrap().expr,
            r#"if(list_contains(dns.header_flags, "AA"), "true", "false")"#
        );
        assert_eq!(m.field("AA", zeek("zeek"), &c).unwrap().expr, "zeek.fields.AA");
        // With no product, every map the table keeps is read: dns holds Windows' and Zeek's.
        let anyone = Scope { table: "dns", product: None };
        assert_eq!(m.field("Z", anyone, &c).unwrap().expr, "coalesce(winlog.event_data.Z, zeek.fields.Z)");
        let r = m.route(&logsource("zeek", None, Some("smb_files"))).unwrap();
        assert_eq!(r.tables, vec!["zeek"]);
        assert_eq!(r.filters, vec![r#"spoor.format in ("zeek", "zeek-json")"#, "event.code == 'smb_files'"]);
    }

    #[test]
    fn dotted_names_skip_strings_and_functions() {
        assert_eq!(
            dotted_names(r#"if(user.domain is null, user.name, concat(user.domain, "\\", "a.b"))"#),
            vec!["user.domain", "user.name", "user.domain"]
        );
    }
}
