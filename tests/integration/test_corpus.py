"""Every real sample in ../shared/data/real parses: what is stored matches what each file holds.

The expectations come from the workplace's own checker (``../shared/tools/corpus-check``: its
count rules per format, read from the files themselves); this test applies them in-process
through the same path as `secpipe ingest --format auto` (read_documents -> decode -> lake), so
it runs in seconds. Files meant to be rejected must be dead-lettered with a reason. Real
samples the checker does not list (Snyk audit logs) are added with its count rules.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

import pytest

from secpipe.runtime.batch import ingest_files
from secpipe.runtime.pipeline import Pipeline
from tests.conftest import SHARED

CHECK = SHARED / "tools" / "corpus-check"


def _checker():
    loader = importlib.machinery.SourceFileLoader("corpus_check", str(CHECK))
    spec = importlib.util.spec_from_loader("corpus_check", loader)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def _cases() -> list[tuple[str, Path, tuple[int, int] | None]]:
    if not CHECK.exists():
        return []
    check = _checker()
    # real samples the checker does not list, counted by its own rules
    extra = SHARED / "data" / "real" / "panther-analysis" / "extracted" / "snyk_audit.jsonl"
    return [*check.cases(set()), *([("snyk_audit", extra, check.lines(extra))] if extra.exists() else [])]


CASES = _cases()


@pytest.mark.parametrize(("group", "path", "expected"), CASES,
                         ids=[f"{g}:{p.name}" for g, p, _ in CASES])
def test_real_sample(group: str, path: Path, expected: tuple[int, int] | None, tmp_path: Path) -> None:
    pipe = Pipeline(tmp_path / "data")
    ingest_files(pipe, [str(path)], "auto")
    pipe.flush()
    stored = sum(pipe.totals.stored.values())
    dead = pipe.totals.dead_letter
    if expected is None:
        assert stored == 0 and dead >= 1, f"{path}: must be dead-lettered, stored {stored}"
    else:
        lo, hi = expected
        assert lo <= stored <= hi and dead == 0, f"{path}: stored {stored} (want {lo}..{hi}), dead letters {dead}"
