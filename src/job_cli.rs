//! `spoor job run|serve`: scheduled hunt jobs from the command line, logging to stderr
//! (`SPOOR_LOG` sets the level or filter, as `RUST_LOG` does elsewhere; default `info`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use spoor::job::{self, Job};

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SPOOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// One cycle. Exit 0 when nothing new was delivered, the job's `exit_code_on_findings` (1 by
/// default) when something was, 2 on an error.
pub fn once(path: &Path, allow: &[PathBuf]) -> spoor::Result<ExitCode> {
    init_logs();
    let job = Job::load_confined(path, allow)?;
    let report = job::run_once(&job)?;
    let delivered = report.delivered + report.recovered;
    Ok(if delivered > 0 { ExitCode::from(job.exit_code_on_findings) } else { ExitCode::SUCCESS })
}

pub fn serve(path: &Path, allow: &[PathBuf]) -> spoor::Result<ExitCode> {
    init_logs();
    let job = Job::load_confined(path, allow)?;
    job::serve(&job)?;
    Ok(ExitCode::SUCCESS)
}
