"""Session 20: GitHub webhook decoding with fewer page faults and a leaner typed view.

The contracts (``formats/_cicd.py``, ``formats/github.py``):
- ``_cicd.copied_strings`` (the raw_data of a kept document's records, views of it) and
  ``_cicd.checked_strings`` of values of 1 KiB or more on average (``unmapped`` of webhooks) give the
  column ``base.string_column(values, checked=True)`` gives, nulls included; only the allocator of
  its bytes differs (the system one, whose freed pages the next batch reuses).
- the typed view a payload mapped from its view gets (``_github_scan.view_of``, session 34; the lean
  view before) is ``_scan_view``'s with the main objects of the generically mapped types (``_Primary``
  fields) left None, and every field its mapping does not read; no route that maps from the typed view
  reads those fields.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import msgspec
import pyarrow as pa
import pytest

from secpipe.formats import _cicd, _github_scan, github
from secpipe.formats import _github_map as m
from secpipe.formats.base import string_column

CORPUS = Path(__file__).resolve().parents[3] / "shared/data/real/octokit-webhooks/payload-examples/api.github.com"
PAYLOADS = [json.loads(f.read_bytes()) for f in sorted(CORPUS.glob("*/*.json"))]


def _values(rng: random.Random, n: int, size: int, nulls: bool) -> list[bytes | None]:
    out: list[bytes | None] = []
    for _ in range(n):
        if nulls and rng.random() < 0.2:
            out.append(None)
        else:
            out.append(("é" * rng.randint(0, size) + "x" * rng.randint(0, size)).encode())
    return out


@pytest.mark.parametrize("size", [0, 3, 600, 3000])
@pytest.mark.parametrize("n", [0, 1, 16, 17, 300])
@pytest.mark.parametrize("nulls", [False, True])
def test_checked_strings_is_string_column(size: int, n: int, nulls: bool) -> None:
    values = _values(random.Random(size * 1000 + n), n, size, nulls)
    want = string_column(values, checked=True)
    got = _cicd.checked_strings(values)
    got.validate(full=True)
    assert got.type == want.type and got.equals(want) and got.null_count == want.null_count


@pytest.mark.parametrize("n", [0, 1, 16, 17, 300])
@pytest.mark.parametrize("size", [0, 40, 3000])
def test_copied_strings_of_views_is_string_column(n: int, size: int) -> None:
    values = [v or b"" for v in _values(random.Random(n + size), n, size, False)]
    doc = b"\n".join(values)
    views, pos = [], 0
    for v in values:
        views.append(memoryview(doc)[pos : pos + len(v)])
        pos += len(v) + 1
    want = string_column(values, checked=True)
    got = _cicd.copied_strings(views)
    got.validate(full=True)
    assert got.type == want.type and got.equals(want)
    with_nulls = [None if k % 3 == 0 else v for k, v in enumerate(views)]
    want_nulls = string_column([None if v is None else bytes(v) for v in with_nulls], checked=True)
    assert _cicd.copied_strings(with_nulls).equals(want_nulls)


def test_copied_strings_bytes_do_not_come_from_arrows_default_pool() -> None:
    """The copy lives in the system allocator's memory (a native Vec, or ``_COPY_POOL``), not in
    mimalloc's (Arrow's default pool), which hands large freed blocks back to the kernel."""
    pool = pa.default_memory_pool()
    before = pool.bytes_allocated()
    col = _cicd.copied_strings([b"x" * 5000] * 40)
    assert len(col) == 40 and pool.bytes_allocated() - before < 100_000
    del col


@pytest.mark.skipif(not PAYLOADS, reason="octokit corpus not found")
@pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")
def test_view_of_is_the_scanned_view_with_the_fields_read() -> None:
    """(Session 34: ``_github_scan.view_of`` took the lean view's place.) The view a mapping gets is
    ``_scan_view``'s with only the head's objects and the fields its mapping reads set, the others None."""
    scanner = github._scanner()
    if scanner is None:
        pytest.skip("no native extension")
    head = {p.split(".", 1)[0] for p, _ in m.SCAN_HEAD}
    compared = 0
    for p in PAYLOADS:
        raw = json.dumps(p, separators=(",", ":")).encode()
        got = scanner.scan_head(raw, 0, len(raw), github._HEAD)
        if got is None:
            continue
        full = _github_scan._scan_view(scanner.values())  # (msgspec's view: test_github_scan)
        for fields in {(), *m.VIEW_READS.values()}:
            view = _github_scan.view_of(scanner, got[3], fields)
            left = {f: None for f in github._Hook.__struct_fields__ if f not in head and f not in fields}
            assert view == msgspec.structs.replace(full, **left), fields
        compared += 1
    assert compared > len(PAYLOADS) // 2


@pytest.mark.skipif(not PAYLOADS, reason="octokit corpus not found")
@pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")
def test_each_mapping_reads_no_field_beyond_its_view_reads() -> None:
    """Every event type's mapping gives the same row, time and activity from ``view_of``'s view (its
    ``m.VIEW_READS``) as from the whole scanned view, on every payload of the corpus (each taken as each type)."""
    scanner = github._scanner()
    if scanner is None:
        pytest.skip("no native extension")
    for p in PAYLOADS:
        raw = json.dumps(p, separators=(",", ":")).encode()
        got = scanner.scan_head(raw, 0, len(raw), github._HEAD)
        if got is None:
            continue
        keys, rest, _, v = got
        full = _github_scan._scan_view(scanner.values())
        if p.get("alert") is not None:
            full.alert = github._ALERT.decode(json.dumps(p["alert"]))
        top = _github_scan._ScannedTop(scanner, raw, frozenset(keys), rest)
        for event in [*m._MAPPERS, "installation", "star"]:
            view = _github_scan.view_of(scanner, v, m.VIEW_READS.get(event, ()))
            view.alert = full.alert
            assert m.map_hook(event, view, top) == m.map_hook(event, full, top), event  # type: ignore[arg-type]


def test_no_route_mapped_from_the_typed_view_reads_a_main_object() -> None:
    """A payload is mapped from its typed view (not generically) only when its type has a mapping
    of its own or its main object is no ``_Primary`` field: so the lean view's None there is never read."""
    events = {*m._MAPPERS, *github._SINGLE_KEYS.values(), *github._PRIMARY, *github._TYPED_PRIMARY,
              "unknown", "installation", "public", "watch", "ping", "meta", "whatever"}  # fmt: skip
    keysets = [("sender",), ("sender", "action", "repository")]
    keysets += [("sender", "action", key) for key in github._TYPED_PRIMARY]
    for event in sorted(events):
        for keys in keysets:
            keyset, got_event, _slot, generic = github._route(keys, "created", event)
            if keyset is None or not got_event or generic:
                continue
            assert github._PRIMARY.get(got_event, got_event) not in github._TYPED_PRIMARY, (event, keys)


def _iso_reference(value: object) -> int | None:
    """``_cicd.iso_ms`` without the native form (the Python path it had)."""
    native = _cicd._iso_native
    _cicd._iso_native = lambda: None  # type: ignore[assignment]
    try:
        return _cicd.iso_ms(value)
    finally:
        _cicd._iso_native = native  # type: ignore[assignment]


def test_iso_ms_native_form_is_the_python_paths() -> None:
    """GitHub's time form read natively (``HookScanner.iso_ms``) gives what ``fromisoformat`` gives;
    any other text or value is read the Python way (same answer with and without the extension)."""
    if _cicd._iso_native() is None:
        pytest.skip("no native extension with iso_ms")
    rng = random.Random(20)
    values: list[object] = ["2019-05-15T15:20:33Z", "2019-05-15T15:20:33+02:00", "2019-05-15T15:20:33-07:30",
                            "2019-05-15T15:20:33.123Z", "2019-05-15 15:20:33 UTC", "2019-05-15T15:20:33", "", "Z",
                            "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "2024-02-29T00:00:00Z",
                            "2023-02-29T00:00:00Z", "2019-05-15T24:00:00Z", "2019-05-15T15:20:60Z", "\ud800",
                            "２０19-05-15T15:20:33Z", 1557933633, 1557933633000, 1.5e9, True, None, [], {}]  # fmt: skip
    for _ in range(20_000):
        y, mo, d = rng.choice([1, 999, 1970, 2024, rng.randint(1, 9999)]), rng.randint(0, 13), rng.randint(0, 32)
        h, mi, se = rng.randint(0, 25), rng.randint(0, 61), rng.randint(0, 61)
        tz = rng.choice(["Z", "z", "+00:00", "-00:00", f"+{rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}", "", ".5Z"])
        values.append(f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{se:02d}{tz}")
    native = 0
    for v in values:
        assert _cicd.iso_ms(v) == _iso_reference(v), v
        native += _cicd._iso_native()(v) is not None  # type: ignore[misc]
    assert native > 2_000


@pytest.mark.skipif(not PAYLOADS, reason="octokit corpus not found")
@pytest.mark.parametrize("native", [True, False])
def test_repository_time_read_from_the_view(native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A repository event's time from its typed view's ``repository.updated_at`` is the first time
    the decode of its repository object gives (updated, submitted, created), whatever the values."""
    if not native:
        monkeypatch.setenv("SECPIPE_NATIVE", "0")
    rng = random.Random(7)
    repos = [p for p in PAYLOADS if isinstance(p.get("repository"), dict)]
    assert len(repos) > 100
    edge: list[object] = ["2019-05-15T15:20:33Z", "2019-05-15T15:20:33.5+01:00", "garbage", "", None, 1557933633, 0, True]
    fmt = github.GitHub()
    for k in range(600):
        p = json.loads(json.dumps(repos[k % len(repos)]))
        for field in ("updated_at", "created_at", "submitted_at"):
            if rng.random() < 0.7:
                p["repository"][field] = rng.choice(edge)
            elif rng.random() < 0.5:
                p["repository"].pop(field, None)
        raw = json.dumps(p, separators=(",", ":")).encode()
        top = _cicd.TOP.decode(raw)
        hook = github._HOOK.decode(raw)
        t = github._TIMES.decode(top["repository"])
        want = _cicd.first_time(t.updated_at, t.submitted_at, t.created_at)
        assert github._primary_time("repository", top, hook) == want, p["repository"].get("updated_at")
        got = fmt.decode(raw, "http:/github/webhook;github-event=repository")
        assert not got.dead


@pytest.mark.skipif(not PAYLOADS, reason="octokit corpus not found")
@pytest.mark.skipif(os.environ.get("SECPIPE_NATIVE") == "0", reason="native path turned off")
def test_alert_payload_of_another_shape_gets_the_fields_its_type_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ``alert`` payload's event type is known only once its alert is decoded (or from the header): the view is
    then built with the fields that type's mapping reads (a pull request's, a workflow run's beside the alert)."""
    from tests.unit.native_support import assert_same_decoded, native_mode

    alerts = [p for p in PAYLOADS if isinstance(p.get("alert"), dict)][:6]
    others = {k: p[k] for p in PAYLOADS for k in ("pull_request", "workflow_run", "deployment_status", "team") if k in p}
    lines = [json.dumps({**a, k: v}, separators=(",", ":")).encode() for a in alerts for k, v in others.items()]
    docs = [("file", b"\n".join(lines)), ("x;github-event=pull_request", b"\n".join(lines)),
            ("x;github-event=dependabot_alert", b"\n".join(lines))]  # fmt: skip
    fmt = github.GitHub()
    with native_mode(monkeypatch, True):
        native = [fmt.decode(d, src) for src, d in docs]
    with native_mode(monkeypatch, False):
        reference = [fmt.decode(d, src) for src, d in docs]
    for (src, _), a, b in zip(docs, native, reference, strict=True):
        assert_same_decoded(a, b, src)
