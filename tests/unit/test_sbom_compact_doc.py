"""The one-pass check and compaction of a whole document (`_fast.compact_doc`, Rust
`compact_doc.rs`) against msgspec, and the sbom decode that uses it against the decode without it.

- Accepted text is byte for byte ``msgspec.json.format(doc, indent=-1)`` (every real JSON sample,
  generated documents with any whitespace between tokens), and the items of the array it splits
  are ``split_array`` of that array formatted.
- Soundness: whatever it accepts (real samples, mutated bytes of a pretty document) msgspec
  decodes too; what msgspec refuses it refuses.
- The sbom format gives the same batches and dead letters with and without it (real CycloneDX
  samples, a benchmark-shaped BOM, and BOMs whose vulnerabilities key is doubled, escaped, null).
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe.formats import _fast, get
from tests.unit.native_support import JSON_SPACE, JSON_VALUES, assert_same_decoded, spaced

pytestmark = pytest.mark.skipif(not _fast.available(), reason="native extension not built")

_FMT = msgspec.json.format
_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
CASES = Path(__file__).resolve().parents[1] / "cases" / "sbom"


def _msgspec_ok(doc: bytes) -> bool:
    """msgspec reads ``doc`` as JSON (UTF-8 aside: neither its formatter nor the pass checks it)."""
    try:
        msgspec.json.decode(doc)
    except msgspec.DecodeError:
        return False
    except UnicodeDecodeError:
        _FMT(doc)
    return True


def _check(doc: bytes, key: str = "vulnerabilities") -> None:
    """compact_doc's answer for ``doc`` agrees with msgspec (see the module docstring)."""
    got = _fast.compact_doc(doc, key)
    if got is None:
        return
    assert _msgspec_ok(doc), doc[:200]
    out, items, members = got
    assert bytes(out) == _FMT(doc, indent=-1)
    if bytes(out)[:1] != b"{":
        assert members is None
    if members is not None:  # the top-level members as msgspec reads them
        view = memoryview(out)
        try:
            assert {bytes(view[a:b]).decode(): bytes(view[c:d]) for a, b, c, d in members} == {
                k: bytes(v) for k, v in _TOP.decode(bytes(out)).items()}
        except UnicodeDecodeError:
            pass
    if items is not None:
        # only for a top-level array (met once: the dict's value is that one)
        try:
            top = _TOP.decode(bytes(out))
        except UnicodeDecodeError:  # a top-level key that is not UTF-8 (the decode dead-letters it)
            return
        assert bytes(out)[:1] == b"{"
        assert bytes(top[key])[:1] == b"["
        assert items == [_FMT(bytes(r), indent=-1) for r in msgspec.json.decode(bytes(top[key]), type=list[msgspec.Raw])]


def _real_json(real: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in sorted(real.rglob("*"))
            if p.is_file() and p.suffix in (".json", ".sarif", ".golden") and p.stat().st_size < 8 << 20]  # fmt: skip


def test_every_real_json_file(real: Path) -> None:
    """Each real sample, with the split asked of each of its top-level keys."""
    docs = _real_json(real) + [(p, p.read_bytes()) for p in sorted(CASES.glob("*.json*"))]
    accepted = refused = 0
    for path, doc in docs:
        ok = _msgspec_ok(doc)
        got = _fast.compact_doc(doc, "vulnerabilities")
        assert ok or got is None, path
        accepted += got is not None
        refused += ok and got is None
        if ok and _fast.compact_doc(doc, "x") is not None:
            top = msgspec.json.decode(doc)
            for key in [*(top if isinstance(top, dict) else ()), "vulnerabilities"][:6]:
                _check(doc, key)
    assert accepted > 100
    assert refused == 0  # nothing real is too deep or has a lone surrogate


def test_items_are_the_arrays_items(real: Path) -> None:
    """On the CycloneDX samples the items are the vulnerabilities' canonical bytes."""
    for p in sorted(CASES.glob("*.json*")):
        doc = p.read_bytes()
        got = _fast.compact_doc(doc, "vulnerabilities")
        assert got is not None, p
        top = msgspec.json.decode(doc)
        if "vulnerabilities" not in top:
            assert got[1] is None
            continue
        vulns = _FMT(bytes(_TOP.decode(doc)["vulnerabilities"]), indent=-1)
        assert got[1] == _fast.split_array(vulns), p


_json, _ws = JSON_VALUES, JSON_SPACE


@settings(max_examples=300, deadline=None)
@given(value=_json, items=st.lists(_json, max_size=5), ascii_only=st.booleans(), data=st.data())
def test_generated_documents_with_any_whitespace(value: Any, items: list[Any], ascii_only: bool,
                                                 data: st.DataObject) -> None:  # fmt: skip
    for doc, split in ((value, False), ({"a": value, "vulnerabilities": items, "z": [value]}, True)):
        text = spaced(json.dumps(doc, ensure_ascii=ascii_only, separators=(",", ":")), lambda: data.draw(_ws))
        got = _fast.compact_doc(text, "vulnerabilities")
        assert got is not None
        assert bytes(got[0]) == _FMT(text, indent=-1)
        if split:
            assert got[1] == [json.dumps(i, ensure_ascii=ascii_only, separators=(",", ":")).encode() for i in items]
        _check(text)


_PRETTY = json.dumps({"bomFormat": "CycloneDX", "vulnerabilities": [
    {"id": "CVE-1", "ratings": [{"score": 9.8, "severity": "critical"}], "cwes": [79], "x": [True, False, None, -0.5e-3]},
    {"id": "CVE-2 \\u00e9 \"q\"", "affects": [{"ref": "pkg:deb/a@1"}], "n": 0}], "components": [{"name": "a"}]},
    indent=2).encode()  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_mutated_bytes_are_refused_or_valid(data: st.DataObject) -> None:
    """Soundness: a pretty document with bytes replaced, inserted or dropped is refused, or
    msgspec decodes it and the output is its formatter's."""
    doc = bytearray(_PRETTY)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(doc) - 1))
        junk = data.draw(st.sampled_from([b" ", b"\n", b"\x0b", b",", b":", b"]", b"}", b"[", b"{", b'"', b"\\", b"0",
                                          b"-", b".", b"e", b"+", b"t", b"u", b"\x00", b"\xff", b"1 2", b""]))  # fmt: skip
        how = data.draw(st.sampled_from(["replace", "insert", "drop"]))
        if how == "replace":
            doc[at:at + 1] = junk
        elif how == "insert":
            doc[at:at] = junk
        else:
            del doc[at]
    _check(bytes(doc))


def test_refuses_what_msgspec_refuses() -> None:
    for doc in (b"", b"[1 2]", b'{"a" 1}', b"[01]", b"[1.]", b'["\\x"]', b'["\\ud800"]', b'["\x01"]', b"tru e",
                b"[1]x", b"\x0b[1]", b"[" * 300 + b"]" * 300, b'{"vulnerabilities": [1,]}'):  # fmt: skip
        assert _fast.compact_doc(doc, "vulnerabilities") is None, doc[:20]


def _decode_both(doc: bytes, monkeypatch: pytest.MonkeyPatch, what: str) -> Any:
    fmt = get("sbom")
    with_pass = fmt.decode(doc, "t")
    monkeypatch.setattr(_fast, "compact_doc", lambda d, k: None)
    try:
        without = fmt.decode(doc, "t")
    finally:
        monkeypatch.undo()
    assert_same_decoded(with_pass, without, what)
    return with_pass


def _boms() -> list[tuple[str, bytes]]:
    base = json.loads((CASES / "fluentd-multiple-lockfiles-short.cdx.json.golden").read_text())
    out = [(p.name, p.read_bytes()) for p in sorted(CASES.glob("*.json*"))]
    text = json.dumps(base, indent=2)
    out.append(("vulnerabilities twice", text.replace('"vulnerabilities":', '"vulnerabilities": [], "vulnerabilities":', 1).encode()))
    out.append(("escaped key", text.replace('"vulnerabilities":', '"vuln\\u0065rabilities":', 1).encode()))
    out.append(("escaped other key", text.replace('"components":', '"compon\\u0065nts":', 1).encode()))
    for key, value in (("vulnerabilities", None), ("vulnerabilities", {}), ("components", None), ("components", "x"),
                       ("vulnerabilities", [1]), ("metadata", [])):  # fmt: skip
        m = copy.deepcopy(base)
        m[key] = value
        out.append((f"{key} {value!r}", json.dumps(m, indent=2).encode()))
    rnd = random.Random(5)
    vulns = base["vulnerabilities"]
    big = copy.deepcopy(base)
    big["vulnerabilities"] = [dict(copy.deepcopy(vulns[i % len(vulns)]), id=f"CVE-2024-{i}") for i in range(300)]
    for v in big["vulnerabilities"]:
        if rnd.random() < 0.2:
            v["analysis"] = {"state": rnd.choice(["not_affected", "resolved", "in_triage", "odd"])}
    out.append(("300 vulnerabilities", json.dumps(big, indent=rnd.choice([1, 2, 4])).encode()))
    out.append(("300 compact", json.dumps(big, separators=(",", ":")).encode()))
    out.append(("truncated", text[: len(text) // 2].encode()))
    out.append(("key not UTF-8", text.encode().replace(b'"components":', b'"\xffcomponents":', 1)))
    out.append(("top-level array", json.dumps([base], indent=2).encode()))
    out.append(("keys repeated", text.replace('"metadata":', '"components": 7, "metadata": 1, "metadata":', 1).encode()))
    return out


@pytest.mark.parametrize(("what", "doc"), _boms(), ids=[w for w, _d in _boms()])
def test_sbom_decode_same_with_and_without_the_pass(what: str, doc: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    _decode_both(doc, monkeypatch, what)


def test_regular_bom_takes_the_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparisons above exercise the pass (and its split), not only the fallback."""
    calls: list[bool] = []
    real = _fast.compact_doc

    def spy(doc: bytes, key: str) -> Any:
        got = real(doc, key)
        calls.append(got is not None and got[1] is not None)
        return got

    monkeypatch.setattr(_fast, "compact_doc", spy)
    out = get("sbom").decode((CASES / "fluentd-multiple-lockfiles-short.cdx.json.golden").read_bytes(), "t")
    assert calls == [True]
    assert out.events == 3


def test_inventory_only_bom_skips_the_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trivy's inventory BOM ends with ``"vulnerabilities": []``: msgspec's top-level pass alone reads it."""
    calls: list[str] = []
    monkeypatch.setattr(_fast, "compact_doc", lambda d, k: calls.append(k))
    fmt = get("sbom")
    out = fmt.decode((CASES / "conda-cyclonedx.json.golden").read_bytes(), "t")
    assert calls == []
    assert out.events == 0 and not out.dead
    fmt.decode((CASES / "vex.json").read_bytes(), "t")
    assert calls == ["vulnerabilities"]
