"""XML-escaped text for the redact stage: a Windows event's XML as Windows renders it, inside another record.

Windows' event rendering (EvtRender, ``Get-WinEvent``'s ``ToXml()``, Winlogbeat's ``event.original`` with
``include_xml``, the XML a collector forwards) escapes a quote in an element's text as ``&quot;`` (and ``&apos;``,
``&amp;``, ``&lt;``, ``&gt;``, character references ``&#34;`` ...): ``<Data Name="CommandLine">net1 user bob
&quot;Pa55w0rd&quot; /add</Data>``. The detectors read quotes (a quoted password is the whole string between them,
``-p"PASS"``, ``/pass:"PASS"``), and an ``&`` ends a value for most of them: they see no password there.
:func:`view` gives the text with the references decoded and, per decoded character, where it starts in the text;
:func:`redact_view` redacts the decoded text with the caller's detectors and replaces in the text what each
placeholder replaced in the view (a reference cut by a span goes whole), the rest as it was.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from secpipe.transforms.protect._audit import _replaced

#: a quote written as an XML reference: a text holding one is redacted through :func:`view`
QUOTE_REF = re.compile(r"&(?:quot|apos|#0*3[49]|#[xX]0*2[27]);")
#: the references :func:`view` decodes: the five predefined entities and character references
_REF = re.compile(r"&(?:quot|apos|amp|lt|gt|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")


def view(text: str) -> tuple[str, list[int]]:
    """(``text`` with its XML references decoded, the offset in ``text`` of each decoded character and of its end)."""
    out: list[str] = []
    starts: list[int] = []
    pos = 0
    for m in _REF.finditer(text):
        out.append(text[pos : m.start()])
        starts.extend(range(pos, m.start()))
        char = html.unescape(m.group(0))
        out.append(char)
        starts.extend([m.start()] * len(char))
        pos = m.end()
    out.append(text[pos:])
    starts.extend(range(pos, len(text) + 1))
    return "".join(out), starts


def redact_view(text: str, redact: Callable[[str], tuple[str, list[str]]]) -> tuple[str, list[str]]:
    """``text`` with what ``redact`` replaces in its decoded :func:`view` replaced (a span's source from its first
    character's start to its end's); (new text, the secret types found). Where ``redact`` rewrote more than
    placeholders, its decoded output is the result (no secret goes back in)."""
    decoded, starts = view(text)
    clean, kinds = redact(decoded)
    if clean == decoded:
        return text, kinds
    spans = _replaced(decoded, clean)
    if spans is None:
        return clean, kinds
    out, pos = [], 0
    for s, e, mark in spans:
        out.append(text[pos : starts[s]] + mark)
        pos = starts[e] if e < len(decoded) else len(text)
    return "".join(out) + text[pos:], kinds
