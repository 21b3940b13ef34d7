#!/usr/bin/env python3
"""How many Sigma rules of each logsource spoor runs, and why the others do not.

    python3 scripts/sigma_coverage.py <SigmaHQ checkout or rules folder> [--spoor PATH]

Runs `spoor check` over the rules and prints two Markdown tables (by logsource, by reason),
as docs/sigma.md records them. The logsource of each rule is read from its file (the
`logsource:` block), so no YAML library is needed.
"""
import argparse
import collections
import re
import subprocess
import sys


def logsource(path):
    keys = {}
    inside = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("logsource:"):
                inside = True
                continue
            if inside:
                m = re.match(r"^\s+(product|category|service):\s*['\"]?([^'\"#\n]+)", line)
                if m:
                    keys[m.group(1)] = m.group(2).strip().lower()
                elif line.strip() and not line.startswith((" ", "\t")):
                    break
    return ", ".join(f"{k}: {keys[k]}" for k in ("product", "category", "service") if k in keys) or "(none)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rules")
    ap.add_argument("--spoor", default="spoor")
    a = ap.parse_args()
    out = subprocess.run([a.spoor, "check", a.rules], capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(out.stderr)
    runs = collections.Counter()
    not_run = collections.Counter()
    reasons = collections.Counter()
    examples = {}
    for line in out.stdout.splitlines():
        m = re.match(r"^(.+?\.ya?ml): (.+?): (ok|cannot run \(([a-z-]+)\): (.*))$", line)
        if not m:
            continue
        source = logsource(m.group(1))
        if m.group(3) == "ok":
            runs[source] += 1
        else:
            not_run[source] += 1
            reason = m.group(4)
            detail = re.sub(r"`[^`]*`", "`…`", m.group(5))[:90]
            reasons[(reason, detail)] += 1
    total_run, total = sum(runs.values()), sum(runs.values()) + sum(not_run.values())
    print(f"{total_run} of {total} rules run.\n")
    print("| logsource | rules | run | not run |")
    print("|---|---:|---:|---:|")
    for source in sorted(set(runs) | set(not_run), key=lambda s: -(runs[s] + not_run[s])):
        print(f"| {source} | {runs[source] + not_run[source]} | {runs[source]} | {not_run[source]} |")
    print("\n| reason | rules |")
    print("|---|---:|")
    for (reason, detail), n in reasons.most_common():
        print(f"| {reason}: {detail} | {n} |")


if __name__ == "__main__":
    main()
