#!/usr/bin/env python3
"""Scores a pack run against a scenario's truth (`scripts/scenario.py --truth`).

    python3 scripts/score.py FINDINGS.ndjson TRUTH.json [--check] [--json]

FINDINGS is `spoor pack run --format ndjson`. An entity is named by a finding when one of the
finding's field values is it: a host name, an account, a path, an address; a domain also as the
name of any subdomain; a package version `name@version` as a field ending in `package.name` next
to the field ending in `package.version` with the same prefix (or as the text `name@version`).
Only high and critical findings count, for recall and for the benign hosts and decoys they must
not name. Prints per attack family the share of its entities found (recall), then the benign
hosts and decoys named; `--check` exits 1 unless every recall is 1.0 and nothing benign is named.
"""

import argparse
import json
import sys

SERIOUS = {"high", "critical"}


def tokens(finding):
    """Every value a finding's fields hold, and `name@version` for each package name and version."""
    fields = finding.get("fields", {})
    out = set()

    def add(value):
        if isinstance(value, list):
            for v in value:
                add(v)
        elif value is not None and not isinstance(value, dict):
            out.add(str(value))

    for value in fields.values():
        add(value)
    for value in finding.get("entities", {}).values():
        add(value)
    for name, value in fields.items():
        if name.endswith("package.name") and value:
            version = fields.get(name[: -len("name")] + "version")
            if version:
                out.add(f"{value}@{version}")
    return out


def named(entity, values):
    if entity in values:
        return True
    # A domain is named by any of its subdomains too.
    return "." in entity and any(v.endswith("." + entity) for v in values)


def score(findings, truth):
    serious = [tokens(f) for f in findings if f.get("severity") in SERIOUS]
    found = lambda entity: any(named(entity, values) for values in serious)
    recall = {}
    missed = {}
    for family, entities in truth["attack"].items():
        hits = [e for e in entities if found(e)]
        recall[family] = len(hits) / len(entities) if entities else 1.0
        missed[family] = [e for e in entities if e not in hits]
    flagged = sorted(e for e in truth["benign"] + truth["decoys"] if found(e))
    return {"recall": recall, "missed": missed, "flagged": flagged}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("findings")
    parser.add_argument("truth")
    parser.add_argument("--check", action="store_true", help="exit 1 unless recall is 1.0 and nothing benign is named")
    parser.add_argument("--json", action="store_true", help="print the score as JSON")
    args = parser.parse_args()
    with open(args.findings) as f:
        findings = [json.loads(line) for line in f if line.strip()]
    with open(args.truth) as f:
        truth = json.load(f)
    result = score(findings, truth)
    if args.json:
        print(json.dumps(result))
    else:
        for family, r in result["recall"].items():
            missed = result["missed"][family]
            print(f"{family:<8} recall {r:.2f}" + (f"  missed: {', '.join(missed)}" if missed else ""))
        print("benign or decoys in high findings: " + (", ".join(result["flagged"]) or "none"))
    ok = all(r == 1.0 for r in result["recall"].values()) and not result["flagged"]
    sys.exit(0 if ok or not args.check else 1)


if __name__ == "__main__":
    main()
