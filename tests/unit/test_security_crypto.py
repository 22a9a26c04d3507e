"""Encryption at rest: lake, DLQ, WAL sealed on disk; query, replay and dedup still work; rotation."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from secpipe.runtime.service import Service
from secpipe.security import audit, crypto
from secpipe.security.keys import generate_key
from secpipe.store.query import run
from secpipe.store.wal import read_segment
from tests.helpers import SECPIPE, cli

MARKER = "exposed.user"  # a user name that appears in the sample


@pytest.fixture
def enc_dir(data_dir: Path, monkeypatch) -> Path:
    monkeypatch.setenv("SECPIPE_MASTER_KEY", generate_key())
    crypto.reset_cache()
    crypto.enable(data_dir)
    yield data_dir
    crypto.reset_cache()


def _plain_anywhere(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_service_encrypts_everything_and_queries_transparently(enc_dir: Path, real: Path) -> None:
    body = (real / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes()
    svc = Service(enc_dir)
    res = svc.accept("cloudtrail", "test", body)
    svc.accept("cloudtrail", "test", b'{"Records": [{"eventVersion": 7}]}\n')
    assert res.accepted > 250
    # WAL holds the body now, sealed
    segs = svc.wal.segments()
    assert segs and all(crypto.is_sealed(p.read_bytes()[:4]) for p in segs if p.stat().st_size)
    assert [r.source for r in read_segment(segs[-1], svc.wal.cipher)][:1] == ["test"]
    svc.close()
    for sub in ("lake", "dlq", "wal"):
        files = [p for p in (enc_dir / sub).rglob("*") if p.is_file()]
        assert all(crypto.is_sealed(p.read_bytes()[:4]) for p in files), sub
    assert _plain_anywhere(enc_dir, MARKER.encode()) == []
    assert _plain_anywhere(enc_dir, b"PAR1") == []
    cols, rows = run(enc_dir, "SELECT count(*) FROM api_activity")
    assert rows[0][0] > 200
    _cols, rows = run(enc_dir, f"SELECT count(*) FROM api_activity WHERE actor.user.name = '{MARKER}'")
    assert rows[0][0] >= 1
    _cols, rows = run(enc_dir, "SELECT count(*) FROM dead_letter")
    assert rows[0][0] >= 1
    _cols, rows = run(enc_dir, "SELECT min(event_day) < max(event_day) FROM api_activity")
    assert rows[0][0] is True
    # dedup against sealed parts still works after a restart
    svc = Service(enc_dir)
    svc.accept("cloudtrail", "test", body)
    svc.close()
    assert svc.pipeline.totals.duplicates == res.accepted


def test_tamper_and_missing_key(enc_dir: Path, real: Path, monkeypatch) -> None:
    svc = Service(enc_dir)
    svc.accept("cloudtrail", "t", (real / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes())
    svc.close()
    part = next((enc_dir / "lake").rglob("part-*.parquet"))
    blob = bytearray(part.read_bytes())
    blob[-40] ^= 1
    part.write_bytes(bytes(blob))
    with pytest.raises(crypto.CryptoError, match="altered"):
        crypto.read_parquet(part, crypto.for_data_dir(enc_dir))
    monkeypatch.setenv("SECPIPE_MASTER_KEY", generate_key())
    crypto.reset_cache()
    other = next(p for p in (enc_dir / "lake").rglob("part-*.parquet") if p != part)
    with pytest.raises(crypto.CryptoError, match="not in the key ring"):
        crypto.read_parquet(other, crypto.for_data_dir(enc_dir))


def test_rotate_rewraps_and_old_key_can_go(enc_dir: Path, real: Path, monkeypatch) -> None:
    svc = Service(enc_dir)
    svc.accept("cloudtrail", "t", (real / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes())
    svc.close()
    before = run(enc_dir, "SELECT count(*) FROM api_activity")[1][0][0]
    old = os.environ["SECPIPE_MASTER_KEY"]
    new = generate_key()
    env = {**os.environ, "SECPIPE_MASTER_KEY": f"{old},{new}"}
    pr = subprocess.run([*SECPIPE, "keys", "rotate", "--data", str(enc_dir)], env=env, capture_output=True,
                        text=True, check=True)
    assert "re-wrapped" in pr.stdout
    monkeypatch.setenv("SECPIPE_MASTER_KEY", new)  # old key retired
    crypto.reset_cache()
    assert run(enc_dir, "SELECT count(*) FROM api_activity")[1][0][0] == before
    assert [e["action"] for e in audit.AuditLog(enc_dir).entries()][-1] == "keys.rotate"


def test_cli_query_and_ingest_on_encrypted_dir(enc_dir: Path, real: Path) -> None:
    cli("ingest", "--data", str(enc_dir), "--format", "k8s_audit", str(real / "panther-analysis" / "extracted" / "k8s_audit.jsonl"))
    out = cli("query", "--data", str(enc_dir), "--format", "json", "SELECT count(*) AS n FROM api_activity")
    assert '"n":' in out.stdout
    assert _plain_anywhere(enc_dir / "lake", b"PAR1") == []


@pytest.mark.parametrize("size", [0, 1, 16, (1 << 20) - 1, 1 << 20, 3 * (1 << 20) + 5])
def test_streamed_seal_is_the_one_shot_envelope(size: int) -> None:
    """``seal_to`` (AES-GCM a 1 MiB chunk at a time, what lake files are written with) gives an SPE1 blob of the
    one-shot ``seal``'s layout that ``open`` reads back, whatever the size against the chunk; a flipped byte of its
    ciphertext or tag is refused."""
    import io

    from secpipe.security.keys import Keyring

    ring = Keyring()
    ring.add(generate_key(), "k1")
    cipher = crypto.Cipher(ring)
    data = os.urandom(size)
    sink = io.BytesIO()
    cipher.seal_to(memoryview(data), sink)
    blob = bytearray(sink.getvalue())
    assert len(blob) == len(cipher.seal(data)) and crypto.is_sealed(blob)
    assert cipher.open(bytes(blob)) == data
    for at in (len(blob) - 1, len(blob) - 17 if size else len(blob) - 1):
        bad = bytearray(blob)
        bad[at] ^= 1
        with pytest.raises(crypto.CryptoError):
            cipher.open(bytes(bad))
