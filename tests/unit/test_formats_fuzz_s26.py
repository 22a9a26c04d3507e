"""Failures the session-26 mutation campaign (``python -m tests.unit.mutate 2612 3000``, with
``FUZZ_CROSS=1``) found, each rebuilt from the real sample it came from."""

from __future__ import annotations

import json

import pytest

from tests.unit import mutate

CASES = mutate.CASES


@pytest.mark.parametrize("fmt", ["sarif", "auto"])
def test_sarif_result_property_bag_not_an_object(fmt: str) -> None:
    # Qodana's SARIF (tests/cases/holdout, round 25) with the first result's property bag turned
    # into an array holding it (SARIF 2.1.0 §3.8: a property bag is an object). The bag carries
    # Qodana's severity keys, so the severity reader decoded it as an object: msgspec's
    # ValidationError escaped the decoder and the report was lost whole as "decoder error". The
    # bag now gives no severity, as a bag without one does, and every result is stored.
    doc = json.loads((CASES / "holdout" / "qodana-cpp-mocked-results.sarif.json").read_bytes())
    results = doc["runs"][0]["results"]
    bag = results[0]["properties"]
    assert "qodanaSeverity" in bag  # what sent it to the severity reader
    results[0]["properties"] = [bag]
    body = json.dumps(doc).encode()
    assert mutate.problems(body, fmt, both_paths=fmt != "auto") == []
    got = mutate.ingest(body, fmt)
    assert not got.dead and sum(b.num_rows for b in got.batches) == len(results) == 3
    unmapped = [u for b in got.batches for u in b.column("unmapped").to_pylist()]
    assert any(u and '"properties":[{' in u.replace(" ", "") for u in unmapped)  # the bag kept as it came


def test_sarif_not_utf8_in_a_value_of_the_wrong_type_same_on_both_paths() -> None:
    # sarif-sdk's TSLint converter output with one result's message turned into a string holding a
    # UTF-8-encoded lone surrogate (ED BF BF: no UTF-8, RFC 3629), as the campaign's seed 2613 did. The
    # native path refuses the log whole ("not valid UTF-8 at byte N": its raw_data check reads every
    # byte); the Python path stored 24 results and dead-lettered the one, for its message's type
    # (msgspec rejects the string before reading it). Both now refuse the log whole, as for bytes in a
    # value of the right type.
    path = mutate.REAL / "sarif-sdk/src/Test.FunctionalTests.Sarif/v2/ConverterTestData/TSLint/TSLint-09.json.sarif"
    doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    doc["runs"][0]["results"][11]["message"] = "\udfff x"
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")
    at = body.index(b"\xed\xbf\xbf")
    assert mutate.problems(body, "sarif") == []
    for native in (True, False):
        got = mutate.ingest(body, "sarif", native=native)
        assert not got.batches
        assert [(d.reason, d.offset) for d in got.dead] == [
            (f"not valid UTF-8 at byte {at} (a JSON document must be UTF-8, RFC 8259)", 0)]


def test_sarif_result_of_the_wrong_shape_not_utf8_dead_lettered_alone() -> None:
    # sarif-sdk's SomeErrors.txt.sarif (tests/cases/holdout) with the first result's artifactLocation
    # turned into an array whose uri holds an encoded lone surrogate (campaign seed 2614). The native
    # walker rejects that result for its shape before raw_data's UTF-8 check; so does msgspec on the
    # Python path: that result alone is dead-lettered, the other six are stored, on both paths (the
    # Python path had refused the log whole for the bytes).
    doc = json.loads((CASES / "holdout" / "SomeErrors.txt.sarif").read_bytes().decode("utf-8-sig"))
    phys = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    phys["artifactLocation"] = [dict(phys["artifactLocation"], uri="Visual\udfffStudio.cs")]
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")
    assert mutate.problems(body, "sarif") == []
    for native in (True, False):
        got = mutate.ingest(body, "sarif", native=native)
        assert sum(b.num_rows for b in got.batches) == 6
        assert [d.offset for d in got.dead] == [0]
        assert "artifactLocation" in got.dead[0].reason


def test_gitlab_system_hook_number_past_float64() -> None:
    # GitLab's documented system hooks (tests/cases/holdout) with one project_create hook's
    # project_id a number past float64's range (1e400: valid JSON, RFC 8259 leaves number range to
    # the reader; the slow fuzz's json-value mutation, seed 536870911 under CI=true). msgspec's
    # "Number out of range" escaped the system-hook reader and ended the whole ingest. The value is
    # read as absent (it stays in raw_data); every hook is stored, on both paths.
    lines = (CASES / "holdout" / "gitlab_system_hooks.jsonl").read_bytes().splitlines()
    assert b'"project_id": 74' in lines[0]
    lines[0] = lines[0].replace(b'"project_id": 74', b'"project_id": 1e400', 1)
    body = b"\n".join(lines) + b"\n"
    for fmt in ("gitlab", "auto"):
        assert mutate.problems(body, fmt, both_paths=fmt != "auto") == []
        got = mutate.ingest(body, fmt)
        assert not got.dead and sum(b.num_rows for b in got.batches) == len(lines) == 15
        raws = [r for b in got.batches for r in b.column("raw_data").to_pylist()]
        assert any('"project_id": 1e400' in r or '"project_id":1e400' in r for r in raws)
