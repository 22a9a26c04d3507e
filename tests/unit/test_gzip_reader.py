"""The gzip reader of batch ingest (`sources.files._Raw`): the first inflate is sized from the
file's gzip trailer (ISIZE), a hint that belongs to the last member and can lie. Whatever it
says, what comes out must be what `gzip.decompress` (every member, in order) gives, and a
damaged stream must still be reported, not returned short."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe.sources import files


def _read_all(path: Path, n: int = 64 * 1024) -> tuple[bytes, str | None]:
    r = files._Raw(str(path))
    try:
        parts = []
        while b := r.read(n):
            parts.append(b)
        return b"".join(parts), r.error
    finally:
        r.close()


def test_single_member_is_inflated_from_its_trailer_size(real: Path, tmp_path: Path) -> None:
    raw = (real / "panther-analysis/extracted/cloudtrail.json").read_bytes()
    p = tmp_path / "ct.json.gz"
    p.write_bytes(gzip.compress(raw))
    r = files._Raw(str(p))
    assert r.sized == len(raw) + 1  # the hint is taken from the trailer
    r.close()
    assert _read_all(p) == (raw, None)


def _member(data: bytes, level: int) -> bytes:
    return gzip.compress(data, compresslevel=level, mtime=0)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 40_000), min_size=2, max_size=4),
    skew=st.sampled_from([-1, 0, 1, 2, None]),
    level=st.sampled_from([1, 6, 9]),
    n=st.sampled_from([1, 4096, 1 << 20]),
)
def test_concatenated_members_whatever_the_last_trailer_says(tmp_path_factory, sizes, skew, level, n) -> None:  # type: ignore[no-untyped-def]
    """Members of random sizes; ``skew`` makes the first member's output end just before, at,
    or just after the size the (last member's) trailer names: the sized first inflate is then
    cut short mid-member or at its trailer, and must go on."""
    if skew is not None:  # first member's length relative to the last member's ISIZE + 1
        sizes[0] = max(0, sizes[-1] + 1 + skew)
    blobs = [bytes((i * 7 + j) % 251 for j in range(s)) if i % 2 else b"x" * s for i, s in enumerate(sizes)]
    p = tmp_path_factory.mktemp("gz") / "m.gz"
    p.write_bytes(b"".join(_member(b, level) for b in blobs))
    assert _read_all(p, n) == (b"".join(blobs), None)


def test_a_trailer_claiming_more_than_deflate_can_give_is_not_used(tmp_path: Path) -> None:
    body = _member(b"a" * 1000, 6)
    p = tmp_path / "lie.gz"
    p.write_bytes(body[:-4] + struct.pack("<I", 0xFFFFFFF0))  # ISIZE 4 GB from a ~40-byte file
    r = files._Raw(str(p))
    assert r.sized == 0  # no 4 GB buffer asked for
    r.close()
    out, err = _read_all(p)
    assert err is not None and "corrupt gzip" in err  # the lying trailer fails the member's length check


def test_a_damaged_trailer_size_is_reported_not_trusted(tmp_path: Path) -> None:
    body = _member(b"event\n" * 5000, 6)
    for claim in (10, 30000 - 1, 30000 + 1):
        p = tmp_path / f"bad{claim}.gz"
        p.write_bytes(body[:-4] + struct.pack("<I", claim))
        out, err = _read_all(p)
        assert err is not None and "corrupt gzip" in err, claim


def test_truncated_stream_is_still_reported(tmp_path: Path) -> None:
    body = _member(b"line\n" * 20000, 6)
    p = tmp_path / "cut.gz"
    p.write_bytes(body[: len(body) // 2])
    out, err = _read_all(p)
    assert err == "truncated gzip stream (ended before the gzip trailer)"
    assert b"line\n" * (len(out) // 5) == out  # what came out is a prefix of the content
