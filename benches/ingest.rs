//! Ingest throughput and memory: generates ECS process NDJSON and Zeek dns.log TSV of a given
//! size, ingests each into a fresh store, and prints MB/s, events/s and the process's peak RSS.
//!
//! ```sh
//! cargo bench --bench ingest                      # 1024 MB of each
//! SPOOR_BENCH_MB=5120 cargo bench --bench ingest  # 5 GB: peak RSS should not grow
//! ```
//! Figures from release builds only; record them in docs/performance.md.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use spoor::core::ingest::{IngestOptions, Quiet};
use spoor::core::{Format, Store, ingest};

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const PROCESSES: &[(&str, &str)] = &[
    ("/usr/bin/node", "node /home/dev/app/node_modules/.bin/webpack --mode production"),
    ("/bin/sh", "/bin/sh -c npm run build"),
    ("/usr/bin/curl", "curl -fsSL https://downloads.example.invalid/tool.tar.gz -o /tmp/tool.tar.gz"),
    ("/usr/bin/git", "git fetch --prune origin"),
    ("/usr/bin/python3", "python3 -m pip install --upgrade pip"),
    ("/usr/bin/npm", "npm ci --no-audit --fund=false"),
];

fn generate_ecs(path: &Path, bytes: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let (mut written, mut events) = (0u64, 0u64);
    let start = 1_774_915_200_000_000i64; // 2026-03-31T00:00:00Z in µs
    while written < bytes {
        let (exe, cmd) = PROCESSES[(rng.next() % PROCESSES.len() as u64) as usize];
        let (pexe, pcmd) = PROCESSES[(rng.next() % PROCESSES.len() as u64) as usize];
        let micros = start + (events as i64) * 1_000;
        let ts =
            chrono::DateTime::<chrono::Utc>::from_timestamp_micros(micros).unwrap().format("%Y-%m-%dT%H:%M:%S%.6fZ");
        let host = format!("host-{:04}", rng.next() % 2000);
        let user = rng.pick(&["dev", "ci", "root", "build"]);
        let pid = rng.next() % 60000;
        let ppid = rng.next() % 60000;
        let line = format!(
            concat!(
                r#"{{"@timestamp":"{ts}","ecs":{{"version":"8.11.0"}},"event":{{"category":["process"],"type":["start"],"action":"exec","kind":"event"}},"#,
                r#""host":{{"name":"{host}","os":{{"type":"linux","family":"debian"}}}},"user":{{"name":"{user}","id":"1000"}},"#,
                r#""process":{{"entity_id":"{host}-{pid}-{micros}","pid":{pid},"executable":"{exe}","command_line":"{cmd}","working_directory":"/home/{user}/app","#,
                r#""hash":{{"sha256":"{hash:016x}{hash:016x}{hash:016x}{hash:016x}"}},"#,
                r#""parent":{{"entity_id":"{host}-{ppid}","pid":{ppid},"executable":"{pexe}","command_line":"{pcmd}"}}}}}}"#,
                "\n"
            ),
            ts = ts,
            host = host,
            user = user,
            pid = pid,
            micros = micros,
            exe = exe,
            cmd = cmd,
            hash = rng.next(),
            ppid = ppid,
            pexe = pexe,
            pcmd = pcmd,
        );
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
        events += 1;
    }
    out.flush()?;
    Ok(events)
}

fn generate_zeek(path: &Path, bytes: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let header = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#open\t2026-03-31-00-00-00\n\
        #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n\
        #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n";
    out.write_all(header.as_bytes())?;
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let (mut written, mut events) = (header.len() as u64, 0u64);
    let domains = [
        "api.example.com",
        "cdn.example.net",
        "registry.example.invalid",
        "updates.example.org",
        "telemetry.example.io",
    ];
    while written < bytes {
        let ts = 1_774_915_200.0 + events as f64 * 0.001;
        let line = format!(
            "{ts:.6}\tC{uid:016x}\t10.{a}.{b}.{c}\t{port}\t10.0.0.53\t53\tudp\t{tid}\t0.000870\t{host}.{domain}\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t{domain},93.184.{b}.{c}\t2230.000000,41830.000000\tF\n",
            uid = rng.next(),
            a = rng.next() % 256,
            b = rng.next() % 256,
            c = rng.next() % 256,
            port = 1024 + rng.next() % 60000,
            tid = rng.next() % 65536,
            host = rng.pick(&["www", "a1", "edge", "svc", "m"]),
            domain = rng.pick(&domains),
        );
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
        events += 1;
    }
    out.flush()?;
    Ok(events)
}

/// CPU seconds (user + system) the process has used so far (Linux; clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(f64::NAN);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

/// The process's peak resident set size, in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn run(name: &str, format: Format, generate: fn(&Path, u64) -> std::io::Result<u64>, megabytes: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("input");
    let events = generate(&input, megabytes * 1_000_000).expect("generate input");
    let bytes = std::fs::metadata(&input).expect("input").len();
    let store = Store::open(dir.path().join("store")).expect("store");
    let options = IngestOptions { format: Some(format), ..Default::default() };
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let summary = ingest(&store, &[input], &options, &Quiet).expect("ingest");
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let stored = summary.total(|f| f.stored);
    assert_eq!(stored, events, "every generated event is stored");
    // Ingest runs on one thread: MB per CPU-second is the per-core rate, and steadier than the
    // wall-clock rate on a shared machine.
    println!(
        "{name:<14} {:>8.1} MB {:>10} events {:>6.2} s wall {:>6.2} s cpu {:>7.1} MB/s {:>7.1} MB/cpu-s {:>9.0} events/cpu-s  peak RSS {:>4.0} MiB",
        bytes as f64 / 1e6,
        events,
        seconds,
        cpu,
        bytes as f64 / 1e6 / seconds,
        bytes as f64 / 1e6 / cpu,
        events as f64 / cpu,
        peak_rss_mib().unwrap_or(f64::NAN),
    );
}

fn main() {
    // As the `spoor` command sets it for an ingest.
    spoor::tune_allocator(spoor::Workload::Ingest);
    // `cargo test --all-targets` runs benches with `--test`... only when asked; `cargo bench` passes `--bench`.
    if std::env::args().any(|a| a == "--test") {
        run("ecs (smoke)", Format::Ecs, generate_ecs, 1);
        run("zeek (smoke)", Format::Zeek, generate_zeek, 1);
        return;
    }
    let megabytes: u64 = std::env::var("SPOOR_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    let only = std::env::var("SPOOR_BENCH_ONLY").ok();
    if only.as_deref().is_none_or(|o| o == "ecs") {
        run("ecs process", Format::Ecs, generate_ecs, megabytes);
    }
    if only.as_deref().is_none_or(|o| o == "zeek") {
        run("zeek dns tsv", Format::Zeek, generate_zeek, megabytes);
    }
}
