"""Linux audit records' command lines for the redact stage: the argv of an EXECVE record and of a PROCTITLE record.

auditd writes a command's arguments one field each (``a0="mysql" a1="-u" a2="root" a3="-pPASS"``), an argument that
holds a space, a double quote or a control character as hex (``a2=2D70...``), and the process title as the hex of its
NUL-separated argv (``proctitle=6D7973716C002D70...``; quoted when it needs no escaping): the command-line detectors,
which read a command as words, see none of it. :func:`argv_text` gives the words (one line an audit record), and
:func:`redact_argv` redacts them with the caller's detectors and writes each changed argument back in its own
encoding (quoted where the new text allows it, else hex), so the record stays one auditd wrote, less the secret.
(An argument split over several records, ``a1[0]=``..., stays as it is.)
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: one argument of an EXECVE record (the record's own fields, argc= and the msg= stamp, are no arguments)
_ARG = re.compile(r'(?<=[ ])a[0-9]+=(?:"([^"\r\n]*)"|([0-9A-Fa-f]+)(?![0-9A-Za-z_\[]))')
_TITLE = re.compile(r'(?<=[ ])proctitle=(?:"([^"\r\n]*)"|([0-9A-Fa-f]+)(?![0-9A-Za-z_]))')
_PLACEHOLDER = re.compile(r"\[REDACTED:[a-z0-9_]+\]")


def _records(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, is a PROCTITLE record) of each EXECVE / PROCTITLE record line of ``text``."""
    out = []
    pos = 0
    for line in text.splitlines(keepends=True):
        if "type=EXECVE" in line:
            out.append((pos, pos + len(line), False))
        elif "type=PROCTITLE" in line:
            out.append((pos, pos + len(line), True))
        pos += len(line)
    return out


def _decode(quoted: str | None, hexed: str | None) -> str | None:
    if quoted is not None:
        return quoted
    if hexed is None or len(hexed) % 2:
        return None
    return bytes.fromhex(hexed).decode("utf-8", "replace")


def _args(line: str, title: bool) -> list[tuple[int, int, str, bool]]:
    """(start, end, text, was hex) of each argument of one record line (a proctitle's NUL-separated words)."""
    out = []
    for m in (_TITLE if title else _ARG).finditer(line):
        text = _decode(m.group(1), m.group(2))
        if text is None:
            continue
        start = m.start(1) if m.group(1) is not None else m.start(2)
        end = m.end(1) if m.group(1) is not None else m.end(2)
        out.append((start, end, text, m.group(1) is None))
    return out


def argv_text(text: str) -> str | None:
    """The command lines of ``text``'s EXECVE / PROCTITLE records, one a line, words space-separated (None: no such
    record)."""
    lines = []
    for start, end, title in _records(text):
        args = [_decode(None, h) if h else q for q, h in (_TITLE if title else _ARG).findall(text, start, end)]
        words = [w for a in args if a is not None for w in (a.split("\0") if title else [a])]
        lines.append(" ".join(words))
    return "\n".join(lines) if lines else None


def _replaced(before: str, after: str) -> list[tuple[int, int, str]] | None:
    """The (start, end, placeholder) spans of ``before`` that ``after`` replaced by placeholders, in order (None:
    ``after`` does not read as ``before`` with placeholders in it)."""
    pieces = _PLACEHOLDER.split(after)
    marks = _PLACEHOLDER.findall(after)
    if not before.startswith(pieces[0]):
        return None
    pos, spans = len(pieces[0]), []
    for i, (mark, piece) in enumerate(zip(marks, pieces[1:], strict=True)):
        if i == len(marks) - 1:
            nxt = len(before) - len(piece)
            if nxt < pos or not before.endswith(piece):
                return None
        else:
            nxt = before.find(piece, pos)
            if nxt < 0:
                return None
        spans.append((pos, nxt, mark))
        pos = nxt + len(piece)
    return spans


def _apply(words: list[str], spans: list[tuple[int, int, str]]) -> list[str]:
    """Each word with what the spans (offsets in the words joined by single spaces) cover removed and each span's
    placeholder put in the word the span starts in."""
    bounds, pos = [], 0
    for w in words:
        bounds.append((pos, pos + len(w)))
        pos += len(w) + 1

    def owner(at: int) -> int:
        inside = [k for k, (lo, hi) in enumerate(bounds) if lo <= at < hi]
        ending = [k for k, (_lo, hi) in enumerate(bounds) if hi == at]
        return (inside or ending or [len(words) - 1])[0]

    gone: set[int] = set()
    marks: dict[tuple[int, int], list[str]] = {}
    for s, e, mark in spans:
        k = owner(s)
        marks.setdefault((k, s - bounds[k][0]), []).append(mark)
        gone.update(range(s, e))
    out = []
    for k, w in enumerate(words):
        lo = bounds[k][0]
        chars: list[str] = []
        for o in range(len(w) + 1):
            chars.extend(marks.get((k, o), ()))
            if o < len(w) and lo + o not in gone:
                chars.append(w[o])
        out.append("".join(chars))
    return out


def redact_words(words: list[str], redact: Callable[[str], tuple[str, list[str]]], kinds: list[str]) -> list[str] | None:
    """The words of one command line as ``redact`` leaves them when read joined by spaces (each word its part of the
    redacted text), the secret types it found added to ``kinds``; None if it changed nothing."""
    joined = " ".join(words)
    clean, found = redact(joined)
    spans = _replaced(joined, clean) if clean != joined else None
    if not spans:
        return None
    kinds.extend(k for k in found if k not in kinds)
    return _apply(words, spans)


def redact_argv(text: str, redact: Callable[[str], tuple[str, list[str]]]) -> tuple[str, list[str]]:
    """``text`` with the secrets ``redact`` finds in its EXECVE / PROCTITLE records' command lines replaced in the
    arguments that hold them, each in its own encoding (a quoted argument stays quoted: a placeholder needs no
    escaping; a hex one is hex again); (new text, the secret types found)."""
    kinds: list[str] = []
    out, done = [], 0
    for start, end, title in _records(text):
        line = text[start:end]
        args = _args(line, title)
        owners = [k for k, (_, _, a, _) in enumerate(args) for _w in (a.split("\0") if title else [a])]
        words = [w for _, _, a, _ in args for w in (a.split("\0") if title else [a])]
        new_words = redact_words(words, redact, kinds)
        if new_words is None:
            continue
        rebuilt, cut = [], 0
        for k, (s, e, _a, was_hex) in enumerate(args):
            new = "\0".join(w for j, w in zip(owners, new_words, strict=True) if j == k)
            rebuilt.append(line[cut:s] + (new.encode().hex().upper() if was_hex else new))
            cut = e
        out.append(text[done:start] + "".join(rebuilt) + line[cut:])
        done = end
    if not out:
        return text, []
    return "".join(out) + text[done:], kinds


def audit_only(text: str) -> bool:
    """Is every line of ``text`` an EXECVE or PROCTITLE record (nothing else there for the other detectors)?"""
    return all("type=EXECVE" in line or "type=PROCTITLE" in line for line in text.splitlines() if line.strip())
