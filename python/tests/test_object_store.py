"""A store in S3, from Python: moto's S3 server in this process, credentials in the environment
as a notebook's would be."""
from pathlib import Path

import pyarrow as pa
import pytest

import spoor

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def s3(monkeypatch):
    from moto.server import ThreadedMotoServer
    import urllib.request

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/notebook", method="PUT")).read()
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "spoor-test",
        "AWS_SECRET_ACCESS_KEY": "spoor-test",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    yield "s3://notebook"
    server.stop()


def test_a_store_in_s3_is_ingested_and_hunted_as_one_on_disk(s3, tmp_path):
    logs = [ROOT / "tests/data/corpus/dns/zeek/apt29_day1_SCRANTON_dns.json"]
    remote = spoor.Store(f"{s3}/store")
    local = spoor.Store(tmp_path / "store")
    assert remote.path == f"{s3}/store"
    assert remote.ingest(logs).files[0]["stored"] == local.ingest(logs).files[0]["stored"] > 0
    query = "dns | stats n = count() by dns.question.name | sort -n, dns.question.name | limit 5"
    assert pa.table(remote.hunt(query)).to_pylist() == pa.table(local.hunt(query)).to_pylist()
    assert [t["name"] for t in remote.tables()] == ["dns"]
