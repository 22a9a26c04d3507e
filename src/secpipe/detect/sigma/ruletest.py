"""Rule unit tests in YAML, run like ``vector test``.

A test file (``*.yml``/``*.yaml`` with a top-level ``tests:`` list) holds cases::

    tests:
      - name: console login without MFA
        rule: ../rules/aws_console_login_no_mfa.yml   # relative to the test file
        format: cloudtrail                             # secpipe format that decodes the events
        events:                                        # source records (mappings, or strings for text formats)
          - {eventName: ConsoleLogin, ...}
        expect: [0]                                    # indexes of events that must match; others must not

Each event is decoded on its own with the named format (CloudTrail records are wrapped in
``{"Records": [...]}``), then the rule set of the case's rule runs over it. A case passes when
exactly the ``expect`` events match. An event the format rejects fails the case with the
dead-letter reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import yaml

from secpipe.detect.sigma.rules import RuleLoadError, load_rules


@dataclass
class CaseResult:
    file: str
    name: str
    passed: bool
    errors: list[str] = field(default_factory=list)


def _body(fmt: str, event: Any) -> bytes:
    if isinstance(event, str):
        return event.encode()
    if fmt == "cloudtrail":
        return msgspec.json.encode({"Records": [event]})
    return msgspec.json.encode(event)


def run_case(base: Path, case: dict[str, Any], file: str) -> CaseResult:
    from secpipe import formats

    name = str(case.get("name") or case.get("rule"))
    res = CaseResult(file, name, False)
    try:
        rs = load_rules([base / str(case["rule"])])
        fmt = formats.get(str(case["format"]))
    except (KeyError, RuleLoadError) as exc:
        res.errors.append(f"bad case: {exc} — give rule, format, events and expect")
        return res
    if rs.unsupported:
        res.errors.extend(f"{u.rule}: {u.reason}" for u in rs.unsupported)
        return res
    expect = set(case.get("expect") or [])
    for i, ev in enumerate(case.get("events") or []):
        dec = fmt.decode(_body(str(case["format"]), ev), f"{file}#{name}[{i}]")
        if dec.dead:
            res.errors.append(f"event {i}: not decoded ({dec.dead[0].reason})")
            continue
        hit = any(rs.matches(b).num_rows for b in dec.batches)
        if hit and i not in expect:
            res.errors.append(f"event {i}: matched but expect does not list it (false positive)")
        if not hit and i in expect:
            res.errors.append(f"event {i}: expected to match, did not (false negative)")
    res.passed = not res.errors
    return res


def run_tests(paths: Sequence[str | Path]) -> list[CaseResult]:
    """Run every case of every test file under ``paths``."""
    out: list[CaseResult] = []
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yml", ".yaml")) if p.is_dir() else [p])
    for f in files:
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or not isinstance(doc.get("tests"), list):
            continue
        out.extend(run_case(f.parent, case, str(f)) for case in doc["tests"])
    return out
