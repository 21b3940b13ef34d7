#!/usr/bin/env python3
"""Builds the fuzz targets' seed corpora (fuzz/corpus/<target>/) from the repository's real
samples and test fixtures. Seeds are cut to 16 KiB at a line boundary: libFuzzer mutates small
inputs faster, and one record of each shape is what matters.

    python3 fuzz/seed.py
"""
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
DATA = ROOT / "tests" / "data"
LIMIT = 16 * 1024

# The order of spoor_core::formats::Format::ALL: a seed's first byte picks its format.
FORMATS = ["sysmon", "winlogbeat", "sysmon-linux", "ecs", "zeek", "zeek-json", "ci-log", "npm-lock",
           "yarn-lock", "pnpm-lock", "github-audit", "npm-metadata", "osquery", "bind", "mapped"]

SAMPLES = {
    "sysmon": ["corpus/edr/mordor/cmd_bitsadmin_download_psh_script.json"],
    "winlogbeat": ["documented/winlogbeat_sysmon.ndjson"],
    "sysmon-linux": ["corpus/edr/mordor/sentinel_syslog_linux_sysmon_log4shell_jndi.json"],
    "ecs": ["documented/ecs_endpoint.ndjson"],
    "zeek": ["corpus/dns/zeek/lsass_campaign01_metasploit_dns.log", "corpus/dns/zeek/lsass_campaign01_metasploit_conn.log"],
    "zeek-json": ["corpus/dns/zeek/apt29_day1_SCRANTON_dns.json", "corpus/dns/zeek/apt29_day1_SCRANTON_conn.json"],
    "ci-log": ["corpus/ci/npm-cli/npm11_install_foreground_scripts.log", "corpus/ci/npm-cli/pnpm9_install_append_only.log",
               "corpus/ci/npm-cli/yarn1_install_verbose.log"],
    "npm-lock": ["corpus/lockfile/npm/aliases_package-lock.v3.json", "corpus/lockfile/npm/goof_package-lock.v1.json"],
    "yarn-lock": ["corpus/lockfile/yarn/goof_yarn1.lock", "corpus/lockfile/yarn/goof_yarn-berry.lock"],
    "pnpm-lock": ["corpus/lockfile/pnpm/aliases_pnpm-lock.v9.yaml", "corpus/lockfile/pnpm/goof_pnpm-lock.v5.yaml",
                  "corpus/lockfile/pnpm/goof_pnpm-lock.v6.yaml"],
    "github-audit": ["documented/github_audit_org.json", "documented/github_audit_stream.ndjson"],
    "npm-metadata": ["documented/npm_metadata_plain-crypto-js.json"],
    "osquery": ["documented/osquery_results.log"],
    "bind": ["documented/bind_queries.log"],
    "mapped": [],
}


def head(path):
    data = path.read_bytes()
    if len(data) <= LIMIT:
        return data
    cut = data.rfind(b"\n", 0, LIMIT)
    return data[: cut + 1 if cut > 0 else LIMIT]


def write(target, name, data):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    mapped = b'{"ts":"2026-03-31T00:41:02Z","agent":{"hostname":"h"},"proc":{"pid":4102,"cmd":"node setup.js"}}\n'
    write("ingest_records", "mapped", bytes([FORMATS.index("mapped")]) + mapped)
    for fmt, files in SAMPLES.items():
        for rel in files:
            path = DATA / rel
            data = head(path)
            write("ingest_records", f"{fmt}-{path.name}", bytes([FORMATS.index(fmt)]) + data)
            write("detect_format", path.name, bytes([0]) + data)
            write("split_lines", path.name, bytes([40]) + data[:2048])
    for path in sorted((ROOT / "hunts").rglob("*")):
        if path.suffix == ".hunt":
            write("hunt_parse", path.name, path.read_bytes())
            write("hunt_compile", path.name, path.read_bytes())
        elif path.suffix in (".csv", ".json"):
            write("load_iocs", path.name, bytes([0 if path.suffix == ".csv" else 1]) + head(path))
    for path in sorted((ROOT / "tests" / "language").glob("*.slt")):
        # The queries of the language's own tests: each block between `query` and `----`.
        blocks = path.read_text().split("\nquery ")[1:]
        for i, block in enumerate(blocks):
            text = block.split("\n", 1)[1].split("\n----", 1)[0]
            write("hunt_parse", f"{path.stem}-{i}.hunt", text.encode())
            write("hunt_compile", f"{path.stem}-{i}.hunt", text.encode())
    stix = (b'{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","id":"indicator--1",'
            b'"pattern":"[domain-name:value = \'sfrclak.com\']","pattern_type":"stix","valid_from":"2026-03-31T00:00:00Z"}]}')
    write("load_iocs", "stix.json", bytes([2]) + stix)
    osv = (b'{"id":"MAL-2026-1","affected":[{"package":{"ecosystem":"npm","name":"plain-crypto-js"},'
           b'"versions":["4.2.1"]}]}')
    write("load_iocs", "osv.json", bytes([3]) + osv)
    count = sum(1 for _ in CORPUS.rglob("*") if _.is_file())
    print(f"{count} seeds in {CORPUS}")


if __name__ == "__main__":
    main()
