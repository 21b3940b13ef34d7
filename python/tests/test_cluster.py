"""Hunts from Python on a Ballista cluster: a scheduler and an executor started by the test from
the spoor binary that `scripts/test` names in SPOOR_BINARY (built with the `cluster` feature)."""
import os
import socket
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import pytest

import spoor

ROOT = Path(__file__).resolve().parents[2]


def free_ports():
    """A free local port whose next one is free too (an executor takes two)."""
    while True:
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port


def wait_for(port, process):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args} exited: {process.returncode}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after 60 s")


@pytest.fixture
def cluster():
    binary = os.environ.get("SPOOR_BINARY")
    if not binary:
        message = "SPOOR_BINARY names a spoor built with --features cluster (scripts/test sets it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_ports()
    processes = []
    try:
        processes.append(
            subprocess.Popen(
                [binary, "cluster", "scheduler", "--host", "127.0.0.1", "--port", str(port)],
                stderr=subprocess.DEVNULL,
            )
        )
        wait_for(port, processes[0])
        own = free_ports()
        processes.append(
            subprocess.Popen(
                [binary, "cluster", "executor", "--scheduler", f"df://127.0.0.1:{port}", "--port", str(own)],
                stderr=subprocess.DEVNULL,
            )
        )
        wait_for(own, processes[1])
        yield f"df://127.0.0.1:{port}"
    finally:
        for process in processes:
            process.kill()
            process.wait()


def test_a_hunt_on_a_cluster_gives_the_table_it_gives_in_process(cluster, tmp_path):
    logs = [
        ROOT / "tests/data/windows/mordor/empire_launcher_vbs.json",
        ROOT / "tests/data/corpus/dns/zeek/apt29_day1_SCRANTON_dns.json",
    ]
    here = spoor.Store(tmp_path / "store")
    here.ingest(logs)
    there = spoor.Store(tmp_path / "store", cluster=cluster)
    for query in [
        "dns | stats n = count() by dns.question.name | sort -n, dns.question.name | limit 5",
        # host.name and process.name are stored as dictionaries, which the cluster's transport
        # unpacks: the table must still have the schema a local run gives.
        "process | stats n = count() by host.name, process.name | sort -n, process.name | limit 5",
    ]:
        local = pa.table(here.hunt(query))
        remote = pa.table(there.hunt(query))
        assert local.num_rows > 0, query
        assert remote.schema == local.schema, query
        assert remote.to_pylist() == local.to_pylist(), query


def test_an_unreachable_scheduler_is_an_error_naming_it(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = spoor.Store(tmp_path / "store", cluster=f"df://127.0.0.1:{port}")
    store.ingest([ROOT / "tests/data/corpus/dns/zeek/apt29_day1_SCRANTON_dns.json"])
    with pytest.raises(Exception, match=f"127.0.0.1:{port}"):
        store.hunt("dns | stats n = count()")
