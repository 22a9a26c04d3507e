"""``Service.accept_push``: one payload a POST acknowledged once in the WAL, mapped afterwards.

What must hold (runtime/service.py): a flush maps every payload acknowledged before its WAL
rotation before it commits and releases those segments; a storage failure while mapping them
keeps them (in memory and in the WAL) for the next attempt; a body the format does not
recognize, or that does not split, is decoded before the answer. Alerts are the real Falco
output in ../shared/data/real/falco (falcosecurity/falco test data).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe.runtime import service as service_mod
from secpipe.runtime.service import Service
from secpipe.store.wal import WAL
from tests.helpers import query


def _alerts(real: Path, n: int) -> list[bytes]:
    lines = [json.loads(x) for x in (real / "falco/test/output_files/single_rule_with_cat_write.json").read_bytes().splitlines() if x.strip()]
    return [json.dumps({**lines[0], "output_fields": {**lines[0]["output_fields"], "proc.pid": i}}).encode() for i in range(n)]


def _findings(data: Path) -> int:
    return int(query(data, "SELECT count(*) AS n FROM detection_finding")[0]["n"])


def _wal_records(data: Path) -> int:
    wal = WAL(data / "wal")
    try:
        return sum(1 for _ in wal.replay())
    finally:
        wal.close()


@pytest.fixture
def svc(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Service:
    monkeypatch.setattr(service_mod, "PUSH_LINGER_SECONDS", 30.0)  # the mapper never gets there first
    s = Service(data_dir)
    s.start()
    return s


def test_flush_maps_acknowledged_pushes_before_it_releases_their_segments(svc: Service, data_dir: Path, real: Path) -> None:
    for body in _alerts(real, 5):
        res = svc.accept_push("falco", "falco_http:test", body)
        assert (res.events, res.accepted, res.dead_letter) == (1, 1, 0)
    assert svc.pipeline.lake.pending_rows == 0 and svc.pushed_waiting == 5  # acknowledged, not mapped yet
    svc.flush()
    assert svc.pushed_waiting == 0
    assert _findings(data_dir) == 5
    svc.close()
    assert _wal_records(data_dir) == 0  # released only once in the lake


def test_a_failed_store_keeps_the_pushes_for_the_next_flush(svc: Service, data_dir: Path, real: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for body in _alerts(real, 3):
        svc.accept_push("falco", "falco_http:test", body)
    submit = svc.pipeline.submit

    def full(_decoded: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(svc.pipeline, "submit", full)
    with pytest.raises(OSError):
        svc.flush()
    assert _wal_records(data_dir) == 3  # the rotated segment is kept
    monkeypatch.setattr(svc.pipeline, "submit", submit)
    svc.flush()
    assert _findings(data_dir) == 3
    svc.close()
    assert _wal_records(data_dir) == 0


def test_unrecognized_or_unsplittable_bodies_are_decoded_before_the_answer(svc: Service, data_dir: Path) -> None:
    res = svc.accept_push("falco", "falco_http:test", b'{"hello": "world"}')  # valid JSON, not an alert
    assert (res.accepted, res.dead_letter) == (0, 1) and res.reasons
    res = svc.accept_push("falco", "falco_http:test", b'{"rule": "x", "priority": "Warning", "output": ')
    assert (res.accepted, res.dead_letter) == (0, 1) and res.reasons
    svc.close()
    assert int(query(data_dir, "SELECT count(*) AS n FROM dead_letter")[0]["n"]) == 2


def test_close_maps_what_is_still_waiting(svc: Service, data_dir: Path, real: Path) -> None:
    for body in _alerts(real, 4):
        svc.accept_push("falco", "falco_http:test", body)
    svc.close()
    assert _findings(data_dir) == 4
