"""Fast auto-detection and the lazy format registry (secpipe.formats).

detect() skips a format whose sniff ceiling cannot beat the best score so far. That is exact only
while each ceiling in ``formats._FORMATS`` bounds what the sniff can return, so the ceilings are
checked against the sniff sources, and detect() is compared with an exhaustive pass (every
sniff, highest score, first on ties) over the heads of every real sample.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.errors import UnknownFormatError
from secpipe.formats.base import BOM


def _exhaustive(head: bytes, catch_all: bool) -> str | None:
    """The pre-pruning detect(): every format's sniff, highest score, first on ties."""
    head = head.removeprefix(BOM)
    best: tuple[int, str | None] = (0, None)
    for name in formats.REGISTRY:
        fmt = formats.get(name)
        if fmt.catch_all and not catch_all:
            continue
        score = fmt.sniff(head)
        if score > best[0]:
            best = (score, name)
    return best[1]


def _scores(node: ast.expr | None, name: str) -> list[int]:
    """The literal scores a return expression can yield: int constants, possibly behind ``x if c
    else y`` or ``x or y``, or a call of a function of the format's module whose returns are those."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _scores(node.body, name) + _scores(node.orelse, name)
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return [s for v in node.values for s in _scores(v, name)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        fn = getattr(inspect.getmodule(formats.REGISTRY[name]), node.func.id, None)
        if inspect.isfunction(fn):
            tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
            return [s for r in ast.walk(tree) if isinstance(r, ast.Return) for s in _scores(r.value, name)]
    pytest.fail(f"{name}.sniff returns {ast.unparse(node) if node else 'None'}: only literal scores can be "
                "bounded; return int literals (or update the ceiling check)")  # fmt: skip


@pytest.mark.parametrize("name", list(formats._FORMATS))
def test_ceiling_is_the_highest_literal_score(name: str) -> None:
    cls = formats.REGISTRY[name]
    assert cls.name == name
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls.sniff)))
    returns = [n for n in ast.walk(tree) if isinstance(n, ast.Return)]
    assert returns, f"{name}.sniff has no return"
    top = max(s for r in returns for s in _scores(r.value, name))
    assert formats._FORMATS[name][2] == top, f"set the ceiling of {name!r} in formats._FORMATS to {top}"


def _heads(real: Path) -> list[tuple[str, bytes]]:
    out = []
    for p in sorted(real.rglob("*")):
        if not p.is_file() or p.stat().st_size > 64 << 20:
            continue
        data = p.read_bytes()[: 4 << 20]
        if data[:2] == b"\x1f\x8b":
            data = zlib.decompressobj(wbits=31).decompress(data, 64 * 1024)
        head = data[: 64 * 1024]
        rel = str(p.relative_to(real))
        out += [(rel, head), (f"{rel}[:512]", head[:512]), (f"{rel}[:8193]", head[:8193]), (f"BOM+{rel}", BOM + head)]
    return out


def test_detect_matches_the_exhaustive_pass_on_real_samples(real: Path) -> None:
    heads = _heads(real)
    assert len(heads) > 1000
    claimed = 0
    for label, head in heads:
        for catch_all in (False, True):
            got = formats.detect(head, catch_all=catch_all)
            assert (got.name if got else None) == _exhaustive(head, catch_all), (label, catch_all)
            claimed += got is not None
    assert claimed > len(heads)  # most samples are recognized: the comparison is not all None


def test_detect_on_made_up_heads() -> None:
    cases = {
        b'{"Records":[{"eventVersion":"1.08","eventSource":"s3.amazonaws.com"}]}': "cloudtrail",
        # CloudTrail-looking, but a CycloneDX BOM with a specVersion scores 97 and wins
        b'{"Records":[{"eventSource":"x"}],"bomFormat":"CycloneDX","specVersion":"1.5"}': "sbom",
        b'{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}': "sbom",
        b"<34>1 2024-01-01T00:00:00Z host app - - - hello": "syslog",
        b"": None,
        b"plain text nobody claims": None,
    }
    for head, want in cases.items():
        got = formats.detect(head)
        assert (got.name if got else None) == want == _exhaustive(head, False), head
    assert formats.detect(b'{"a": 1}') is None
    assert formats.detect(b'{"a": 1}', catch_all=True) is formats.get("json")


def test_registry_is_a_read_only_mapping() -> None:
    assert list(formats.REGISTRY) == list(formats._FORMATS)
    assert len(formats.REGISTRY) == len(formats._FORMATS) and "cloudtrail" in formats.REGISTRY
    assert "nope" not in formats.REGISTRY and formats.REGISTRY.get("nope") is None
    assert dict(formats.REGISTRY.items())["syslog"].name == "syslog"
    assert formats.get("syslog") is formats.get("syslog")
    with pytest.raises(UnknownFormatError, match="known formats: .*cloudtrail"):
        formats.get("nope")


_PROBE = """
import sys
from secpipe import formats
import secpipe.formats.base
loaded = lambda: sorted(n.rsplit(".", 1)[1] for n in sys.modules
                        if n.startswith("secpipe.formats.") and not n.split(".")[-1].startswith("_") and n != "secpipe.formats.base")
print(loaded())
print(formats.detect(sys.stdin.buffer.read()).name, loaded())
"""


def test_formats_are_imported_only_when_needed() -> None:
    head = b'{"Records":[{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject"}]}'
    out = subprocess.run([sys.executable, "-c", _PROBE], input=head, capture_output=True, check=True).stdout
    # sbom, the only format that can outscore a CloudTrail head, is asked through formats._sniff
    assert out.decode().splitlines() == ["[]", "cloudtrail ['cloudtrail']"]


def test_k8s_audit_key_count_stops_early_but_counts_exactly() -> None:
    keys = [b'"auditID"', b'"verb"', b'"requestURI"', b'"objectRef"', b'"stage"']
    k8s = formats.get("k8s_audit")
    for mask in range(32):
        present = [k for i, k in enumerate(keys) if mask >> i & 1]
        head = b"{" + b",".join(k + b': "x"' for k in present) + b"}"
        assert k8s.sniff(head) == (80 if len(present) >= 3 else 0), present
