//! `spoor hunt`, `spoor check`, `spoor explain`: read a hunt, show its diagnostics the way a
//! person (or a tool, with `--format json`) wants them, run it through [`spoor::Store`] and
//! print the rows.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use arrow::record_batch::RecordBatch;

use spoor::dsl::{Diagnostics, render};
use spoor::{CancellationToken, Explain, HuntOptions, HuntText, Store};

/// A hunt's text from a file (`-` for standard input) or from `-e` on the command line.
pub fn hunt_text(
    file: Option<&Path>,
    expression: Option<String>,
    sigma_mapping: Option<&Path>,
) -> spoor::Result<HuntText> {
    match (file, expression) {
        (_, Some(text)) => Ok(HuntText::inline(text)),
        (Some(path), None) if path == Path::new("-") => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|source| spoor::Error::Io { path: path.to_path_buf(), source })?;
            Ok(HuntText { name: "<stdin>".into(), text })
        }
        (Some(path), None) => HuntText::read_with(path, &spoor::sigma::mapping(sigma_mapping)?),
        (None, None) => Err(spoor::Error::User("give a hunt file, or a query with -e".into())),
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
    /// `--cluster`: the scheduler to run on.
    pub cluster: Option<String>,
}

impl RunArgs {
    /// The run's options; Ctrl-C cancels the run through `cancel`.
    pub fn options(&self, cancel: &CancellationToken) -> spoor::Result<HuntOptions> {
        let mut options = HuntOptions::default().params_text(&self.params)?.iocs(self.iocs.clone());
        if let Some(since) = &self.since {
            options = options.since(since)?;
        }
        if let Some(size) = &self.memory_limit {
            options = options.memory_limit(size)?;
        }
        if let Some(limit) = &self.timeout {
            options = options.timeout(limit)?;
        }
        if let Some(address) = &self.cluster {
            options = options.cluster(address);
        }
        Ok(options.cancel_on(cancel.clone()))
    }
}

fn runtime() -> spoor::Result<tokio::runtime::Runtime> {
    spoor::core::session::runtime().map_err(|e| spoor::Error::Internal(format!("cannot start the query runtime: {e}")))
}

/// Runs a command's work on the query runtime until it ends or Ctrl-C, which cancels it (its
/// queries stop; hunts only read the store, so it is left as it was).
pub fn run_until_interrupted<T>(work: impl AsyncFnOnce(CancellationToken) -> spoor::Result<T>) -> spoor::Result<T> {
    let cancel = CancellationToken::new();
    runtime()?.block_on(async {
        let interrupted = cancel.clone();
        let watch = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted: stopped; the store is unchanged");
                interrupted.cancel();
            }
        });
        let done = work(cancel).await;
        watch.abort();
        done
    })
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

pub fn hunt(hunt: HuntText, args: RunArgs, format: RowFormat, output: Option<PathBuf>) -> spoor::Result<ExitCode> {
    let store = Store::open_existing(&args.store)?;
    let batches = run_until_interrupted(async |cancel| {
        let rows = store.hunt(hunt, &args.options(&cancel)?).await?;
        if !rows.warnings.0.is_empty() {
            eprint!("{}", rows.warnings_text(std::io::stderr().is_terminal()));
        }
        // A hunt over `windows` in a store of Zeek logs: its empty answer says nothing.
        if !rows.empty_tables.is_empty() {
            let names: Vec<String> = rows.empty_tables.iter().map(|t| format!("`{t}`")).collect();
            eprintln!("warning: the store has no rows in {}; the hunt found nothing there to read", names.join(", "));
        }
        rows.collect().await
    })?;
    write_rows(&batches, format, output.as_deref())?;
    if format == RowFormat::Table {
        eprintln!("{}", rows(batches.iter().map(RecordBatch::num_rows).sum()));
    }
    Ok(ExitCode::SUCCESS)
}

/// "1 row", "3 rows".
fn rows(n: usize) -> String {
    format!("{n} row{}", if n == 1 { "" } else { "s" })
}

fn write_rows(batches: &[RecordBatch], format: RowFormat, output: Option<&Path>) -> spoor::Result<()> {
    let io = |source| spoor::Error::Io { path: output.unwrap_or(Path::new("<stdout>")).to_path_buf(), source };
    let mut sink: Box<dyn Write + Send> = match output {
        Some(path) => Box::new(std::fs::File::create(path).map_err(io)?),
        None if format == RowFormat::Parquet => {
            return Err(spoor::Error::User("--format parquet needs --output <file>".into()));
        }
        None => Box::new(std::io::stdout()),
    };
    match format {
        RowFormat::Table => sink.write_all(spoor::render::table(batches)?.as_bytes()).map_err(io)?,
        RowFormat::Ndjson => spoor::render::ndjson(batches, sink)?,
        RowFormat::Csv => spoor::render::csv(batches, sink)?,
        RowFormat::Parquet => spoor::render::parquet(batches, sink)?,
    }
    Ok(())
}

/// Checks hunt files without running them. Exit 1 when any has an error.
/// What `spoor check` does with Sigma rules among its files.
pub struct SigmaCheck<'a> {
    /// Exit 1 when a rule cannot run.
    pub strict: bool,
    /// The user's mapping file.
    pub mapping: Option<&'a std::path::Path>,
}

pub fn check(
    files: &[PathBuf],
    iocs: &[PathBuf],
    format: DiagnosticFormat,
    sigma: SigmaCheck<'_>,
) -> spoor::Result<ExitCode> {
    // The `iocs` table has one schema whatever its files hold; they are read to report bad ones.
    if !iocs.is_empty() {
        spoor::core::iocs::load_all(iocs)?;
    }
    // A directory's `.hunt` files and Sigma rules, in one walk; a file named is a Sigma rule by
    // its extension, else a hunt.
    let wanted = |p: &Path| p.extension().is_some_and(|e| e == "hunt") || spoor::sigma::is_rule_file(p);
    let named = spoor::core::walk::all_files(files, wanted)?;
    let (rule_files, hunts): (Vec<PathBuf>, Vec<PathBuf>) =
        named.into_iter().partition(|p| spoor::sigma::is_rule_file(p));
    if hunts.is_empty() && rule_files.is_empty() {
        return Err(spoor::Error::User("no .hunt files or Sigma rules (.yml) found".into()));
    }
    let mut failed = false;
    if !rule_files.is_empty() {
        let not_run = crate::sigma_cli::check(&rule_files, sigma.mapping)?;
        failed |= not_run && sigma.strict;
    }
    let mut all_json = Vec::new();
    let mut checked: Vec<(HuntText, Diagnostics)> = Vec::new();
    for path in hunts {
        let hunt = HuntText::read(&path)?;
        let diagnostics = match spoor::check(hunt.clone()) {
            Ok(warnings) => warnings,
            Err(spoor::Error::Hunt(mut invalid)) if invalid.len() == 1 => {
                failed = true;
                invalid.remove(0).diagnostics
            }
            Err(e) => return Err(e),
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

pub fn explain(hunt: HuntText, args: RunArgs, shown: Explain) -> spoor::Result<ExitCode> {
    let store = Store::open_existing(&args.store)?;
    let text = run_until_interrupted(async |cancel| store.explain(hunt, &args.options(&cancel)?, shown).await)?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}
