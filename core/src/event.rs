//! One normalized record on its way into a table, and the builder that turns many into a batch.
//!
//! Parsers fill an [`Event`] by column name; [`TableBuilder`] appends events to typed Arrow
//! builders and hands out `RecordBatch`es that match [`Table::schema`] exactly.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, DictionaryArray, Int32Array, Int64Builder, ListBuilder, MapBuilder,
    NullBufferBuilder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::Int32Type;
use chrono::{DateTime, Utc};

use crate::schema::{Kind, Table, common};

#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Text(Cow<'a, str>),
    Int(i64),
    Bool(bool),
    /// Microseconds since the Unix epoch, UTC.
    Time(i64),
    TextList(Vec<Cow<'a, str>>),
    /// Name → text pairs, in the source's order.
    Map(Vec<(Cow<'a, str>, Cow<'a, str>)>),
}

/// A record for one table. Columns not set are null; setting a column twice keeps the first value.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub table: Table,
    /// `@timestamp` in microseconds since the epoch; an event without one is rejected.
    pub timestamp: Option<i64>,
    values: Vec<(usize, Value<'a>)>,
    /// Bit `i` set when column `i` (< 64) has a value: the first-value-wins check in O(1).
    columns_set: u64,
}

impl<'a> Event<'a> {
    pub fn new(table: Table) -> Self {
        Event { table, timestamp: None, values: Vec::with_capacity(24), columns_set: 0 }
    }

    pub fn at(mut self, timestamp: Option<DateTime<Utc>>) -> Self {
        self.timestamp = timestamp.map(|t| t.timestamp_micros());
        self
    }

    /// Sets a column. The name must be one of the table's columns and the value of its kind;
    /// a mismatch is a bug in a parser, caught by its tests.
    pub fn set(&mut self, column: &'static str, value: Value<'a>) -> &mut Self {
        match self.table.static_column_index(column) {
            Some(index) => {
                debug_assert!(
                    kind_matches(self.table.columns()[index].kind, &value),
                    "{}.{column}: wrong kind {value:?}",
                    self.table
                );
                let already = match 1u64.checked_shl(index as u32) {
                    Some(bit) if index < 64 => {
                        let was_set = self.columns_set & bit != 0;
                        self.columns_set |= bit;
                        was_set
                    }
                    _ => self.values.iter().any(|(i, _)| *i == index),
                };
                if !already {
                    self.values.push((index, value));
                }
            }
            None => debug_assert!(false, "table {} has no column {column}", self.table),
        }
        self
    }

    /// Sets a text column unless the value is absent, empty or a placeholder (`-`).
    pub fn text(&mut self, column: &'static str, value: Option<impl Into<Cow<'a, str>>>) -> &mut Self {
        if let Some(v) = value {
            let v = v.into();
            if !is_placeholder(&v) {
                self.set(column, Value::Text(v));
            }
        }
        self
    }

    /// Sets a text column to the lowercased value (host names, DNS names, hashes, emails).
    pub fn lower(&mut self, column: &'static str, value: Option<impl Into<Cow<'a, str>>>) -> &mut Self {
        self.text(column, value.map(|v| lowercase(v.into())))
    }

    /// Sets an IP column to the address's canonical form; text that is no address is kept as is.
    pub fn ip(&mut self, column: &'static str, value: Option<impl Into<Cow<'a, str>>>) -> &mut Self {
        self.text(column, value.map(|v| canonical_ip(v.into())))
    }

    pub fn int(&mut self, column: &'static str, value: Option<i64>) -> &mut Self {
        if let Some(v) = value {
            self.set(column, Value::Int(v));
        }
        self
    }

    pub fn bool(&mut self, column: &'static str, value: Option<bool>) -> &mut Self {
        if let Some(v) = value {
            self.set(column, Value::Bool(v));
        }
        self
    }

    pub fn time(&mut self, column: &'static str, value: Option<DateTime<Utc>>) -> &mut Self {
        if let Some(v) = value {
            self.set(column, Value::Time(v.timestamp_micros()));
        }
        self
    }

    pub fn list(&mut self, column: &'static str, values: Vec<Cow<'a, str>>) -> &mut Self {
        self.set(column, Value::TextList(values))
    }

    /// Sets a map column, unless there are no pairs.
    pub fn map(&mut self, column: &'static str, pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>) -> &mut Self {
        if pairs.is_empty() { self } else { self.set(column, Value::Map(pairs)) }
    }

    /// The same event, owning all its text (to outlive the input it was read from).
    pub fn into_owned(self) -> Event<'static> {
        let values = self
            .values
            .into_iter()
            .map(|(i, v)| {
                let v = match v {
                    Value::Text(t) => Value::Text(Cow::Owned(t.into_owned())),
                    Value::TextList(l) => Value::TextList(l.into_iter().map(|t| Cow::Owned(t.into_owned())).collect()),
                    Value::Map(m) => Value::Map(
                        m.into_iter().map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned()))).collect(),
                    ),
                    Value::Int(i) => Value::Int(i),
                    Value::Bool(b) => Value::Bool(b),
                    Value::Time(t) => Value::Time(t),
                };
                (i, v)
            })
            .collect();
        Event { table: self.table, timestamp: self.timestamp, values, columns_set: self.columns_set }
    }

    pub fn get(&self, column: &str) -> Option<&Value<'a>> {
        let index = self.table.column_index(column)?;
        self.values.iter().find(|(i, _)| *i == index).map(|(_, v)| v)
    }

    pub fn get_text(&self, column: &str) -> Option<&str> {
        match self.get(column)? {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
}

fn kind_matches(kind: Kind, value: &Value) -> bool {
    matches!(
        (kind, value),
        (Kind::Text | Kind::Label, Value::Text(_))
            | (Kind::Int, Value::Int(_))
            | (Kind::Bool, Value::Bool(_))
            | (Kind::Time, Value::Time(_))
            | (Kind::TextList, Value::TextList(_))
            | (Kind::Map, Value::Map(_))
    )
}

fn is_placeholder(v: &str) -> bool {
    v.is_empty() || v == "-"
}

/// Lowercased text, borrowed still when it was lowercase already (as most is).
pub fn lowercase(v: Cow<'_, str>) -> Cow<'_, str> {
    if !v.bytes().any(|b| b.is_ascii_uppercase()) && v.is_ascii() {
        return v;
    }
    Cow::Owned(v.to_lowercase())
}

/// An IP address in its canonical form (`2001:db8::1`, no brackets); other text as it is.
pub fn canonical_ip(v: Cow<'_, str>) -> Cow<'_, str> {
    // The IPv4 parser takes only the canonical form (no leading zeros, no spaces): most
    // addresses are IPv4 and need no copy.
    if v.parse::<std::net::Ipv4Addr>().is_ok() {
        return v;
    }
    let trimmed = v.trim().trim_start_matches('[').trim_end_matches(']');
    match trimmed.parse::<IpAddr>() {
        Ok(ip) => {
            let canonical = ip.to_string();
            if canonical == *v { v } else { Cow::Owned(canonical) }
        }
        Err(_) => v,
    }
}

/// Where a record was read: carried into the common columns of every row.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub format: &'a str,
    pub path: &'a str,
    pub line: u64,
}

/// A dictionary-encoded text column. Most rows repeat the value of the row before (a file's
/// path, a log's action), so that is checked first, before any hashing.
struct LabelBuilder {
    keys: Vec<i32>,
    nulls: NullBufferBuilder,
    values: StringBuilder,
    /// Each distinct value's key, in this batch.
    known: std::collections::HashMap<Box<str>, i32>,
    /// The key of the value appended last.
    last: Option<i32>,
}

impl LabelBuilder {
    fn with_capacity(rows: usize, distinct: usize, bytes: usize) -> Self {
        LabelBuilder {
            keys: Vec::with_capacity(rows),
            nulls: NullBufferBuilder::new(rows),
            values: StringBuilder::with_capacity(distinct, bytes),
            known: std::collections::HashMap::with_capacity(distinct),
            last: None,
        }
    }

    fn value(&self, key: i32) -> &[u8] {
        let offsets = self.values.offsets_slice();
        &self.values.values_slice()[offsets[key as usize] as usize..offsets[key as usize + 1] as usize]
    }

    fn append_value(&mut self, value: &str) {
        let key = match self.last {
            Some(last) if self.value(last) == value.as_bytes() => last,
            _ => match self.known.get(value) {
                Some(&key) => key,
                None => {
                    let key = self.known.len() as i32;
                    self.values.append_value(value);
                    self.known.insert(value.into(), key);
                    key
                }
            },
        };
        self.last = Some(key);
        self.keys.push(key);
        self.nulls.append_non_null();
    }

    fn append_null(&mut self) {
        self.keys.push(0);
        self.nulls.append_null();
    }

    /// The rows so far as an array; the builder starts again with as much room.
    fn finish(&mut self) -> DictionaryArray<Int32Type> {
        let rows = self.keys.len();
        let distinct = self.known.len();
        let bytes = self.values.values_slice().len();
        let mut done = std::mem::replace(self, LabelBuilder::with_capacity(rows, distinct, bytes));
        let keys = Int32Array::new(std::mem::take(&mut done.keys).into(), done.nulls.finish());
        let values = done.values.finish();
        // A null row's key is 0; with no values at all there is nothing for it to point at.
        let values = if values.is_empty() { arrow::array::StringArray::from(vec![""]) } else { values };
        DictionaryArray::try_new(keys, Arc::new(values)).expect("every key was given to a value appended")
    }
}

enum ColumnBuilder {
    Time(TimestampMicrosecondBuilder),
    Text(StringBuilder),
    Label(LabelBuilder),
    Int(Int64Builder),
    Bool(BooleanBuilder),
    TextList(ListBuilder<StringBuilder>),
    Map(MapBuilder<StringBuilder, StringBuilder>),
}

impl ColumnBuilder {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Time => ColumnBuilder::Time(TimestampMicrosecondBuilder::new().with_timezone("UTC")),
            Kind::Text => ColumnBuilder::Text(StringBuilder::new()),
            Kind::Label => ColumnBuilder::Label(LabelBuilder::with_capacity(0, 0, 0)),
            Kind::Int => ColumnBuilder::Int(Int64Builder::new()),
            Kind::Bool => ColumnBuilder::Bool(BooleanBuilder::new()),
            Kind::TextList => ColumnBuilder::TextList(ListBuilder::new(StringBuilder::new())),
            Kind::Map => ColumnBuilder::Map(MapBuilder::new(None, StringBuilder::new(), StringBuilder::new())),
        }
    }

    fn append(&mut self, value: Option<&Value>) {
        match (self, value) {
            (ColumnBuilder::Time(b), Some(Value::Time(v))) => b.append_value(*v),
            (ColumnBuilder::Text(b), Some(Value::Text(v))) => b.append_value(v),
            (ColumnBuilder::Label(b), Some(Value::Text(v))) => b.append_value(v),
            (ColumnBuilder::Int(b), Some(Value::Int(v))) => b.append_value(*v),
            (ColumnBuilder::Bool(b), Some(Value::Bool(v))) => b.append_value(*v),
            (ColumnBuilder::TextList(b), Some(Value::TextList(v))) => {
                for item in v {
                    b.values().append_value(item);
                }
                b.append(true);
            }
            (ColumnBuilder::Map(b), Some(Value::Map(pairs))) => {
                for (key, value) in pairs {
                    b.keys().append_value(key);
                    b.values().append_value(value);
                }
                b.append(true).expect("as many keys as values were appended");
            }
            (ColumnBuilder::Map(b), _) => b.append(false).expect("a null map has no entries"),
            (ColumnBuilder::Time(b), _) => b.append_null(),
            (ColumnBuilder::Text(b), _) => b.append_null(),
            (ColumnBuilder::Label(b), _) => b.append_null(),
            (ColumnBuilder::Int(b), _) => b.append_null(),
            (ColumnBuilder::Bool(b), _) => b.append_null(),
            (ColumnBuilder::TextList(b), _) => b.append_null(),
        }
    }

    /// The array built so far. The builder starts again with the room this batch took, as the
    /// next is likely as large: growing from empty would copy each column's data many times.
    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Time(b) => {
                let array = b.finish();
                *b = TimestampMicrosecondBuilder::with_capacity(array.len()).with_timezone("UTC");
                Arc::new(array)
            }
            ColumnBuilder::Text(b) => {
                let array = b.finish();
                *b = StringBuilder::with_capacity(array.len(), array.value_data().len());
                Arc::new(array)
            }
            // Each batch gets a dictionary of its own values only, so a batch's size does not
            // depend on the batches before it.
            ColumnBuilder::Label(b) => Arc::new(b.finish()),
            ColumnBuilder::Int(b) => {
                let array = b.finish();
                *b = Int64Builder::with_capacity(array.len());
                Arc::new(array)
            }
            ColumnBuilder::Bool(b) => {
                let array = b.finish();
                *b = BooleanBuilder::with_capacity(array.len());
                Arc::new(array)
            }
            ColumnBuilder::TextList(b) => {
                let array = b.finish();
                let items = array.values().as_string::<i32>();
                let room = StringBuilder::with_capacity(items.len(), items.value_data().len());
                *b = ListBuilder::with_capacity(room, array.len());
                Arc::new(array)
            }
            ColumnBuilder::Map(b) => {
                let array = b.finish();
                let room = |text: &ArrayRef| {
                    let text = text.as_string::<i32>();
                    StringBuilder::with_capacity(text.len(), text.value_data().len())
                };
                *b = MapBuilder::with_capacity(None, room(array.keys()), room(array.values()), array.len());
                Arc::new(array)
            }
        }
    }
}

/// Accumulates events of one table into Arrow arrays.
pub struct TableBuilder {
    table: Table,
    columns: Vec<ColumnBuilder>,
    /// Per row, which value (by position in the event) goes to each column; reused between rows.
    slots: Vec<Option<usize>>,
    rows: usize,
    /// Rough size of the rows appended so far, to cut batches by memory as well as by rows.
    bytes: usize,
    /// What a row costs besides its values' text: an offset or a value in every column, null
    /// or not (most of a Windows row: its tables have over a hundred columns).
    row_bytes: usize,
    ingested: i64,
}

impl TableBuilder {
    pub fn new(table: Table, ingested: DateTime<Utc>) -> Self {
        let columns: Vec<_> = table.columns().iter().map(|c| ColumnBuilder::new(c.kind)).collect();
        let slots = vec![None; columns.len()];
        let row_bytes = table.columns().iter().map(|c| c.kind.fixed_width()).sum();
        let ingested = ingested.timestamp_micros();
        TableBuilder { table, columns, slots, rows: 0, bytes: 0, row_bytes, ingested }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn approx_bytes(&self) -> usize {
        self.bytes
    }

    /// Appends an event whose timestamp is set; the common columns come from `origin`.
    pub fn append(&mut self, event: &Event, timestamp: i64, origin: &Origin) {
        debug_assert_eq!(event.table, self.table);
        self.slots.iter_mut().for_each(|s| *s = None);
        self.bytes += self.row_bytes;
        for (position, (index, value)) in event.values.iter().enumerate() {
            self.slots[*index] = Some(position);
            self.bytes += match value {
                Value::Text(t) => t.len(),
                Value::TextList(l) => l.iter().map(|t| t.len() + 4).sum(),
                Value::Map(m) => m.iter().map(|(k, v)| k.len() + v.len() + 8).sum(),
                _ => 8,
            };
        }
        let common_values = [
            Value::Time(timestamp),
            Value::Text(Cow::Borrowed(origin.format)),
            Value::Text(Cow::Borrowed(origin.path)),
            Value::Int(origin.line as i64),
            Value::Time(self.ingested),
        ];
        for (index, column) in self.columns.iter_mut().enumerate() {
            let value = match index {
                common::TIMESTAMP => Some(&common_values[0]),
                common::FORMAT => Some(&common_values[1]),
                common::PATH => Some(&common_values[2]),
                common::LINE => Some(&common_values[3]),
                common::INGESTED => Some(&common_values[4]),
                _ => self.slots[index].map(|p| &event.values[p].1),
            };
            column.append(value);
        }
        self.rows += 1;
    }

    /// Takes the rows appended so far as a batch and starts afresh.
    pub fn finish(&mut self) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(|c| c.finish()).collect();
        self.rows = 0;
        self.bytes = 0;
        RecordBatch::try_new(self.table.schema(), arrays)
            .expect("TableBuilder appends exactly one value per column per row, matching the schema")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int64Type;

    #[test]
    fn builds_a_batch_with_nulls_for_unset_columns() {
        let now = Utc::now();
        let mut b = TableBuilder::new(Table::Dns, now);
        let mut e = Event::new(Table::Dns);
        e.lower("dns.question.name", Some("Sfrclak.COM"))
            .ip("source.ip", Some("2001:DB8::1"))
            .int("dns.id", Some(7))
            .list("dns.answers", vec!["1.2.3.4".into()]);
        e.text("host.name", Some("-"));
        let origin = Origin { format: "zeek", path: "dns.log", line: 9 };
        b.append(&e, 1_000_000, &origin);
        let batch = b.finish();
        assert_eq!(batch.num_rows(), 1);
        let col = |n: &str| batch.column(Table::Dns.column_index(n).unwrap()).clone();
        assert_eq!(col("dns.question.name").as_string::<i32>().value(0), "sfrclak.com");
        assert_eq!(col("source.ip").as_string::<i32>().value(0), "2001:db8::1");
        assert_eq!(col("log.file.line").as_primitive::<Int64Type>().value(0), 9);
        assert!(col("host.name").is_null(0), "`-` is a placeholder, stored as null");
        assert!(col("process.name").is_null(0));
        assert_eq!(batch.schema(), Table::Dns.schema());
    }

    #[test]
    fn labels_keep_their_values_and_each_batch_has_a_dictionary_of_its_own() {
        let mut b = LabelBuilder::with_capacity(0, 0, 0);
        let mut batch = |values: &[Option<&str>]| {
            for v in values {
                match v {
                    Some(v) => b.append_value(v),
                    None => b.append_null(),
                }
            }
            let array = b.finish();
            let typed = array.downcast_dict::<arrow::array::StringArray>().unwrap();
            let got: Vec<Option<String>> = typed.into_iter().map(|v| v.map(str::to_string)).collect();
            let expected: Vec<Option<String>> = values.iter().map(|v| v.map(str::to_string)).collect();
            assert_eq!(got, expected);
            array.values().len()
        };
        assert_eq!(batch(&[Some("a"), Some("a"), None, Some("b"), Some("a"), Some("b"), Some("")]), 3);
        assert_eq!(batch(&[Some("b"), None]), 1, "the first batch's values are not carried over");
        assert_eq!(batch(&[None, None]), 1, "null rows point at a value all the same");
        assert_eq!(batch(&[]), 1);
    }

    #[test]
    fn first_value_wins() {
        let mut e = Event::new(Table::Process);
        e.text("process.name", Some("a")).text("process.name", Some("b"));
        assert_eq!(e.get_text("process.name"), Some("a"));
    }
}
