//! A hunt's rows for people and for other tools: a text table, NDJSON, CSV (lists and maps as
//! text), Parquet, and HTML for notebooks. The command line, jobs and the Python module all
//! write rows through here; a pack's findings have theirs in [`crate::pack::render`].
//!
//! ```
//! # #[tokio::main] async fn main() -> spoor::Result<()> {
//! # let store = spoor::testing::sample_store()?;
//! let rows = store.hunt("dns | stats n = count() by dns.question.name | sort n desc | limit 3", &Default::default()).await?;
//! let batches = rows.collect().await?;
//! print!("{}", spoor::render::table(&batches)?);
//! spoor::render::ndjson(&batches, std::io::stdout())?;
//! # Ok(()) }
//! ```

use std::io::Write;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// The rows as a text table (nothing for no rows).
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{ArrayRef, RecordBatch, StringArray};
/// let rows = RecordBatch::try_from_iter([("host.name", Arc::new(StringArray::from(vec!["ci-runner-3"])) as ArrayRef)])?;
/// assert_eq!(
///     spoor::render::table(&[rows])?,
///     "+-------------+\n| host.name   |\n+-------------+\n| ci-runner-3 |\n+-------------+\n"
/// );
/// assert_eq!(spoor::render::table(&[])?, "");
/// # Ok::<(), arrow::error::ArrowError>(())
/// ```
pub fn table(batches: &[RecordBatch]) -> Result<String, ArrowError> {
    if batches.iter().all(|b| b.num_rows() == 0) {
        return Ok(String::new());
    }
    Ok(format!("{}\n", arrow::util::pretty::pretty_format_batches(batches)?))
}

/// One JSON object per row (nulls left out).
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
/// let rows = RecordBatch::try_from_iter([
///     ("host.name", Arc::new(StringArray::from(vec![Some("ci-runner-3"), None])) as ArrayRef),
///     ("n", Arc::new(Int64Array::from(vec![9, 8])) as ArrayRef),
/// ])?;
/// let mut out = Vec::new();
/// spoor::render::ndjson(&[rows], &mut out)?;
/// assert_eq!(String::from_utf8(out).unwrap(), "{\"host.name\":\"ci-runner-3\",\"n\":9}\n{\"n\":8}\n");
/// # Ok::<(), arrow::error::ArrowError>(())
/// ```
pub fn ndjson(batches: &[RecordBatch], sink: impl Write) -> Result<(), ArrowError> {
    let mut writer = arrow::json::LineDelimitedWriter::new(sink);
    for b in batches {
        writer.write(b)?;
    }
    writer.finish()
}

/// CSV with a header; lists and maps (`dns.answers`, `winlog.event_data`) written as text.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// let rows = store.hunt("process | select process.name, process.parent.name", &Default::default()).await?.collect().await?;
/// let mut out = Vec::new();
/// spoor::render::csv(&rows, &mut out)?;
/// assert!(String::from_utf8(out).unwrap().starts_with("process.name,process.parent.name\nwscript.exe,explorer.exe\n"));
/// # Ok(()) }
/// ```
pub fn csv(batches: &[RecordBatch], sink: impl Write) -> Result<(), ArrowError> {
    let mut writer = arrow::csv::Writer::new(sink);
    for b in batches {
        writer.write(&nested_as_text(b)?)?;
    }
    Ok(())
}

/// A Parquet file of the rows (nothing for no batches).
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// let rows = store.hunt("process | select process.name, process.parent.name", &Default::default()).await?.collect().await?;
/// let mut file = Vec::new();
/// spoor::render::parquet(&rows, &mut file)?;
/// assert_eq!(&file[..4], b"PAR1");
/// # Ok(()) }
/// ```
pub fn parquet(batches: &[RecordBatch], sink: impl Write + Send) -> Result<(), parquet::errors::ParquetError> {
    let Some(schema) = batches.first().map(RecordBatch::schema) else { return Ok(()) };
    let mut writer = parquet::arrow::ArrowWriter::try_new(sink, schema, None)?;
    for b in batches {
        writer.write(b)?;
    }
    writer.close().map(|_| ())
}

/// The first `limit` rows as an HTML table, and how many rows there are in all.
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// let rows = store.hunt("process | select process.name, process.parent.name", &Default::default()).await?.collect().await?;
/// let html = spoor::render::html(&rows[0].schema(), &rows, 1);
/// assert!(html.starts_with("<table><thead><tr><th>process.name</th>"));
/// assert!(html.ends_with("<p>4 rows</p>"));
/// # Ok(()) }
/// ```
pub fn html(schema: &Schema, batches: &[RecordBatch], limit: usize) -> String {
    let mut html = String::from("<table><thead><tr>");
    for f in schema.fields() {
        html.push_str(&format!("<th>{}</th>", escape_html(f.name())));
    }
    html.push_str("</tr></thead><tbody>");
    let options = FormatOptions::default().with_null("");
    for batch in first_rows(batches, limit) {
        let formatters: Vec<_> =
            batch.columns().iter().filter_map(|c| ArrayFormatter::try_new(c.as_ref(), &options).ok()).collect();
        for row in 0..batch.num_rows() {
            html.push_str("<tr>");
            for f in &formatters {
                html.push_str(&format!("<td>{}</td>", escape_html(&f.value(row).to_string())));
            }
            html.push_str("</tr>");
        }
    }
    let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
    html.push_str(&format!("</tbody></table><p>{n} row{}</p>", if n == 1 { "" } else { "s" }));
    html
}

/// The first `limit` rows, as slices of the batches (no copy).
///
/// ```
/// # #[tokio::main] async fn main() -> spoor::Result<()> {
/// # let store = spoor::testing::sample_store()?;
/// let rows = store.hunt("process | select process.name, process.parent.name", &Default::default()).await?.collect().await?;
/// let first = spoor::render::first_rows(&rows, 3);
/// assert_eq!(first.iter().map(|b| b.num_rows()).sum::<usize>(), 3);
/// # Ok(()) }
/// ```
pub fn first_rows(batches: &[RecordBatch], limit: usize) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    let mut left = limit;
    for b in batches {
        if left == 0 {
            break;
        }
        let take = left.min(b.num_rows());
        out.push(b.slice(0, take));
        left -= take;
    }
    out
}

/// Text safe inside HTML elements.
///
/// ```
/// assert_eq!(spoor::render::escape_html("a < b && c"), "a &lt; b &amp;&amp; c");
/// ```
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The batch with its lists and maps (`dns.answers`, `winlog.event_data`) written as text
/// (`[a, b]`, `{PipeName: \\.\pipe\x}`), which CSV has no other way to hold.
fn nested_as_text(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    if !batch.schema().fields().iter().any(|f| f.data_type().is_nested()) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if !field.data_type().is_nested() {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
            continue;
        }
        let formatter = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default())?;
        let mut text = StringBuilder::new();
        for row in 0..column.len() {
            if column.is_null(row) { text.append_null() } else { text.append_value(formatter.value(row).to_string()) }
        }
        fields.push(Field::new(field.name(), DataType::Utf8, true));
        columns.push(Arc::new(text.finish()));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, ListBuilder, StringArray};

    fn batch() -> RecordBatch {
        let mut answers = ListBuilder::new(StringBuilder::new());
        answers.values().append_value("198.51.100.73");
        answers.values().append_value("198.51.100.74");
        answers.append(true);
        answers.append(false);
        RecordBatch::try_from_iter([
            ("name", Arc::new(StringArray::from(vec!["<b>x</b>", "y"])) as ArrayRef),
            ("n", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
            ("answers", Arc::new(answers.finish()) as ArrayRef),
        ])
        .unwrap()
    }

    #[test]
    fn csv_writes_lists_as_text() {
        let mut out = Vec::new();
        csv(&[batch()], &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "name,n,answers\n<b>x</b>,1,\"[198.51.100.73, 198.51.100.74]\"\ny,2,\n"
        );
    }

    #[test]
    fn html_escapes_and_shows_the_first_rows_with_the_count() {
        let b = batch();
        let html = html(&b.schema(), &[b.clone(), b.clone()], 3);
        assert!(html.contains("<td>&lt;b&gt;x&lt;/b&gt;</td>"), "{html}");
        assert_eq!(html.matches("<tr>").count(), 1 + 3, "a header and three rows: {html}");
        assert!(html.ends_with("<p>4 rows</p>"), "{html}");
    }

    #[test]
    fn no_rows_is_no_table() {
        assert_eq!(table(&[]).unwrap(), "");
        assert!(table(&[batch()]).unwrap().contains("| [198.51.100.73, 198.51.100.74] |"), "lists print in tables too");
    }
}
