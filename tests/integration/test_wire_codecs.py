"""zstd and snappy request bodies (session 18): the other codecs Vector's and Fluent Bit's HTTP
outputs offer (``compression: zstd | snappy``) besides gzip and zlib. They were answered 415.

Compressed by independent encoders: Debian's ``zstd`` CLI (two frames back to back, as a
sender appending frames writes them) and cramjam (Google's snappy, raw block and framing
format), against a real ``secpipe up``; bombs and broken bodies get 413 and 400.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import cramjam
import httpx
import pytest

from tests.helpers import Server

ZSTD = shutil.which("zstd")
TRAIL = "panther-analysis/extracted/cloudtrail.json"


def _zstd(data: bytes) -> bytes:
    assert ZSTD is not None
    return subprocess.run([ZSTD, "-q", "-c"], input=data, capture_output=True, check=True).stdout


@pytest.mark.skipif(ZSTD is None, reason="zstd CLI not installed")
def test_zstd_and_snappy_bodies(real: Path, data_dir: Path) -> None:
    trail = (real / TRAIL).read_bytes()
    half = len(trail) // 2
    bodies = {
        "zstd": _zstd(trail[:half]) + _zstd(trail[half:]),  # two frames: one body
        "snappy": bytes(cramjam.snappy.compress_raw(trail)),
    }
    with Server(data_dir) as srv, httpx.Client(base_url=srv.url, timeout=60) as c:
        h = {"Authorization": f"Bearer {srv.ingest_token}"}
        for enc, body in bodies.items():
            r = c.post("/v1/ingest/cloudtrail", content=body, headers={**h, "Content-Encoding": enc})
            assert r.status_code == 200 and r.json()["accepted"] == 271, (enc, r.text)
        framed = bytes(cramjam.snappy.compress(trail))  # the framing format (64 KiB chunks)
        assert framed.startswith(b"\xff\x06\x00\x00sNaPpY")
        r = c.post("/v1/ingest/cloudtrail", content=framed, headers={**h, "Content-Encoding": "snappy"})
        assert r.status_code == 200 and r.json()["accepted"] == 271
        # bombs: 300 MiB of zeros (over max_decompressed_bytes, 256 MiB) is refused, never held
        bomb = _zstd(b"\0" * (300 << 20))
        r = c.post("/v1/ingest/cloudtrail", content=bomb, headers={**h, "Content-Encoding": "zstd"})
        assert r.status_code == 413 and "decompressed" in r.json()["error"]
        claims = b"\x80\x80\x80\xa0\x01" + b"\0" * 16  # a raw block whose preamble says 320 MiB
        r = c.post("/v1/ingest/cloudtrail", content=claims, headers={**h, "Content-Encoding": "snappy"})
        assert r.status_code == 413
        for enc, junk in (("zstd", b"not zstd at all"), ("snappy", b"\x10garbage"), ("snappy", framed[:-7])):
            r = c.post("/v1/ingest/cloudtrail", content=junk, headers={**h, "Content-Encoding": enc})
            assert r.status_code == 400 and enc in r.json()["error"], (enc, r.text)
        r = c.post("/v1/ingest/cloudtrail", content=b"x", headers={**h, "Content-Encoding": "br"})
        assert r.status_code == 415 and "zstd" in r.json()["error"]
