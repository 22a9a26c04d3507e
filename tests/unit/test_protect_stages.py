"""Tokenize / mask / redact stages on real CloudTrail (panther-analysis samples)."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from secpipe import formats
from secpipe.config.models import check
from secpipe.runtime.topology import build_stages
from secpipe.security.keys import generate_key
from secpipe.transforms.protect._columns import get_path, set_path
from secpipe.transforms.protect.mask import MaskStage
from secpipe.transforms.protect.redact import RedactingFilter, RedactStage, redact_text
from secpipe.transforms.protect.tokenize import RevealError, TokenizeStage, reveal

FIELDS = {"actor.user.name": "reversible", "src_endpoint.ip": "ip", "actor.user.account.uid": "hmac",
          "cloud.account.uid": "hmac"}


@pytest.fixture
def key(monkeypatch) -> str:
    k = generate_key()
    monkeypatch.setenv("SECPIPE_TOKENIZE_KEY", k)
    return k


@pytest.fixture
def ct(real: Path) -> pa.RecordBatch:
    data = (real / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes()
    dec = formats.get("cloudtrail").decode(data, "test")
    return max(dec.batches, key=lambda b: b.num_rows)


def test_tokens_deterministic_prefixed_and_raw_clean(key: str, ct: pa.RecordBatch) -> None:
    st = TokenizeStage("p", {"type": "tokenize", "fields": FIELDS})
    out = st.process(ct)[0]
    again = TokenizeStage("p2", {"type": "tokenize", "fields": FIELDS}).process(ct)[0]
    kid = st.tokenizer.kid
    for path in ("actor.user.account.uid", "cloud.account.uid"):
        before, after = get_path(ct, path), get_path(out, path)
        assert after.equals(get_path(again, path))  # stable across instances (runs)
        assert after.null_count == before.null_count
        vals = [v for v in after.to_pylist() if v]
        assert vals and all(re.fullmatch(rf"tok:{kid}:[A-Za-z0-9_-]{{27}}", v) for v in vals)
        # equal inputs -> equal tokens, different inputs -> different tokens (join-ability)
        assert pc.count_distinct(before).as_py() == pc.count_distinct(after).as_py()
    # each event's own original values are gone from its raw_data and unmapped
    own = list(zip(get_path(ct, "cloud.account.uid").to_pylist(), get_path(ct, "actor.user.name").to_pylist(),
                   strict=True))
    replaced = 0
    for col in ("raw_data", "unmapped"):
        for (acct, name), orig, text in zip(own, ct.column(col).to_pylist(), out.column(col).to_pylist(), strict=True):
            for v in (acct, name):
                if v and text and v in (orig or ""):
                    # short values are replaced only as whole JSON strings (see tokenize docs)
                    assert (v if len(v) >= 4 else f'"{v}"') not in text, (col, v)
                    replaced += 1
    assert replaced > 100
    # the rest of the batch is untouched
    assert out.column("metadata").equals(ct.column("metadata"))
    assert get_path(out, "api.operation").equals(get_path(ct, "api.operation"))


def test_reversible_reveal_and_forgery(key: str, ct: pa.RecordBatch) -> None:
    st = TokenizeStage("p", {"type": "tokenize", "fields": FIELDS})
    out = st.process(ct)[0]
    before, after = get_path(ct, "actor.user.name").to_pylist(), get_path(out, "actor.user.name").to_pylist()
    pairs = [(b, a) for b, a in zip(before, after, strict=True) if b]
    assert pairs
    for b, a in pairs:
        assert a.startswith(f"tokr:{st.tokenizer.kid}:")
        assert reveal(a, st.tokenizer.ring) == b
    tok = pairs[0][1]
    forged = tok[:-2] + ("aa" if tok[-2:] != "aa" else "bb")
    with pytest.raises(RevealError):
        reveal(forged, st.tokenizer.ring)
    with pytest.raises(RevealError, match="one-way"):
        reveal(get_path(out, "cloud.account.uid")[0].as_py(), st.tokenizer.ring)


def test_ip_format_preserving_keeps_prefix(key: str, ct: pa.RecordBatch) -> None:
    st = TokenizeStage("p", {"type": "tokenize", "fields": {"src_endpoint.ip": "ip"}, "ip_keep_v4": 24})
    out = st.process(ct)[0]
    before, after = get_path(ct, "src_endpoint.ip").to_pylist(), get_path(out, "src_endpoint.ip").to_pylist()
    changed = 0
    for b, a in zip(before, after, strict=True):
        if b is None:
            assert a is None
            continue
        try:
            ob = ipaddress.ip_address(b)
        except ValueError:  # CloudTrail has e.g. '06.237.252.245': not an IP, gets an hmac token
            assert a.startswith("tok:")
            continue
        oa = ipaddress.ip_address(a)  # still a valid IP
        net = ipaddress.ip_network(f"{b}/{24 if ob.version == 4 else 48}", strict=False)
        assert oa in net
        changed += a != b
    assert changed > 0


def test_ip_v6_keeps_48() -> None:
    from secpipe.security.keys import Keyring
    from secpipe.transforms.protect.tokenize import Tokenizer

    ring = Keyring()
    ring.add(generate_key(), "test")
    t = Tokenizer(ring, 24, 48)
    v = t.ip_token("2001:db8:abcd:12::1")
    assert ipaddress.ip_address(v) in ipaddress.ip_network("2001:db8:abcd::/48")
    assert t.ip_token("not-an-ip").startswith("tok:")


def test_key_rotation_old_tokens_still_reveal(monkeypatch, ct: pa.RecordBatch) -> None:
    old, new = generate_key(), generate_key()
    monkeypatch.setenv("SECPIPE_TOKENIZE_KEY", old)
    a = TokenizeStage("p", {"type": "tokenize", "fields": {"actor.user.name": "reversible"}})
    tok_old = [v for v in get_path(a.process(ct)[0], "actor.user.name").to_pylist() if v][0]
    monkeypatch.setenv("SECPIPE_TOKENIZE_KEY", f"{old},{new}")
    b = TokenizeStage("p", {"type": "tokenize", "fields": {"actor.user.name": "reversible"}})
    assert b.tokenizer.kid != a.tokenizer.kid
    tok_new = [v for v in get_path(b.process(ct)[0], "actor.user.name").to_pylist() if v][0]
    assert tok_new != tok_old
    assert reveal(tok_old, b.tokenizer.ring) == reveal(tok_new, b.tokenizer.ring)


def test_nested_set_path_keeps_nulls() -> None:
    arr = pa.array([{"a": {"b": "x", "c": 1}}, None, {"a": None}, {"a": {"b": None, "c": 3}}])
    batch = pa.RecordBatch.from_arrays([arr], ["s"]).slice(0)
    out = set_path(batch, "s.a.b", pa.array(["X", None, None, None]))
    assert out.column("s").to_pylist() == [{"a": {"b": "X", "c": 1}}, None, {"a": None}, {"a": {"b": None, "c": 3}}]


def test_mask(ct: pa.RecordBatch) -> None:
    st = MaskStage("m", {"type": "mask", "fields": {"cloud.account.uid": {"keep_last": 4},
                                                   "actor.user.uid": {"keep_first": 2, "keep_last": 0, "char": "#"}}})
    out = st.process(ct)[0]
    for b, a in zip(get_path(ct, "cloud.account.uid").to_pylist(), get_path(out, "cloud.account.uid").to_pylist(),
                    strict=True):
        if b:
            assert len(a) == len(b)
            assert a == ("*" * (len(b) - 4) + b[-4:] if len(b) > 4 else "*" * len(b))
    uid = [a for a in get_path(out, "actor.user.uid").to_pylist() if a]
    assert uid and all(set(u[2:]) == {"#"} for u in uid)
    for b, text in zip(get_path(ct, "cloud.account.uid").to_pylist(), out.column("raw_data").to_pylist(), strict=True):
        if b and len(b) > 4:
            assert b not in text
    masked = [a for a in get_path(out, "cloud.account.uid").to_pylist() if a and len(a) > 4]
    assert any(m in t for m in masked for t in out.column("raw_data").to_pylist() if t)


def test_redact_every_detector_and_findings() -> None:
    secrets = {
        "aws_access_key": "AKIAZ7QWERTY12345678",
        "aws_secret_key": 'aws_secret_access_key="Zx9pQ2mN8vB4cX7lK1jH5gF3dS6aP0oI9uY2tR4e"',
        "github_token": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
        "gitlab_token": "glpat-" + "x1Y2z3W4v5U6t7S8r9Q0",
        "slack_token": "xoxb-" + "123456789012-123456789012-AbCdEfGhIjKlMnOpQrStUvWx",
        "slack_webhook": "https://hooks.slack.com/services/" + "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "private_key": "-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA\\n-----END RSA PRIVATE KEY-----",
        "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "url_password": "postgres://app:Sup3rS3cretPw@db.internal:5432/prod",
        "password": "Server=db;Database=x;Password=hunter2hunter2;",
        "generic_secret": "token blob 9fK2mQ7xL4pZ8vN1cR6tY3wB5hJ0gD2sA7eU4iO9",
    }
    n = len(secrets)
    raw = [orjson.dumps({"msg": f"leak {v} here"}).decode() for v in secrets.values()]
    batch = pa.RecordBatch.from_pydict({
        "time": pa.array([1_700_000_000_000] * n, pa.int64()),
        "metadata": pa.array([{"uid": f"ev{i}"} for i in range(n)]),
        "message": pa.array([f"leak {v} here" for v in secrets.values()]),
        "raw_data": pa.array(raw),
        "api": pa.array([{"operation": "GetObject"}] * n),
    })  # fmt: skip
    out, finding = RedactStage("r", {"type": "redact"}).process(batch)
    for i, (kind, value) in enumerate(secrets.items()):
        msg = out.column("message")[i].as_py()
        assert f"[REDACTED:{kind}]" in msg, (kind, msg)
        for part in re.findall(r"[A-Za-z0-9]{12,}", value.split("=")[-1]):
            assert part not in msg and part not in out.column("raw_data")[i].as_py(), (kind, part)
    assert out.column("api").equals(batch.column("api"))
    # one finding per (event, field, type); it says where, never what
    assert finding.schema.field("class_uid") and set(finding.column("class_uid").to_pylist()) == {2006}
    rows = finding.to_pylist()
    where = {(r["metadata"]["correlation_uid"], orjson.loads(r["unmapped"])["field"], r["data_security"]["detection_pattern"])
             for r in rows}
    for i, kind in enumerate(secrets):
        assert (f"ev{i}", "message", kind) in where
        assert (f"ev{i}", "raw_data", kind) in where
    text = orjson.dumps(rows).decode()
    for value in secrets.values():
        assert value not in text


def test_redact_leaves_clean_cloudtrail_alone(ct: pa.RecordBatch) -> None:
    out = RedactStage("r", {"type": "redact"}).process(ct)
    # CloudTrail caller key ids (accessKeyId) are expected ids, not leaks; the RDS master passwords in request
    # parameters are CloudTrail's "****" mask, no password (they were redacted and reported as leaks)
    findings = out[1].to_pylist() if len(out) > 1 else []
    kinds = {r["data_security"]["detection_pattern"] for r in findings}
    assert kinds <= {"aws_access_key", "generic_secret"}
    assert "masterUserPassword\":\"****\"" in " ".join(t for t in out[0].column("raw_data").to_pylist() if t)
    assert get_path(out[0], "actor.user.credential_uid").equals(get_path(ct, "actor.user.credential_uid"))


def test_redact_logs(caplog) -> None:
    import logging

    log = logging.getLogger("secpipe.test.redact")
    log.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="secpipe.test.redact"):
        log.info("calling with %s", "AKIAZ7QWERTY12345678")
    assert "AKIAZ7QWERTY12345678" not in caplog.text and "[REDACTED:aws_access_key]" in caplog.text
    assert redact_text("nothing to see here") == "nothing to see here"


def test_config_and_topology(key: str, ct: pa.RecordBatch) -> None:
    cfg, errors = check({
        "sources": {"s": {"type": "file", "paths": ["x"]}},
        "transforms": {
            "red": {"type": "redact", "inputs": ["s"]},
            "tok": {"type": "tokenize", "inputs": ["red"], "fields": ["cloud.account.uid"]},
        },
    })  # fmt: skip
    assert not errors and cfg is not None
    stages = build_stages(cfg)
    assert [type(s).__name__ for s in stages] == ["RedactStage", "TokenizeStage"]
    _cfg, errors = check({"transforms": {"t": {"type": "tokenize", "fields": ["a"], "mode": "nope"}}})
    assert errors and "transforms.t.mode" in str(errors[0])
