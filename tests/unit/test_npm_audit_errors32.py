"""npm's error documents in place of an audit report are dead-lettered with npm's own words (they held no event
and no dead letter: an audit npm could not run read as a clean one).

Input: npm's JSON error as its exit handler writes it with ``--json`` (npm/cli ``lib/utils/exit-handler.js``:
``{error: {code, summary, detail}}``, ``JSON.stringify(error, null, 2)``), with the words npm prints for a missing
lockfile (npm 7+ ENOLOCK, as IBM/audit-ci#214 quotes ``npm audit --json``; npm 6's EAUDITNOLOCK, npm/npm#20583);
the ``message`` beside an ``error`` form as a wrapper's envelope carries npm's "audit endpoint returned an error".
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from tests.unit.holdout_support import auto_decoded

_ENOLOCK = {"error": {"code": "ENOLOCK", "summary": "This command requires an existing lockfile.",
                      "detail": "Try creating one first with: npm i --package-lock-only\n"
                                "Original error: loadVirtual requires existing shrinkwrap file"}}  # fmt: skip
_EAUDITNOLOCK = {"error": {"code": "EAUDITNOLOCK",
                           "summary": "Neither npm-shrinkwrap.json nor package-lock.json found: Cannot audit a project without a lockfile",
                           "detail": "Try creating one first with: npm i --package-lock-only"}}  # fmt: skip


def test_npm_error_document_is_dead_lettered_with_npms_summary(tmp_path: Path) -> None:
    d = auto_decoded(json.dumps(_ENOLOCK, indent=2).encode(), tmp_path, "npm_audit")
    assert not d.batches and [x.reason for x in d.dead] == ["npm audit failed (ENOLOCK): This command requires an existing lockfile."]
    assert json.loads(d.dead[0].raw) == _ENOLOCK and d.dead[0].format == "npm_audit"
    d6 = formats.get("npm_audit").decode(json.dumps(_EAUDITNOLOCK, indent=2).encode(), "audit.json")
    assert [x.reason for x in d6.dead] == [
        "npm audit failed (EAUDITNOLOCK): Neither npm-shrinkwrap.json nor package-lock.json found: Cannot audit a project without a lockfile"]


def test_other_error_shapes(tmp_path: Path) -> None:
    fmt = formats.get("npm_audit")
    # no code (npm writes none when the error has none); a summary over lines is one line
    d = fmt.decode(json.dumps({"error": {"summary": "audit endpoint returned an error\nsecond line", "detail": ""}}).encode(), "a")
    assert [x.reason for x in d.dead] == ["npm audit failed: audit endpoint returned an error second line"]
    d = fmt.decode(json.dumps({"message": "audit endpoint returned an error", "error": {"code": "E503"}}).encode(), "a")
    assert [x.reason for x in d.dead] == ["npm audit failed (E503): audit endpoint returned an error"]
    # a clean audit is still no event and no dead letter
    clean = {"auditReportVersion": 2, "vulnerabilities": {}, "metadata": {"vulnerabilities": {"total": 0}}}
    d = fmt.decode(json.dumps(clean).encode(), "a")
    assert not d.dead and not d.batches
