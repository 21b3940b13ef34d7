//! `spoor pack run`, `spoor pack docs` and `spoor test`: the hunt pack from the command line.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use spoor::pack;

use crate::hunting::{RunArgs, run_until_interrupted};

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

/// Where a pack run's findings go and what they mean for the exit status.
pub struct FindingsOut {
    pub format: FindingFormat,
    /// A file instead of standard output.
    pub output: Option<PathBuf>,
    /// Exit 1 when anything is found.
    pub fail_on_findings: bool,
}

pub fn run(root: &Path, sigma_mapping: Option<&Path>, args: RunArgs, out: FindingsOut) -> spoor::Result<ExitCode> {
    let FindingsOut { format, output, fail_on_findings } = out;
    let pack = pack::load_with(root, &spoor::sigma::mapping(sigma_mapping)?)?;
    let store = spoor::Store::open_existing(&args.store)?;
    if output.is_none() && format == FindingFormat::Parquet {
        return Err(spoor::Error::User("--format parquet needs --output <file>".into()));
    }
    // On a terminal, which hunt is running and how many are done; nothing when piped.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(pack.hunts.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} hunts {pos}/{len} {wide_msg}")
                .expect("the template is valid"),
        );
        bar
    });
    let mut done = 0;
    let mut starting = |hunt: &pack::PackHunt| {
        if let Some(bar) = &bar {
            bar.set_position(done);
            bar.set_message(hunt.id().to_string());
        }
        done += 1;
    };
    let runs =
        run_until_interrupted(async |cancel| store.run_pack_with(&pack, &args.options(&cancel)?, &mut starting).await);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let runs = runs?;
    let mut sink: Box<dyn Write + Send> = match &output {
        Some(path) => {
            Box::new(std::fs::File::create(path).map_err(|source| spoor::Error::Io { path: path.clone(), source })?)
        }
        None => Box::new(std::io::stdout()),
    };
    write_findings(&runs, format, output.as_deref(), &mut sink)?;
    eprint!("{}", pack::render::summary(&runs));
    if let Some(note) = spoor::sigma::skipped_note(&pack) {
        eprintln!("{note}");
    }
    let failed = runs.iter().any(|r| matches!(r.outcome, pack::Outcome::Failed(_)));
    let found = !pack::render::all_findings(&runs).is_empty();
    Ok(if failed {
        ExitCode::from(2)
    } else if found && fail_on_findings {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_findings(
    runs: &[pack::HuntRun<'_>],
    format: FindingFormat,
    output: Option<&Path>,
    sink: &mut Box<dyn Write + Send>,
) -> spoor::Result<()> {
    let io = |source| spoor::Error::Io { path: output.unwrap_or(Path::new("<stdout>")).to_path_buf(), source };
    match format {
        FindingFormat::Table => {
            let style = terminal_style(output.is_none());
            sink.write_all(pack::render::terminal::render(runs, style).as_bytes()).map_err(io)?
        }
        FindingFormat::Wide => sink.write_all(pack::render::table(runs)?.as_bytes()).map_err(io)?,
        FindingFormat::Ndjson => pack::render::write_ndjson(runs, sink).map_err(io)?,
        FindingFormat::Sarif => writeln!(sink, "{}", pack::render::sarif(runs)).map_err(io)?,
        FindingFormat::Csv => spoor::render::csv(&[pack::render::flat(runs)?], sink)?,
        FindingFormat::Parquet => spoor::render::parquet(&[pack::render::flat(runs)?], sink)?,
    }
    Ok(())
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

pub fn docs(root: &Path) -> spoor::Result<ExitCode> {
    print!("{}", pack::markdown(&pack::load(root)?));
    Ok(ExitCode::SUCCESS)
}

/// Runs every hunt's fixtures and prints pass/fail per hunt. Exit 1 when any fails.
pub fn test(root: &Path, filter: Option<&str>, mode: &spoor::testing::Mode) -> spoor::Result<ExitCode> {
    let pack = pack::load(root)?;
    let results = run_until_interrupted(async |_| Ok(pack::test(&pack, filter, mode).await))?;
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
