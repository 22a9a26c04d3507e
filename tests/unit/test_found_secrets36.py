"""``_found_secrets.hide_keys`` (the keys found by ``bytes.find``, their values matched in place) replaces what
``hide`` with the regular expression it stands for replaces, on the gitleaks 8 leak of DefectDojo's sample
(tests/cases/scanners28/gitleaks-defectdojo.json) and gitleaks 7's (DefectDojo unittests/scans/gitleaks/version_7.5.0.json
as test_scanners_holdout28 quotes it), with the key texts also put inside other strings and nested objects."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pyarrow as pa

from secpipe.formats import _found_secrets as found_secrets

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners28"
KEYS = (b'"Secret":', b'"Match":', b'"Line":', b'"Context":', b'"offender":', b'"line":')
PATTERN = re.compile(rb'([{,]"(?:Secret|Match|Line|Context|offender|line)":)' + found_secrets.STRING)


def _leaks() -> list[bytes]:
    leak = json.loads((CASES / "gitleaks-defectdojo.json").read_text())[0]
    seven = {"line": "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "offender": "AKIAIOSFODNN7EXAMPLE", "commit": "ab12",
             "repo": "r", "rule": "AWS Access Key", "commitMessage": "m", "author": "a", "email": "e@x", "file": "f.py",
             "date": "2021-01-01T00:00:00Z", "tags": "key, AWS", "lineNumber": 13}  # fmt: skip
    tricky = dict(leak, Message='x,"Secret":"no" {"Line":"y"} \\",\\"Match\\":\\"z', Line=None, Context='a\\"b\\\\')
    nested = dict(leak, Secret=5, Match=None, Extra={"Secret": "nested \u00e9\u2603", "list": [{"line": "q\\"}]})
    return [msgspec.json.encode(x) for x in (leak, seven, tricky, nested, {"Secret": "first"}, {"Secretx": "no"})]


def test_hide_keys_replaces_what_the_pattern_replaces() -> None:
    raws = _leaks()
    unmapped = pa.array([r.decode() for r in raws], pa.string())
    kinds = ["generic-api-key", None, "r", "r", "r", "r"]
    got, got_um = found_secrets.hide_keys(raws, unmapped, KEYS, kinds)
    want, want_um = found_secrets.hide(raws, unmapped, tuple(k[:-1] for k in KEYS), PATTERN, kinds)
    assert got == want
    assert got_um.to_pylist() == want_um.to_pylist()
    assert got[0] != raws[0] and b'"Secret":"[REDACTED:generic-api-key]"' in got[0]
    assert b'"offender":"[REDACTED:secret]"' in got[1]
    assert got[5] == raws[5]


def test_hide_keys_without_keys_keeps_the_records() -> None:
    raws = _leaks()
    unmapped = pa.array([r.decode() for r in raws], pa.string())
    got, got_um = found_secrets.hide_keys(raws, unmapped, (), [None] * len(raws))
    assert got is raws and got_um is unmapped
