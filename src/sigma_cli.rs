//! `spoor sigma convert` and the Sigma half of `spoor check`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use spoor::sigma::{self, SigmaRule};

fn rules(paths: &[PathBuf], mapping: Option<&Path>) -> spoor::Result<Vec<SigmaRule>> {
    let converter = sigma::Converter::new(sigma::mapping(mapping)?);
    let mut files = Vec::new();
    for path in paths {
        files.extend(sigma::rule_files(path)?);
    }
    // Together: a correlation or filter in one file may name rules of another.
    converter.convert_files(&files)
}

fn name(rule: &SigmaRule) -> String {
    let id = rule.id.as_deref().unwrap_or("(no id)");
    format!("{}: {id}", rule.path.display())
}

/// Prints the hunt of every rule; rules that cannot run are reported on standard error.
/// Exit 1 when any could not be converted.
pub fn convert(paths: &[PathBuf], mapping: Option<&Path>) -> spoor::Result<ExitCode> {
    let rules = rules(paths, mapping)?;
    let mut first = true;
    for rule in &rules {
        match &rule.hunt {
            Ok(hunt) => {
                if !first {
                    println!();
                }
                first = false;
                print!("{hunt}");
            }
            Err(why) => eprintln!("{}: not converted ({}): {why}", name(rule), why.code.name()),
        }
    }
    let failed = rules.iter().filter(|r| r.hunt.is_err()).count();
    if failed > 0 {
        eprintln!("{} of {} rules converted", rules.len() - failed, rules.len());
    }
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Checks Sigma rules: one line per rule, counts by reason. Whether any could not run.
pub fn check(paths: &[PathBuf], mapping: Option<&Path>) -> spoor::Result<bool> {
    let rules = rules(paths, mapping)?;
    for rule in &rules {
        match &rule.hunt {
            Ok(_) => println!("{}: ok", name(rule)),
            Err(why) => println!("{}: cannot run ({}): {why}", name(rule), why.code.name()),
        }
    }
    let not_run = rules.iter().filter(|r| r.hunt.is_err()).count();
    if !rules.is_empty() {
        let by_reason = sigma::reasons_text(&rules);
        println!(
            "\nSigma: {} of {} rules run{}",
            rules.len() - not_run,
            rules.len(),
            if by_reason.is_empty() { String::new() } else { format!("; not run by reason: {by_reason}") }
        );
        if not_run > 0 {
            println!("(a logsource or field spoor lacks can be mapped with --sigma-mapping: see docs/sigma.md)");
        }
    }
    Ok(not_run > 0)
}
