#!/usr/bin/env python3
"""Sigma rules over EVTX, spoor against Chainsaw, side by side in one run.

    python3 benches/sigma_compare.py --spoor target/release/spoor \\
        --chainsaw PATH --chainsaw-mapping PATH/mappings/sigma-event-logs-all.yml \\
        --rules SIGMA/rules/windows [--runs 1] SAMPLE.evtx:COPIES...

Makes COPIES copies of each sample (each with a different byte in the file header's unused
padding, so spoor's manifest does not take them for one file), then times, per run:
- `chainsaw hunt DIR -s RULES --mapping MAP --json --skip-errors`: EVTX to detections;
- `spoor ingest DIR` into a fresh store, then `spoor pack run --pack RULES` over it: the
  events from EVTX including ingest, and the events already in a store.
Prints events/s and each process's peak RSS (from wait4), and how many matches each found.
Chainsaw is a benchmark tool here, built from its own source (never a dependency of spoor).
The two do not map every rule the same way, so their match counts are shown, not compared.
Record figures from release builds.
"""

import argparse
import os
import shutil
import struct
import subprocess
import tempfile
import time


def timed(command, stdout=subprocess.DEVNULL):
    """Wall seconds, peak RSS (MiB) and standard error of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
    stderr = child.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 3):  # spoor: 3 when findings are fatal
        raise SystemExit(f"{command[0]} failed: {stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, stderr


def copies(samples, work):
    inputs = os.path.join(work, "evtx")
    os.makedirs(inputs)
    n = 0
    for spec in samples:
        sample, _, count = spec.rpartition(":")
        data = bytearray(open(sample, "rb").read())
        for copy in range(int(count)):
            n += 1
            # Bytes 128..4096 of the file header are padding: not read, not checksummed.
            data[200:208] = struct.pack("<Q", n)
            with open(os.path.join(inputs, f"{n:06d}.evtx"), "wb") as out:
                out.write(data)
    return inputs


def stored_events(spoor, store):
    out = subprocess.run([spoor, "tables", "--store", store], capture_output=True, text=True).stdout
    rows = 0
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) > 1 and parts[1].replace(",", "").isdigit() and not line.startswith("_rejects"):
            rows += int(parts[1].replace(",", ""))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--spoor", required=True)
    parser.add_argument("--chainsaw", required=True)
    parser.add_argument("--chainsaw-mapping", required=True)
    parser.add_argument("--rules", required=True)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("samples", nargs="+", help="SAMPLE.evtx:COPIES")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    work = tempfile.mkdtemp(prefix="spoor-sigma-bench-")
    try:
        inputs = copies(args.samples, work)
        size = sum(os.path.getsize(os.path.join(inputs, f)) for f in os.listdir(inputs)) / 1e6
        print(f"{len(os.listdir(inputs))} EVTX files, {size:.1f} MB, {cores} cores, rules: {args.rules}")
        for run in range(args.runs):
            detections = os.path.join(work, "chainsaw.jsonl")
            chainsaw = [args.chainsaw, "hunt", inputs, "-s", args.rules, "--mapping", args.chainsaw_mapping,
                        "--jsonl", "--skip-errors", "-o", detections]
            cs_seconds, cs_rss, cs_err = timed(chainsaw)
            with open(detections) as f:
                cs_matches = sum(1 for line in f if line.strip())
            store = os.path.join(work, f"store-{run}")
            in_seconds, in_rss, _ = timed([args.spoor, "ingest", inputs, "--store", store])
            events = stored_events(args.spoor, store)
            findings = os.path.join(work, "spoor.ndjson")
            pack = [args.spoor, "pack", "run", "--pack", args.rules, "--store", store, "--format", "ndjson",
                    "-o", findings]
            run_seconds, run_rss, run_err = timed(pack)
            with open(findings) as f:
                spoor_matches = sum(1 for line in f if line.strip())
            not_run = [line for line in run_err.splitlines() if "Sigma rule" in line]
            print(f"run {run + 1}: {events:,} events")
            print(f"  chainsaw hunt (EVTX):            {cs_seconds:8.2f} s  {events / cs_seconds:12,.0f} events/s  "
                  f"peak {cs_rss:6.0f} MiB  {cs_matches:,} detections")
            print(f"  spoor ingest + pack run (EVTX):  {in_seconds + run_seconds:8.2f} s  "
                  f"{events / (in_seconds + run_seconds):12,.0f} events/s  peak {max(in_rss, run_rss):6.0f} MiB")
            print(f"  spoor pack run (stored):         {run_seconds:8.2f} s  {events / run_seconds:12,.0f} events/s  "
                  f"peak {run_rss:6.0f} MiB  {spoor_matches:,} findings")
            print(f"  (spoor ingest alone {in_seconds:.2f} s, peak {in_rss:.0f} MiB)")
            for line in not_run:
                print(f"  spoor: {line.strip()}")
            loaded = [line for line in cs_err.splitlines() if "Loaded" in line or "Detections" in line]
            for line in loaded:
                print(f"  chainsaw: {line.strip()}")
            shutil.rmtree(store)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
