"""A JSON document printed over several lines whose first line holds a string that is not UTF-8
(found by the mutation fuzzer, seed 3305 round 4208): msgspec raises UnicodeDecodeError there,
not DecodeError, and ``secpipe ingest`` crashed on it. It is dead-lettered with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from secpipe.runtime.batch import ingest_files
from secpipe.runtime.pipeline import Pipeline


@pytest.mark.parametrize("fmt", ["json", "github_actions", "auto"])
def test_spread_json_not_utf8_is_dead_lettered(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "page.json"
    path.write_bytes(b'{"title": "caf\xc0", "items": [\n  {"a": 1}\n]}\n')
    pipe = Pipeline(tmp_path / "d")
    ingest_files(pipe, [str(path)], fmt)  # red before (json, github_actions): UnicodeDecodeError
    res = pipe.flush()
    assert sum(res.stored.values()) == 0 and pipe.totals.dead_letter == 1
