//! `spoor pack run`, `spoor pack docs` and `spoor test`: the hunt pack from the command line.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use spoor::core::Store;
use spoor::dsl::render;
use spoor::pack::{self, Pack, PackError};

use crate::hunting::{self, RunArgs};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FindingFormat {
    /// A block per finding, fitted to the terminal (100 columns when piped), grouped by
    /// severity and hunt.
    Table,
    /// Each hunt's rows as a full table (`--wide`).
    #[value(skip)]
    Wide,
    /// One finding (hunt, severity, entities, evidence, fields) per line.
    Ndjson,
    /// One row per finding.
    Csv,
    /// One row per finding (needs --output).
    Parquet,
    /// SARIF 2.1.0 for code scanning: lockfile findings point at the lockfile's line.
    Sarif,
}

/// Loads a pack, printing the diagnostics of every hunt that does not check.
pub fn load(root: &Path) -> Result<Pack, String> {
    pack::load(root).map_err(|e| {
        if let PackError::Invalid(hunts) = &e {
            for (path, text, diagnostics) in hunts {
                let name = path.display().to_string();
                eprint!("{}", render::pretty(diagnostics, text, &name, std::io::stderr().is_terminal()));
            }
        }
        e.to_string()
    })
}

pub fn run(
    root: &Path,
    args: RunArgs,
    format: FindingFormat,
    output: Option<PathBuf>,
    fail_on_findings: bool,
) -> Result<ExitCode, String> {
    let pack = load(root)?;
    let runtime = spoor::core::session::runtime().map_err(|e| format!("cannot start the query runtime: {e}"))?;
    runtime.block_on(hunting::until_interrupted(async {
        let store = Store::open_existing(&args.store).map_err(|e| e.to_string())?;
        let config = pack::RunConfig {
            iocs: args.iocs.clone(),
            extra_iocs: Vec::new(),
            hunt_params: Default::default(),
            params: args.params()?,
            options: args.options()?,
            limits: args.limits()?,
        };
        let runs = pack::run_store(&pack, &store, &config).await?;
        let mut sink: Box<dyn Write + Send> = match &output {
            Some(path) => Box::new(std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?),
            None if format == FindingFormat::Parquet => return Err("--format parquet needs --output <file>".into()),
            None => Box::new(std::io::stdout()),
        };
        let io = |e: std::io::Error| e.to_string();
        match format {
            FindingFormat::Table => {
                let style = terminal_style(output.is_none());
                sink.write_all(pack::render::terminal::render(&runs, style).as_bytes()).map_err(io)?
            }
            FindingFormat::Wide => sink.write_all(pack::render::table(&runs)?.as_bytes()).map_err(io)?,
            FindingFormat::Ndjson => sink.write_all(pack::render::ndjson(&runs)?.as_bytes()).map_err(io)?,
            FindingFormat::Sarif => writeln!(sink, "{}", pack::render::sarif(&runs)).map_err(io)?,
            FindingFormat::Csv => {
                let mut writer = arrow::csv::Writer::new(sink);
                writer.write(&pack::render::flat(&runs)?).map_err(|e| e.to_string())?;
            }
            FindingFormat::Parquet => {
                let batch = pack::render::flat(&runs)?;
                let mut writer =
                    parquet::arrow::ArrowWriter::try_new(sink, batch.schema(), None).map_err(|e| e.to_string())?;
                writer.write(&batch).map_err(|e| e.to_string())?;
                writer.close().map_err(|e| e.to_string())?;
            }
        }
        eprint!("{}", pack::render::summary(&runs));
        let failed = runs.iter().any(|r| matches!(r.outcome, pack::Outcome::Failed(_)));
        let found = !pack::render::all_findings(&runs).is_empty();
        Ok(if failed {
            ExitCode::from(2)
        } else if found && fail_on_findings {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }))
}

/// The terminal's width and colour when writing to it; 100 columns and no colour otherwise
/// (a pipe, a file, or `NO_COLOR` set).
fn terminal_style(to_stdout: bool) -> pack::render::terminal::Style {
    use pack::render::terminal::Style;
    let tty = to_stdout && std::io::stdout().is_terminal();
    let width = if tty { terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)) } else { None };
    let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    Style { width: width.unwrap_or(Style::PIPE_WIDTH).max(40), colour: tty && !no_colour }
}

pub fn docs(root: &Path) -> Result<ExitCode, String> {
    print!("{}", pack::markdown(&load(root)?));
    Ok(ExitCode::SUCCESS)
}

/// Runs every hunt's fixtures and prints pass/fail per hunt. Exit 1 when any fails.
pub fn test(root: &Path, filter: Option<&str>, bless: bool) -> Result<ExitCode, String> {
    let pack = load(root)?;
    let runtime = spoor::core::session::runtime().map_err(|e| format!("cannot start the query runtime: {e}"))?;
    let results = runtime.block_on(pack::test(&pack, filter, bless));
    let mut failed = 0;
    for r in &results {
        match &r.result {
            Ok(()) => println!("PASS {}", r.hunt.id()),
            Err(e) => {
                failed += 1;
                println!("FAIL {} ({})\n{e}", r.hunt.id(), r.hunt.path.display());
            }
        }
    }
    println!("\n{} passed, {failed} failed", results.len() - failed);
    Ok(if failed > 0 || results.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
