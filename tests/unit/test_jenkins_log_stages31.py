"""Jenkins console logs: Pipeline stages nest (round 31).

A real Declarative Pipeline console with a parallel stage (tests/cases/holdout/jenkins-console-parallel-stages.log,
see SOURCE.md): the parallel stage's two branches run their own stages inside it. The stage was the
last one opened until the next ``// stage``, after which a line had none: the lines of the parallel
stage after its branches' stages closed had no stage, and the branch markers (``{ (Branch: NAME)``,
closed by a bare ``}``) were read as stages.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats

LOG = Path(__file__).resolve().parents[1] / "cases" / "holdout" / "jenkins-console-parallel-stages.log"


def _stages() -> list[tuple[str, str | None]]:
    dec = formats.get("jenkins_log").decode(LOG.read_bytes(), "jobs/test/builds/25/log")
    assert not dec.dead
    rows = [r for b in dec.batches for r in b.to_pylist()]
    assert rows[0]["activity_name"] == "Start" and rows[-1]["status"] == "Success"
    assert {r["metadata"]["correlation_uid"] for r in rows} == {"test#25"}
    return [(r["message"], json.loads(r["unmapped"]).get("stage")) for r in rows]


def test_stages_nest_and_branches_are_no_stages() -> None:
    got = _stages()
    start = got.index(("[Pipeline] { (Stage Parallel)", "Stage Parallel"))
    closing = got[start:start + 21]
    assert closing[1:5] == [("[Pipeline] parallel", "Stage Parallel"),
                            ("[Pipeline] { (Branch: Stage 3_22051107)", "Stage Parallel"),
                            ("[Pipeline] { (Branch: Stage 4_22051107)", "Stage Parallel"),
                            ("[Pipeline] stage", "Stage Parallel")]  # fmt: skip
    assert ("S4_22051107 : DAST Security Test Completed", "Stage 4_22051107") in closing
    # both branch stages closed: the parallel stage's own closing lines are its own, then none
    assert closing[15:21] == [("[Pipeline] // stage", "Stage Parallel"), ("[Pipeline] }", "Stage Parallel"),
                              ("[Pipeline] }", "Stage Parallel"), ("[Pipeline] // parallel", "Stage Parallel"),
                              ("[Pipeline] }", "Stage Parallel"), ("[Pipeline] // stage", None)]  # fmt: skip
    assert not any(s and s.startswith("Branch: ") for _m, s in got)
    assert ("Approved by jadmin", "Stage 5_22051107") in got
    assert ("Stage 7 - 22051107 Deployed to kubernetes", "Stage 7_22051107") in got
    assert got[-1] == ("Finished: SUCCESS", None)
