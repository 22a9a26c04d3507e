"""Semgrep OSS's SARIF writes ``"requires login"`` as every result's ``matchBasedId/v1`` fingerprint (the id is
made only logged in to Semgrep's platform): it is no identity, so a result's uid is its rule and place (the
semgrep JSON format skips the same placeholder), where every result's uid was ``requires login`` (then told apart
by its place only when two shared it).

Input: Semgrep's own e2e snapshot of ``semgrep --sarif`` (``tests/cases/scanners33/semgrep-oss-e2e-results.sarif``,
see SOURCES.md), and that log with a second match of the rule on another line."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from tests.unit.holdout_support import auto_decoded, conformant_rows

_LOG = Path(__file__).parents[1] / "cases" / "scanners33" / "semgrep-oss-e2e-results.sarif"


def _uids(doc: bytes, tmp_path: Path) -> list[tuple[str, list[dict]]]:
    rows = conformant_rows(auto_decoded(doc, tmp_path, "sarif"))["application_security_posture_finding"]
    return [(r["finding_info"]["uid"], r["finding_info"]["tags"]) for r in rows]


def test_requires_login_is_no_uid(tmp_path: Path) -> None:
    [(uid, tags)] = _uids(_LOG.read_bytes(), tmp_path)
    assert uid == "rules.eqeq-is-bad|targets/basic/stupid.py|3|0.0"
    assert tags == [{"name": "fingerprint:matchBasedId/v1", "value": "requires login"}]  # as the producer wrote it


def test_two_matches_two_places(tmp_path: Path) -> None:
    log = json.loads(_LOG.read_bytes())
    other = copy.deepcopy(log["runs"][0]["results"][0])
    other["locations"][0]["physicalLocation"]["region"].update(startLine=7, endLine=7)
    log["runs"][0]["results"].append(other)
    assert [u for u, _ in _uids(json.dumps(log).encode(), tmp_path)] == [
        "rules.eqeq-is-bad|targets/basic/stupid.py|3|0.0", "rules.eqeq-is-bad|targets/basic/stupid.py|7|0.1"]
