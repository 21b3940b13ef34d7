#!/usr/bin/env python3
"""Runs the DuckDB equivalent of each hunt (benches/duckdb/<hunt id>.sql) over a spoor store's
Parquet files, checks that it returns the same rows as spoor did, and prints both times.

    python3 benches/duckdb_compare.py --store DIR --results DIR [--iocs hunts/iocs] [--runs 3] [FILTER]

`--results` holds spoor's rows and times per hunt (`<hunt>.ndjson`, `<hunt>.timing.json`), as
`cargo bench --bench pack` writes them. Needs the `duckdb` package (from PyPI). Rows are
compared as multisets, with times compared as instants and floats to 6 significant digits.
"""

import argparse
import datetime as dt
import glob
import json
import math
import os
import sys
import time

import duckdb

INSTALL_TREE = r"""
CREATE VIEW installs AS
  SELECT * FROM process
  WHERE regexp_matches("process.command_line", '(?i)\b(npm|npm-cli|yarn|pnpm|bun)(\.cmd|\.exe|\.js)?"?\s+(i|install|add|ci|update|upgrade|rebuild)\b');
CREATE VIEW install_tree AS
  WITH RECURSIVE tree(root, entity, depth) AS (
    SELECT i."process.entity_id", c."process.entity_id", 1
    FROM installs i JOIN process c ON c."process.parent.entity_id" = i."process.entity_id"
    UNION ALL
    SELECT t.root, c."process.entity_id", t.depth + 1
    FROM tree t JOIN process c ON c."process.parent.entity_id" = t.entity
    WHERE t.depth < 64
  )
  SELECT * FROM tree;
"""

TABLES = ["process", "network", "file", "registry", "dns", "ci", "package", "audit"]


def connect(store, iocs):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table in TABLES:
        files = glob.glob(os.path.join(store, table, "**", "*.parquet"), recursive=True)
        if files:
            con.execute(f"CREATE VIEW \"{table}\" AS SELECT * FROM read_parquet('{store}/{table}/**/*.parquet', "
                        f"hive_partitioning = true, union_by_name = true)")
    # Package installs and every process below them (by entity id, up to 64 levels), as the
    # process-chain hunts follow them: `installs`, and `install_tree(root, entity, depth)`.
    if glob.glob(os.path.join(store, "process", "**", "*.parquet"), recursive=True):
        con.execute(INSTALL_TREE)
    csvs = sorted(glob.glob(os.path.join(iocs, "*.csv")))
    con.execute("CREATE VIEW iocs AS SELECT type, value, campaign, reference FROM read_csv([" +
                ", ".join(f"'{c}'" for c in csvs) + "], header = true, all_varchar = true, union_by_name = true)")
    return con


def instant(text):
    if isinstance(text, str) and len(text) >= 19 and text[4] == "-" and text[10] == "T":
        try:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)
        except ValueError:
            return text
    return text


def normal(value):
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc) if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, float):
        return float(f"{value:.6g}") if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return tuple(normal(v) for v in value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    return instant(value)


def spoor_rows(path, columns):
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                rows.append(tuple(normal(record.get(c)) for c in columns))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--iocs", default=os.path.join(os.path.dirname(__file__), "..", "hunts", "iocs"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("filter", nargs="?", default="", help="only hunts whose id contains this")
    args = parser.parse_args()
    con = connect(args.store, args.iocs)
    print("| hunt | rows | same rows | spoor ms | DuckDB ms | spoor / DuckDB |")
    print("|---|---:|---|---:|---:|---:|")
    mismatches = 0
    for sql_path in sorted(glob.glob(os.path.join(os.path.dirname(__file__), "duckdb", "*.sql"))):
        hunt = os.path.basename(sql_path)[: -len(".sql")]
        if args.filter not in hunt:
            continue
        sql = open(sql_path).read()
        times = []
        for _ in range(max(1, args.runs)):
            started = time.perf_counter()
            result = con.execute(sql)
            rows = result.fetchall()
            times.append((time.perf_counter() - started) * 1e3)
        columns = [d[0] for d in result.description]
        theirs = sorted((tuple(normal(v) for v in r) for r in rows), key=repr)
        ours_path = os.path.join(args.results, f"{hunt}.ndjson")
        timing_path = os.path.join(args.results, f"{hunt}.timing.json")
        if not os.path.exists(ours_path):
            print(f"| `{hunt}` | {len(theirs)} | (no spoor result) | | {min(times):.0f} | |")
            continue
        ours = sorted(spoor_rows(ours_path, columns), key=repr)
        same = ours == theirs
        if not same:
            mismatches += 1
            only_ours = [r for r in ours if r not in theirs][:3]
            only_theirs = [r for r in theirs if r not in ours][:3]
            print(f"{hunt}: spoor {len(ours)} rows, DuckDB {len(theirs)}\n  only spoor: {only_ours}\n  only DuckDB: {only_theirs}",
                  file=sys.stderr)
        spoor_ms = json.load(open(timing_path))["best_ms"] if os.path.exists(timing_path) else float("nan")
        best = min(times)
        print(f"| `{hunt}` | {len(ours)} | {'yes' if same else 'NO'} | {spoor_ms:.0f} | {best:.0f} | {spoor_ms / best:.2f} |")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
