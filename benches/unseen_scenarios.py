#!/usr/bin/env python3
"""Runs the pack over generated variants of the campaign it was not written for, and prints its
recall per attack family and the benign hosts and decoys it named at high severity.

    python3 benches/unseen_scenarios.py [--seeds 1-20] [--spoor target/release/spoor]

Each seed is a scenario of `scripts/scenario.py --seed N` (another fleet, C2, audit source shape,
time zone, Windows and lockfile shapes, decoys), ingested into a fresh store and hunted with the
pack and the scenario's STIX bundle; `scripts/score.py` scores the findings. The figures in
docs/hunts.md come from this script.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args):
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1-20", help="a range of seeds, first-last")
    parser.add_argument("--spoor", default=os.path.join(ROOT, "target", "release", "spoor"))
    parser.add_argument("--pack", default=os.path.join(ROOT, "hunts"), help="the pack to run (a variant of it, to compare)")
    args = parser.parse_args()
    first, last = (int(x) for x in args.seeds.split("-"))
    totals, flagged, scenarios = {}, {}, 0
    for seed in range(first, last + 1):
        with tempfile.TemporaryDirectory() as work:
            path = lambda name: os.path.join(work, name)
            run(sys.executable, os.path.join(ROOT, "scripts", "scenario.py"), "--seed", str(seed), "--out", path("data"),
                "--truth", path("truth.json"), "--iocs", path("iocs.json"))
            run(args.spoor, "ingest", path("data"), "--store", path("store"))
            findings = run(args.spoor, "pack", "run", "--pack", args.pack, "--store", path("store"),
                           "--iocs", path("iocs.json"), "--format", "ndjson")
            with open(path("findings.ndjson"), "w") as f:
                f.write(findings)
            score = json.loads(run(sys.executable, os.path.join(ROOT, "scripts", "score.py"), path("findings.ndjson"),
                                   path("truth.json"), "--json"))
        scenarios += 1
        for family, recall in score["recall"].items():
            totals.setdefault(family, []).append(recall)
        for entity in score["flagged"]:
            flagged[entity] = flagged.get(entity, 0) + 1
        missed = {f: m for f, m in score["missed"].items() if m}
        print(f"seed {seed}: " + (f"missed {missed}" if missed else "all found")
              + (f", flagged {score['flagged']}" if score["flagged"] else ""))
    print(f"\n{scenarios} scenarios")
    print("| family | recall (mean) | scenarios with every entity found |\n|---|---|---|")
    for family, values in totals.items():
        whole = sum(1 for v in values if v == 1.0)
        print(f"| {family} | {sum(values) / len(values):.2f} | {whole} of {len(values)} |")
    print("benign hosts and decoys in high or critical findings: "
          + (", ".join(f"{e} ({n} scenarios)" for e, n in sorted(flagged.items())) or "none"))


if __name__ == "__main__":
    main()
