"""Start-up work of ``secpipe ingest`` cut in session 23, each with the result it had before.

- The compiled OCSF schema is packaged uncompressed (the shared file's bytes) and split in one
  pass (``ocsf._Top``): the same mapping as splitting the top level and then ``classes`` and
  ``objects`` (every key, in the file's order, every member's bytes).
- ``class_name_of`` looks at the classes already decoded first: the same name for every uid
  (uids are unique), cold or warm.
- ``_fast.struct_spec`` reads the common field types from the types themselves: the same spec as
  through ``msgspec.inspect`` for CloudTrail's record and for every form, the same errors.
- ``detect()`` asks sbom through ``formats._sniff`` without importing the sbom module: the same
  scores as the class's sniff; sbom is imported when it wins.
- The ``--json`` summary is written by msgspec: the same text orjson wrote.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import orjson
import pytest

from secpipe import formats
from secpipe.cli.ingest_run import _json_line
from secpipe.formats import _fast, _sniff
from secpipe.schema import ocsf as _ocsf_fn  # noqa: F401  (the package re-exports the function)

ocsf_mod = sys.modules["secpipe.schema.ocsf"]
_RAW = msgspec.json.Decoder(dict[str, msgspec.Raw])


def _packaged() -> Path:
    return Path(ocsf_mod.__file__).with_name(f"ocsf-{ocsf_mod.OCSF_VERSION}.json")


def test_packaged_schema_is_the_shared_one(real: Path) -> None:
    """The package holds the compiled schema as published (no longer gzipped: reading it is ~5 ms
    cheaper a start than inflating it): the same bytes as the shared copy, the source of truth."""
    assert _packaged().read_bytes() == (real.parent / "ocsf" / f"ocsf-{ocsf_mod.OCSF_VERSION}.json").read_bytes()


def _reference_schema() -> dict[str, object]:
    """The loader as it was: the top level split, then classes and objects split again."""
    top = _RAW.decode(_packaged().read_bytes())
    return {k: _RAW.decode(v) if k in ("classes", "objects") else msgspec.json.decode(v) for k, v in top.items()}


def test_one_pass_split_gives_the_same_schema() -> None:
    ref = _reference_schema()
    got = ocsf_mod.ocsf()
    assert list(got) == list(ref)  # every top-level key (none dropped by _Top), in the file's order
    assert set(ocsf_mod._Top.__struct_fields__) >= set(ref)
    for key, value in ref.items():
        if key in ("classes", "objects"):
            members = got[key]
            assert isinstance(value, dict)
            assert list(members) == list(value)
            assert all(bytes(members._raw[k]) == bytes(v) for k, v in value.items())
            assert members["api_activity" if key == "classes" else "metadata"] == msgspec.json.decode(
                value["api_activity" if key == "classes" else "metadata"])  # fmt: skip
        else:
            assert got[key] == value


def test_class_name_of_cold_and_warm() -> None:
    ref = _reference_schema()["classes"]
    assert isinstance(ref, dict)
    by_uid: dict[int, str] = {}
    for name, raw in ref.items():  # the file-order scan class_name_of did
        by_uid.setdefault(msgspec.json.decode(raw)["uid"], name)
    assert len(by_uid) == len(ref)  # unique uids: the decoded classes' answer is the scan's
    classes = ocsf_mod.ocsf()["classes"]
    ocsf_mod.class_name_of.cache_clear()
    classes._done.clear()  # cold: nothing decoded, the scan answers
    assert ocsf_mod.class_name_of(6003) == "api_activity"
    ocsf_mod.class_name_of.cache_clear()
    for name in ("authentication", "api_activity", "detection_finding"):
        classes[name]  # warm: decoded classes answer first
    for uid, name in by_uid.items():
        assert ocsf_mod.class_name_of(uid) == name
    with pytest.raises(ocsf_mod.SchemaError):
        ocsf_mod.class_name_of(123456)


def _reference_spec(type_: type) -> list[tuple[str, str]]:
    """struct_spec as it was: every field through msgspec.inspect (its ``quick=False`` reading)."""
    return _fast.struct_spec(type_, quick=False)


class _Leaf(msgspec.Struct):
    a: str | None = None
    b: int | None = None


class _Every(msgspec.Struct, rename={"s": "S"}):
    s: str | None = None
    sb: str | bool | None = None
    bs: bool | str | None = None
    i: int | None = None
    bo: bool | None = None
    raw: msgspec.Raw | None = None
    raw2: msgspec.Raw = msgspec.Raw(b"null")
    leaf: _Leaf | None = None
    leaves: list[_Leaf] | None = None
    names: list[str] | None = None


class _NoNone(msgspec.Struct):
    x: str = ""


class _IntList(msgspec.Struct):
    x: list[int] | None = None


class _StrInt(msgspec.Struct):
    x: str | int | None = None


class _Float(msgspec.Struct):
    x: float | None = None


class _RawStr(msgspec.Struct):
    x: msgspec.Raw | str | None = None


@pytest.mark.parametrize("type_", [_Every, _Leaf])
def test_struct_spec_same_as_msgspec_inspect(type_: type) -> None:
    assert _fast.struct_spec(type_) == _reference_spec(type_)


def test_struct_spec_of_cloudtrail_record() -> None:
    from secpipe.formats import cloudtrail

    assert _fast.struct_spec(cloudtrail._Record) == _reference_spec(cloudtrail._Record)


@pytest.mark.parametrize("type_", [_NoNone, _IntList, _StrInt, _Float, _RawStr])
def test_struct_spec_same_errors(type_: type) -> None:
    with pytest.raises(ValueError) as ref:
        _reference_spec(type_)
    with pytest.raises(ValueError) as got:
        _fast.struct_spec(type_)
    assert str(got.value) == str(ref.value)


def test_sbom_light_sniff_is_the_class_sniff(real: Path) -> None:
    sbom = formats.get("sbom")
    assert not sbom.catch_all and set(formats._SNIFFERS) <= set(formats._FORMATS)
    heads = [p.read_bytes()[:65536] for p in sorted((Path(__file__).parents[1] / "cases" / "sbom").glob("*.json"))]
    heads += [p.read_bytes()[:65536] for p in sorted((real / "trivy").rglob("*.json"))][:20]
    heads += [b'{"bomFormat": "CycloneDX", "specVersion": "1.5"}', b'{"spdxVersion":"SPDX-2.2"}', b"{}", b""]
    assert {sbom.sniff(h) for h in heads} >= {0, 97}
    assert all(sbom.sniff(h) == _sniff.sbom(h) for h in heads)


_DETECT = """
import sys
from secpipe import formats
head = sys.stdin.buffer.read()
fmt = formats.detect(head)
print(fmt.name if fmt else None, "secpipe.formats.sbom" in sys.modules)
"""


@pytest.mark.parametrize(("head", "want"), [
    (b'{"Records": [{"eventVersion": "1.08", "eventSource": "s3.amazonaws.com", "eventName": "GetObject"}]}',
     "cloudtrail False"),
    (b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}', "sbom True"),
])  # fmt: skip
def test_detect_imports_sbom_only_when_it_wins(head: bytes, want: str) -> None:
    out = subprocess.run([sys.executable, "-c", _DETECT], input=head, capture_output=True, check=True).stdout
    assert out.decode().strip() == want


def test_summary_line_is_orjsons() -> None:
    summary = {"events": 178_000, "stored": {"api_activity": 177_000, "authentication": 1000}, "dead_letter": 0,
               "duplicates": 3, "files": 89, "bytes": 209_715_200, "seconds": 2.036, "events_per_second": 87426.3,
               "exit_code": 0, "error": 'cannot store into /d: No space left — free "x" \\ \n\t\x01 \u2028 é 𝄞'}  # fmt: skip
    assert _json_line(summary) == orjson.dumps(summary).decode() + "\n"
    for secs in (0.0, 0.001, 0.068, 1.5, 123.456, 99999.999):
        for eps in (0.0, 14.8, 8068.5, 87426.3, 1234567.8):
            s = {"seconds": secs, "events_per_second": eps}
            assert _json_line(s) == orjson.dumps(s).decode() + "\n"


@pytest.mark.parametrize("value", ["", "x", "é𝄞", 0, 1, -1, 2**31, 2**63 - 1, -(2**63), 2**63, 2**64 - 1, True, False,
                                   0.0, -1.5, 1e300, float("inf")])  # fmt: skip
def test_constant_columns_have_the_inferred_type(value: object) -> None:
    """const() gives a value without a type the type pyarrow infers (without its inference)."""
    import pyarrow as pa

    from secpipe.formats import base

    base._const_rows.cache_clear()
    try:
        want = pa.repeat(pa.scalar(value), 5)
    except OverflowError:  # an int past int64 and uint64 alike: the same error as before
        with pytest.raises(OverflowError):
            base.const(value, 5)
        return
    got = base.const(value, 5)
    assert got.type == want.type and got.equals(want)


def test_ingest_imports_no_dateutil(tmp_path: Path) -> None:
    """pyarrow imports dateutil on its first type inference of a Python value (~2.3 ms)."""
    doc = tmp_path / "ct.json"
    doc.write_text('{"Records": [{"eventVersion": "1.08", "eventTime": "2024-01-01T00:00:00Z", '
                   '"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-east-1"}]}')  # fmt: skip
    probe = ("import atexit, sys\nfrom secpipe.cli import main\n"
             "atexit.register(lambda: print('dateutil' in sys.modules))\n"
             f"sys.argv = ['secpipe', 'ingest', '--json', '--data', {str(tmp_path / 'd')!r}, {str(doc)!r}]\nmain.main()\n")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[-1] == "False" and '"api_activity":1' in out[0]


def test_cipher_for_is_for_data_dir(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lake and the dead-letter store learn a plain directory is plain without crypto."""
    from secpipe.security import _settings, crypto
    from secpipe.security.keys import generate_key
    from secpipe.store.dlq import DeadLetterStore
    from secpipe.store.lake import Lake

    assert _settings.cipher_for(data_dir) is None and crypto.for_data_dir(data_dir) is None
    assert crypto.settings_path is _settings.settings_path
    monkeypatch.setenv("SECPIPE_MASTER_KEY", generate_key())
    crypto.reset_cache()
    try:
        crypto.enable(data_dir)
        cipher = _settings.cipher_for(data_dir)
        assert cipher is not None and cipher is crypto.for_data_dir(data_dir)
        assert Lake(data_dir / "lake").cipher is cipher and DeadLetterStore(data_dir / "dlq").cipher is cipher
    finally:
        crypto.reset_cache()
