"""GitHub decode with the native extension (``_fast``) against ``SECPIPE_NATIVE=0``.

The contract (``formats/_fast.py``): both give the same batches and the same dead letters.
GitHub maps through msgspec on both; the extension serves the record split, the SHA-256
``metadata.uid`` and the shared column builders. Compared on the octokit/webhooks payload
corpus (each payload alone, with and without the ``X-GitHub-Event`` hint, and all of them as
one NDJSON batch), the Panther audit-log events, and payloads mutated from the corpus: mapped
paths given each JSON type, null or removed; extra, escaped and non-ASCII keys and values.
Compared with ``native_support.assert_same_decoded`` (the ``python_only`` fixture turns the
extension off). Also checks :func:`secpipe.formats.base.string_column` (pooled and joined
paths, nulls, UTF-8 checks) against Arrow's own conversion.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from secpipe.formats import _cicd, _fast, get
from secpipe.formats.base import Decoded, string_column
from tests.unit.native_support import assert_same_decoded

pytestmark = pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")

FMT = get("github")


def _payloads(real: Path) -> list[Path]:
    files = sorted((real / "octokit-webhooks/payload-examples/api.github.com").glob("*/*.json"))
    assert len(files) >= 250
    return files


def _decode_both(docs: list[tuple[str, bytes]], python_only) -> list[tuple[Decoded, Decoded]]:  # type: ignore[no-untyped-def]
    assert _fast.available()
    native = [FMT.decode(d, src) for src, d in docs]
    python_only()
    assert not _fast.available()
    reference = [FMT.decode(d, src) for src, d in docs]
    return list(zip(native, reference, strict=True))


def test_octokit_corpus_same_with_and_without_native(real: Path, python_only) -> None:  # type: ignore[no-untyped-def]
    files = _payloads(real)
    docs = []
    for f in files:
        body = f.read_bytes()
        docs.append((f"file:{f.name}", body))
        docs.append((f"http:/github/webhook;github-event={f.parent.name}", body))
    compact = [json.dumps(json.loads(f.read_bytes()), separators=(",", ":")).encode() for f in files]
    docs.append(("all", b"\n".join(compact)))
    docs.append(("audit", (real / "panther-analysis/extracted/github_audit.jsonl").read_bytes()))
    pairs = _decode_both(docs, python_only)
    for (src, _), (a, b) in zip(docs, pairs, strict=True):
        assert_same_decoded(a, b, src)
    everything = pairs[-2][0]
    assert sum(b.num_rows for b in everything.batches) == len(files) and not everything.dead


# --------------------------------------------------------------------------------------
# mutated payloads
# --------------------------------------------------------------------------------------

#: top-level objects the mappings read, and fields read below them
_OBJECTS = ("sender", "repository", "organization", "pull_request", "workflow_run", "workflow_job", "workflow",
            "deployment", "deployment_status", "member", "membership", "invitation", "team", "changes", "rule",
            "alert", "issue", "release", "pusher", "head_commit")  # fmt: skip
_FIELDS = ("id", "login", "name", "full_name", "number", "title", "state", "created_at", "updated_at", "pushed_at",
           "owner", "private", "visibility", "head", "base", "conclusion", "status", "path", "run_id", "actor",
           "environment", "sha", "permission", "role", "user", "email", "secret_type", "rule", "tool",
           "security_advisory", "security_vulnerability", "dependency", "most_recent_instance", "severity",
           "cvss", "cwes", "references", "tags", "score")  # fmt: skip
_VALUES: tuple[Any, ...] = (None, True, False, 0, -7, 2**40, 1.5, 1e300, "", "x", "2024-05-06T07:08:09Z", "é ✓ \u2028",
                            'q"uo\\te', [], ["a"], [{}], {}, {"id": 3, "login": "z"})  # fmt: skip


def _mutate(rng: random.Random, payload: dict[str, Any]) -> dict[str, Any]:
    p = json.loads(json.dumps(payload))
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        key = rng.choice(_OBJECTS)
        if roll < 0.2:
            p.pop(rng.choice(list(p) or ["x"]), None)
        elif roll < 0.35:
            p[key] = rng.choice(_VALUES)
        elif roll < 0.8 and isinstance(p.get(key), dict):
            field = rng.choice(_FIELDS)
            if rng.random() < 0.2:
                p[key].pop(field, None)
            else:
                p[key][field] = rng.choice(_VALUES)
        elif roll < 0.9:
            p[rng.choice(["zz_extra", "\u00e9t\u00e9", "a\\b", 'q"k', "action", "actor"])] = rng.choice(_VALUES)
        else:
            p["action"] = rng.choice(["created", "deleted", "opened", "completed", "removed", "added", None, 5])
    return p


def test_mutated_payloads_same_with_and_without_native(real: Path, python_only) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(20261129)
    payloads = [json.loads(f.read_bytes()) for f in _payloads(real)]
    mutated = [_mutate(rng, rng.choice(payloads)) for _ in range(600)]
    lines = [json.dumps(m, ensure_ascii=rng.random() < 0.5).encode() for m in mutated]
    docs = [(f"m{n}", line) for n, line in enumerate(lines[:150])]  # each alone
    docs += [(f"batch{n}", b"\n".join(lines[n:n + 100])) for n in range(0, len(lines), 100)]  # and in batches
    docs.append(("batch-hint;github-event=push", b"\n".join(lines[:200])))
    docs.append(("bad", b'{"sender": 5}\n{"foo": 1}\nnot json\n[1]\n{"action":"x","actor":"bob","created_at":"bad"}\n'
                        b'{"a":"\xff"}\n'))  # fmt: skip
    pairs = _decode_both(docs, python_only)
    for (src, _), (a, b) in zip(docs, pairs, strict=True):
        assert_same_decoded(a, b, src)
    assert any(d.dead for d, _ in pairs) and any(d.batches for d, _ in pairs)


# --------------------------------------------------------------------------------------
# the pooled string column
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [[b'{"a":1}', b"", "é✓".encode(), b"x" * 70_000], [None, b'{"b":2}', None, b""], [None, None], [], [b"only"],
     [None, "é".encode() * 3000, None, b"z" * 3000, b""]],  # small values are joined, large ones pooled
)
def test_string_column_is_the_joined_column(values: list[bytes | None]) -> None:
    col = string_column(values, checked=True)
    col.validate(full=True)
    want = pa.array(values, pa.binary()).cast(pa.string())  # Arrow's own conversion, value by value
    assert col.type == pa.string() and col.equals(want)
    assert col.null_count == sum(v is None for v in values)
    assert _cicd.bytes_column(values).equals(want)
    assert string_column(values).equals(want)  # validated: the same column


def test_string_column_validates_utf8_unless_checked() -> None:
    assert len(string_column([b"\xff\xfe"], checked=True)) == 1  # checked: taken as given (the caller checked)
    for values in ([b"ok", b"\xff\xfe"], [b"ok" * 2000, b"\xff\xfe" * 2000], [None, b"ok" * 2000, b"\xff" * 3000]):
        with pytest.raises(pa.ArrowInvalid):
            string_column(values)
