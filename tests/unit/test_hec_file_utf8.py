"""A file of Splunk HEC envelopes (read by ``sources.files`` through ``server.hec.build_items``) whose
string ``time`` sits beside an event that is no UTF-8: the envelope is dead-lettered with its reason
and the file's other events are stored (``_numeric_time`` raised UnicodeDecodeError and stopped the
ingest; the slow fuzz found it on tests/cases/wire_holdout/fluent-bit-splunk-payloads.ndjson)."""

from __future__ import annotations

from pathlib import Path

from secpipe.server import hec
from tests.unit import mutate

SAMPLE = Path(__file__).resolve().parents[1] / "cases" / "wire_holdout" / "fluent-bit-splunk-payloads.ndjson"


def _broken() -> bytes:
    src = SAMPLE.read_bytes()
    at = src.index(b'"log": "') + 12  # inside the sshd line Fluent Bit wrapped
    return src[:at] + b"\xc3(" + src[at + 2 :]


def test_build_items_keeps_an_envelope_that_is_no_utf8() -> None:
    envs = [x for x in _broken().splitlines() if x.strip()]
    names, docs = hec.build_items(envs, None, {})
    bad = next(n for n, d in enumerate(docs) if b"\xc3(" in d)
    assert docs[bad] == envs[bad] and len(names) == len(envs)


def test_file_ingest_dead_letters_it_and_stores_the_rest() -> None:
    got = mutate.ingest(_broken(), "auto")
    assert [(d.reason, b"\xc3(" in d.raw) for d in got.dead] == [("not valid UTF-8 at byte 51", True)]
    assert sum(b.num_rows for b in got.batches) == got.events - 1 >= 2


def test_an_envelope_field_that_is_no_utf8_is_dead_lettered_alone() -> None:
    """A non-UTF-8 byte in an envelope's own string (its time) or in a string event: that envelope
    is dead-lettered alone with HEC's invalid-event reason (code 6, its number), raw bytes kept, and
    the file's other events are stored, as the route stores them (session 35: the file was dead-lettered
    whole); when it is the first envelope (the file is told from its first line) the file is input no
    format recognized."""
    src = SAMPLE.read_bytes()
    first = src.replace(b'"time": "1535995058', b'"time": "\xb3535995058', 1)
    got = mutate.ingest(first, "auto")
    assert not got.batches and len(got.dead) == 1 and got.dead[0].raw == first
    assert got.dead[0].reason.startswith("unrecognized input"), got.dead[0].reason
    cases = {
        src + b'\n{"time": 1, "event": "caf\xc3( line"}\n': (3, "a string event that is not UTF-8"),
        src.replace(b'"time": "1535995058', b'"time": "\xb3535995058', 2).replace(b'"\xb3', b'"1', 1):
            (1, "not an event envelope: 'utf-8' codec can't decode byte 0xb3"),
    }
    for broken, (n, why) in cases.items():
        got = mutate.ingest(broken, "auto")
        (dead,) = got.dead
        assert dead.reason.startswith(f"Splunk HEC envelopes: Invalid data format (code 6): event {n} of the file: {why}")
        assert dead.offset == n and b"\xc3(" in dead.raw or b"\xb3" in dead.raw
        assert sum(b.num_rows for b in got.batches) == got.events - 1 >= 2
