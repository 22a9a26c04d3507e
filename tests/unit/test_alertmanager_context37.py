"""A payload-level value long enough to multiply a payload's size is kept once (session 37).

Each alert's ``unmapped.webhook`` repeats the payload's context (receiver, externalURL, groupLabels,
commonAnnotations...). A long value there was copied into every alert: a 3.2 MB payload of 1,000
alerts with a 3 MB commonAnnotations made ~3 GB of rows, past Arrow's 2 GiB string column, and the
whole payload was refused with a schema error. A value longer than ``_CTX_EACH`` encoded is now kept
whole in the batch's first alert and the others name that event; a long ``groupKey`` is kept there
too, its SHA-256 the alerts' correlation uid.

The payload is real (prometheus-msteams' testdata, ../shared/data/real/prometheus-msteams,
SOURCES.md there), its alerts repeated and its values lengthened.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from secpipe import formats
from secpipe.formats.alertmanager import _CTX_EACH

SAMPLE = "prometheus-msteams/alert/testdata/prom_post_request_2_alerts.json"


def _batch(doc: dict[str, Any]) -> pa.Table:
    out = formats.get("alertmanager").decode(json.dumps(doc).encode(), "test")
    assert not out.dead
    return pa.Table.from_batches(out.batches)


def _meta(t: pa.Table, name: str) -> pa.Array:
    return t.column("metadata").combine_chunks().field(name)


def _many(real: Path, n: int) -> dict[str, Any]:
    doc = json.loads((real / SAMPLE).read_text())
    doc["alerts"] = [copy.deepcopy(doc["alerts"][i % 2]) | {"fingerprint": f"{i:016x}"} for i in range(n)]
    return doc


def test_short_context_in_every_alert(real: Path) -> None:
    doc = _many(real, 4)
    rows = [json.loads(u)["webhook"] for u in _batch(doc).column("unmapped").to_pylist()]
    assert rows[0] == rows[3] and rows[0]["commonAnnotations"] == doc["commonAnnotations"]


def test_long_context_kept_once(real: Path) -> None:
    doc = _many(real, 1000)
    doc["commonAnnotations"] = {"description": "d" * 300_000}
    t = _batch(doc)
    assert t.num_rows == 1000 and t.nbytes < 64 << 20  # was ~300 MB (3 GB, refused, at 3 MB)
    uid0 = _meta(t, "uid")[0].as_py()
    hooks = [json.loads(u)["webhook"] for u in t.column("unmapped").to_pylist()]
    assert hooks[0]["commonAnnotations"] == doc["commonAnnotations"]
    for h in hooks[1:]:
        assert h["commonAnnotations"] == {"in_event": uid0}
        assert h["receiver"] == doc["receiver"] and h["groupLabels"] == doc["groupLabels"]  # short ones stay


def test_long_context_with_unknown_alert_keys(real: Path) -> None:
    doc = _many(real, 3)
    doc["commonAnnotations"] = {"description": "d" * (_CTX_EACH + 1)}
    doc["alerts"][2]["vendorKey"] = [1, 2]
    t = _batch(doc)
    rows = [json.loads(u) for u in t.column("unmapped").to_pylist()]
    assert rows[0]["webhook"]["commonAnnotations"] == doc["commonAnnotations"]
    assert rows[2]["vendorKey"] == [1, 2]
    assert rows[2]["webhook"]["commonAnnotations"] == {"in_event": _meta(t, "uid")[0].as_py()}


def test_long_group_key(real: Path) -> None:
    doc = _many(real, 500)
    doc["groupKey"] = "{}:{alertname=\"" + "g" * 300_000 + "\"}"
    t = _batch(doc)
    want = "sha256:" + hashlib.sha256(doc["groupKey"].encode()).hexdigest()
    assert set(_meta(t, "correlation_uid").to_pylist()) == {want}
    hooks = [json.loads(u)["webhook"] for u in t.column("unmapped").to_pylist()]
    assert hooks[0]["groupKey"] == doc["groupKey"] and hooks[1]["groupKey"] == {"in_event": _meta(t, "uid")[0].as_py()}
    assert len(set(_meta(t, "uid").to_pylist())) == 500
