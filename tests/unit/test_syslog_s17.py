"""Syslog lines whose PRI or RFC 5424 TIMESTAMP is invalid (session 17).

RFC 3164 section 4.3.3: a relay that receives a message with an unidentifiable PRI treats the
entire packet as the CONTENT; section 4.3.2: with a valid PRI but no valid TIMESTAMP, the
original message after the PRI is the CONTENT and the relay stamps its own time. rsyslog and
syslog-ng keep such messages the same way. Both were dead-lettered (a line with a broken
structured data or no header at all was kept already), so a log holding one lost the line.
The cases are the RFC 5424 section 6.5 examples of ``shared/data/real`` with the PRI or the
TIMESTAMP made invalid (spec-built mutations).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpipe import formats
from secpipe.formats.base import TIME_FROM_RECEIPT
from tests.unit.test_formats_holdout import _rows

RFC = "rfc5424-spec/rfc5424_section6.5_examples.log"


@pytest.mark.parametrize(
    ("old", "new", "whole"),
    [
        (b"<34>1 2003-10-11T22:14:15.003Z", b"<34>1 2003-10-11T25:14:15.003Z", False),  # hour 25
        (b"<34>1 2003-10-11T22:14:15.003Z", b"<34>1 2003-02-30T22:14:15.003Z", False),  # no 30 February
        (b"<34>1 2003-10-11T22:14:15.003Z", b"<34>1 2003-10-11T22:14:15.003+25:00", False),  # offset
        (b"<34>1 2003-10-11T22:14:15.003Z", b"<192>1 2003-10-11T22:14:15.003Z", True),  # PRI > 191
    ],
)
def test_invalid_header_line_is_kept(real: Path, old: bytes, new: bytes, whole: bool) -> None:
    lines = (real / RFC).read_bytes().splitlines()
    assert lines[0].startswith(old)
    broken = new + lines[0][len(old):]
    d = formats.get("syslog").decode(b"\n".join([broken, *lines[1:]]) + b"\n", "t")
    assert d.dead == []
    rows = _rows(d)
    assert len(rows) == len(lines)
    kept = next(r for r in rows if r["raw_data"] == broken.decode())
    assert kept["message"] == (broken.decode() if whole else broken.decode()[len("<34>"):])
    assert TIME_FROM_RECEIPT in kept["metadata"]["labels"]
    assert kept["device"] is None and kept["actor"] is None and kept["class_uid"] == 0
    assert kept["severity_id"] == (0 if whole else 5)  # PRI 34: auth.crit


_HEADS = st.sampled_from(["", "<34>", "<34>1 ", "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ",
                          "<165>1 - - - - - - ", "<34>Oct 11 22:14:15 mymachine su: ", "<999>", "<192>1 ",
                          "<34>1 2003-10-11T25:14:15.003Z ", "Oct 11 22:14:15 ", "su[8]: "])  # fmt: skip
_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), min_size=1, max_size=40).filter(str.strip)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_HEADS, _TEXT), min_size=1, max_size=6))
def test_every_line_is_one_event(lines: list[tuple[str, str]]) -> None:
    """Newline framing: every line that is not blank is one stored event, whatever its header
    (valid, invalid or none: RFC 3164 4.3.2/4.3.3 keep them all); nothing is dead-lettered."""
    text = "".join(head + body + "\n" for head, body in lines)
    d = formats.get("syslog").decode(text.encode(), "t")
    assert d.dead == []
    assert sum(b.num_rows for b in d.batches) == d.events == sum(1 for x in text.split("\n") if x.strip())
