"""STIX 2.x patterns -> the indicator values that one observed field value can soundly match.

The threat_intel stage compares *one* field value (an IP, a domain, a URL, a hash) with an
indicator. Per the STIX 2.1 Patterning specification (section 9):

- inside one observation expression ``[...]``, ``AND`` binds tighter than ``OR``, and every
  comparison joined by ``AND`` must hold for the *same* object;
- observation expressions joined by ``AND`` or ``FOLLOWEDBY`` need several observations;
- qualifiers (9.5): ``WITHIN n SECONDS`` asks the observations of the expression before it to fall
  in a window of n seconds, which one observation always does (n > 0; ``[x] WITHIN 1 SECONDS`` and
  ``([a] OR [b]) WITHIN ...`` match one event in the OASIS reference matcher), so it keeps the
  alternatives; ``REPEATS n TIMES`` needs n distinct observations, so it keeps them only for n = 1;
  ``START t'..' STOP t'..'`` bounds the observation time of the events, which matching an indicator
  value at processing time cannot check, so it keeps none. ``WITHIN 0`` or a negative count makes
  the pattern invalid (skipped).

So a pattern is rewritten into alternatives (disjunctive normal form): each alternative is one
conjunction of comparisons inside one observation expression. An alternative is loaded when
it is ONE indicator comparison (``=`` on ipv4/ipv6-addr, domain-name, url, email-addr, file, artifact and
x509-certificate hashes, ``network-traffic:{src,dst}_ref.value``, ``autonomous-system:number``;
``IN (...)``; ``ISSUBSET`` for addresses) plus only
terms that the indicator value implies:

- ``network-traffic:<x>_ref.type = '...'`` next to ``<x>_ref.value`` (it restates the type);
- ``autonomous-system:name`` next to ``autonomous-system:number`` (the name of that AS);
- next to a ``file:hashes.*`` term: other ``file:hashes.*`` terms (the same content: each hash
  is loaded, any one identifies the file) and ``file:size`` / ``file:mime_type`` /
  ``file:magic_number_hex`` (functions of the content).

One relaxation, labelled ``stix:relaxed-file-properties`` on the indicator: other ``file:``
properties next to a hash (``file:name``, ``file:parent_directory_ref.path``: how MISP exports
``filename|md5`` and file objects) are dropped and the hashes loaded. The hash identifies the
content; a renamed copy of the sample is the same malware, and the MISP loader treats
``filename|<hash>`` attributes the same way. The name is NOT split into an indicator of its own.

Every other ``AND`` (address and port, process and hash, two objects, ``x509-certificate``
issuer and serial) is NOT loaded: loading its terms separately would turn the ``AND`` into an
``OR``, and loading one of them would match events the indicator does not describe. Likewise
negations (``NOT``, ``!=``), ``LIKE``/``MATCHES``, ``EXISTS`` and other objects.

Alternatives that cannot be loaded are dropped while the others of the same pattern are kept:
each alternative alone is a sufficient condition, so a match on it never claims more than the
indicator says (the pattern may then match less than it would in a full STIX engine). A
pattern with no loadable alternative gives None (the loader skips and counts it).
"""

from __future__ import annotations

import re
from typing import NoReturn

_TOKEN = re.compile(r"\s*(?:(?P<str>[bht]?'(?:[^'\\]|\\.)*')|(?P<punct>[\[\](),])|(?P<op><=|>=|!=|=|<|>)"
                    r"|(?P<word>[^\s\[\](),'=<>!]+))")
_STIX_KIND = {"ipv4-addr:value": "ip", "ipv6-addr:value": "ip", "domain-name:value": "domain", "url:value": "url",
              "email-addr:value": "email", "email-message:from_ref.value": "email",
              "email-message:sender_ref.value": "email",
              "network-traffic:dst_ref.value": "auto", "network-traffic:src_ref.value": "auto"}
_FILE_CONTENT = ("file:size", "file:mime_type", "file:magic_number_hex")
#: the hashes of a content: a file's, or an artifact's (its payload bytes: a file with the same hash is that payload)
_CONTENT_HASHES = ("file:hashes.", "artifact:hashes.")
_REF_TYPE = re.compile(r"network-traffic:(src|dst)_ref\.type")
#: label of indicators loaded from a hash whose other ``file:`` properties were dropped
RELAXED_LABEL = "stix:relaxed-file-properties"
#: an alternative with more conjunctions than this (``(a OR b) AND (c OR d) ...``) is refused
_MAX_ALTERNATIVES = 256


class _Bad(ValueError):
    """Not a pattern this module can read (the loader then skips the indicator)."""


# A term: ("ioc", kind, value, key) | ("ref", side) | ("file",) | ("no",)
_Term = tuple[str, ...]
_NO: _Term = ("no",)


def stix_pattern_terms(pattern: str) -> list[tuple[str, str]] | None:
    """(kind, value) of every loadable alternative (kind ``auto`` = from the value); None if there is none."""
    got = stix_pattern_values(pattern)
    return None if got is None else got[0]


def stix_pattern_values(pattern: str) -> tuple[list[tuple[str, str]], bool] | None:
    """Like :func:`stix_pattern_terms`, plus whether a ``file:`` property next to a hash was relaxed."""
    try:
        toks = _tokens(pattern)
        p = _Parser(toks)
        alts = p.obs_seq()
        if p.i != len(toks):
            raise _Bad(pattern)
    except _Bad:
        return None
    out: list[tuple[str, str]] = []
    relaxed = False
    for alt in alts:
        for term in alt:
            relaxed |= len(term) > 2
            if term[:2] not in out:
                out.append(term[:2])
    return (out, relaxed) if out else None


def _tokens(pattern: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = pattern.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _Bad(pattern)
        kind = m.lastgroup or ""
        out.append((kind, m[kind]))
        pos = m.end()
    return out


def _unquote(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s[1:-1])


def _loadable(conj: list[_Term]) -> list[tuple[str, str]] | None:
    """The values of one conjunction when it is one indicator plus implied terms (module docstring)."""
    if any(t[0] == "no" for t in conj):
        return None
    iocs = list(dict.fromkeys(t for t in conj if t[0] == "ioc"))
    rest = [t for t in conj if t[0] != "ioc"]
    if not iocs:
        return None
    if all(t[3].startswith("artifact:hashes.") for t in iocs):  # the hashes of one payload: each identifies it
        return None if rest else [(t[1], t[2]) for t in iocs]
    if all(t[3].startswith("file:hashes.") for t in iocs):
        if not all(t[0] in ("file", "fileprop") for t in rest):
            return None
        relaxed = any(t[0] == "fileprop" for t in rest)
        return [(t[1], t[2], *(["relaxed"] if relaxed else [])) for t in iocs]  # type: ignore[misc]
    if len(iocs) > 1:
        return None
    key = iocs[0][3]
    if key == "autonomous-system:number":  # the AS's name next to its number restates it
        return [(iocs[0][1], iocs[0][2])] if all(t[0] == "asname" for t in rest) else None
    if any(t[0] != "ref" or key != f"network-traffic:{t[1]}_ref.value" for t in rest):
        return None
    return [(iocs[0][1], iocs[0][2])]


class _Parser:
    """Recursive descent over the STIX pattern grammar; returns loadable alternatives."""

    def __init__(self, toks: list[tuple[str, str]]) -> None:
        self.t = toks
        self.i = 0

    def _peek(self) -> tuple[str, str]:
        return self.t[self.i] if self.i < len(self.t) else ("", "")

    def _take(self) -> tuple[str, str]:
        tok = self._peek()
        if not tok[0]:
            raise _Bad(self.t[-1][1] if self.t else "")
        self.i += 1
        return tok

    def _is(self, *words: str) -> bool:
        kind, text = self._peek()
        return (kind == "word" and text.upper() in words) or (kind == "punct" and text in words)

    def _expect(self, text: str) -> None:
        if self._take()[1] != text:
            raise _Bad(text)

    # observation expressions: FOLLOWEDBY < OR < AND < [ ... ] / ( ... ) with qualifiers
    def obs_seq(self) -> list[list[tuple[str, str]]]:
        alts = self._obs_or()
        while self._is("FOLLOWEDBY"):
            self._take()
            self._obs_or()
            alts = []
        return alts

    def _obs_or(self) -> list[list[tuple[str, str]]]:
        alts = self._obs_and()
        while self._is("OR"):
            self._take()
            alts = alts + self._obs_and()
        return alts

    def _obs_and(self) -> list[list[tuple[str, str]]]:
        alts = self._obs_unit()
        while self._is("AND"):
            self._take()
            self._obs_unit()
            alts = []
        return alts

    def _obs_unit(self) -> list[list[tuple[str, str]]]:
        if self._is("["):
            self._take()
            dnf = self._cmp_or()
            self._expect("]")
            alts = [v for v in map(_loadable, dnf) if v is not None]
        elif self._is("("):
            self._take()
            alts = self.obs_seq()
            self._expect(")")
        else:
            raise _Bad(self._peek()[1])
        while self._is("WITHIN", "REPEATS", "START"):
            alts = self._qualified(self._take()[1].upper(), alts)
        return alts

    def _qualified(self, word: str, alts: list[list[tuple[str, str]]]) -> list[list[tuple[str, str]]]:
        """The alternatives that still hold for one event under a qualifier (module docstring)."""
        if word == "START":  # START t'..' STOP t'..': a window on the observation time, not the match time
            if self._take()[0] != "str" or not self._is("STOP"):
                raise _Bad(word)
            self._take()
            if self._take()[0] != "str":
                raise _Bad(word)
            return []
        n = self._number()
        self._expect_word("SECONDS" if word == "WITHIN" else "TIMES")
        if word == "WITHIN":  # each alternative is one observation: it fits any window (n > 0)
            return alts if n > 0 else _bad(word)
        if n < 1 or n != int(n):
            raise _Bad(word)
        return alts if n == 1 else []  # REPEATS n TIMES: n distinct observations

    def _number(self) -> float:
        kind, text = self._take()
        if kind != "word":
            raise _Bad(text)
        try:
            return float(text)
        except ValueError as exc:
            raise _Bad(text) from exc

    def _expect_word(self, word: str) -> None:
        kind, text = self._take()
        if kind != "word" or text.upper() != word:
            raise _Bad(text)

    # comparison expressions: OR < AND < test / ( ... )
    def _cmp_or(self) -> list[list[_Term]]:
        dnf = self._cmp_and()
        while self._is("OR"):
            self._take()
            dnf = dnf + self._cmp_and()
        return dnf

    def _cmp_and(self) -> list[list[_Term]]:
        dnf = self._cmp_unit()
        while self._is("AND"):
            self._take()
            right = self._cmp_unit()
            dnf = [a + b for a in dnf for b in right]
            if len(dnf) > _MAX_ALTERNATIVES:
                raise _Bad(str(len(dnf)))
        return dnf

    def _cmp_unit(self) -> list[list[_Term]]:
        if self._is("("):
            self._take()
            dnf = self._cmp_or()
            self._expect(")")
            return dnf
        if self._is("EXISTS"):
            self._take()
            self._path()
            return [[_NO]]
        key = self._path()
        negated = self._is("NOT")
        if negated:
            self._take()
        kind, op = self._take()
        if kind == "word" and op.upper() == "IN":
            self._expect("(")
            values = [self._take()]
            while self._is(","):
                self._take()
                values.append(self._take())
            self._expect(")")
            return [[_NO if negated else _term(key, "=", v)] for v in values]
        if kind not in ("op", "word"):
            raise _Bad(op)
        value = self._take()
        return [[_NO if negated else _term(key, op.upper(), value)]]

    def _path(self) -> str:
        kind, text = self._take()
        if kind != "word" or ":" not in text:
            raise _Bad(text)
        path = text
        while True:
            if path.endswith(".") and self._peek()[0] == "str":
                path += self._take()[1]
            elif self._is("[") and self.i + 2 < len(self.t) and self.t[self.i + 2][1] == "]":
                path += "[" + self.t[self.i + 1][1] + "]"
                self.i += 3
            elif self._peek()[0] == "word" and self._peek()[1].startswith("."):
                path += self._take()[1]
            else:
                return path


def _bad(text: str) -> NoReturn:
    raise _Bad(text)


def _term(key: str, op: str, value: tuple[str, str]) -> _Term:
    kind, text = value
    if key == "autonomous-system:number" and op == "=":  # an integer; MISP's STIX export quotes it ('174')
        digits = text if kind == "word" else _unquote(text) if kind == "str" and text[0] == "'" else ""
        return ("ioc", "asn", digits, key) if digits.isdigit() else _NO
    if key == "autonomous-system:name":
        return ("asname",)
    if kind != "str" or text[0] != "'":  # numbers, booleans, b'..' / h'..' / t'..' literals
        if op == "=" and key in _FILE_CONTENT:
            return ("file",)
        return ("fileprop",) if key.startswith("file:") else _NO
    val = _unquote(text)
    norm = re.sub(r"\.'([^']+)'", r".\1", key)
    ioc = _STIX_KIND.get(norm) or ("hash" if norm.startswith(_CONTENT_HASHES) else None)
    if ioc is None and norm.startswith("x509-certificate:hashes."):
        ioc = "x509"
    if ioc is not None and (op == "=" or (op == "ISSUBSET" and ioc == "ip")):
        return ("ioc", ioc, val, norm)
    ref = _REF_TYPE.fullmatch(norm)
    if ref and op == "=":
        return ("ref", ref[1])
    if op == "=" and norm in _FILE_CONTENT:
        return ("file",)
    return ("fileprop",) if norm.startswith("file:") else _NO
