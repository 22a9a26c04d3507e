"""State files written with ``store._durable.write_file_atomic`` on a real full disk (tmpfs):
a refused write raises, leaves the previous file whole and readable, and leaves no temp file
taking space; the retry after space is back writes it. Before the move, the retention state,
user list, file-source checkpoint, anomaly baselines, Sigma correlation state and intel feed
status each left their temp file behind on ENOSPC (the retention state was not fsynced at all)."""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from secpipe.detect.anomaly import state as anomaly_state
from secpipe.detect.sigma.correlation import CorrelationEngine
from secpipe.security.users import UserStore
from secpipe.sources.tail import FileSource, FileState
from secpipe.store import retention
from tests.faults_disk import fill, small_disk

Writer = Callable[[Path, int], None]  # (data dir, version) -> write the state
Reader = Callable[[Path], Any]  # data dir -> what a reader sees


def _retention(data: Path, v: int) -> None:
    retention.update_state(data, ttl=("api_activity", v))


def _retention_read(data: Path) -> Any:
    return retention.load_policy(data, {}).classes


def _users(data: Path, v: int) -> None:
    store = UserStore(data)
    if v == 1:
        store.add("alice", "viewer", "test")
    else:
        store.set_role("alice", "analyst", "test")


def _users_read(data: Path) -> Any:
    return [(u["name"], u["role"]) for u in UserStore(data).list()]


def _tail(data: Path, v: int) -> None:
    src = FileSource("logs", [str(data / "in")], "auto", types.SimpleNamespace(data_dir=data))
    src.files = {"/var/log/x": FileState(dev=1, ino=2, offset=v * 1000)}
    src.save()


def _tail_read(data: Path) -> Any:
    return FileSource("logs", [str(data / "in")], "auto", types.SimpleNamespace(data_dir=data)).files["/var/log/x"].offset


def _anomaly(data: Path, v: int) -> None:
    anomaly_state.save(data / "anomaly", anomaly_state.Baselines(rare={"r": {"k": v}}))


def _anomaly_read(data: Path) -> Any:
    return anomaly_state.load(data / "anomaly").rare


def _correlation(data: Path, v: int) -> None:
    engine = CorrelationEngine(types.SimpleNamespace(rules=[], correlations=[]), data / "sigma" / "correlation.json")
    engine.state = {"c": {"k": [[v]]}}
    (data / "sigma").mkdir(parents=True, exist_ok=True)
    engine.save()


def _correlation_read(data: Path) -> Any:
    return msgspec.json.decode((data / "sigma" / "correlation.json").read_bytes())


WRITERS = {
    "retention": (_retention, _retention_read),
    "users": (_users, _users_read),
    "tail-checkpoint": (_tail, _tail_read),
    "anomaly-baselines": (_anomaly, _anomaly_read),
    "sigma-correlation": (_correlation, _correlation_read),
}


def _temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and (p.suffix == ".tmp" or p.name.startswith(".tmp-"))]


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_a_refused_state_write_keeps_the_old_file_and_no_temp(tmp_path: Path, name: str) -> None:
    write, read = WRITERS[name]
    with small_disk(tmp_path, "1m") as mnt:
        data = mnt / "data"
        data.mkdir()
        write(data, 1)
        before = read(data)
        filler = fill(mnt)
        try:
            with pytest.raises(OSError):
                write(data, 2)
            assert read(data) == before  # the previous state, whole
            assert _temps(mnt) == [], "a refused write leaves no temp file taking space"
        finally:
            filler.free()
        write(data, 2)
        assert read(data) != before
        assert _temps(mnt) == []
