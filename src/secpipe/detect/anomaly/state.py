"""Baselines of the anomaly detectors, and their durable snapshot.

The state is plain dicts keyed by distinct values (entities, values, windows), so its size
follows the cardinality of the data, not the event count. It is saved as one msgpack file,
``baselines.msgpack``, written to a temp name, fsynced and renamed over the previous one:
a crash leaves either the old or the new snapshot, never a torn one. A snapshot written by
another version of this format is refused with an error that says how to start afresh.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from secpipe.errors import SecpipeError
from secpipe.store._durable import write_file_atomic

STATE_VERSION = 1
FILE_NAME = "baselines.msgpack"


class StateError(SecpipeError):
    """A saved baseline that cannot be read."""


class Baselines(msgspec.Struct):
    """Everything the detectors learned; keys are rule keys (see options)."""

    version: int = STATE_VERSION
    #: rate rule -> entity -> window index -> events in that window.
    rate: dict[str, dict[str, dict[int, int]]] = msgspec.field(default_factory=dict)
    #: rate rule -> entity -> window indexes already reported.
    alerted: dict[str, dict[str, list[int]]] = msgspec.field(default_factory=dict)
    #: first-seen rule/path -> entity -> value -> first time seen (ms).
    seen: dict[str, dict[str, dict[str, int]]] = msgspec.field(default_factory=dict)
    #: first-seen rule/path -> entity -> [first time seen (ms), events].
    entities: dict[str, dict[str, list[int]]] = msgspec.field(default_factory=dict)
    #: rare rule -> value key (parts joined by U+001F) -> events.
    rare: dict[str, dict[str, int]] = msgspec.field(default_factory=dict)
    #: rare rule -> [first time (ms), last time (ms), events] across the fleet.
    fleet: dict[str, list[int]] = msgspec.field(default_factory=dict)


_ENC = msgspec.msgpack.Encoder()
_DEC = msgspec.msgpack.Decoder(Baselines)


def load(directory: Path) -> Baselines:
    """The saved baselines in ``directory`` (empty ones when nothing was saved yet)."""
    path = Path(directory) / FILE_NAME
    if not path.exists():
        return Baselines()
    try:
        state = _DEC.decode(path.read_bytes())
    except msgspec.DecodeError as exc:
        msg = f"{path}: unreadable anomaly baseline ({exc}) — move the file away to start a new baseline"
        raise StateError(msg) from exc
    if state.version != STATE_VERSION:
        msg = f"{path}: baseline format version {state.version}, this secpipe reads {STATE_VERSION} — move the file away to start a new baseline"
        raise StateError(msg)
    return state


def save(directory: Path, state: Baselines) -> Path:
    """Write the snapshot atomically (temp file, fsync, rename, fsync dir)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / FILE_NAME
    write_file_atomic(path, _ENC.encode(state), directory / f".tmp-{FILE_NAME}")
    return path
