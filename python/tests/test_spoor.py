"""The Python bindings: ingest, tables, hunts with zero-copy results, diagnostics, lookups
against in-memory frames, and interrupting a query."""

import os
import pathlib
import subprocess
import sys
import threading
import time
import _thread

import pyarrow as pa
import pytest

import spoor

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo scenario's logs, ingested into a fresh store."""
    work = tmp_path_factory.mktemp("demo")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "scenario.py"), "--out", str(work / "data")],
                   check=True, capture_output=True)
    store = spoor.Store(work / "store")
    summary = store.ingest([work / "data"])
    return store, summary


def test_ingest_accounts_for_every_record(demo):
    store, summary = demo
    assert summary.read == summary.stored + summary.skipped + summary.rejected
    assert summary.rejected == 0
    assert summary.rows["process"] > 500
    assert {f["format"] for f in summary.files} >= {"ecs", "windows", "ci-log", "npm-lock", "audit-log"}


def test_windows_zeek_and_assets_from_real_samples(tmp_path):
    """EVTX, skip reasons, and an asset map naming the host behind a Zeek address."""
    assets = tmp_path / "assets.csv"
    assets.write_text("ip,host\n10.0.1.4,SCRANTON.dmevals.local\n")
    store = spoor.Store(tmp_path / "store")
    summary = store.ingest(
        [ROOT / "tests/data/windows/evtx/new-user-security.evtx",
         ROOT / "tests/data/windows/mordor/metasploit_getsystem_rtcpef.json",
         ROOT / "tests/data/corpus/dns/zeek/apt29_day1_SCRANTON_conn.json"],
        assets=assets,
    )
    formats = [f["format"] for f in summary.files]
    assert formats == ["evtx", "windows", "zeek-json"]
    assert list(summary.files[1]["skip_reasons"].values()) == [1]
    hosts = pa.table(store.hunt('network | where spoor.format == "zeek-json" | stats n = count() by host.name')).to_pylist()
    assert hosts == [{"host.name": "scranton.dmevals.local", "n": 134}]
    users = pa.table(store.hunt("audit | sort winlog.record_id | select event.action, user.target.name")).to_pylist()
    assert users[1] == {"event.action": "user_create", "user.target.name": "IEUser"}


def test_tables_have_rows_and_time_ranges(demo):
    store, _ = demo
    tables = {t["name"]: t for t in store.tables()}
    assert tables["process"]["rows"] == demo[1].rows["process"]
    assert tables["audit"]["first"] < tables["audit"]["last"]


def test_a_hunt_is_arrow_without_copies(demo):
    store, _ = demo
    result = store.hunt('chain node -> (sh, bash) -> curl | select p1.host.name, p3.process.command_line')
    assert result.columns == ["p1.host.name", "p3.process.command_line"]
    table = pa.table(result)
    assert table.num_rows == len(result) == result.num_rows == 2
    assert sorted(table.column("p1.host.name").to_pylist()) == ["ci-runner-3", "dev-laptop-07"]
    # Zero copy: the exported buffers are the result's own, so two exports share them.
    again = pa.table(result)
    assert table.column(0).chunk(0).buffers()[1].address == again.column(0).chunk(0).buffers()[1].address


def test_hunt_files_params_and_iocs(demo):
    store, _ = demo
    path = str(ROOT / "hunts" / "c2" / "ioc-domain-or-ip.hunt")
    found = store.hunt(path, iocs=[ROOT / "hunts" / "iocs"]).to_pyarrow()
    assert set(found.column("host.name").to_pylist()) == {"ci-runner-3", "dev-laptop-07", "win-build-2"}
    hunt = 'param who = "nobody"\nprocess | where host.name == who | stats n = count()'
    assert store.hunt(hunt).to_pyarrow().column("n")[0].as_py() == 0
    assert store.hunt(hunt, params={"who": "ci-runner-3"}).to_pyarrow().column("n")[0].as_py() > 0


def test_check_returns_diagnostics():
    assert spoor.check("process | where process.name == 'curl'") == []
    problems = spoor.check("process | where proces.name == 1")
    assert problems[0].code == "E003"
    assert problems[0].severity == "error"
    assert (problems[0].line, problems[0].column) == (1, 17)
    assert "process.name" in (problems[0].hint or "")


def test_hunt_error_message_shows_the_caret(demo):
    store, _ = demo
    with pytest.raises(spoor.HuntError) as error:
        store.hunt("process | where proces.name == 1")
    message = str(error.value)
    assert "E003" in message and "proces.name" in message and "^" in message


def test_register_a_frame_as_a_lookup(demo):
    store, _ = demo
    watch = pa.table({"value": ["curl", "python3"], "why": ["downloader", "interpreter"]})
    store.register("watch", watch)
    result = store.hunt("process | lookup watch on process.name | stats n = count() by watch.why | sort watch.why")
    rows = result.to_pyarrow().to_pylist()
    assert [r["watch.why"] for r in rows] == ["downloader", "interpreter"]
    assert all(r["n"] > 0 for r in rows)
    with pytest.raises(ValueError):
        store.register("process", watch)


def test_missing_optional_packages_say_what_to_install(demo, monkeypatch):
    store, _ = demo
    result = store.hunt("process | limit 1")
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ImportError, match="pip install polars"):
        result.to_polars()
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"to_pandas\(\) needs the pyarrow package: pip install pyarrow"):
        result.to_pandas()


def test_repr_html_shows_rows_and_count(demo):
    store, _ = demo
    html = store.hunt("process | select host.name | limit 3")._repr_html_()
    assert html.count("<tr>") == 4 and "3 rows" in html


def test_explain_and_sql(demo):
    store, _ = demo
    assert "TableScan: dns" in spoor.explain("dns | where dns.question.name == 'x'", store)
    assert spoor.explain("dns | select host.name", store, sql=True).lower().startswith("select")


def test_ctrl_c_interrupts_a_long_query(demo):
    store, _ = demo
    # A cross join of the network table with itself, several times: far longer than a second.
    long_hunt = "let n = (network | select x = host.name)\nnetwork | lookup n on host.name = n.x | lookup n as m on host.name = m.x | stats count()"
    timer = threading.Timer(0.5, _thread.interrupt_main)
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        store.hunt(long_hunt)
    assert time.monotonic() - started < 10
    # The store is intact afterwards.
    assert store.hunt("process | stats n = count()").to_pyarrow().column("n")[0].as_py() > 0


def test_run_pack_finds_the_demo_attack(demo):
    store, _ = demo
    result = store.run_pack(ROOT / "hunts")
    assert len(result) == 49 and result.skipped == []
    findings = result.findings
    assert all(isinstance(f, spoor.Finding) for f in findings)
    assert findings[0].severity == "critical"
    by_hunt = {}
    for f in findings:
        by_hunt.setdefault(f.hunt, []).append(f)
    assert len(by_hunt) == 15
    assert {f.entities["host"] for f in by_hunt["process.install-script-downloader"]} == {
        "ci-runner-3", "dev-laptop-07", "win-build-2"}
    assert all(f.evidence for f in by_hunt["install.known-bad-package"])
    table = pa.table(result)
    assert table.num_rows == 49 and "evidence" in table.column_names
    assert sorted(table.column("id").to_pylist()) == sorted(f.id for f in findings)

    # Parameters as on the command line: scoped to one hunt, or to every hunt declaring it.
    quiet = store.run_pack(ROOT / "hunts", params={"c2.beaconing.min_count": "100"}).findings
    assert not [f for f in quiet if f.hunt == "c2.beaconing"]
    assert len([f for f in quiet if f.hunt == "c2.ioc-domain-or-ip"]) == 10
    with pytest.raises(Exception, match="no hunt of the pack declares `max_jitter`"):
        store.run_pack(ROOT / "hunts", params={"max_jitter": "0.7"})


def test_a_process_chain_finding_shows_its_tree(demo):
    store, _ = demo
    chains = [f for f in store.run_pack(ROOT / "hunts").findings
              if f.hunt == "process.install-script-downloader" and f.entities["host"] == "ci-runner-3"]
    assert len(chains) == 1
    finding = chains[0]
    assert [n["step"] for n in finding.process_tree] == ["install", "shell", "payload"]
    assert finding.process_tree[0]["command_line"] == "npm install"
    assert finding.process_tree[2]["command_line"].startswith("curl -o /tmp/ld.py")
    text = str(finding)
    assert "\n  npm install  [install]\n  └─ sh -c curl" in text and "\n     └─ curl -o /tmp/ld.py" in text
    path, line = finding.evidence[0]
    assert path.endswith("ci-runner-3.ndjson") and line > 0
    html = finding._repr_html_()
    assert "<pre" in html and "└─ sh -c curl" in html and "&amp;&amp;" in html  # escaped
    assert finding.to_dict()["process_tree"] == finding.process_tree
    assert finding.fields["host.name"] == "ci-runner-3"


def test_pack_results_render_in_jupyter(demo):
    store, _ = demo
    html = store.run_pack(ROOT / "hunts")._repr_html_()
    assert html.count("<tr>") == 1 + 49 and "49 findings; 0 hunts skipped" in html
    assert html.count("<pre") >= 3  # the install-script chains


def test_pandas_and_polars_frames(demo):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    store, _ = demo
    result = store.hunt("network | where destination.port == 8000 | select host.name, destination.port | sort host.name")
    frame = result.to_pandas()
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(result) > 0
    assert set(frame["destination.port"]) == {8000}
    polars_frame = result.to_polars()
    assert polars_frame.shape == (len(result), 2)
    assert polars_frame["host.name"].to_list() == frame["host.name"].to_list()
    # Zero copy into polars: its numbers are the result's own buffer.
    ports = pa.table(result).column("destination.port").chunk(0).buffers()[1].address
    assert pl.DataFrame(result).to_arrow().column("destination.port").chunk(0).buffers()[1].address == ports


def test_register_pandas_and_polars_frames(demo):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    store, _ = demo
    hunt = "process | lookup {0} on process.name = {0}.tool | stats n = count() by {0}.kind | sort {0}.kind"
    store.register("tools_pd", pd.DataFrame({"tool": ["curl", "python3"], "kind": ["downloader", "interpreter"]}))
    store.register("tools_pl", pl.DataFrame({"tool": ["curl", "python3"], "kind": ["downloader", "interpreter"]}))
    from_pandas = store.hunt(hunt.format("tools_pd")).to_pyarrow().to_pylist()
    from_polars = store.hunt(hunt.format("tools_pl")).to_pyarrow().to_pylist()
    assert [r["tools_pd.kind"] for r in from_pandas] == ["downloader", "interpreter"]
    assert [r["n"] for r in from_pandas] == [r["n"] for r in from_polars]


def test_a_registered_iocs_frame_adds_indicators_to_the_pack(tmp_path):
    pd = pytest.importorskip("pandas")
    data = tmp_path / "data"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "scenario.py"), "--out", str(data)],
                   check=True, capture_output=True)
    store = spoor.Store(tmp_path / "store")
    store.ingest([data / "edr"])
    before = [f for f in store.run_pack(ROOT / "hunts").findings if f.hunt == "c2.ioc-domain-or-ip"]
    assert {f.entities.get("domain") for f in before} <= {"sfrclak.com", None}
    store.register("iocs", pd.DataFrame({"type": ["domain"], "value": ["Registry.Example.Invalid."],
                                         "campaign": ["notebook"]}))
    after = [f for f in store.run_pack(ROOT / "hunts").findings if f.hunt == "c2.ioc-domain-or-ip"]
    assert "registry.example.invalid" in {f.entities.get("domain") for f in after}
    assert len(after) > len(before)
    store.register("iocs", pd.DataFrame({"kind": ["domain"], "value": ["x.example"]}))
    with pytest.raises(spoor.SpoorError, match="indicators need a `type` column"):
        store.run_pack(ROOT / "hunts")


def test_a_memory_limit_bounds_queries(demo, tmp_path):
    store, _ = demo
    hunt = "network | stats n = count() by host.name, destination.ip, source.port | sort n"
    limited = spoor.Store(store.path, memory_limit="4MiB")
    assert limited.hunt(hunt).num_rows == store.hunt(hunt).num_rows > 90
    tiny = spoor.Store(store.path, memory_limit="1KiB")
    with pytest.raises(spoor.SpoorError, match="the hunt needs more memory than its limit allows"):
        tiny.hunt(hunt)
    with pytest.raises(ValueError, match="memory limit `lots`"):
        spoor.Store(tmp_path, memory_limit="lots")


def test_a_time_limit_stops_a_long_hunt(demo, tmp_path):
    store, _ = demo
    slow = (
        "sequence by host.name within 30d\n"
        "  a: process where process.pid > 0\n"
        "  b: network where destination.port > 0\n"
        "  c: process where process.pid > 0\n"
        "| stats n = count()"
    )
    hurried = spoor.Store(store.path, timeout="500ms")
    with pytest.raises(spoor.SpoorError, match="ran longer than its time limit of 500ms"):
        hurried.hunt(slow)
    assert hurried.hunt("process | limit 3").num_rows == 3
    with pytest.raises(ValueError, match="timeout `soon`"):
        spoor.Store(tmp_path, timeout="soon")


def test_sigma_rules_run_as_a_pack_and_name_their_author(tmp_path):
    """A folder of Sigma rules is a pack; each finding names the rule's author (its licence asks)."""
    suite = ROOT / "tests/data/sigma/regression"
    rules = tmp_path / "rules"
    rules.mkdir()
    rule = "0022869c-49f7-4ff2-ba03-85ac42ddac58.yml"
    (rules / rule).write_text((suite / "rules" / rule).read_text())
    store = spoor.Store(tmp_path / "store")
    store.ingest([suite / "all_events_flat.jsonl"])
    result = store.run_pack(rules)
    assert [(f.hunt, f.author, f.severity) for f in result.findings] == [
        ("0022869c-49f7-4ff2-ba03-85ac42ddac58", "lazarg", "low")]
    assert [line for _, line in result.findings[0].evidence] == [109]
    assert pa.table(result).column("author").to_pylist() == ["lazarg"]
