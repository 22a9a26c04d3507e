"""File source: growth, partial lines, rotation (rename+create, copytruncate), restart, CloudTrail trees.

Runs the source's ``poll()`` directly against a real Service (WAL + lake) in a temp data
directory, so every step is deterministic without sleeping; the end-to-end test at the
bottom runs it inside `secpipe up --config`.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from secpipe.errors import UnknownFormatError
from secpipe.runtime.service import Service
from secpipe.sources.tail import FileSource, FileSourceError
from secpipe.store.query import run


def lines(start: int, n: int, tag: str = "t") -> bytes:
    return b"".join(json.dumps({"@timestamp": "2024-02-03T04:05:06Z", "n": i, "tag": tag}).encode() + b"\n"
                    for i in range(start, start + n))  # fmt: skip


@pytest.fixture
def service(data_dir: Path) -> Iterator[Service]:
    svc = Service(data_dir)
    yield svc
    svc.close()


def stored(svc: Service, where: str = "true") -> list[int]:
    svc.flush()
    _cols, rows = run(svc.data_dir, f"SELECT CAST(json_extract(unmapped, '$.n') AS INT) FROM base_event WHERE {where} ORDER BY 1")
    return [r[0] for r in rows]


def src(svc: Service, *paths: Path, fmt: str = "json", name: str = "t") -> FileSource:
    return FileSource(name, [str(p) for p in paths], fmt, svc, poll_seconds=0.05)


def test_growth_and_partial_lines(tmp_path: Path, service: Service) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines(0, 10))
    s = src(service, log)
    s.poll()
    with open(log, "ab") as fh:
        fh.write(lines(10, 5) + b'{"@timestamp": "2024-02-03T04:05:06Z", "n": 15, "ta')  # partial last line
    s.poll()
    assert stored(service) == list(range(15))
    with open(log, "ab") as fh:
        fh.write(b'g": "t"}\n')
    s.poll()
    assert stored(service) == list(range(16))
    assert service.pipeline.totals.events == 16  # each line read exactly once
    s.stop()


def test_rename_rotation_drains_old_file(tmp_path: Path, service: Service) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines(0, 5))
    s = src(service, log)
    s.poll()
    with open(log, "ab") as fh:
        fh.write(lines(5, 5))  # written just before rotation, not read yet
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(lines(10, 3))
    s.poll()
    assert stored(service) == list(range(13))
    assert service.pipeline.totals.events == 13
    s.stop()


def test_writer_keeps_writing_to_the_rotated_file(tmp_path: Path, service: Service) -> None:
    log = tmp_path / "app.log"
    writer = open(log, "ab")  # noqa: SIM115 - the "application" holding its log open
    writer.write(lines(0, 3))
    writer.flush()
    s = FileSource("t", [str(log)], "json", service, rotate_wait=60)
    s.poll()
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(lines(100, 2))
    s.poll()
    writer.write(lines(3, 4) + b'{"n": 7, "tag": "t"}')  # before the app reopens; last line unterminated
    writer.close()
    s.poll()
    assert stored(service) == [0, 1, 2, 3, 4, 5, 6, 100, 101]
    s.rotate_wait = 0
    for rec in s.files.values():
        rec.drain_until = 0
    s.poll()  # wait over: the partial last line is taken and the old file forgotten
    assert stored(service) == [0, 1, 2, 3, 4, 5, 6, 7, 100, 101]
    assert list(s.files) == [str(log)]
    s.stop()


def test_rotation_while_stopped_is_found_by_inode(tmp_path: Path, service: Service) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines(0, 4))
    s = src(service, log)
    s.poll()
    s.stop()
    with open(log, "ab") as fh:
        fh.write(lines(4, 4))
    os.rename(log, tmp_path / "app.log.1")
    log.write_bytes(lines(8, 2))
    s2 = src(service, log)
    s2.poll()
    assert stored(service) == list(range(10))
    assert service.pipeline.totals.events == 10
    s2.stop()


def test_copytruncate(tmp_path: Path, service: Service) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines(0, 20))
    s = src(service, log)
    s.poll()
    shutil.copyfile(log, tmp_path / "app.log.1")
    with open(log, "r+b") as fh:
        fh.truncate(0)
    with open(log, "ab") as fh:
        fh.write(lines(100, 2))  # shorter than the old offset
    s.poll()
    assert stored(service, "json_extract_string(unmapped, '$.tag') = 't'") == [*range(20), 100, 101]
    # truncated again and quickly regrown past the old offset: the fingerprint notices
    with open(log, "r+b") as fh:
        fh.truncate(0)
    with open(log, "ab") as fh:
        fh.write(lines(200, 30, tag="u"))
    s.poll()
    assert stored(service, "json_extract_string(unmapped, '$.tag') = 'u'") == list(range(200, 230))
    s.stop()


def test_restart_resumes_without_loss_or_duplicates(tmp_path: Path, data_dir: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(lines(0, 7))
    svc = Service(data_dir)
    s = src(svc, log)
    s.poll()
    s.stop()
    svc.close()
    with open(log, "ab") as fh:
        fh.write(lines(7, 6))
    svc2 = Service(data_dir)
    s2 = src(svc2, log)
    s2.poll()
    assert svc2.pipeline.totals.events == 6  # only the new lines were read again
    assert stored(svc2) == list(range(13))
    s2.stop()
    svc2.close()
    state = json.loads((data_dir / "state/sources/t.json").read_text())
    assert state["files"][str(log)]["offset"] == log.stat().st_size


def test_corrupt_checkpoint_and_unknown_format(tmp_path: Path, service: Service) -> None:
    with pytest.raises(UnknownFormatError):
        src(service, tmp_path, fmt="nope")
    path = service.data_dir / "state/sources/bad.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    with pytest.raises(FileSourceError, match="unreadable checkpoint"):
        src(service, tmp_path, name="bad")


def _cloudtrail_tree(root: Path, records: list[dict], files: int) -> list[Path]:
    """Records split into AWS-layout .json.gz files, plus a digest file that must be skipped."""
    out = []
    per = -(-len(records) // files)
    for k in range(files):
        d = root / "AWSLogs/123456789012/CloudTrail/us-east-1/2024/01" / f"{k + 1:02d}"
        d.mkdir(parents=True, exist_ok=True)
        p = d / f"123456789012_CloudTrail_us-east-1_202401{k + 1:02d}T0000Z_abc{k}.json.gz"
        p.write_bytes(gzip.compress(json.dumps({"Records": records[k * per : (k + 1) * per]}).encode()))
        out.append(p)
    dig = root / "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/01/01"
    dig.mkdir(parents=True)
    (dig / "123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20240101T000000Z.json.gz").write_bytes(
        gzip.compress(b'{"awsAccountId":"123456789012","digestStartTime":"2024-01-01T00:00:00Z"}'))
    return out


def test_cloudtrail_tree_each_file_once(tmp_path: Path, service: Service, real: Path) -> None:
    recs = [r for r in json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_bytes())["Records"]
            if r.get("eventName") and r.get("eventSource")]  # fmt: skip
    _cloudtrail_tree(tmp_path, recs[:120], 3)
    s = FileSource("ct", [str(tmp_path / "AWSLogs") + "/**/*.json.gz"], "auto", service, poll_seconds=0.05)
    s.poll()  # sizes noted: files are read once they have stopped changing
    assert service.pipeline.totals.events == 0
    s.poll()
    assert service.pipeline.totals.events == 120 and service.pipeline.totals.dead_letter == 0
    s.poll()
    assert service.pipeline.totals.events == 120  # each file once
    more = _cloudtrail_tree(tmp_path / "later", recs[120:150], 1)[0]
    dest = tmp_path / "AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/09"
    dest.mkdir()
    shutil.move(more, dest / more.name)
    s.poll()
    s.poll()
    assert service.pipeline.totals.events == 150
    assert len(s.files) == 4
    os.remove(dest / more.name)
    s.poll()
    assert len(s.files) == 3  # deleted files are forgotten
    s.stop()
    service.flush()
    _c, rows = run(service.data_dir, "SELECT (SELECT count(*) FROM api_activity) + (SELECT count(*) FROM authentication)")
    assert rows[0][0] == len({json.dumps(r, sort_keys=True) for r in recs[:150]})


def test_file_source_in_secpipe_up(tmp_path: Path) -> None:
    from tests.integration.wire_server import start

    log = tmp_path / "live.log"
    log.write_bytes(lines(0, 3, tag="up"))
    cfg = f"sources:\n  app: {{type: file, paths: [{json.dumps(str(log))}], format: json, poll_seconds: 0.1}}\n"
    srv = start(tmp_path, cfg)
    try:
        with open(log, "ab") as fh:
            fh.write(lines(3, 4, tag="up"))
        assert srv.wait_rows("SELECT count(*) FROM base_event WHERE json_extract_string(unmapped, '$.tag') = 'up'", 7) == 7
    finally:
        srv.stop()
    time.sleep(0)
