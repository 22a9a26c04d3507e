"""STIX 2.1 patterns with AND: what is loaded (one value, soundly) and what never becomes an OR.

Expectations come from the STIX 2.1 Patterning spec (section 9: AND binds tighter than OR
inside ``[...]``; AND-ed comparisons hold for the same object; observation AND/FOLLOWEDBY and
qualifiers need several observations) applied by hand to each pattern. Real bundles: the OASIS
examples under shared/data/real/threat-intel.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pytest

from secpipe.formats.base import to_batch
from secpipe.transforms.enrich.intel.loaders import load, stix_pattern_terms
from secpipe.transforms.enrich.intel.stage import ThreatIntelStage
from secpipe.transforms.enrich.intel.stix_pattern import RELAXED_LABEL
from secpipe.transforms.enrich.options import ThreatIntelOptions

T0 = 1_790_000_000.0
MD5 = "b2a5abfeef9e36964281a31e17b57c97"
SHA256 = "6c9eab41d2e06702313ee6513a8b98adc083ee7bcd2c85821a8a3136c20d687e"


@pytest.mark.parametrize(("pattern", "expected"), [
    # AND of two objects / address and port / process and hash / x509 issuer and serial: never split
    ("[ipv4-addr:value = '198.51.100.1' AND domain-name:value = 'x.example']", None),
    ("[network-traffic:dst_ref.value = '198.51.100.1' AND network-traffic:dst_port = 443]", None),
    (f"[process:name = 'cmd.exe' AND file:hashes.MD5 = '{MD5}']", None),
    ("[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b']", None),
    ("[url:value = 'http://a.example/' AND url:value = 'http://b.example/']", None),
    # observation-level AND / FOLLOWEDBY / qualifiers need several observations or a window
    ("[ipv4-addr:value = '198.51.100.1'] AND [domain-name:value = 'x.example']", None),
    ("[ipv4-addr:value = '198.51.100.1'] FOLLOWEDBY [domain-name:value = 'x.example']", None),
    ("[ipv4-addr:value = '198.51.100.1'] REPEATS 5 TIMES", None),
    ("[domain-name:value = 'x.example'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'", None),
    # negation and non-equality operators cannot be matched on one value
    ("[ipv4-addr:value != '198.51.100.1']", None),
    ("[ipv4-addr:value NOT IN ('198.51.100.1')]", None),
    # AND precedence inside [...]: A OR (B AND C) keeps A only
    ("[ipv4-addr:value = '198.51.100.1' OR url:value = 'http://a.example/' AND url:value = 'http://b.example/']",
     [("ip", "198.51.100.1")]),
    # (A OR B) AND A  ==  (A AND A) OR (B AND A): only A is a sound alternative
    ("[(ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '198.51.100.2') AND ipv4-addr:value = '198.51.100.1']",
     [("ip", "198.51.100.1")]),
    # an observation OR next to an unloadable AND keeps the loadable side
    ("([ipv4-addr:value = '198.51.100.1'] AND [domain-name:value = 'x.example']) OR [url:value = 'http://z.example/']",
     [("url", "http://z.example/")]),
    # implied terms: more hashes / content properties of the same file; the ref's type
    (f"[file:hashes.MD5 = '{MD5}' AND file:hashes.'SHA-256' = '{SHA256}' AND file:size = 1024]",
     [("hash", MD5), ("hash", SHA256)]),
    ("[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = '198.51.100.9']",
     [("auto", "198.51.100.9")]),
    # src_ref.type does not restate dst_ref.value
    ("[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.9']", None),
    ("[ipv4-addr:value IN ('198.51.100.1', '198.51.100.2')]", [("ip", "198.51.100.1"), ("ip", "198.51.100.2")]),
    ("[domain-name:value = 'it\\'s.example' OR ipv4-addr:value = '198.51.100.1']",
     [("domain", "it's.example"), ("ip", "198.51.100.1")]),
    ("[ipv4-addr:value = '198.51.100.1'", None),
])
def test_pattern_alternatives(pattern: str, expected: list[tuple[str, str]] | None) -> None:
    assert stix_pattern_terms(pattern) == expected


def _bundle(*patterns: str) -> bytes:
    return json.dumps({"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{i}", "pattern_type": "stix", "pattern": p,
         "indicator_types": ["malicious-activity"]} for i, p in enumerate(patterns)]}).encode()


def test_file_name_next_to_a_hash_is_relaxed_and_labelled() -> None:
    # MISP's STIX 2.1 export of a filename|md5 attribute
    out = load(_bundle(f"[file:name = 'filename1' AND file:hashes.MD5 = '{MD5}']",
                       f"[file:hashes.MD5 = '{MD5.replace('b', 'c')}']"), "stix", conf=70)
    rows = out.table.to_pylist()
    assert [(r["kind"], r["value"]) for r in rows] == [("hash", MD5), ("hash", MD5.replace("b", "c"))]
    assert rows[0]["labels"] == ["malicious-activity", RELAXED_LABEL]
    assert rows[1]["labels"] == ["malicious-activity"]
    assert stix_pattern_terms("[file:name = 'payload.exe']") is None  # a name alone is never loaded


def test_and_patterns_do_not_match_their_terms_alone(tmp_path: Path) -> None:
    feed = tmp_path / "b.json"
    feed.write_bytes(_bundle("[ipv4-addr:value = '198.51.100.1' AND domain-name:value = 'x.example']",
                             "[network-traffic:dst_ref.value = '198.51.100.2' AND network-traffic:dst_port = 443]",
                             "[ipv4-addr:value = '198.51.100.3' OR (ipv4-addr:value = '198.51.100.4' AND "
                             "ipv4-addr:value = '198.51.100.5')]"))
    st = ThreatIntelStage("intel", ThreatIntelOptions.model_validate(
        {"feeds": [{"name": "b", "path": str(feed)}], "background_refresh": False}), clock=lambda: T0)
    assert st.store.status()[0]["skipped"] == 2 and st.store.status()[0]["indicators"] == 1
    ips = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"]
    b = to_batch("network_activity", {
        "class_uid": pa.array([4001] * 5, pa.int32()), "time": pa.array([int(T0 * 1000)] * 5, pa.int64()),
        "metadata.uid": pa.array([f"e{i}" for i in range(5)]), "dst_endpoint.ip": pa.array(ips),
        "dst_endpoint.port": pa.array([443] * 5, pa.int32()), "dst_endpoint.domain": pa.array(["x.example"] * 5)})
    hits = [[o["value"] for o in r["observables"] or []] for r in st.process(b)[0].to_pylist()]
    assert hits == [[], [], ["198.51.100.3"], [], []]


def test_real_oasis_bundles(real: Path) -> None:
    ex = real / "threat-intel" / "oasis-cti-stix2-json-schemas" / "examples"
    apt1 = load((ex / "threat-reports/apt1.json").read_bytes(), "stix", conf=70)
    assert apt1.skipped == 2  # the two x509-certificate "issuer AND serial_number" indicators
    email = load((ex / "malicious-email-indicator-with-attachment.json").read_bytes(), "stix", conf=70)
    assert email.table.num_rows == 0 and email.skipped == 2  # MATCHES on email subject / attachment name
    coa = load((ex / "indicators-for-C2-with-COA.json").read_bytes(), "stix", conf=70)
    assert sorted(coa.table.column("kind").to_pylist()) == ["hash", "ip"] and coa.skipped == 0


def test_mutated_patterns_never_raise(real: Path) -> None:
    """A feed's broken pattern is skipped (None), never an exception that would fail the feed."""
    pats = [o["pattern"] for f in sorted((real / "threat-intel" / "oasis-cti-stix2-json-schemas").rglob("*.json"))
            for o in json.loads(f.read_text()).get("objects", []) if o.get("type") == "indicator"]
    assert len(pats) > 30
    pieces = [*"[]()',= \\", " AND ", " OR ", " NOT ", " IN ", " FOLLOWEDBY ", " WITHIN ", " START "]
    r = random.Random(7)
    for _ in range(5000):
        chars = list(r.choice(pats))
        for _ in range(r.randrange(1, 4)):
            at = r.randrange(len(chars) + 1)
            if r.random() < 0.4 and chars:
                del chars[min(at, len(chars) - 1)]
            else:
                chars.insert(at, r.choice(pieces))
        got = stix_pattern_terms("".join(chars))
        assert got is None or all(k in ("ip", "domain", "url", "hash", "auto") for k, _v in got)
