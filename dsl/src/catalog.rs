//! What a hunt can read: the store's tables (always known, from `spoor_core::schema`, even when
//! the store has no rows yet) and any lookup tables a run adds (IOC lists, notebook frames).

use std::collections::BTreeMap;

use arrow::datatypes::Schema;

use crate::types::Type;

#[derive(Debug, Clone)]
pub struct TableInfo {
    pub name: String,
    pub columns: Vec<(String, Type)>,
    /// One of spoor's own tables (as opposed to a lookup list).
    pub builtin: bool,
}

impl TableInfo {
    pub fn column(&self, name: &str) -> Option<&Type> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

#[derive(Debug, Clone)]
pub struct Catalog {
    tables: BTreeMap<String, TableInfo>,
}

impl Catalog {
    /// spoor's tables (`_rejects` included).
    pub fn standard() -> Catalog {
        let mut catalog = Catalog { tables: BTreeMap::new() };
        for table in spoor_core::Table::ALL {
            catalog.insert(table.name(), &table.schema(), true);
        }
        catalog
    }

    /// Adds (or replaces) a lookup table, such as an IOC list.
    pub fn add(&mut self, name: &str, schema: &Schema) {
        self.insert(name, schema, false);
    }

    fn insert(&mut self, name: &str, schema: &Schema, builtin: bool) {
        let columns = schema
            .fields()
            .iter()
            .filter_map(|f| Type::of_column(f.name(), f.data_type()).map(|t| (f.name().clone(), t)))
            .collect();
        self.tables.insert(name.to_string(), TableInfo { name: name.to_string(), columns, builtin });
    }

    pub fn get(&self, name: &str) -> Option<&TableInfo> {
        self.tables.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }
}
