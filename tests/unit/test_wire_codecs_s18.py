"""zstd and snappy request bodies under hostile input (session 18, h3).

Every body that does not inflate is answered 400 (unreadable) or 413 (too big), never a 500,
and a bomb never holds more than ``max_decompressed_bytes`` plus a piece. The bodies are made
by independent encoders (Debian's ``zstd`` CLI, cramjam's snappy) or by hand to RFC 8878 and
Google's ``framing_format.txt``, around the real CloudTrail file of ``shared/data/real``.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import cramjam
import pytest

from secpipe.server.http import HTTPError, Limits, inflate

ZSTD = shutil.which("zstd")
needs_zstd = pytest.mark.skipif(ZSTD is None, reason="zstd CLI not installed")
SID = b"\xff\x06\x00\x00sNaPpY"  # the framing format's stream identifier


class _Req:
    def __init__(self, enc: str) -> None:
        self.headers = {"content-encoding": enc}


def _status(enc: str, body: bytes, limit: int = 1 << 20) -> tuple[int, Any]:
    """(200 and the inflated body) or (the error status and message) of ``inflate``."""
    try:
        return 200, inflate(_Req(enc), body, Limits(max_decompressed_bytes=limit))  # type: ignore[arg-type]
    except HTTPError as exc:
        return exc.status, exc.body["error"]


def _zstd(data: bytes, *args: str) -> bytes:
    assert ZSTD is not None
    return subprocess.run([ZSTD, "-q", "-c", *args], input=data, capture_output=True, check=True).stdout


def _chunk(kind: int, payload: bytes) -> bytes:
    return bytes([kind]) + len(payload).to_bytes(3, "little") + payload


def _varint(n: int) -> bytes:
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])


@pytest.fixture
def trail(real: Path) -> bytes:
    return (real / "panther-analysis/extracted/cloudtrail.json").read_bytes()


def test_snappy_chunks_past_64_kib_are_broken_streams(trail: bytes) -> None:
    """framing_format.txt 4.2/4.3: a data chunk holds at most 65,536 bytes uncompressed. Red
    before: a compressed chunk inflating past that was answered 413 ('exceeds the limit of
    65536', whatever max_decompressed_bytes), an uncompressed one was taken."""
    big = trail[:70000]
    assert len(big) == 70000
    compressed = SID + _chunk(0x00, b"\0\0\0\0" + bytes(cramjam.snappy.compress_raw(big)))
    plain = SID + _chunk(0x01, b"\0\0\0\0" + big)
    for body in (compressed, plain):
        status, msg = _status("snappy", body)
        assert status == 400 and "65536" in msg, msg
    at_most = SID + _chunk(0x01, b"\0\0\0\0" + big[:65536])  # the largest legal chunk
    assert _status("snappy", at_most) == (200, big[:65536])


def test_snappy_framing_hostile_and_legal(trail: bytes) -> None:
    framed = bytes(cramjam.snappy.compress(trail))
    body = framed[len(SID) :]
    raw = bytes(cramjam.snappy.compress_raw(trail))
    pre = len(_varint(len(trail)))
    legal = {
        "skippable and padding chunks": SID + _chunk(0x80, b"vendor") + body + _chunk(0xFE, b"\0" * 300),
        "a second stream identifier (streams concatenated)": framed + framed,
        "no identifier before the second stream (spec: only the first must have one)": framed + body,
    }
    for what, b in legal.items():
        status, out = _status("snappy", b, 8 << 20)
        assert status == 200 and out.startswith(trail), what
    hostile = {
        "preamble shorter than the data": _varint(len(trail) - 100) + raw[pre:],
        "preamble longer than the data": _varint(len(trail) + 100) + raw[pre:],
        "preamble only": _varint(1000),
        "preamble of six bytes": b"\x80" * 5 + b"\x01",
        "cut raw block": raw[:-9],
        "reserved unskippable chunk": SID + _chunk(0x02, b"abcd"),
        "bad stream identifier mid-stream": framed + b"\xff\x06\x00\x00sNaPpZ",
        "chunk header cut": framed + b"\x00\x01",
        "chunk cut": framed[:-5],
        "data chunk without checksum": SID + _chunk(0x00, b"\0\0"),
        "garbage block in a chunk": SID + _chunk(0x00, b"\0\0\0\0\x05abc"),
    }
    for what, b in hostile.items():
        status, msg = _status("snappy", b, 8 << 20)
        assert status == 400 and "snappy" in msg, (what, status, msg)
    status, msg = _status("snappy", b"\xff\xff\xff\x7f" + b"\0" * 16, 8 << 20)  # claims 256 MiB
    assert status == 413 and str(8 << 20) in msg


@needs_zstd
def test_zstd_hostile_and_legal(trail: bytes) -> None:
    z = _zstd(trail)
    skippable = struct.pack("<II", 0x184D2A5E, 6) + b"vendor"  # RFC 8878 3.1.2
    for b in (skippable + z, z + skippable, z + z, _zstd(trail, "--check")):
        status, out = _status("zstd", b, 8 << 20)
        assert status == 200 and out.startswith(trail)

    def frame(fcs: int, payload: bytes = b"hello") -> bytes:  # single segment, 8-byte content size, one raw block
        return b"\x28\xb5\x2f\xfd\xe0" + struct.pack("<Q", fcs) + bytes([(len(payload) << 3) | 1, 0, 0]) + payload

    assert _status("zstd", frame(5), 8 << 20) == (200, b"hello")
    checked = _zstd(trail, "--check")
    hostile = {
        "truncated": z[:-5],
        "half": z[: len(z) // 2],
        "magic only": z[:4],
        "garbage after a frame": z + b"garbage!",
        "zeros after a frame": z + b"\0" * 8,
        "bad checksum": checked[:-1] + bytes([checked[-1] ^ 1]),
        "header claims 1 TiB": frame(1 << 40),
        "header claims 200 MiB": frame(200 << 20),
        "header claims less than the block": frame(3),
    }
    for what, b in hostile.items():
        status, msg = _status("zstd", b, 8 << 20)
        assert status == 400 and "zstd" in msg, (what, status, msg)


_BOMB = """
import resource, sys
from secpipe.server.http import HTTPError, Limits, inflate
class R:
    headers = {"content-encoding": sys.argv[1]}
body = open(sys.argv[2], "rb").read()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    inflate(R(), body, Limits(max_decompressed_bytes=int(sys.argv[3])))
    print("200", 0)
except HTTPError as exc:
    print(exc.status, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
"""


@needs_zstd
@pytest.mark.parametrize("enc", ["zstd", "snappy"])
def test_a_bomb_holds_the_limit_and_a_piece(enc: str, tmp_path: Path) -> None:
    """128 MiB of zeros against a 48 MiB limit, in a subprocess: 413, and its peak RSS grows by
    no more than the limit and 8 MiB (the pieces read so far; never the whole)."""
    zeros = b"\0" * (128 << 20)
    path = tmp_path / "bomb"
    path.write_bytes(_zstd(zeros) if enc == "zstd" else bytes(cramjam.snappy.compress(zeros)))
    del zeros
    limit = 48 << 20
    out = subprocess.run([sys.executable, "-c", _BOMB, enc, str(path), str(limit)], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert out[0] == "413"
    grew_kib = int(out[1])  # ru_maxrss is in KiB on Linux
    assert grew_kib <= (limit + (8 << 20)) >> 10, grew_kib
