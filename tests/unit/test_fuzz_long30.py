"""What the long mutation fuzz test (``test_formats_fuzz_s21::test_mutated_samples_long``, make test-slow)
found in session 30's final CI rehearsal: each a case that failed before its fix."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from secpipe import formats
from secpipe.formats import _fast
from secpipe.formats import policy_report as pr

CASES = Path(__file__).resolve().parents[1] / "cases"


def test_policy_report_timestamp_past_any_date_is_no_time() -> None:
    """A PolicyReport result's protobuf Timestamp with seconds (or nanos) no date holds (json-value seed 60,
    on DefectDojo's Kyverno report) stopped the decode with an OverflowError: the whole report was lost.
    Such a result takes the report's time, as one without a timestamp does."""
    assert pr._ms(pr._Time(seconds=10**30)) is None and pr._ms(pr._Time(seconds=-(10**30))) is None
    assert pr._ms(pr._Time(seconds=1, nanos=10**30)) == 1000
    assert pr._ms(msgspec.convert({"seconds": 1700000000, "nanos": 5_000_000}, pr._Time)) == 1_700_000_000_005


def test_github_actions_run_with_a_url_of_another_type_is_refused_by_both_paths(monkeypatch: object) -> None:
    """A REST run whose ``url`` is a number (json-many seed 4294967296 on runs-psf-requests.json): msgspec's path
    refused it (``url`` is typed for the gh CLI's jobs), the native walk (which did not read ``url``) mapped it.
    The walk now reads every typed field, so both paths dead-letter it with msgspec's reason."""
    doc = json.loads((CASES / "github_actions28" / "runs-psf-requests.json").read_bytes())
    run = doc["workflow_runs"][0]
    doc["workflow_runs"] = [dict(run, url=42), dict(run, id=run["id"] + 1)]
    body = json.dumps(doc).encode()
    fmt = formats.get("github_actions")
    native = fmt.decode(body, "p.json")
    monkeypatch.setattr(_fast, "_module", lambda: None)  # type: ignore[attr-defined]
    plain = fmt.decode(body, "p.json")
    for out in (native, plain):
        assert [d.reason.split(" - ")[0] for d in out.dead] == ["not a GitHub Actions workflow run or job: Expected `str | null`, got `int`"]
        assert sum(b.num_rows for b in out.batches) == 1
