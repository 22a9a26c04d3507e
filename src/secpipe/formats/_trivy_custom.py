"""What Trivy's modules and custom analyzers found: a result's ``CustomResources`` (for :mod:`.trivy`).

A Trivy module (WebAssembly, ``trivy module install``; Trivy's own example is ``spring4shell``) reads the files
it asks for and returns what it found in them as custom resources, ``{Type, FilePath, Layer, Data}``
(``pkg/fanal/types``: ``CustomResource``; ``Type`` the module's name and what it read,
``spring4shell/tomcat-version``; ``Data`` any JSON value, ``"8.5.77"``); Trivy writes them to a result of
Class ``custom`` (Target empty) and the module's post-scan may use them to change the findings. They are no findings
themselves but the facts the findings were judged by, so each is a ``resources`` entry of every finding of its
report (:func:`custom_resources`: type the ``Type``, name the ``FilePath``, labels ``custom``, data ``Data`` and
``Layer`` as JSON); a report with no finding keeps them as events of their own (:func:`custom_batch`), each a
**File Query (5007)**, activity Query, ``query_result`` Exists (the file was found and read), ``file`` the
FilePath (Regular File), ``query_info`` what was asked of it and its answer (``name`` the module, the part of
``Type`` before its first ``/``; ``query_string`` the ``Type``; ``data`` the ``Data`` as JSON), ``message``
``<Type>: <Data>`` for a scalar ``Data`` (else the ``Type``), severity Informational. Time, product version,
``log_version`` and ``correlation_uid`` are the report's; File Query has no ``resources``, so the artifact and
target the resource was found in (``ArtifactName``, ``ArtifactType``, ``Target``) stay in ``unmapped`` beside its
``Layer``. ``raw_data`` is the custom resource; ``metadata.uid`` the hash of it in its result's context (artifact,
target, result and ordinal). One that is no object, or whose Type or FilePath is no string, is dead-lettered alone.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa

from secpipe.formats._findings import captions, strs
from secpipe.formats.base import (
    Decoded,
    Format,
    Strict,
    base_columns,
    const,
    decode_strict,
    event_uids,
    to_batch,
)

_CLS = "file_query"
_QUERY, _EXISTS, _REGULAR_FILE = 1, 1, 1


class _Custom(msgspec.Struct, gc=False):
    Type: str | None = None
    FilePath: str | None = None
    Layer: msgspec.Raw = msgspec.Raw(b"")
    Data: msgspec.Raw = msgspec.Raw(b"")


def _message(kind: str | None, data: Any) -> str | None:
    """``<Type>: <Data>`` for a string, number or boolean Data, else the Type."""
    if isinstance(data, str | int | float) and kind:
        return f"{kind}: {str(data).lower() if isinstance(data, bool) else data}"
    return kind


def custom_batch(fmt: Format, raws: list[bytes], ctx: list[str], context: list[dict[str, Any]],
                 common: dict[str, pa.Array], out: Decoded, source: str) -> pa.RecordBatch | None:  # fmt: skip
    """The File Query events of a report's custom resources (compact JSON each); ``ctx`` their identity
    contexts, ``context`` each one's report keys kept in ``unmapped`` (ArtifactName, ArtifactType, Target),
    ``common`` the report's columns of one row (time, product version, log version, correlation uid);
    one of the wrong shape dead-lettered into ``out``."""
    st: Strict = decode_strict(raws, [(source, i) for i in range(len(raws))], _Custom, out, fmt.name,
                               "a Trivy custom resource")
    if not st.recs:
        return None
    keep = {id(r): i for i, r in enumerate(raws)}
    rows = [keep[id(r)] for r in st.raws]
    n = len(rows)
    kept = [bytes(r) for r in st.raws]
    one = pa.array([0] * n, pa.int32())  # the report's columns, one row each
    cols = base_columns(_CLS, kind=fmt.name, product=fmt.product, vendor=fmt.vendor,
                        uids=event_uids(fmt.name, kept, [ctx[i] for i in rows]), times_ms=common["time"].take(one),
                        raws=kept, activity_id=_QUERY, severity_id=1)  # fmt: skip
    for k in ("metadata.product.version", "metadata.log_version", "metadata.correlation_uid"):
        cols[k] = common[k].take(one)
    recs: list[_Custom] = st.recs
    data = [msgspec.json.decode(r.Data) if r.Data else None for r in recs]
    paths = [r.FilePath or None for r in recs]
    result = const(_EXISTS, n, pa.int32())
    cols.update({
        "file.path": strs(paths),
        "file.name": strs([p.rsplit("/", 1)[-1] if p else None for p in paths]),
        "file.type_id": pa.array([_REGULAR_FILE if p else None for p in paths], pa.int32()),
        "file.type": strs(["Regular File" if p else None for p in paths]),
        "query_result_id": result,
        "query_result": captions(_CLS, "query_result_id", result),
        "query_info.name": strs([r.Type.split("/", 1)[0] if r.Type else None for r in recs]),
        "query_info.query_string": strs([r.Type or None for r in recs]),
        "query_info.data": strs([bytes(r.Data).decode() if r.Data else None for r in recs]),
        "message": strs([_message(r.Type, d) for r, d in zip(recs, data, strict=True)]),
        "unmapped": strs([msgspec.json.encode({**({"Layer": msgspec.json.decode(r.Layer)} if r.Layer else {}),
                                               **{k: v for k, v in context[i].items() if v is not None}}).decode()
                          for r, i in zip(recs, rows, strict=True)]),
    })  # fmt: skip
    return to_batch(_CLS, cols)


def custom_resources(fmt: Format, raws: list[bytes], out: Decoded, source: str) -> list[dict[str, Any]]:
    """The custom resources (compact JSON each) as ``resources`` entries of the report's findings: type the
    ``Type``, name the ``FilePath`` (else the Type), labels ``custom`` (their result's Class), data ``Data`` and
    ``Layer`` as JSON; one of the wrong shape dead-lettered into ``out``."""
    st: Strict = decode_strict(raws, [(source, i) for i in range(len(raws))], _Custom, out, fmt.name,
                               "a Trivy custom resource")
    recs: list[_Custom] = st.recs
    return [{"type": r.Type or None, "name": r.FilePath or r.Type or None, "uid": None, "labels": ["custom"],
             "data": msgspec.json.encode({k: msgspec.json.decode(v) for k, v in (("Data", r.Data), ("Layer", r.Layer))
                                          if v}).decode()}
            for r in recs]  # fmt: skip


__all__ = ["custom_batch", "custom_resources"]
