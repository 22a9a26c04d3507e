"""Syslog lines as real senders write them (seventh holdout round: rsyslog's and go-syslog's test data).

Expectations come from RFC 5424/3164 and from what rsyslog's own parser keeps; the lines are
the RFC examples of ``shared/data/real`` (and ``tests/cases/holdout``) mutated the way those
senders deviate, not copies of the third-party test files.

Regressions covered: a line whose MSG is not UTF-8 (8-bit Latin-1 text from older devices) was
dead-lettered, though RFC 5424 section 6.4 defines ``MSG-ANY = *OCTET`` and RFC 3164 names no
encoding; a space after ``<PRI>`` or a colon right after the BSD timestamp (both kept by
rsyslog) lost the line's time, host and tag (read as ``<PRI>`` + text at the receipt time).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe import formats
from secpipe.formats.syslog import Syslog
from tests.unit.test_formats_holdout import CASES


def _rows(data: bytes) -> tuple[list[dict], list]:
    dec = Syslog().decode(data, "t")
    return [r for b in dec.batches for r in b.to_pylist()], dec.dead


def _examples(real: Path) -> list[bytes]:
    return (real / "rfc5424-spec/rfc5424_section6.5_examples.log").read_bytes().splitlines()


def test_eight_bit_msg_is_kept(real: Path) -> None:
    """RFC 5424 example 2 with a Latin-1 MSG (MSG-ANY) and example 3 with one stray byte in
    its UTF-8 MSG: stored, each invalid byte written ``\\xNN``, the valid text as it is."""
    lines = _examples(real)
    latin1 = lines[1] + b" Gr\xfc\xdfe aus K\xf6ln"
    mixed = lines[2] + " café".encode() + b"\xff"
    rows, dead = _rows(b"\n".join([latin1, mixed, lines[0]]))
    assert dead == [] and len(rows) == 3
    by_raw = {r["raw_data"]: r for r in rows}
    one = by_raw[latin1.decode("utf-8", "backslashreplace")]
    assert one["message"] == "%% It's time to make the do-nuts. Gr\\xfc\\xdfe aus K\\xf6ln"
    assert one["device"]["ip"] == "192.0.2.1" and one["actor"]["process"]["pid"] == 8710
    two = by_raw[mixed.decode("utf-8", "backslashreplace")]
    assert two["message"].endswith("An application event log entry... café\\xff")
    assert two["metadata"]["event_code"] == "ID47"


def test_eight_bit_uid_hashes_the_bytes_received(real: Path) -> None:
    """Two lines that differ only in an invalid byte are two events (the uid is of the bytes,
    not of the escaped text), and the same line read again has the same uid."""
    base = _examples(real)[1]
    a, b = base + b" \xe4", base + b" \xe5"
    rows, _ = _rows(a + b"\n" + b)
    again, _ = _rows(a)
    uids = [r["metadata"]["uid"] for r in rows]
    assert len(set(uids)) == 2 and again[0]["metadata"]["uid"] == uids[0]


@settings(max_examples=60, deadline=None)
@given(msg=st.binary(max_size=40).filter(lambda m: b"\n" not in m and b"\r" not in m))
def test_any_msg_octets_after_a_valid_header(msg: bytes) -> None:
    """Whatever octets follow a valid RFC 5424 header, the line is one stored event whose
    raw_data is the line with invalid bytes escaped."""
    line = b"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - x" + msg
    rows, dead = _rows(line)
    assert dead == [] and len(rows) == 1
    assert rows[0]["raw_data"] == line.decode("utf-8", "backslashreplace")


def _bsd(name: str) -> list[bytes]:
    return (CASES / name).read_bytes().splitlines()


@pytest.mark.parametrize(
    ("old", "new"),
    [(b"<34>Oct", b"<34> Oct"), (b"22:14:15 ", b"22:14:15: "), (b"<34>Oct", b"<34>  Oct")],
    ids=["space-after-pri", "colon-after-time", "two-spaces-after-pri"],
)
def test_rsyslog_header_leniencies(old: bytes, new: bytes) -> None:
    """RFC 3164 section 5.4 example 1 with a space after ``<PRI>`` / a colon after the
    timestamp (rsyslog parses both): the same time, host, tag and message as the line itself.
    Two spaces after the PRI are one deviation too many: the line is still kept, as PRI + text."""
    line = _bsd("rfc3164_section5.4_examples.log")[0]
    (want,), _ = _rows(line)
    (got,), dead = _rows(line.replace(old, new, 1))
    assert dead == []
    if new == b"<34>  Oct":
        assert got["message"] == line[4:].decode() and got["device"] is None  # MSG is left-trimmed
        return
    for key in ("time", "message", "device", "actor", "metadata"):
        if key == "metadata":
            assert got[key]["log_format"] == want[key]["log_format"] == "RFC 3164"
            continue
        assert got[key] == want[key], key
    assert got["class_uid"] == want["class_uid"]


def test_space_after_pri_is_sniffed_as_syslog() -> None:
    line = _bsd("rfc3164_section5.4_examples.log")[0].replace(b"<34>Oct", b"<34> Oct", 1)
    fmt = formats.detect(line + b"\n")
    assert fmt is not None and fmt.name == "syslog"


@pytest.mark.parametrize(
    ("cut", "host", "msg"),
    [(" mymachine su: 'su root' failed for lonvick on /dev/pts/8", "mymachine", "su: 'su root' failed for lonvick on /dev/pts/8"),
     (" mymachine", "mymachine", None), (" mymachine ", "mymachine", None), (" ", None, None), ("", None, None)],
    ids=["no-tag", "host-only", "host-and-space", "time-and-space", "time-only"],
)
@pytest.mark.parametrize("stamp", ["bsd", "iso"])
def test_header_without_tag_still_gives_time_and_host(stamp: str, cut: str, host: str | None, msg: str | None) -> None:
    """RFC 3164 section 5.4 example 1 with its TAG gone or cut after the hostname or the
    timestamp, with its BSD stamp or an RFC 3339 one (rsyslog's ``weird.parse1`` deviations):
    the time and host of the header, not the receipt time and the whole line as text."""
    first = _bsd("rfc3164_section5.4_examples.log")[0].decode()  # <34>Oct 11 22:14:15 mymachine su: ...
    ts = "Oct 11 22:14:15" if stamp == "bsd" else "2003-10-11T22:14:15Z"
    line = "<34>" + ts + cut
    if "su:" in cut:  # the TAG's colon dropped: ``su 'su root' ...`` is MSG
        line, msg = line.replace("su:", "su", 1), (msg or "").replace("su:", "su", 1)
    (row,), dead = _rows(line.encode())
    assert dead == [] and row["metadata"]["log_format"] == "RFC 3164" and row["severity_id"] == 5
    (ref,), _ = _rows(first.encode())
    want_time = ref["time"] if stamp == "bsd" else 1065910455000
    assert row["time"] == want_time and row["message"] == msg
    assert (row["device"] or {}).get("hostname") == host
