//! In-memory tables from JSON rows, for file-driven tests, documentation examples and hunt
//! fixtures: a few events written by hand, loaded with the real table schemas.

use std::io::Cursor;
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use spoor_core::schema::without_dictionaries;

/// One JSON object per row, with the line it was written on (for `log.file.line`).
pub struct Rows<'a> {
    /// Where the rows were written (`tests/language/lookup.slt`): becomes `log.file.path`.
    pub origin: &'a str,
    pub rows: Vec<(usize, &'a str)>,
}

/// Appends rows to one of spoor's tables in the session (creating it in memory). Columns follow
/// the table's schema; `log.file.path` and `log.file.line` default to where the row was written.
pub async fn add_events(ctx: &SessionContext, table: &str, rows: &Rows<'_>) -> Result<usize> {
    let t = spoor_core::Table::from_name(table)
        .ok_or_else(|| DataFusionError::Plan(format!("`{table}` is not one of spoor's tables")))?;
    let mut lines = String::new();
    for (line, text) in &rows.rows {
        let mut value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| DataFusionError::Plan(format!("{}:{line}: not a JSON object: {e}", rows.origin)))?;
        let object = value
            .as_object_mut()
            .ok_or_else(|| DataFusionError::Plan(format!("{}:{line}: not a JSON object", rows.origin)))?;
        for key in object.keys() {
            if t.column_index(key).is_none() {
                return Err(DataFusionError::Plan(format!("{}:{line}: `{table}` has no column `{key}`", rows.origin)));
            }
        }
        object.entry("log.file.path").or_insert_with(|| rows.origin.into());
        object.entry("log.file.line").or_insert_with(|| (*line as i64).into());
        object.entry("spoor.format").or_insert_with(|| "fixture".into());
        lines.push_str(&value.to_string());
        lines.push('\n');
    }
    let batches = decode(&t.schema(), &lines)?;
    append(ctx, table, t.schema(), batches).await
}

/// Registers rows as a lookup table with a schema inferred from them (an IOC list, say).
pub async fn add_lookup(ctx: &SessionContext, name: &str, rows: &Rows<'_>) -> Result<usize> {
    let text: String = rows.rows.iter().map(|(_, r)| format!("{r}\n")).collect();
    let (schema, _) = arrow::json::reader::infer_json_schema_from_seekable(Cursor::new(text.as_bytes()), None)?;
    let schema = Arc::new(schema);
    let batches = decode(&schema, &text)?;
    append(ctx, name, schema, batches).await
}

/// Rows of `text` in `schema`. Arrow's JSON reader has no dictionaries: their columns are read as
/// their values' type, then encoded.
fn decode(schema: &SchemaRef, text: &str) -> Result<Vec<RecordBatch>> {
    let plain = |f: &arrow::datatypes::FieldRef| match without_dictionaries(f.data_type()) {
        Some(t) => Arc::new(f.as_ref().clone().with_data_type(t)),
        None => Arc::clone(f),
    };
    let read_as = Arc::new(Schema::new_with_metadata(
        schema.fields().iter().map(plain).collect::<Vec<_>>(),
        schema.metadata().clone(),
    ));
    let reader = arrow::json::ReaderBuilder::new(read_as).build(Cursor::new(text.as_bytes()))?;
    reader
        .map(|batch| {
            let batch = batch?;
            let columns = batch
                .columns()
                .iter()
                .zip(schema.fields())
                .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
        })
        .collect()
}

async fn append(ctx: &SessionContext, name: &str, schema: SchemaRef, mut batches: Vec<RecordBatch>) -> Result<usize> {
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    // The rows already there are read from the table itself, not by a query: on a cluster, a
    // query's rows come back from the executors, in the types the transport gives them.
    if let Ok(existing) = ctx.table_provider(name).await {
        let memory = existing.downcast_ref::<MemTable>().ok_or_else(|| {
            DataFusionError::Plan(format!("`{name}` is a table of the session, not of this file's rows"))
        })?;
        let mut old = Vec::new();
        for partition in &memory.batches {
            old.extend(partition.read().await.iter().cloned());
        }
        old.append(&mut batches);
        batches = old;
        ctx.deregister_table(name)?;
    }
    let table = MemTable::try_new(schema, vec![batches])?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(rows)
}
