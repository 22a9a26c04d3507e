"""Session 18: GitHub webhooks read by ``HookScanner.scan_head`` (the head values, the rest kept by
the scanner) and a main object's time parsed natively (``HookScanner.when``).

The contract (``formats/github.py``, ``_from_scan``): ``scan_head`` gives what ``scan_at`` gives but
only the first values of its tuple, ``values()`` the whole tuple and ``slots(a, b)`` a part of it;
``when(slot)`` is ``_cicd.first_time`` of the main object's times, or False when the first time set
is not in GitHub's own form (the caller then runs ``first_time`` itself). Compared with the
reference: hypothesis-made times (valid ones in every offset, and near misses: impossible dates,
fractions, a lowercase ``z``, other lengths), and the octokit corpus.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe.formats import _cicd, github

pytestmark = pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")

CORPUS = Path(__file__).resolve().parents[3] / "shared/data/real/octokit-webhooks/payload-examples/api.github.com"
SLOT = github._TIME_SLOT["issue"]  # spec index of ``issue``; updated_at, submitted_at, created_at follow


def _scanner():  # type: ignore[no-untyped-def]
    scanner = github._scanner()
    if scanner is None:
        pytest.skip("no native extension")
    return scanner


def _when(scanner, times: dict[str, object]) -> object:  # type: ignore[no-untyped-def]
    """``when`` of an issues payload whose issue has ``times``, resolved as ``_from_scan`` resolves it."""
    raw = json.dumps({"sender": {"login": "octocat"}, "action": "edited", "issue": times}, separators=(",", ":")).encode()
    got = scanner.scan_head(raw, 0, len(raw), github._HEAD)
    assert got is not None
    when = scanner.when(SLOT)
    return _cicd.first_time(*scanner.slots(SLOT + 1, SLOT + 4)) if when is False else when


def _github_form(t: dt.datetime, offset: int | None) -> str:
    if offset is None:
        return t.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + "Z"
    sign = "-" if offset < 0 else "+"
    return t.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


_TIMES = st.builds(_github_form, st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),  # noqa: DTZ001
                   st.none() | st.integers(min_value=-1439, max_value=1439))  # fmt: skip
_NEAR = st.one_of(
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|z|[+-][0-9]{2}:[0-9]{2}|\.[0-9]{1,6}Z)\Z"),
    st.text(alphabet="0123456789-:TZ+ .", min_size=18, max_size=26),
    st.sampled_from(["2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2024-02-29T23:59:59Z", "2024-13-01T00:00:00Z",
                     "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z", "2024-01-01T00:00:60Z", "0000-01-01T00:00:00Z",
                     "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00-00:00", "2024-01-01 00:00:00Z", "", "Z"]),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.one_of(_TIMES, _NEAR), st.one_of(st.none(), _TIMES, _NEAR, st.integers(min_value=0, max_value=2**40)))
def test_when_is_first_time(updated: str, created: object) -> None:
    """The time ``when`` gives (or leaves to ``first_time``) is ``first_time`` of the object's times."""
    scanner = _scanner()
    times = {"updated_at": updated} if created is None else {"updated_at": updated, "created_at": created}
    assert _when(scanner, times) == _cicd.first_time(updated, None, created)


@settings(max_examples=200, deadline=None)
@given(_TIMES)
def test_when_reads_githubs_form_natively(text: str) -> None:
    """A time in GitHub's own form is parsed natively (not left to Python), to the same milliseconds."""
    scanner = _scanner()
    _when(scanner, {"created_at": text})
    assert scanner.when(SLOT) == _cicd.iso_ms(text)


def test_when_without_the_object_or_its_times() -> None:
    scanner = _scanner()
    for payload in ({"sender": {"login": "a"}}, {"sender": {"login": "a"}, "issue": None}, {"sender": {"login": "a"}, "issue": "x"},
                    {"sender": {"login": "a"}, "issue": {}}, {"sender": {"login": "a"}, "issue": {"updated_at": None}}):  # fmt: skip
        raw = json.dumps(payload).replace(" ", "").encode()
        assert scanner.scan_head(raw, 0, len(raw), github._HEAD) is not None
        assert scanner.when(SLOT) is None, payload


@pytest.mark.skipif(not CORPUS.is_dir(), reason="no octokit corpus")
def test_scan_head_is_scan() -> None:
    """``scan_head`` + ``values``/``slots`` give what ``scan`` gives, payload by payload, and a
    payload the scan declines is declined by both."""
    scanner = _scanner()
    n = 0
    for f in sorted(CORPUS.glob("*/*.json")):
        raw = json.dumps(json.loads(f.read_bytes()), separators=(",", ":"), ensure_ascii=False).encode()
        for record in (raw, raw[:-1] + b',"sender":null}'):  # the second: a duplicate key (declined)
            doc = b"xx" + record + b"\n"
            full = scanner.scan(record)
            head = scanner.scan_head(doc, 2, 2 + len(record), github._HEAD)
            if full is None:
                assert head is None, f
                continue
            assert head is not None, f
            assert head[:3] == full[:3], f
            assert head[3][: github._HEAD] == full[3][: github._HEAD], f  # (then the template id: session 36)
            assert scanner.values() == full[3], f
            assert scanner.slots(40, 60) == full[3][40:60], f
            assert scanner.slots(len(full[3]) - 2, len(full[3]) + 5) == full[3][-2:], f
            n += 1
    assert n >= 250


@pytest.mark.skipif(not CORPUS.is_dir(), reason="no octokit corpus")
def test_kept_document_of_good_lines_reads_as_split() -> None:
    """A kept document whose every line is a compact object in UTF-8 (``_read_docs``' fast path)
    gives the split's records, offsets and count, each record a view where it lies."""
    from secpipe.formats.base import Decoded, Records

    _scanner()
    fmt = github.GitHub()
    lines = [json.dumps(json.loads(f.read_bytes()), separators=(",", ":"), ensure_ascii=False).encode()
             for f in sorted(CORPUS.glob("*/*.json"))[:40]]  # fmt: skip
    doc = b"\n".join(lines) + b"\n"
    out = Decoded(dead=[], events=0)
    recs, spans = fmt._read_docs(Records(docs=[(doc, "s")]), out)
    split = fmt.split_records(doc, "s")
    assert [bytes(r) for r in recs.raws] == split.raws and recs.locs == split.locs
    assert out.events == split.events == len(lines) and not out.dead
    assert all(type(r) is memoryview for r in recs.raws)
    assert [doc[a:b] for _, a, b in spans] == split.raws  # type: ignore[misc]
