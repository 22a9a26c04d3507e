"""Session 18's syslog repeat hints and wire codecs under hostile and real input (h3).

The repeat hints (``formats.syslog.Repeats``: ``;repeats=<offset>:<count>,...`` appended to a
batch's source) must give every cut of a stream the ids the whole stream gets as one batch,
and a source that is not such a hint must never crash a decode nor merge events. The lines are
real: the loghub OpenSSH and Linux logs, Elastic's auth-log test lines, the RFC 3164 examples
of ``tests/cases/holdout`` (see its SOURCE.md) and the RFC 5424 section 6.5 examples of
``shared/data/real``; the streams around them (line ends, blank lines, a BOM, bytes that are not
UTF-8, octet counting with newlines inside a frame) are built here.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secpipe.formats import _syslog_frames, syslog

CASES = Path(__file__).parents[1] / "cases" / "holdout"
_REAL = Path("/work/shared/data/real/rfc5424-spec/rfc5424_section6.5_examples.log")
POOL = sorted(
    {
        line
        for name in ("loghub_OpenSSH_head.log", "loghub_Linux_head.log", "elastic-system-auth.log",
                     "rfc3164_section5.4_examples.log")  # fmt: skip
        for line in (CASES / name).read_bytes().splitlines()
        if line.strip()
    }
    | ({x for x in _REAL.read_bytes().splitlines() if x.strip()} if _REAL.exists() else set())
)
FMT = syslog.Syslog()


def _uids(data: bytes, source: str) -> list[str]:
    d = FMT.decode(data, source)
    return [u for b in d.batches for u in b.column("metadata").field("uid").to_pylist()]


_variant = st.sampled_from(["", " ", "\r", "\xff\xfe", "\n  continued"])


@st.composite
def _streams(draw: st.DrawFn, pool_size: int = 8) -> tuple[list[bytes], int, str]:
    """A stream of real lines drawn from a few of the pool's (so lines repeat), cut into any
    number of batches at message boundaries: (the batches' bytes, message count, source)."""
    picks = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=pool_size, unique=True))
    msgs = draw(st.lists(st.tuples(st.sampled_from(picks), _variant), min_size=1, max_size=40))
    octets = draw(st.booleans())
    cuts = sorted(draw(st.sets(st.integers(0, len(msgs)), max_size=12)))
    framed: list[bytes] = []
    count = 0
    for line, var in msgs:
        if octets:  # RFC 6587: a frame may hold newlines; its trailing CR/LF is not the message's
            body = line + var.encode("latin-1")
            framed.append(b"%d %s" % (len(body), body))
            count += 1
            continue
        if var == "\n  continued":  # newline framing: the continuation is a line of its own
            var = ""
        end = draw(st.sampled_from([b"\n", b"\r\n"]))
        extra = draw(st.sampled_from([b"", b"\n", b"   \t\n", b"\r\n"]))  # blank, whitespace-only
        framed.append(line + var.encode("latin-1") + end + extra)
        count += 1
    bounds = [0, *cuts, len(framed)]
    parts = [b"".join(framed[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    if not octets and draw(st.booleans()):
        parts[0] = b"\xef\xbb\xbf" + parts[0]  # a BOM opens the stream, not a later batch
    return parts, count, "tcp;framing=octet-counted" if octets else "file:/var/log/auth.log"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=_streams())
def test_any_cut_of_a_stream_hashes_as_the_whole(stream: tuple[list[bytes], int, str]) -> None:
    """Any number of batches, each hinted by one ``Repeats``, get exactly the whole stream's ids
    (mixed CRLF, blank and whitespace-only lines, a BOM, bytes that are not UTF-8, lines that
    differ only by a trailing CR or space, octet-counted frames with newlines inside)."""
    parts, count, source = stream
    whole = _uids(b"".join(parts), source)
    reps = syslog.Repeats()
    split = [u for p in parts for u in _uids(p, reps.source(p, source))]
    assert sorted(split) == sorted(whole)
    assert len(whole) == count and len(set(whole)) == count  # every message, no two alike


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=_streams(pool_size=4), limit=st.integers(1, 3))
def test_a_tiny_limit_still_counts_what_it_remembers(stream: tuple[list[bytes], int, str], limit: int) -> None:
    """``Repeats(limit)`` keeps at least the last ``limit`` distinct lines across its generation
    swap: a stream of at most ``limit + 1`` distinct lines (it swaps, and swaps again, but never
    forgets one) hashes as the whole, cut anywhere."""
    parts, _count, source = stream
    whole = b"".join(parts)
    if "octet" in source:
        keys = set(_syslog_frames._split_octets(whole.removeprefix(b"\xef\xbb\xbf"))[0])
    else:  # a whitespace-only line is a line to Repeats (it only counts, never hints a message)
        keys = {x.removesuffix(b"\r") for x in whole.removeprefix(b"\xef\xbb\xbf").split(b"\n")} - {b""}
    if len(keys) > limit + 1:
        return
    reps = syslog.Repeats(limit, max_bytes=1 << 30)
    split = [u for p in parts for u in _uids(p, reps.source(p, source))]
    assert sorted(split) == sorted(_uids(whole, source))


_LINES = [x for x in POOL if b"Failed password" in x][:1] * 3 + POOL[:4]


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(max_size=20), hint=st.one_of(st.text(max_size=40), st.from_regex(r"\A[-0-9:,_ ]{0,40}\Z"),
       st.lists(st.tuples(st.integers(-(2**70), 2**70), st.integers(-(2**70), 2**70)), max_size=4).map(
           lambda xs: ",".join(f"{a}:{b}" for a, b in xs))))  # fmt: skip
def test_a_hint_that_is_not_one_never_breaks_a_decode(prefix: str, hint: str) -> None:
    """A source that holds ``;repeats=`` with anything after it (a file named so, a malformed or
    forged hint) decodes every line, never raises, and never gives two events one id."""
    data = b"\n".join(_LINES) + b"\n"
    uids = _uids(data, prefix + ";repeats=" + hint)
    assert len(uids) == len(_LINES) and len(set(uids)) == len(uids)


def test_numbers_a_hint_cannot_hold() -> None:
    """Red before: a count past int64 raised OverflowError, a negative count or one near 2**63
    gave the three copies one id (the lake keeps one)."""
    data = b"\n".join(_LINES[:3]) + b"\n"
    plain = _uids(data, "f")
    for hint in ("0:99999999999999999999999", "99999999999999999999999:1", "0:-3", "0:9223372036854775807",
                 "0:1_0", "0:\u0663"):  # fmt: skip
        uids = _uids(data, "f;repeats=" + hint)
        assert len(set(uids)) == 3, hint
        assert uids == plain, hint  # not a hint Repeats writes: ignored
    assert _uids(data, "f;repeats=0:2") != plain  # a hint Repeats writes still counts


def test_a_source_that_holds_the_marker_already() -> None:
    """A file named ``x;repeats=0:5`` (any source may hold the marker): its first batch hashes
    as under any other name, dead letters keep the name, and its repeats still count."""
    data = b"\n".join(_LINES[:3]) + b"\n"
    name = "file:/var/log/x;repeats=0:5"
    reps = syslog.Repeats()
    first = reps.source(data, name)
    assert _uids(data, first) == _uids(data, "file:/var/log/plain")
    second = reps.source(data, name)
    assert sorted(_uids(data, second)) != sorted(_uids(data, first))
    assert len(set(_uids(data, first) + _uids(data, second))) == 6
    broken = b"12 <34>1 2003\n" + b"999 cut"  # octet-counted, its second frame cut
    d = FMT.decode(broken, reps.source(broken, name + ";framing=octet-counted"))
    assert [x.source for x in d.dead] == [name + ";framing=octet-counted"]


def test_repeats_memory_is_bounded_in_bytes() -> None:
    """The listener's ``Repeats`` keeps 65,536 distinct lines per generation: lines of 64 KiB
    (its ``max_message_bytes``) would hold 8 GiB. It keeps ``max_bytes`` of them at most
    per generation (red before: no byte bound)."""
    reps = syslog.Repeats(max_bytes=1 << 20)
    line = b"<13>Oct 11 22:14:15 host app: " + b"x" * (64 << 10)
    for k in range(64):
        body = b"".join(b"%d %s" % (len(line) + 8, line + b"%08d" % (k * 4 + i)) for i in range(4))
        reps.source(body, "udp;framing=octet-counted")
    held = sum(map(len, reps._new)) + sum(map(len, reps._old))
    assert held <= 3 << 20
    again = b"%d %s" % (len(line) + 8, line + b"%08d" % 255)  # the last line is remembered
    assert reps.source(again, "udp;framing=octet-counted").endswith(f";repeats={len(str(len(line) + 8)) + 1}:1")


def test_cloudwatch_envelope_lines_are_not_counted() -> None:
    """A CloudWatch Logs envelope is not lines: Repeats leaves its source alone (its log events
    carry CloudWatch's id) and keeps nothing of it."""
    env = (b'{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],'
           b'"logEvents":[{"id":"1","timestamp":1,"message":"' + POOL[0].replace(b'"', b"'") + b'"}]}\n')  # fmt: skip
    reps = syslog.Repeats()
    assert reps.source(env, "fh") == "fh" and reps.source(env, "fh") == "fh"
    assert not reps._new and not reps._old
