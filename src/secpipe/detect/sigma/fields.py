"""How a Sigma field name finds its value in an event: presence tests and field-name case.

Two decisions of the Sigma specification and of published rules live here, used by the
compiler and the engine:

- **Presence** (``field|exists: true/false``). The specification's modifiers appendix says
  ``exists`` "only verifies the presence of a field, not its value, be it empty or null". A
  presence test therefore reads its own pseudo-field, :func:`presence` (``"\\x00exists\\x00"``
  + name), whose value is the JSON *type* of the path (``json_type``: ``'NULL'`` for a JSON
  null, SQL NULL only when the key is missing), so a key holding ``null`` exists. Its OCSF
  fallback is present when the OCSF column holds a value (OCSF cannot tell a null from a
  missing attribute). A pseudo-field is never evidence (:func:`is_evidence`).
  ``field: null`` keeps its meaning: missing or JSON null.
- **Field-name case.** The specification says to write fields "as they appear in the log
  source", and the backends (Elasticsearch, Splunk, Kusto, SQL) compare field names
  case-sensitively; SigmaHQ fixes wrong casing as a rule bug (e.g. 2026's camelCase fix of the
  Okta rules, which had been written ``eventtype``/``displaymessage`` for years, so that every
  consumer had to map them). secpipe therefore reads the exact spelling FIRST, and only where a
  record lacks it falls back to the same path spelled with another case (``eventtype`` ->
  ``eventType``): the exact key always wins, and a rule written correctly never sees a
  differently-cased key of another meaning in its place. The other spellings are learned per
  format by :class:`Vocabulary` from the records themselves: every record of a batch of at
  most :data:`SAMPLE_ALL` rows, and :data:`SAMPLE` evenly spaced records of larger batches,
  accumulated across batches (a spelling seen once is used from then on). A spelling that
  occurs only in rare records of large batches may thus be learned late; the exact spelling
  never depends on it.
- **Event parameters.** Google Workspace audit events keep their details as a list of named
  parameters (``protoPayload.metadata.event[].parameter[]``: ``{"name": "NEW_VALUE", "value":
  "false"}``), which no path reaches by name. A rule field mapped to such a parameter reads the
  pseudo-field :func:`param` (:data:`PARAM` + the name), whose values are those of every
  parameter of that name, any case (:func:`~.sqlgen.param_sql`); it is always a list field
  and never evidence.
- **Keys with a dot.** A Sigma field ``id.orig_h`` names the nested path ``id`` -> ``orig_h``
  in most sources, but some write the dotted name as ONE key (Zeek JSON logs:
  ``{"id.orig_h": ...}``, flattened exports). The nested path is read first; a record that
  has the key spelled with the dot gets it as another spelling of the path, in which a literal
  dot inside a key is written :data:`KEY_DOT` (:func:`split_path` gives the keys back).
"""

from __future__ import annotations

import threading

import msgspec
import numpy as np
import pyarrow as pa

#: prefix of the pseudo-field a presence test (``|exists``) reads.
PRESENT = "\x00exists\x00"
#: prefix of the pseudo-field that reads an event parameter by its name (module docstring).
PARAM = "\x00param\x00"
#: batches up to this many rows have every record's keys learned; larger ones a sample.
SAMPLE_ALL = 512
SAMPLE = 64
#: spellings remembered per format before the vocabulary starts over.
CAP = 50_000
#: a dot inside one key of a learned spelling (``id\x1forig_h`` = the key ``"id.orig_h"``).
KEY_DOT = "\x1f"


def split_path(path: str) -> list[str]:
    """The keys of a (learned) dotted path: dots separate keys, :data:`KEY_DOT` is a dot in one."""
    return [s.replace(KEY_DOT, ".") for s in path.split(".")]


def presence(name: str) -> str:
    """The pseudo-field of a presence test on ``name``."""
    return PRESENT + name


def is_presence(name: str) -> bool:
    return name.startswith(PRESENT)


def param(name: str) -> str:
    """The pseudo-field of the event parameter ``name``."""
    return PARAM + name


def is_param(name: str) -> bool:
    """True for a parameter pseudo-field, also under a presence test."""
    return base(name).startswith(PARAM)


def base(name: str) -> str:
    """The event field a (pseudo-)field reads."""
    return name[len(PRESENT):] if name.startswith(PRESENT) else name


def is_evidence(name: str) -> bool:
    """True for fields shown as evidence (not keywords, not presence pseudo-fields)."""
    return not name.startswith("\x00")


class Vocabulary:
    """Per format: the lower-cased key paths of rule fields -> the spellings records use."""

    def __init__(self) -> None:
        self._seen: dict[str | None, dict[str, set[str]]] = {}
        self._lock = threading.Lock()

    def variants(self, log: str | None, raw: pa.ChunkedArray | pa.Array | None,
                 fields: list[str]) -> dict[str, tuple[str, ...]]:
        """event field -> the other spellings of its path seen in ``log``'s records (learning
        from ``raw``, the batch's original records). Empty when every field is spelled as seen."""
        wanted = {base(f).lower(): base(f) for f in fields if is_evidence(f) or is_presence(f)}
        if not wanted or raw is None:
            return {}
        prefixes = {p[:i] for p in wanted for i in range(len(p) + 1) if i == len(p) or p[i] == "."}
        with self._lock:
            seen = self._seen.setdefault(log, {})
            for rec in _sample(raw):
                _walk(rec, "", prefixes, wanted, seen)
            if sum(len(v) for v in seen.values()) > CAP:
                self._seen[log] = {}
            out = {}
            for low, name in wanted.items():
                other = seen.get(low)
                if other and (len(other) > 1 or name not in other):
                    out[name] = tuple(sorted(s for s in other if s != name))
        return out


def _sample(raw: pa.ChunkedArray | pa.Array) -> list[dict]:
    """Decoded JSON objects of the batch's records (all of a small batch, a spread sample else)."""
    n = len(raw)
    if n > SAMPLE_ALL:
        idx = np.linspace(0, n - 1, SAMPLE).astype(np.int64)
        raw = raw.take(pa.array(idx))
    out = []
    for text in raw.to_pylist():
        if text and text[0] == "{":
            try:
                doc = msgspec.json.decode(text)
            except msgspec.DecodeError:
                continue  # not JSON after all (a text record): it has no keys to learn
            if isinstance(doc, dict):
                out.append(doc)
    return out


def _walk(node: object, prefix: str, prefixes: set[str], wanted: dict[str, str],
          seen: dict[str, set[str]]) -> None:
    """Record the spellings of the wanted paths under ``node`` (arrays are transparent)."""
    if isinstance(node, list):
        for item in node:
            _walk(item, prefix, prefixes, wanted, seen)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        seg = str(key).replace(".", KEY_DOT)
        path = f"{prefix}.{seg}" if prefix else seg
        low = path.replace(KEY_DOT, ".").lower()
        if low not in prefixes:
            continue
        if low in wanted:
            seen.setdefault(low, set()).add(path)
        _walk(value, path, prefixes, wanted, seen)
