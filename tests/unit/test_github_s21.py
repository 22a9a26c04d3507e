"""Session 21: GitHub webhook uid digests made two records at a time.

``HookScanner.scan_head``/``scan_checked`` with ``defer`` leave a record's SHA-256 to be made with
the next deferred scan's (``sha_x2``: SHA-NI rounds of two records interleaved, where the CPU has
them; else one by one), and ``HookScanner.digests`` gives them in scan order. The contract: the same
digests as ``uid_hasher`` (``prefix || record``) for every record the scan gives values, none for
the ones it declines, none left over after ``digests``; and ``metadata.uid`` of a decode unchanged.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.formats import github
from secpipe.formats.base import uid_prefix

CORPUS = Path(__file__).resolve().parents[3] / "shared/data/real/octokit-webhooks/payload-examples/api.github.com"


def _scanner():  # type: ignore[no-untyped-def]
    scanner = github._scanner()
    if scanner is None:
        pytest.skip("no native extension")
    scanner.digests()  # nothing left from another test
    return scanner


def _payloads() -> list[bytes]:
    files = sorted(CORPUS.glob("*/*.json"))
    if not files:
        pytest.skip("octokit corpus not found")
    return [json.dumps(json.loads(f.read_bytes()), separators=(",", ":"), ensure_ascii=False).encode() for f in files]


def _sha(record: bytes) -> bytes:
    return hashlib.sha256(uid_prefix("github") + record).digest()


@pytest.mark.parametrize("count", [0, 1, 2, 3, 7, 64])
def test_deferred_digests_are_sha256_in_scan_order(count: int) -> None:
    """Odd and even counts (the last record hashed alone by ``digests``), records of every size
    from one made tiny to the corpus' largest, read from a document or as records of their own."""
    scanner = _scanner()
    rng = random.Random(count)
    pool = [*_payloads(), b'{"sender":{"login":"a"}}', b'{"zen":"x","hook_id":1}']
    recs = [rng.choice(pool) for _ in range(count)]
    doc = b"\n".join(recs)
    want, at = [], 0
    for k, rec in enumerate(recs):
        got = (scanner.scan_checked(doc, at, at + len(rec), github._HEAD, True) if k % 2
               else scanner.scan_head(rec, 0, len(rec), github._HEAD, True))  # fmt: skip
        assert got is not None and got[2] is None
        want.append(_sha(rec))
        at += len(rec) + 1
    assert scanner.digests() == want
    assert scanner.digests() == []


def test_declined_records_take_no_digest() -> None:
    """A record the scan declines (a duplicate key, not JSON) adds no digest, and the pending one
    is still hashed with the next record given values."""
    scanner = _scanner()
    good = _payloads()[:5]
    bad = [b'{"a":1,"a":2}', b'{"sender":', b"[]"]
    recs = [good[0], bad[0], good[1], bad[1], bad[2], good[2], good[3], bad[0], good[4]]
    want = []
    for rec in recs:
        got = scanner.scan_checked(rec, 0, len(rec), github._HEAD, True)
        if rec in bad:
            assert got is None
        else:
            want.append(_sha(rec))
    assert scanner.digests() == want


def test_undeferred_scan_still_gives_its_digest() -> None:
    scanner = _scanner()
    for rec in _payloads()[:20]:
        assert scanner.scan_head(rec, 0, len(rec), github._HEAD)[2] == _sha(rec)
    assert scanner.digests() == []


def test_decode_uids_are_the_records_sha256() -> None:
    """Every stored ``metadata.uid`` is the first 128 bits of the record's SHA-256, for a kept
    document, its split records, one payload a call, and a document with a bad line in the middle
    (the records are read again: digests of the first pass must not leak into the second)."""
    fmt = formats.get("github")
    payloads = _payloads()
    recs = [p[:-1] + b',"_seq":%d}' % i for i, p in enumerate(payloads * 2)]
    uids = {_sha(r)[:16].hex() for r in recs}
    for body in (b"\n".join(recs), b"\n".join(recs[:50] + [b'{"sender":{"x":1}'] + recs[50:])):
        dec = fmt.decode(body, "test")
        got = [u for batch in dec.batches for u in batch.column("metadata").field("uid").to_pylist()]
        assert sorted(got) == sorted(uids)
    got = [u for r in recs[:9] for b in fmt.decode(r, "test").batches for u in b.column("metadata").field("uid").to_pylist()]
    assert sorted(got) == sorted(_sha(r)[:16].hex() for r in recs[:9])
