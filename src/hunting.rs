//! `spoor hunt`, `spoor check`, `spoor explain`: read a hunt, show its diagnostics the way a
//! person (or a tool, with `--format json`) wants them, run it and print the rows.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;

use spoor::core::{Store, session};
use spoor::dsl::{Diagnostics, ParamValues, RunOptions, render};

/// Where a hunt's text comes from: a file, or `-e` on the command line.
pub struct HuntText {
    pub name: String,
    pub text: String,
}

impl HuntText {
    pub fn read(file: Option<&Path>, expression: Option<String>) -> Result<HuntText, String> {
        match (file, expression) {
            (_, Some(text)) => Ok(HuntText { name: "<query>".into(), text }),
            (Some(path), None) if path == Path::new("-") => {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| format!("stdin: {e}"))?;
                Ok(HuntText { name: "<stdin>".into(), text })
            }
            (Some(path), None) => std::fs::read_to_string(path)
                .map(|text| HuntText { name: path.display().to_string(), text })
                .map_err(|e| format!("{}: {e}", path.display())),
            (None, None) => Err("give a hunt file, or a query with -e".into()),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RowFormat {
    Table,
    Ndjson,
    Csv,
    Parquet,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagnosticFormat {
    Pretty,
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

/// What every command that runs a hunt shares.
pub struct RunArgs {
    pub store: PathBuf,
    pub params: Vec<String>,
    pub since: Option<String>,
    pub iocs: Vec<PathBuf>,
    /// `--memory-limit`, as written.
    pub memory_limit: Option<String>,
    /// `--timeout`, as written.
    pub timeout: Option<String>,
}

impl RunArgs {
    pub fn params(&self) -> Result<ParamValues, String> {
        let mut out = ParamValues::new();
        for p in &self.params {
            let (k, v) = p.split_once('=').ok_or_else(|| format!("--param {p}: write it as name=value"))?;
            out.insert(k.trim().to_string(), v.to_string());
        }
        Ok(out)
    }

    pub fn options(&self) -> Result<RunOptions, String> {
        RunOptions::since(self.since.as_deref()).map_err(|e| format!("--since {e}"))
    }

    pub fn limits(&self) -> Result<session::Limits, String> {
        let memory = self.memory_limit.as_deref().map(session::Limits::parse_size).transpose();
        let time =
            self.timeout.as_deref().map(|t| spoor::dsl::parse_duration(t).map(|us| Duration::from_micros(us as u64)));
        Ok(session::Limits {
            memory: memory.map_err(|e| format!("--memory-limit {e}"))?,
            time: time.transpose().map_err(|e| format!("--timeout {e}"))?,
        })
    }

    async fn context(&self) -> Result<SessionContext, String> {
        let store = Store::open_existing(&self.store).map_err(|e| e.to_string())?;
        let ctx = session::context_with(&store, self.limits()?).await.map_err(|e| e.to_string())?;
        register_iocs(&ctx, &self.iocs).await?;
        Ok(ctx)
    }
}

/// `--iocs` files as the `iocs` table; without any, the table stays unknown, so a hunt that
/// looks indicators up is told to pass them.
async fn register_iocs(ctx: &SessionContext, files: &[PathBuf]) -> Result<(), String> {
    if !files.is_empty() {
        spoor::core::iocs::register(ctx, files).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    spoor::core::session::runtime().map_err(|e| format!("cannot start the query runtime: {e}"))
}

fn show(diagnostics: &Diagnostics, hunt: &HuntText, format: DiagnosticFormat) {
    match format {
        DiagnosticFormat::Pretty => {
            eprint!("{}", render::pretty(diagnostics, &hunt.text, &hunt.name, std::io::stderr().is_terminal()))
        }
        DiagnosticFormat::Json => println!("{}", render::json(diagnostics, &hunt.text, &hunt.name)),
        DiagnosticFormat::Sarif => println!("{}", render::sarif(&[(&hunt.name, &hunt.text, diagnostics)])),
    }
}

/// Compiles a hunt, showing its diagnostics; `None` when it has errors.
async fn compile(
    ctx: &SessionContext,
    hunt: &HuntText,
    args: &RunArgs,
) -> Result<Option<spoor::dsl::Compiled>, String> {
    let params = args.params()?;
    let options = args.options()?;
    match spoor::dsl::compile(ctx, &hunt.text, &params, &options).await {
        Ok(compiled) => {
            if !compiled.warnings.0.is_empty() {
                show(&compiled.warnings, hunt, DiagnosticFormat::Pretty);
            }
            Ok(Some(compiled))
        }
        Err(spoor::dsl::Error::Hunt(d)) => {
            show(&d, hunt, DiagnosticFormat::Pretty);
            Ok(None)
        }
        Err(e) => Err(e.to_string()),
    }
}

pub fn hunt(hunt: HuntText, args: RunArgs, format: RowFormat, output: Option<PathBuf>) -> Result<ExitCode, String> {
    runtime()?.block_on(until_interrupted(async {
        let ctx = args.context().await?;
        let work = async {
            let Some(compiled) = compile(&ctx, &hunt, &args).await? else { return Ok(None) };
            warn_of_empty_tables(&ctx, &compiled.hunt);
            spoor::dsl::run::run(&ctx, &compiled).await.map(Some).map_err(|e| e.to_string())
        };
        let ran = match args.limits()?.time {
            None => work.await,
            Some(limit) => tokio::time::timeout(limit, work)
                .await
                .unwrap_or_else(|_| Err(spoor::dsl::Error::TimedOut(limit).to_string())),
        };
        let Some(batches) = ran? else { return Ok(ExitCode::from(2)) };
        write_rows(&batches, format, output.as_deref())?;
        if format == RowFormat::Table {
            eprintln!("{}", rows(batches.iter().map(RecordBatch::num_rows).sum()));
        }
        Ok(ExitCode::SUCCESS)
    }))
}

/// Says which of spoor's tables the hunt reads have no rows in this store (a hunt over `windows`
/// of a store of Zeek logs): its empty answer then says nothing about the hunted activity.
fn warn_of_empty_tables(ctx: &SessionContext, hunt: &spoor::dsl::ir::Hunt) {
    let empty: Vec<String> =
        hunt.tables().into_iter().filter(|t| !ctx.table_exist(t.as_str()).unwrap_or(false)).collect();
    if !empty.is_empty() {
        let names: Vec<String> = empty.iter().map(|t| format!("`{t}`")).collect();
        eprintln!("warning: the store has no rows in {}; the hunt found nothing there to read", names.join(", "));
    }
}

/// "1 row", "3 rows".
fn rows(n: usize) -> String {
    format!("{n} row{}", if n == 1 { "" } else { "s" })
}

/// Runs a command's work until it ends or Ctrl-C: then the work is dropped (which cancels its
/// queries; hunts only read the store, so it is left as it was) and the exit status is 130, as
/// a shell reports a command stopped by SIGINT.
pub async fn until_interrupted(
    work: impl std::future::Future<Output = Result<ExitCode, String>>,
) -> Result<ExitCode, String> {
    tokio::select! {
        done = work => done,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("interrupted: stopped; the store is unchanged");
            Ok(ExitCode::from(130))
        }
    }
}

fn write_rows(batches: &[RecordBatch], format: RowFormat, output: Option<&Path>) -> Result<(), String> {
    let mut sink: Box<dyn Write + Send> = match output {
        Some(path) => Box::new(std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None if format == RowFormat::Parquet => return Err("--format parquet needs --output <file>".into()),
        None => Box::new(std::io::stdout()),
    };
    let error = |e: &dyn std::fmt::Display| e.to_string();
    match format {
        RowFormat::Table if batches.iter().all(|b| b.num_rows() == 0) => {}
        RowFormat::Table => {
            let table = arrow::util::pretty::pretty_format_batches(batches).map_err(|e| error(&e))?;
            writeln!(sink, "{table}").map_err(|e| error(&e))?;
        }
        RowFormat::Ndjson => {
            let mut writer = arrow::json::LineDelimitedWriter::new(sink);
            for b in batches {
                writer.write(b).map_err(|e| error(&e))?;
            }
            writer.finish().map_err(|e| error(&e))?;
        }
        RowFormat::Csv => {
            let mut writer = arrow::csv::Writer::new(sink);
            for b in batches {
                writer.write(&nested_as_text(b).map_err(|e| error(&e))?).map_err(|e| error(&e))?;
            }
        }
        RowFormat::Parquet => {
            let Some(schema) = batches.first().map(RecordBatch::schema) else {
                return Ok(());
            };
            let mut writer = parquet::arrow::ArrowWriter::try_new(sink, schema, None).map_err(|e| error(&e))?;
            for b in batches {
                writer.write(b).map_err(|e| error(&e))?;
            }
            writer.close().map_err(|e| error(&e))?;
        }
    }
    Ok(())
}

/// Checks hunt files without running them. Exit 1 when any has an error.
pub fn check(files: &[PathBuf], iocs: &[PathBuf], format: DiagnosticFormat) -> Result<ExitCode, String> {
    let mut catalog = spoor::dsl::catalog::Catalog::standard();
    if !iocs.is_empty() {
        let batch = spoor::core::iocs::load_all(iocs).map_err(|e| e.to_string())?;
        catalog.add(spoor::core::iocs::TABLE, &batch.schema());
    } else {
        catalog.add(spoor::core::iocs::TABLE, &spoor::core::iocs::schema());
    }
    let mut failed = false;
    let mut all_json = Vec::new();
    let mut checked: Vec<(HuntText, Diagnostics)> = Vec::new();
    for path in hunt_files(files)? {
        let hunt = HuntText::read(Some(&path), None)?;
        let diagnostics = match spoor::dsl::check(&hunt.text, &catalog, &ParamValues::new()) {
            Ok(resolved) => resolved.warnings,
            Err(d) => {
                failed = true;
                d
            }
        };
        match format {
            DiagnosticFormat::Pretty if diagnostics.0.is_empty() => println!("{}: ok", hunt.name),
            DiagnosticFormat::Pretty => show(&diagnostics, &hunt, format),
            DiagnosticFormat::Json => {
                let items: Vec<serde_json::Value> =
                    serde_json::from_str(&render::json(&diagnostics, &hunt.text, &hunt.name)).unwrap_or_default();
                all_json.extend(items);
            }
            DiagnosticFormat::Sarif => checked.push((hunt, diagnostics)),
        }
    }
    if format == DiagnosticFormat::Sarif {
        let files: Vec<(&str, &str, &Diagnostics)> =
            checked.iter().map(|(h, d)| (h.name.as_str(), h.text.as_str(), d)).collect();
        println!("{}", render::sarif(&files));
    }
    if format == DiagnosticFormat::Json {
        println!("{}", serde_json::to_string_pretty(&all_json).unwrap_or_default());
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Files as given, directories walked for `*.hunt`.
fn hunt_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "hunt") {
                        out.push(path);
                    }
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    if out.is_empty() {
        return Err("no .hunt files found".into());
    }
    Ok(out)
}

/// What `spoor explain` prints.
#[derive(Debug, Clone, Copy)]
pub enum Explained {
    /// The optimized logical plan.
    Plan,
    /// SQL from DataFusion's unparser.
    Sql,
    /// The physical plan after running it, with each operator's metrics.
    Analyzed,
}

pub fn explain(hunt: HuntText, args: RunArgs, shown: Explained) -> Result<ExitCode, String> {
    runtime()?.block_on(until_interrupted(async {
        let ctx = args.context().await?;
        let started = std::time::Instant::now();
        let Some(compiled) = compile(&ctx, &hunt, &args).await? else { return Ok(ExitCode::from(2)) };
        let compiling = started.elapsed();
        match shown {
            Explained::Sql => println!("{}", spoor::dsl::run::to_sql(&compiled.plan).map_err(|e| e.to_string())?),
            Explained::Plan => {
                println!("{}", spoor::dsl::run::explained(&ctx, &compiled.plan).map_err(|e| e.to_string())?);
            }
            Explained::Analyzed => {
                let analysis = spoor::dsl::run::within(args.limits()?.time, spoor::dsl::run::analyze(&ctx, &compiled))
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{}", analysis.plan);
                println!(
                    "{}; compiled in {:.1} ms, planned in {:.1} ms, ran in {:.1} ms",
                    rows(analysis.rows),
                    compiling.as_secs_f64() * 1e3,
                    analysis.planning.as_secs_f64() * 1e3,
                    analysis.running.as_secs_f64() * 1e3
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    }))
}

/// The batch with its lists and maps (`dns.answers`, `winlog.event_data`) written as text
/// (`[a, b]`, `{PipeName: \\.\pipe\x}`), which CSV has no other way to hold.
fn nested_as_text(batch: &RecordBatch) -> Result<RecordBatch, arrow::error::ArrowError> {
    use arrow::array::{ArrayRef, StringBuilder};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let nested = |t: &DataType| t.is_nested();
    if !batch.schema().fields().iter().any(|f| nested(f.data_type())) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if !nested(field.data_type()) {
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
        columns.push(std::sync::Arc::new(text.finish()));
    }
    RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns)
}
