#!/usr/bin/env python3
"""Writes the network events of the `c2.beaconing` fixtures (hunts/c2/beaconing.slt): three C2
channels that must be found and benign regular traffic that must not. Deterministic (fixed seed);
run it and paste its output under `events network` when the scenario changes.

Observation: 2026-03-31 01:00-02:00 UTC, six hosts.
- C2, metronome: python3 on ci-runner-3 calls 198.51.100.73:8000 every 120 s exactly.
- C2, jittered sleep: an implant on dev-laptop-07 calls 198.51.100.80:443 every 60 s +- 30 %
  (uniform), as Cobalt Strike's sleep/jitter does, for 40 minutes.
- C2, interactive: powershell.exe on win-build-2 talks to 203.0.113.66:443 every 2.7 s on average
  with a jitter (stddev / mean) of 0.64 (gamma-distributed gaps), the shape of APT29's channel in
  OTRF's dataset, for four minutes.
- C2, just started: an implant on win-build-5 calls 198.51.100.90:8443 every 60 s +- 1.5 s, eight
  times: caught in its first minutes, too few intervals for RITA's score to build up.
- Benign, fleet-wide: chronyd polls 192.0.2.123:123 every 1024 s; a monitoring agent calls
  10.0.0.5:9100 every 300 s from every host (regular, but the whole fleet reaches them).
- Benign, rare: an updater on two hosts checks 203.0.113.50:443 at irregular times (exponential,
  mean 6 min); a browser on dev-laptop-09 opens bursts of connections to 203.0.113.200:443 (a
  page load each) at irregular times.
"""
import json
import random
from datetime import datetime, timedelta, timezone

rng = random.Random(20260331)
start = datetime(2026, 3, 31, 1, 0, 0, tzinfo=timezone.utc)
hosts = ["ci-runner-1", "ci-runner-3", "dev-laptop-07", "dev-laptop-09", "win-build-2", "win-build-5"]
events = []


def emit(seconds, host, process, ip, port, sent):
    t = start + timedelta(seconds=seconds)
    events.append((t, {
        "@timestamp": t.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "host.name": host, "process.name": process,
        "destination.ip": ip, "destination.port": port, "source.bytes": sent,
    }))


def series(first, gap, until, *rest):
    t = first
    while t < until:
        emit(t, *rest)
        t += gap()


series(30, lambda: 120, 3600, "ci-runner-3", "python3", "198.51.100.73", 8000, 212)
series(600, lambda: 60 * rng.uniform(0.7, 1.3), 600 + 2400, "dev-laptop-07", "rundll32.exe", "198.51.100.80", 443,
       None)
series(3000, lambda: 60 + rng.uniform(-1.5, 1.5), 3000 + 8 * 60 - 30, "win-build-5", "svchost.exe", "198.51.100.90",
       8443, None)
shape = 1 / 0.64 ** 2
series(1800, lambda: rng.gammavariate(shape, 2.7 / shape), 1800 + 240, "win-build-2", "powershell.exe",
       "203.0.113.66", 443, None)
for host in hosts:
    offset = rng.uniform(0, 60)
    series(offset, lambda: 1024, 3600, host, "chronyd", "192.0.2.123", 123, 48)
    series(offset + 7, lambda: 300, 3600, host, "node_exporter", "10.0.0.5", 9100, None)
for host in ["dev-laptop-09", "win-build-5"]:
    series(rng.uniform(0, 300), lambda: rng.expovariate(1 / 360), 3600, host, "updater", "203.0.113.50", 443, None)
t = 200.0
while t < 3600:
    for i in range(rng.randint(3, 8)):
        emit(t + i * rng.uniform(0.05, 0.3), "dev-laptop-09", "chrome", "203.0.113.200", 443, None)
    t += rng.uniform(120, 900)

# Sizes not given above: an HTTPS request's, or a scrape's.
for _, e in events:
    if e["source.bytes"] is None:
        e["source.bytes"] = rng.randint(180, 260) if e["destination.port"] == 443 else rng.randint(400, 4000)
for _, e in sorted(events, key=lambda e: (e[0], e[1]["host.name"])):
    print(json.dumps(e))
