"""MISP warninglist semantics of allowlists, per list ``type`` (as MISP and PyMISPWarningLists).

``string`` = exact value, ``hostname`` = the name and its subdomains (and the host of a URL
when the list applies to URLs), ``cidr`` = containment. Lists are the real MISP warninglists
under shared/data/real/threat-intel and tests/cases/enrich_feeds (captive-portals); the
expectations are read off the lists' ``type``, ``matching_attributes`` and entries.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from secpipe.formats.base import to_batch
from secpipe.transforms.enrich.intel.loaders import HOST, URL_HOST, load
from secpipe.transforms.enrich.intel.stage import ThreatIntelStage
from secpipe.transforms.enrich.options import ThreatIntelOptions

CASES = Path(__file__).resolve().parents[1] / "cases" / "enrich_feeds"
T0 = 1_790_000_000.0


@pytest.fixture
def wl(real: Path) -> Path:
    return real / "threat-intel" / "misp-warninglists" / "lists"


def _kinds(data: bytes) -> dict[str, set[str]]:
    t = load(data, "misp_warninglist", conf=100).table
    out: dict[str, set[str]] = {}
    for k, v in zip(t.column("kind").to_pylist(), t.column("value").to_pylist(), strict=True):
        out.setdefault(k, set()).add(v)
    return out


def test_loader_kinds_follow_the_list_type(wl: Path) -> None:
    myip = _kinds((wl / "whats-my-ip/list.json").read_bytes())  # type string
    assert set(myip) == {HOST} and "api.ipify.org" in myip[HOST]
    short = _kinds((wl / "url-shortener/list.json").read_bytes())  # type hostname, matching url too
    assert set(short) == {"domain", URL_HOST} and short["domain"] == short[URL_HOST] and "bit.ly" in short["domain"]
    # hostname list without url/uri in matching_attributes: no URL-host entries; ".x" means x and below
    doc = {"name": "h", "type": "hostname", "matching_attributes": ["domain"], "list": [".example.org", "*.example.net"]}
    assert _kinds(json.dumps(doc).encode()) == {"domain": {"example.org", "example.net"}}
    # a string list takes "10.0.0.0/8" literally (MISP compares the string), so it is no network
    doc = {"name": "s", "type": "string", "matching_attributes": ["ip-dst"], "list": ["10.0.0.0/8", "192.0.2.1"]}
    out = load(json.dumps(doc).encode(), "misp_warninglist", conf=100)
    assert out.table.column("value").to_pylist() == ["192.0.2.1"] and out.skipped == 1


def _http(hosts: list[str | None], urls: list[str | None]) -> pa.RecordBatch:
    n = len(hosts)
    return to_batch("http_activity", {
        "class_uid": pa.array([4002] * n, pa.int32()), "time": pa.array([int(T0 * 1000)] * n, pa.int64()),
        "metadata.uid": pa.array([f"e{i}" for i in range(n)]),
        "http_request.url.hostname": pa.array(hosts, pa.string()),
        "http_request.url.url_string": pa.array(urls, pa.string())})


def _hits(st: ThreatIntelStage, batch: pa.RecordBatch) -> list[list[str]]:
    """Distinct matched values per event (a subdomain also matches its listed parent: two observables)."""
    return [sorted({o["value"] for o in r["observables"] or []}) for r in st.process(batch)[0].to_pylist()]


def test_string_lists_allow_exact_names_only_and_hostname_lists_subdomains_and_url_hosts(wl: Path, tmp_path: Path) -> None:
    feed = tmp_path / "hosts.txt"
    feed.write_text("api.ipify.org\nx.api.ipify.org\nbit.ly\nabc.bit.ly\ncaptive.apple.com\ncdn.apple.com\n"
                    "https://bit.ly/3xYz\nhttp://abc.bit.ly:8080/a\nhttps://api.ipify.org/?format=json\n"
                    "http://captive.apple.com/hotspot-detect.html\nhttps://notbit.ly/q\n")
    opts = ThreatIntelOptions.model_validate({
        "feeds": [{"name": "hosts", "path": str(feed), "format": "plain"}],
        "allowlists": [{"name": "myip", "path": str(wl / "whats-my-ip/list.json")},
                       {"name": "short", "path": str(wl / "url-shortener/list.json")},
                       {"name": "captive", "path": str(CASES / "captive-portals.json")}],
        "background_refresh": False})
    st = ThreatIntelStage("intel", opts, clock=lambda: T0)
    names = ["api.ipify.org", "x.api.ipify.org", "bit.ly", "abc.bit.ly", "captive.apple.com", "cdn.apple.com"]
    hits = _hits(st, _http(names, [None] * len(names)))
    # whats-my-ip (string): api.ipify.org only, not its subdomain; url-shortener (hostname):
    # bit.ly and below; captive-portals (string): captive.apple.com only; apple.com is listed
    # there too, but exactly, so cdn.apple.com still matches the feed.
    assert hits == [[], ["x.api.ipify.org"], [], [], [], ["cdn.apple.com"]]
    urls = ["https://bit.ly/3xYz", "http://abc.bit.ly:8080/a", "https://api.ipify.org/?format=json",
            "http://captive.apple.com/hotspot-detect.html", "https://notbit.ly/q"]
    hits = _hits(st, _http([None] * len(urls), urls))
    # url-shortener lists url/uri in matching_attributes: the URL's host (and parents) is
    # allowed. whats-my-ip and captive-portals are string lists: a URL is never equal to a name.
    assert hits == [[], [], ["https://api.ipify.org/?format=json"], ["http://captive.apple.com/hotspot-detect.html"],
                    ["https://notbit.ly/q"]]


def test_string_hash_list_is_exact(wl: Path, tmp_path: Path) -> None:
    feed = tmp_path / "hashes.txt"
    empty_md5 = "d41d8cd98f00b204e9800998ecf8427e"
    other = "0cc175b9c0f1b6a831c399e269772661"  # md5("a")
    feed.write_text(f"{empty_md5}\n{other}\n")
    opts = ThreatIntelOptions.model_validate({
        "feeds": [{"name": "h", "path": str(feed), "format": "plain"}],
        "allowlists": [{"name": "empty", "path": str(wl / "empty-hashes/list.json")}], "background_refresh": False})
    st = ThreatIntelStage("intel", opts, clock=lambda: T0)
    b = to_batch("file_activity", {
        "class_uid": pa.array([1001, 1001], pa.int32()), "time": pa.array([int(T0 * 1000)] * 2, pa.int64()),
        "metadata.uid": pa.array(["a", "b"]),
        "file.hashes": pa.array([[{"algorithm_id": 1, "value": empty_md5.upper()}], [{"algorithm_id": 1, "value": other}]],
                                pa.list_(pa.struct([("algorithm_id", pa.int32()), ("value", pa.string())])))})
    assert _hits(st, b) == [[], [other]]


def test_a_hostname_list_as_a_feed_counts_its_domains_once(wl: Path) -> None:
    p = str(wl / "url-shortener/list.json")
    st = ThreatIntelStage("intel", ThreatIntelOptions.model_validate(
        {"feeds": [{"name": "s", "path": p}], "allowlists": [{"name": "a", "path": p}], "background_refresh": False}),
        clock=lambda: T0)
    by_role = {f["role"]: f["by_kind"] for f in st.store.status()}
    assert by_role == {"feed": {"domain": 232}, "allowlist": {"domain": 232, URL_HOST: 232}}
