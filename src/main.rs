//! The `spoor` command line. Each subcommand calls the library and renders its result; no
//! hunting or parsing logic lives here.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod hunting;
mod job_cli;
mod pack_cli;
mod sigma_cli;

use clap::{CommandFactory, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use spoor::core::ingest::{IngestOptions, IngestSummary, Progress};
use spoor::core::input::Decompression;
use spoor::core::manifest::Known;
use spoor::core::{Format, Table, schema, session};

#[derive(Parser)]
#[command(name = "spoor", version, about = "Hunt threats in security logs.", propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct IngestArgs {
    /// Files or directories (walked recursively; hidden files are skipped). gzip and zstd are read as they are.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The store: a directory (created if missing), or an s3://, gs:// or az:// URL.
    #[arg(long, short)]
    store: PathBuf,
    /// Read every file as this format instead of detecting it (see `spoor formats`).
    #[arg(long, default_value = "auto")]
    format: String,
    /// Read the files as NDJSON through this TOML mapping (table, timestamp, field → column).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// The CI job id to give CI log lines (default: the log file's name).
    #[arg(long)]
    ci_job: Option<String>,
    /// Reject lines longer than this many bytes.
    #[arg(long, default_value_t = IngestOptions::default().max_line_bytes)]
    max_line_bytes: usize,
    /// Reject whole documents (lockfiles, package metadata, compressed EVTX files, which are
    /// read into memory) larger than this many bytes.
    #[arg(long, default_value_t = IngestOptions::default().max_document_bytes)]
    max_document_bytes: usize,
    /// Stop decompressing a file past this many bytes.
    #[arg(long, default_value_t = IngestOptions::default().decompression.max_bytes)]
    max_decompressed: u64,
    /// Stop decompressing a file that inflates more than this many times its size (past 256 MiB).
    #[arg(long, default_value_t = IngestOptions::default().decompression.max_ratio)]
    max_ratio: u64,
    /// Read every file whole, even those ingested before (the store's manifest skips them, and
    /// reads only the new part of a file that grew).
    #[arg(long)]
    again: bool,
    /// A CSV of addresses and host names (columns `ip` and `host`): rows of network sensors
    /// (Zeek), which see addresses, get their client's host name from it.
    #[arg(long)]
    assets: Option<PathBuf>,
    /// Threads that parse a large file's lines (0: one per core; 1: one file at a time, on one
    /// thread). Formats whose lines depend on each other (Windows events, CI logs) use one.
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Read log files and directories into a store's tables.
    Ingest(IngestArgs),
    /// List a store's tables with row counts and time ranges.
    Tables {
        #[arg(long, short)]
        store: PathBuf,
        /// Also print each table's columns.
        #[arg(long)]
        schema: bool,
    },
    /// Run one hunt against a store and print the rows it finds.
    Hunt {
        /// The hunt file (`-` reads standard input).
        file: Option<PathBuf>,
        /// The hunt's text, instead of a file.
        #[arg(short = 'e', long = "expr", conflicts_with = "file")]
        expression: Option<String>,
        #[command(flatten)]
        run: RunFlags,
        /// How to print the rows.
        #[arg(long, value_enum, default_value = "table")]
        format: hunting::RowFormat,
        /// Write the rows to this file instead of standard output (required for parquet).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// For a Sigma rule: a mapping file (TOML, the shape of spoor's own) whose entries win.
        #[arg(long)]
        sigma_mapping: Option<PathBuf>,
    },
    /// Check hunt files and Sigma rules (and directories of them) without running them: hunts
    /// for errors; Sigma rules for what cannot run and why, with counts by reason.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Exit 1 when a Sigma rule cannot run (by default they are reported, and only errors
        /// in hunts fail the check).
        #[arg(long)]
        strict: bool,
        /// A Sigma mapping file (TOML, the shape of spoor's own) whose entries win.
        #[arg(long)]
        sigma_mapping: Option<PathBuf>,
        /// IOC files whose table (`iocs`) the hunts may use.
        #[arg(long)]
        iocs: Vec<PathBuf>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value = "pretty")]
        format: hunting::DiagnosticFormat,
    },
    /// Print the optimized plan of a hunt, or with --sql the SQL DataFusion's unparser makes of it.
    Explain {
        file: Option<PathBuf>,
        #[arg(short = 'e', long = "expr", conflicts_with = "file")]
        expression: Option<String>,
        #[command(flatten)]
        run: RunFlags,
        /// Print SQL instead of the plan, to run the hunt on another engine.
        #[arg(long, conflicts_with = "analyze")]
        sql: bool,
        /// Run the hunt and print the physical plan with what each operator did (rows, time,
        /// data read and pruned), and how long planning and running took.
        #[arg(long)]
        analyze: bool,
        /// For a Sigma rule: a mapping file (TOML, the shape of spoor's own) whose entries win.
        #[arg(long)]
        sigma_mapping: Option<PathBuf>,
    },
    /// Run or document a hunt pack.
    #[command(subcommand)]
    Pack(PackCommand),
    /// Sigma rules: print the hunt spoor runs for each.
    #[command(subcommand)]
    Sigma(SigmaCommand),
    /// Run scheduled hunt jobs: each cycle hunts what arrived since the last one and delivers new findings.
    #[command(subcommand)]
    Job(JobCommand),
    /// Run a Ballista cluster's processes, which run hunts given `--cluster df://host:port`.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Run the fixtures of every hunt of a pack (`<hunt>.slt` beside each `.hunt`), pass/fail per hunt.
    Test {
        /// The pack directory.
        #[arg(default_value = "hunts")]
        pack: PathBuf,
        /// Only hunts whose id contains this.
        #[arg(long)]
        only: Option<String>,
        /// Rewrite the fixtures' expected rows with what the hunts give now (review the diff).
        #[arg(long, conflicts_with = "cluster")]
        bless: bool,
        /// Run the fixtures' hunts on the Ballista cluster whose scheduler is here
        /// (df://host:50050): it must give the rows they hold.
        #[arg(long, value_name = "ADDRESS")]
        cluster: Option<String>,
    },
    /// List the functions hunts can call (as `docs/functions.md` with --markdown).
    Functions {
        #[arg(long)]
        markdown: bool,
    },
    /// List the input formats spoor reads.
    Formats,
    /// Print the table schemas (as `docs/schema.md` with --markdown).
    Schema {
        #[arg(long)]
        markdown: bool,
    },
    /// Print a shell completion script (`spoor completions bash > /etc/bash_completion.d/spoor`).
    Completions { shell: clap_complete::Shell },
    /// Print spoor's man page (roff: `spoor man > spoor.1; man ./spoor.1`).
    Man,
}

#[derive(Subcommand)]
enum SigmaCommand {
    /// Print the `.hunt` equivalent of Sigma rules (files or folders of `.yml`), to read, edit
    /// and keep; rules that cannot run are listed on standard error with why.
    Convert {
        #[arg(required = true)]
        rules: Vec<PathBuf>,
        /// A mapping file (TOML, the shape of spoor's own) whose logsources and fields win.
        #[arg(long)]
        sigma_mapping: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum PackCommand {
    /// Run every hunt of a pack whose tables have data, and print the findings by severity.
    Run {
        /// The pack directory.
        #[arg(long, default_value = "hunts")]
        pack: PathBuf,
        #[command(flatten)]
        run: RunFlags,
        #[arg(long, value_enum, default_value = "table")]
        format: pack_cli::FindingFormat,
        /// Write the findings to this file instead of standard output (required for parquet).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Exit 1 when anything is found (for CI gates).
        #[arg(long)]
        fail_on_findings: bool,
        /// A mapping file for the pack's Sigma rules (TOML, the shape of spoor's own) whose
        /// logsources and fields win.
        #[arg(long)]
        sigma_mapping: Option<PathBuf>,
        /// With --format table: each hunt's rows as a full table, however wide, instead of a
        /// block per finding fitted to the terminal.
        #[arg(long)]
        wide: bool,
    },
    /// Print the pack's reference (docs/hunts.md), generated from the hunts' headers.
    Docs {
        #[arg(long, default_value = "hunts")]
        pack: PathBuf,
    },
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// The scheduler: plans each hunt sent to it into stages and hands them to its executors.
    Scheduler {
        /// The address to listen on.
        #[arg(long, default_value = "0.0.0.0")]
        host: String,
        #[arg(long, default_value_t = 50050)]
        port: u16,
        /// Clients fetch results through the scheduler, so they need to reach only it, not the
        /// executors (in a container network, behind NAT).
        #[arg(long)]
        proxy_results: bool,
    },
    /// An executor: joins the scheduler and runs the stages it is given, reading the store.
    Executor {
        /// The scheduler to join.
        #[arg(long, default_value = "df://localhost:50050")]
        scheduler: String,
        /// The address it tells the scheduler, reachable from the other executors and the clients
        /// (an IP address or a host name they resolve).
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// The address it listens on (default: --host when that is an IP address, else 0.0.0.0).
        #[arg(long)]
        bind: Option<std::net::IpAddr>,
        /// Its Arrow Flight port; its gRPC port is the next one.
        #[arg(long, default_value_t = 50051)]
        port: u16,
        /// Tasks it runs at once (default: the machine's cores).
        #[arg(long)]
        slots: Option<usize>,
        /// Memory its tasks may hold (2GiB, 512MiB): beyond it, sorts, joins and aggregations
        /// spill to disk (default: no limit).
        #[arg(long)]
        memory_limit: Option<String>,
    },
}

#[derive(Subcommand)]
enum JobCommand {
    /// Run the job: one cycle with --once (exit 0: nothing new, 1: new findings, 2: error), else as `serve`.
    Run {
        /// The job file (TOML).
        job: PathBuf,
        /// Run one cycle and exit (for cron, systemd timers, Kubernetes CronJobs).
        #[arg(long)]
        once: bool,
        /// A directory the job file may name files in, besides its own (repeatable).
        #[arg(long, value_name = "DIR")]
        allow: Vec<PathBuf>,
    },
    /// Run cycles on the job's schedule until SIGINT or SIGTERM (the cycle in progress finishes).
    Serve {
        /// The job file (TOML).
        job: PathBuf,
        /// A directory the job file may name files in, besides its own (repeatable).
        #[arg(long, value_name = "DIR")]
        allow: Vec<PathBuf>,
    },
}

#[derive(clap::Args)]
struct RunFlags {
    /// The store: a directory, or an s3://, gs:// or az:// URL.
    #[arg(long, short)]
    store: PathBuf,
    /// Set a hunt parameter: name=value (repeatable). In a pack run, a bare name goes to every
    /// hunt that declares it and hunt_id.name to one hunt.
    #[arg(long = "param", short = 'p')]
    params: Vec<String>,
    /// Only read events from this long ago until now (30m, 24h, 7d).
    #[arg(long)]
    since: Option<String>,
    /// IOC files or directories (CSV, JSON, STIX 2.1 bundles, OSV advisories) to load as the `iocs` table.
    #[arg(long)]
    iocs: Vec<PathBuf>,
    /// Memory the query may hold (512MiB, 2GiB): beyond it, sorts, aggregations and joins
    /// spill to disk where they can, and the hunt fails with a clear error where they cannot.
    #[arg(long)]
    memory_limit: Option<String>,
    /// How long each hunt may run (30s, 10m) before it is stopped with an error.
    #[arg(long)]
    timeout: Option<String>,
    /// Run on the Ballista cluster whose scheduler is here (df://host:50050) instead of in
    /// this process.
    #[arg(long)]
    cluster: Option<String>,
}

impl From<RunFlags> for hunting::RunArgs {
    fn from(f: RunFlags) -> hunting::RunArgs {
        hunting::RunArgs {
            store: f.store,
            params: f.params,
            since: f.since,
            iocs: f.iocs,
            memory_limit: f.memory_limit,
            timeout: f.timeout,
            cluster: f.cluster,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    spoor::tune_allocator(match cli.command {
        Command::Ingest(_) => spoor::Workload::Ingest,
        Command::Hunt { .. } | Command::Explain { .. } | Command::Tables { .. } => spoor::Workload::Hunt,
        _ => spoor::Workload::Pack,
    });
    // `spoor hunt ... | head`: when the reader closes the pipe, end quietly as other command-line
    // tools do (status 141, by SIGPIPE), not with a panic on the failed write. Rust programs
    // start with SIGPIPE ignored; the command line restores the default, but for a cluster's
    // servers, whose connections' ends close as a matter of course (a write to one must be an
    // error to handle, not the end of the process).
    #[cfg(unix)]
    if !matches!(cli.command, Command::Cluster(_)) {
        // SAFETY: setting a signal's disposition to its default before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    // Queries are planned on the calling thread (`block_on`): give it the query runtime's stack.
    let command = std::thread::Builder::new()
        .name("spoor".into())
        .stack_size(session::QUERY_STACK_BYTES)
        .spawn(move || command(cli));
    match command.map(|thread| thread.join()) {
        Ok(Ok(code)) => code,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            ExitCode::from(2)
        }
    }
}

fn command(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Ingest(args) => run_ingest(args),
        Command::Tables { store, schema } => run_tables(&store, schema),
        Command::Pack(PackCommand::Run { pack, run, format, output, fail_on_findings, sigma_mapping, wide }) => {
            let format = match format {
                pack_cli::FindingFormat::Table if wide => pack_cli::FindingFormat::Wide,
                other => other,
            };
            let findings = pack_cli::FindingsOut { format, output, fail_on_findings };
            pack_cli::run(&pack, sigma_mapping.as_deref(), run.into(), findings)
        }
        Command::Pack(PackCommand::Docs { pack }) => pack_cli::docs(&pack),
        Command::Sigma(SigmaCommand::Convert { rules, sigma_mapping }) => {
            sigma_cli::convert(&rules, sigma_mapping.as_deref())
        }
        Command::Job(JobCommand::Run { job, once: true, allow }) => job_cli::once(&job, &allow),
        Command::Job(JobCommand::Run { job, once: false, allow } | JobCommand::Serve { job, allow }) => {
            job_cli::serve(&job, &allow)
        }
        Command::Cluster(command) => cluster(command),
        Command::Test { pack, only, bless, cluster } => {
            let mode = match (bless, cluster) {
                (true, _) => spoor::testing::Mode::Bless,
                (false, Some(address)) => spoor::testing::Mode::Cluster(address),
                (false, None) => spoor::testing::Mode::Check,
            };
            pack_cli::test(&pack, only.as_deref(), &mode)
        }
        Command::Hunt { file, expression, run, format, output, sigma_mapping } => {
            hunting::hunt_text(file.as_deref(), expression, sigma_mapping.as_deref())
                .and_then(|hunt| hunting::hunt(hunt, run.into(), format, output))
        }
        Command::Check { files, iocs, format, strict, sigma_mapping } => {
            hunting::check(&files, &iocs, format, hunting::SigmaCheck { strict, mapping: sigma_mapping.as_deref() })
        }
        Command::Explain { file, expression, run, sql, analyze, sigma_mapping } => {
            hunting::hunt_text(file.as_deref(), expression, sigma_mapping.as_deref()).and_then(|hunt| {
                let shown = if sql {
                    spoor::Explain::Sql
                } else if analyze {
                    spoor::Explain::Analyze
                } else {
                    spoor::Explain::Plan
                };
                hunting::explain(hunt, run.into(), shown)
            })
        }
        Command::Functions { markdown } => {
            if markdown {
                print!("{}", spoor::dsl::functions::markdown());
            } else {
                for f in spoor::dsl::functions::all() {
                    println!("{:<40} {}", f.signature(), f.doc.split(". ").next().unwrap_or(f.doc));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Formats => {
            for f in Format::ALL {
                println!("{:<14} {}", f.name(), f.description());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { markdown } => {
            if markdown {
                print!("{}", schema::markdown());
            } else {
                for t in Table::ALL {
                    println!("{}", t.name());
                    for c in t.columns() {
                        println!("  {:<32} {:?}", c.name, c.kind);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "spoor", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map(|()| ExitCode::SUCCESS)
            .map_err(|e| spoor::Error::User(format!("cannot write the man page: {e}"))),
    };
    match result {
        Ok(code) => code,
        // Ctrl-C: said when it came; a shell reports a command stopped by SIGINT as 130.
        Err(spoor::Error::Cancelled) => ExitCode::from(130),
        Err(e) => {
            eprint!("{}", e.render(std::io::stderr().is_terminal()));
            ExitCode::from(e.exit_code())
        }
    }
}

struct Bar(ProgressBar);

/// Progress when stderr is not a terminal: no bar, but a wait for another writer is still said.
struct NoBar;

impl Progress for NoBar {
    fn waiting_for_writer(&self, holder: &str) {
        eprintln!("waiting for another ingest into this store (process {holder}) to finish");
    }
}

impl Progress for Bar {
    fn waiting_for_writer(&self, holder: &str) {
        self.0.println(format!("waiting for another ingest into this store (process {holder}) to finish"));
    }

    fn start_file(&self, path: &Path, bytes: u64) {
        self.0.set_length(bytes);
        self.0.set_position(0);
        self.0.set_message(path.display().to_string());
    }

    fn bytes_read(&self, total: u64) {
        self.0.set_position(total);
    }
}

fn run_ingest(args: IngestArgs) -> spoor::Result<ExitCode> {
    let format = Format::chosen(&args.format).map_err(spoor::core::Error::User)?;
    let mapping = args.mapping.as_deref().map(spoor::core::formats::mapping::Mapping::load).transpose()?;
    let options = IngestOptions {
        format,
        mapping,
        ci_job: args.ci_job,
        max_line_bytes: args.max_line_bytes,
        max_document_bytes: args.max_document_bytes,
        decompression: Decompression { max_bytes: args.max_decompressed, max_ratio: args.max_ratio },
        again: args.again,
        assets: args.assets.as_deref().map(spoor::core::assets::Assets::load).transpose()?,
        threads: args.threads,
        ..IngestOptions::default()
    };
    let paths = args.paths;
    let store = spoor::Store::open(&args.store)?;
    let summary = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {bytes_per_sec} {wide_msg}")
                .expect("the template is valid"),
        );
        let summary = store.ingest_with(&paths, &options, &Bar(bar.clone()));
        bar.finish_and_clear();
        summary?
    } else {
        store.ingest_with(&paths, &options, &NoBar)?
    };
    print_ingest_summary(&summary);
    let failed = summary.files.iter().any(|f| f.error.is_some());
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn print_ingest_summary(summary: &IngestSummary) {
    println!("{:<60} {:<13} {:>9} {:>9} {:>8} {:>9}", "file", "format", "read", "stored", "skipped", "rejected");
    for f in &summary.files {
        let name = shorten(&f.path.display().to_string(), 60);
        let format = f.format.map(|x| x.name()).unwrap_or("?");
        if let Known::Same { path, ingest } = &f.known {
            let same = if *path == std::path::absolute(&f.path).unwrap_or_default().to_string_lossy() {
                String::new()
            } else {
                format!(" as {path}")
            };
            println!("{name:<60} already ingested (same content{same}, ingest {ingest}): skipped");
            continue;
        }
        println!("{name:<60} {format:<13} {:>9} {:>9} {:>8} {:>9}", f.read, f.stored, f.skipped, f.rejected);
        match &f.known {
            Known::Appended { previous } => {
                println!("    grew since ingest: read from byte {} (line {}) on", previous.size, previous.lines + 1)
            }
            Known::Changed { .. } => {
                println!("    changed since it was last ingested: read again whole (its earlier rows stay)")
            }
            _ => {}
        }
        let at = f.format.map(|x| x.position_name()).unwrap_or("line");
        for (reason, tally) in &f.skip_reasons {
            println!("    skipped  {:>6} × {reason} (first at {at} {})", tally.count, tally.first_line);
        }
        for (reason, tally) in &f.reject_reasons {
            println!("    rejected {:>6} × {reason} (first at {at} {})", tally.count, tally.first_line);
        }
        if !f.unrecognized_actions.is_empty() {
            let count: u64 = f.unrecognized_actions.values().map(|t| t.count).sum();
            let actions: Vec<String> = f
                .unrecognized_actions
                .iter()
                .map(|(action, t)| format!("{action} ×{} ({at} {})", t.count, t.first_line))
                .collect();
            println!(
                "    stored   {count:>6} audit events with actions spoor does not recognize (kept in event.action, \
                 no audit.activity): {}",
                actions.join(", ")
            );
        }
        if let Some(e) = &f.error {
            println!("    error: {e}");
        }
    }
    println!();
    println!("{:<16} {:>10}", "table", "rows");
    for (table, rows) in summary.rows() {
        println!("{:<16} {rows:>10}", table.name());
    }
    let bytes = summary.total(|f| f.bytes);
    let seconds = summary.elapsed.as_secs_f64().max(1e-9);
    println!(
        "\n{} files, {} records read: {} stored, {} skipped, {} rejected; {:.1} MB in {:.2} s ({:.1} MB/s)",
        summary.files.len(),
        summary.total(|f| f.read),
        summary.total(|f| f.stored),
        summary.total(|f| f.skipped),
        summary.total(|f| f.rejected),
        bytes as f64 / 1e6,
        seconds,
        bytes as f64 / 1e6 / seconds
    );
    if summary.total(|f| f.rejected) > 0 {
        println!("Rejected records are kept with their reasons in the `_rejects` table.");
    }
}

fn shorten(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let tail: String = s.chars().rev().take(width - 1).collect::<Vec<_>>().into_iter().rev().collect();
    format!("…{tail}")
}

fn run_tables(store: &Path, show_schema: bool) -> spoor::Result<ExitCode> {
    let store = spoor::Store::open_existing(store)?;
    let tables = hunting::run_until_interrupted(async |_| store.tables().await)?;
    println!("{:<10} {:>10} {:>6}  {:<27} {:<27}", "table", "rows", "files", "first", "last");
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_else(|| "-".into())
    };
    for t in tables {
        println!("{:<10} {:>10} {:>6}  {:<27} {:<27}", t.name, t.rows, t.files, time(t.first), time(t.last));
        if show_schema && let Some(table) = Table::from_name(&t.name) {
            for c in table.columns() {
                println!("    {:<32} {:?}", c.name, c.kind);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "cluster")]
fn cluster(command: ClusterCommand) -> spoor::Result<ExitCode> {
    // Ballista's own log (connections, jobs, failed tasks) on standard error; RUST_LOG refines it.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,ballista_scheduler=info,ballista_executor=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    let runtime = session::runtime().map_err(|e| spoor::Error::Internal(format!("cannot start a runtime: {e}")))?;
    spoor_cluster::check_environment().map_err(|e| spoor::Error::User(e.to_string()))?;
    let ran = match command {
        ClusterCommand::Scheduler { host, port, proxy_results } => {
            let address: std::net::SocketAddr = format!("{host}:{port}")
                .parse()
                .map_err(|e| spoor::Error::User(format!("--host {host} --port {port}: {e}")))?;
            eprintln!("spoor cluster scheduler listening on {address}");
            runtime.block_on(spoor_cluster::run_scheduler(address, proxy_results))
        }
        ClusterCommand::Executor { scheduler, host, bind, port, slots, memory_limit } => {
            let defaults = spoor_cluster::ExecutorOptions::default();
            let memory = memory_limit
                .map(|size| spoor::core::session::Limits::parse_size(&size))
                .transpose()
                .map_err(|e| spoor::Error::User(format!("--memory-limit: {e}")))?;
            let slots = slots.unwrap_or(defaults.slots);
            let options = spoor_cluster::ExecutorOptions { scheduler, host, bind, port, slots, memory };
            eprintln!("spoor cluster executor on {}:{} joining {}", options.host, options.port, options.scheduler);
            runtime.block_on(spoor_cluster::run_executor(options))
        }
    };
    ran.map(|()| ExitCode::SUCCESS).map_err(|e| spoor::Error::User(e.to_string()))
}

#[cfg(not(feature = "cluster"))]
fn cluster(_: ClusterCommand) -> spoor::Result<ExitCode> {
    Err(spoor::Error::User("this spoor was built without cluster support (build it with `--features cluster`)".into()))
}
