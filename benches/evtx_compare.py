#!/usr/bin/env python3
"""EVTX ingest against the `evtx` crate's own JSON dump, side by side in one run.

    python3 benches/evtx_compare.py --spoor target/release/spoor --evtx-dump PATH \\
        [--copies 100] [--runs 3] SAMPLE.evtx...

Makes `copies` copies of each sample (each with a different byte in the file header's unused
padding, so spoor's manifest does not take them for one file), then times, per run:
`evtx_dump -o jsonl -t <cores> FILE > /dev/null` over every copy, and `spoor ingest DIR` into a
fresh store. Prints MB/s, records/s and each process's peak RSS (from wait4). `evtx_dump` comes
from the `evtx` crate on crates.io (`cargo install evtx`). Record figures from release builds.
"""

import argparse
import os
import resource
import shutil
import struct
import subprocess
import tempfile
import time


def timed(command, stdout=subprocess.DEVNULL):
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    stderr = child.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed: {stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--spoor", required=True)
    parser.add_argument("--evtx-dump", required=True)
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("samples", nargs="+")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    work = tempfile.mkdtemp(prefix="spoor-evtx-bench-")
    try:
        inputs = os.path.join(work, "evtx")
        os.makedirs(inputs)
        files = []
        for copy in range(args.copies):
            for index, sample in enumerate(args.samples):
                data = bytearray(open(sample, "rb").read())
                # Bytes 128..4096 of the file header are padding: not read, not checksummed.
                data[200:208] = struct.pack("<Q", copy * len(args.samples) + index + 1)
                path = os.path.join(inputs, f"{copy:05d}-{index}.evtx")
                with open(path, "wb") as out:
                    out.write(data)
                files.append(path)
        size = sum(os.path.getsize(f) for f in files) / 1e6
        print(f"{len(files)} files, {size:.1f} MB, {cores} cores")
        for run in range(args.runs):
            start = time.perf_counter()
            peak = 0.0
            for f in files:
                _, rss, _ = timed([args.evtx_dump, "-o", "jsonl", "-t", str(cores), f])
                peak = max(peak, rss)
            dump = time.perf_counter() - start
            store = os.path.join(work, f"store-{run}")
            seconds, rss, _ = timed([args.spoor, "ingest", inputs, "--store", store])
            summary = subprocess.run([args.spoor, "tables", "--store", store], capture_output=True, text=True).stdout
            records = sum(int(line.split()[1]) for line in summary.splitlines()[1:] if len(line.split()) > 1
                          and line.split()[1].isdigit() and not line.startswith("_rejects"))
            print(f"run {run + 1}: evtx_dump {dump:.2f} s ({size / dump:.1f} MB/s, peak {peak:.0f} MiB); "
                  f"spoor ingest {seconds:.2f} s ({size / seconds:.1f} MB/s, {records / seconds:,.0f} records/s, "
                  f"peak {rss:.0f} MiB), {records:,} rows")
            shutil.rmtree(store)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
