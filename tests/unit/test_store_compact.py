"""Lake and dead-letter compaction: small part files merge into few; rows, uids, queries and dedup unchanged;
an interrupted compaction is finished or dropped when the lake opens; encrypted lakes stay
sealed; `secpipe up` compacts on its own (``compact_seconds``) and honours the lake sink's
options (``max_seconds``, ``raw_data``); the lake's cache of committed uids stays bounded."""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from secpipe.formats import get
from secpipe.runtime.service import Service
from secpipe.security import crypto
from secpipe.security.keys import generate_key
from secpipe.store import compact
from secpipe.store.dlq import DeadLetterStore
from secpipe.store.lake import Lake
from secpipe.store.query import run

SQL = ("SELECT metadata.uid AS uid, time, api.operation AS op, status_id, to_json(actor) AS actor, raw_data "
       "FROM api_activity ORDER BY uid")  # fmt: skip


def _trickle(data: Path, real: Path, commits: int = 24) -> list[bytes]:
    """Commit the real CloudTrail sample in ``commits`` small pieces (as a quiet `secpipe up` does)."""
    doc = json.loads((real / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes())
    records = doc["Records"]
    lake = Lake(data / "lake")
    step = len(records) // commits + 1
    bodies = [json.dumps({"Records": records[i : i + step]}).encode() for i in range(0, len(records), step)]
    for body in bodies:
        for b in get("cloudtrail").decode(body, "test").batches:
            lake.append(b)
        lake.flush()
    return bodies


def _parts(data: Path) -> list[Path]:
    return sorted((data / "lake").rglob("part-*.parquet"))


def test_small_files_merge_and_nothing_changes(data_dir: Path, real: Path) -> None:
    bodies = _trickle(data_dir, real)
    before_files = _parts(data_dir)
    cols, before = run(data_dir, SQL)
    assert len(before_files) > 24  # several days per commit
    res = compact.compact(data_dir / "lake", min_files=2)
    after_files = _parts(data_dir)
    assert res.files_in > res.files_out and len(after_files) < len(before_files)
    days = {f.parent for f in before_files}  # per class and day
    assert len(after_files) == len(days), "one merged file per day partition"
    assert run(data_dir, SQL) == (cols, before), "same rows, same values"
    assert not list((data_dir / "lake").rglob(".compact-*")) and not list((data_dir / "lake").rglob(".tmp-*"))
    # the dedup index reads the merged files: the same input again stores nothing
    lake = Lake(data_dir / "lake")
    for body in bodies:
        for b in get("cloudtrail").decode(body, "test").batches:
            lake.append(b)
    res2 = lake.flush()
    sent = sum(len(json.loads(b)["Records"]) for b in bodies)  # api_activity + authentication
    assert res2.stored == {} and res2.duplicates == sent > len(before)
    # a second run finds nothing to do
    assert compact.compact(data_dir / "lake", min_files=2).files_in == 0


def test_below_min_files_nothing_is_merged(data_dir: Path, real: Path) -> None:
    _trickle(data_dir, real, commits=3)
    files = _parts(data_dir)
    assert compact.compact(data_dir / "lake", min_files=50).files_in == 0
    assert _parts(data_dir) == files


@pytest.mark.parametrize("output_written", [True, False])
def test_interrupted_compaction_is_finished_or_dropped(data_dir: Path, real: Path, output_written: bool) -> None:
    _trickle(data_dir, real)
    cols, before = run(data_dir, SQL)
    part = max({f.parent for f in _parts(data_dir)}, key=lambda p: len(list(p.glob("part-*"))))
    inputs = sorted(part.glob("part-*.parquet"))
    assert len(inputs) >= 2
    output = "part-" + "ab" * 16 + ".parquet"
    (part / ".compact-interrupted.json").write_bytes(orjson.dumps({"output": output, "inputs": [f.name for f in inputs]}))
    if output_written:  # crash after the merged file's rename, before every input was deleted
        merged = [pq.read_table(f) for f in inputs]
        pq.write_table(pa.concat_tables(merged, promote_options="permissive"), part / output)
        inputs[0].unlink()
    Lake(data_dir / "lake")  # opening the lake recovers
    assert not list(part.glob(".compact-*"))
    left = sorted(part.glob("part-*.parquet"))
    assert left == ([part / output] if output_written else inputs)
    assert run(data_dir, SQL) == (cols, before), "no row lost, none doubled"


def test_encrypted_lake_stays_sealed(data_dir: Path, real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECPIPE_MASTER_KEY", generate_key())
    crypto.reset_cache()
    try:
        crypto.enable(data_dir)
        _trickle(data_dir, real, commits=10)
        cols, before = run(data_dir, SQL)
        cipher = crypto.for_data_dir(data_dir)
        assert compact.compact(data_dir / "lake", cipher, min_files=2).files_in > 0
        files = _parts(data_dir)
        assert files and all(crypto.is_sealed(f.read_bytes()[:4]) for f in files)
        assert run(data_dir, SQL) == (cols, before)
    finally:
        crypto.reset_cache()


def test_service_compacts_and_honours_lake_options(data_dir: Path, real: Path) -> None:
    body = (real / "panther-analysis" / "extracted" / "cloudtrail.json").read_bytes()
    records = json.loads(body)["Records"]
    svc = Service(data_dir, max_seconds=0.01, compact_seconds=0.01, raw_data=False)
    svc.start()
    try:
        for i in range(0, len(records), 20):
            svc.accept("cloudtrail", "test", json.dumps({"Records": records[i : i + 20]}).encode())
            svc.flush()
        os.sync()
        svc._compacted = 0.0  # due now  # noqa: SLF001
        svc._compact_when_due()  # noqa: SLF001
    finally:
        svc.close()
    days = {f.parent for f in _parts(data_dir)}
    assert all(len(list(d.glob("part-*.parquet"))) < compact.MIN_FILES for d in days)
    cols, rows = run(data_dir, "SELECT count(*) FROM api_activity")
    assert rows[0][0] > 250
    assert "raw_data" not in pq.read_schema(_parts(data_dir)[0]).names, "raw_data: false stores no raw record"


def test_dead_letter_files_merge(data_dir: Path, real: Path) -> None:
    """A shipper sending bad bodies writes a dead-letter file per request; they merge the same way."""
    good = (real / "panther-analysis" / "extracted" / "k8s_audit.jsonl").read_bytes().splitlines()
    store = DeadLetterStore(data_dir / "dlq")
    for i, line in enumerate(good[:20]):
        store.write(get("k8s_audit").decode(line[: len(line) // 2], f"http:shipper:{i}").dead)  # cut mid-record
    sql = "SELECT source, reason, sha256, raw FROM dead_letter ORDER BY source"
    before = run(data_dir, sql)
    files = sorted((data_dir / "dlq").rglob("part-*.parquet"))
    assert len(files) == 20 and len(before[1]) == 20
    res = compact.compact(data_dir / "dlq", min_files=2, partitions=compact.DLQ_PARTITIONS)
    assert res.files_in == 20 and len(sorted((data_dir / "dlq").rglob("part-*.parquet"))) == 1
    assert run(data_dir, sql) == before


def test_cached_uids_are_bounded_and_dedup_stays_exact(data_dir: Path, real: Path) -> None:
    """The committed-uid cache keeps at most ``max_cached_uids`` (least recently used partitions
    go first); an evicted partition is read again from its files, so dedup stays exact."""
    bodies = _trickle(data_dir, real, commits=4)
    lake = Lake(data_dir / "lake", max_cached_uids=10)
    for body in bodies:
        for b in get("cloudtrail").decode(body, "test").batches:
            lake.append(b)
        res = lake.flush()
        assert res.stored == {}
        assert sum(ix.size for ix in lake._uids.values()) <= 10 or len(lake._uids) == 1  # noqa: SLF001
