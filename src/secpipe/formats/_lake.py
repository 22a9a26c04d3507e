"""CloudTrail Lake query results: each row of a ``SELECT *`` as the CloudTrail record it holds.

``aws cloudtrail get-query-results`` (the GetQueryResults API) prints ``{"QueryStatus",
"QueryStatistics", "QueryResultRows": [[{"<column>": "<value>"}, ...], ...], "NextToken"}``:
a row is a list of one-column maps, every value a string (the API's type is a list of lists of
string-to-string maps). A CloudTrail event data store's columns are the record's top-level
fields under their own names (eventVersion, userIdentity, eventTime, eventSource, eventName ...),
but the values are Lake's text renderings (its SQL engine is Trino):

- ``eventTime`` is ``2023-06-11 16:26:39.000`` (UTC): written back as CloudTrail's
  ``2023-06-11T16:26:39Z`` (a fraction other than ``.000`` kept);
- ``readOnly`` and ``managementEvent`` are ``true``/``false``: JSON booleans again; a column
  that is NULL (``null``, or the JSON null) is left out, as CloudTrail leaves the field out;
- a struct (``userIdentity``, ``resources``) is rendered ``{type=AssumedRole, principalid=...,
  sessioncontext={attributes={mfaauthenticated=false, ...}, ...}, username=null}``: its field
  names lower-cased, ``null`` for none; a map (requestParameters, responseElements,
  serviceEventDetails ...) ``{ConsoleLogin=Failure}``, its keys as written. Both are parsed back
  (:func:`_trino`; a struct's field names respelled as CloudTrail spells them, ``_NAMES``), so
  the mapping reads the actor, the resources and an outcome written under the event's name; a
  value that is JSON text is read as JSON. The rendering quotes nothing: a scalar ends at the
  next ``, <name>=`` (in a struct or map) or ``, `` (in an array), so a value that holds such
  text is split there (no other reading exists); text that does not parse stays text.
  Scalars stay strings (``mfaAuthenticated`` is ``"false"`` in CloudTrail too).

The row, so rebuilt, is the record (its compact JSON is ``raw_data`` and hashed for the uid;
the same event read from an S3 log file has other bytes, hence another uid). A row without
eventName or eventSource (a query that did not select them) holds no record the mapping can
place: it is dead-lettered alone with a reason naming the missing columns; a row of another
shape too. A failed query's answer (``QueryStatus`` FAILED, ``ErrorMessage``) holds no row.
Cost: a byte test per record; only answers are decoded.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from secpipe.formats.base import DeadLetter, Records

KEY = b'"QueryResultRows"'


class _Answer(msgspec.Struct, gc=False):
    QueryResultRows: list[msgspec.Raw] | None = None
    QueryStatus: str | None = None
    QueryStatistics: Any = None
    NextToken: Any = None
    ErrorMessage: Any = None


_ANSWER = msgspec.json.Decoder(_Answer)
_ROW = msgspec.json.Decoder(list[dict[str, str | None]])
_STRUCTS = ("userIdentity", "resources")  # struct columns: their field names lower-cased by Lake
_BOOLS = ("readOnly", "managementEvent")
#: CloudTrail's string fields: their text is the value, whatever it opens with ("[S3Console/0.4, ...]")
_TEXT = frozenset(("eventVersion", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent",
                   "errorCode", "errorMessage", "requestID", "eventID", "eventType", "apiVersion",
                   "recipientAccountId", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId", "eventCategory"))
_TIME = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?")
#: the field names of CloudTrail's userIdentity and resources, by the lower-case spelling Lake gives
_NAMES = {n.lower(): n for n in (
    "type", "principalId", "arn", "accountId", "accessKeyId", "userName", "invokedBy", "sessionContext",
    "attributes", "creationDate", "mfaAuthenticated", "sessionIssuer", "webIdFederationData",
    "federatedProvider", "sourceIdentity", "ec2RoleDelivery", "ec2IssuedInVPC", "assumedRoot",
    "identityProvider", "credentialId", "onBehalfOf", "userId", "identityStoreArn", "inScopeOf",
    "issuerType", "credentialsIssuedTo", "ARNPrefix",
)}  # fmt: skip
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def _scalar(text: str) -> str | None:
    return None if text == "null" else text


def _trino(s: str, i: int, inside: str, names: dict[str, str]) -> tuple[Any, int]:
    """The value at ``s[i]`` in Trino's text rendering and the index after it; ``inside`` is the
    closing bracket of the enclosing value (a scalar ends at ``, `` + a field name in a struct,
    at ``, `` in an array, or at that bracket); field names found in ``names`` are respelled."""
    if s.startswith("{", i):
        obj: dict[str, Any] = {}
        i += 1
        while i < len(s) and s[i] != "}":
            m = _FIELD.match(s, i)
            if m is None:
                raise ValueError(s[i:i + 20])
            name = s[m.start():m.end() - 1]
            obj[names.get(name, name)], i = _trino(s, m.end(), "}", names)
            if s.startswith(", ", i):
                i += 2
        return obj, i + 1
    if s.startswith("[", i):
        items: list[Any] = []
        i += 1
        while i < len(s) and s[i] != "]":
            item, i = _trino(s, i, "]", names)
            items.append(item)
            if s.startswith(", ", i):
                i += 2
        return items, i + 1
    j = i
    while j < len(s):
        if s[j] == inside:
            break
        if s.startswith(", ", j) and (inside == "]" or _FIELD.match(s, j + 2)):
            break
        j += 1
    return _scalar(s[i:j]), j


def _value(column: str, text: str) -> Any:
    if column == "eventTime" and (m := _TIME.fullmatch(text)):
        frac = m.group(3) if m.group(3) and m.group(3).strip(".0") else ""
        return f"{m.group(1)}T{m.group(2)}{frac}Z"
    if column in _BOOLS and text in ("true", "false"):
        return text == "true"
    if text[:1] in ("{", "[") and column not in _TEXT:
        try:
            return msgspec.json.decode(text)
        except msgspec.DecodeError:
            pass
        try:
            value, end = _trino(text, 0, "", _NAMES if column in _STRUCTS else {})
        except (ValueError, IndexError):
            return text
        return value if end == len(text) else text
    return text


def _record(row: msgspec.Raw) -> bytes | str:
    """One result row as a CloudTrail record's compact JSON, or why it is none."""
    try:
        cells = _ROW.decode(row)
    except msgspec.DecodeError as exc:
        return f"not a CloudTrail Lake result row (a list of column-to-text maps): {exc}"
    rec: dict[str, Any] = {}
    for cell in cells:
        for column, text in cell.items():
            if text is not None and text != "null":  # Lake's text for a NULL column
                rec[column] = _value(column, text)
    missing = [c for c in ("eventName", "eventSource") if not isinstance(rec.get(c), str) or not rec[c]]
    if missing:
        return (f"CloudTrail Lake result row without {' and '.join(missing)}: no CloudTrail record to map "
                "(select them, or SELECT *)")  # fmt: skip
    return msgspec.json.encode(rec)


def unwrap(records: Records, fmt: str) -> Records:
    """``records`` with every GetQueryResults answer replaced by its rows' records (a row that
    holds none dead-lettered alone, at its answer's location)."""
    if not any(KEY in r for r in records.raws):
        return records
    out = Records(dead=list(records.dead), events=records.events)
    for raw, loc in zip(records.raws, records.locs, strict=True):
        try:
            answer = _ANSWER.decode(raw) if KEY in raw else None
        except msgspec.DecodeError:
            answer = None
        if answer is None or answer.QueryResultRows is None:
            out.raws.append(raw)
            out.locs.append(loc)
            continue
        out.events -= 1  # the answer is no event; its rows are
        for row in answer.QueryResultRows:
            got = _record(row)
            out.events += 1
            if isinstance(got, str):
                out.dead.append(DeadLetter(got, loc[0], loc[1], bytes(row), fmt))
            else:
                out.raws.append(got)
                out.locs.append(loc)
    return out
