"""Bytes after a gzip file's (or body's) last member that are not a member (RFC 1952 2.2: a gzip file is a
series of members; gzip(1) warns "decompression OK, trailing garbage ignored", Go's reader refuses them).

- A ``.gz`` file read by ``secpipe ingest`` / the file source (``sources.files._Raw``): the inflated lines
  were dropped and the file dead-lettered empty as "unrecognized input: no format matched" (or "truncated gzip
  stream" where the garbage is shorter than a member header): its lines are now read and one dead letter says
  "trailing garbage" and where it begins; a document format's file is dead-lettered whole with that reason.
- ``_gzip.gunzip_limited`` (HTTP ``Content-Encoding: gzip``, Lambda's ``awslogs.data``, Kafka values): the
  same said "truncated gzip stream" or "corrupt gzip stream: Invalid gzip/zlib wrapper found"; a body that is
  no gzip at all is now "not gzip".

Input: real auth.log lines (tests/cases/holdout/elastic-system-auth.log) and a Snyk report
(tests/cases/holdout/test-sca-with-exploit-details.json), gzipped here, then a newline appended (as ``echo >>``
does) or 100 zero bytes (a block device's padding).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from secpipe._gzip import gunzip_limited
from tests.unit import mutate

HOLDOUT = Path(__file__).resolve().parents[1] / "cases" / "holdout"
AUTH = (HOLDOUT / "elastic-system-auth.log").read_bytes()
REPORT = (HOLDOUT / "test-sca-with-exploit-details.json").read_bytes()


@pytest.mark.parametrize("tail", [b"\n", b"\0" * 100])
def test_gz_file_lines_are_read_and_the_trailing_garbage_said(tail: bytes) -> None:
    want = mutate.uids(mutate.ingest(gzip.compress(AUTH), "auto"))
    assert len(want) > 5
    data = gzip.compress(AUTH) + tail
    for fmt in ("auto", "syslog"):
        got = mutate.ingest(data, fmt)
        assert mutate.uids(got) == want  # red before: none (auto) or all but what the garbage cut off
        (dead,) = got.dead
        assert dead.reason == (f"trailing garbage: the bytes from byte {len(data) - len(tail)} of the file, after its "
                               "gzip data, are not a gzip member")


def test_gz_file_of_one_document_with_trailing_garbage_is_dead_lettered_whole_with_the_reason() -> None:
    got = mutate.ingest(gzip.compress(REPORT) + b"junk", "auto")
    (dead,) = got.dead
    assert not got.batches and dead.raw == REPORT and dead.reason.startswith("trailing garbage: ")


def test_gunzip_limited_says_not_gzip_and_trailing_garbage() -> None:
    assert gunzip_limited(gzip.compress(b"a") + gzip.compress(b"b"), 10) == b"ab"
    with pytest.raises(ValueError, match="^not gzip: the data does not begin with gzip's magic bytes 1f 8b$"):
        gunzip_limited(AUTH, 1 << 20)
    body = gzip.compress(AUTH)
    for tail in (b"\n", b"junkjunkjunkjunk"):
        with pytest.raises(ValueError, match=rf"^trailing garbage: {len(tail)} bytes after the gzip data \(from byte {len(body)}\)"):
            gunzip_limited(body + tail, 1 << 20)
    with pytest.raises(ValueError, match="^truncated gzip stream$"):  # a second member cut in its magic
        gunzip_limited(body + b"\x1f", 1 << 20)
