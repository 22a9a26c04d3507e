"""The Arrow kernels the Zeek log mappings share (:mod:`._zeek_classes`, :mod:`._zeek_more`).

Each takes and gives whole columns of a log's typed records (one struct column a log, the
fields Zeek's JSON writer writes); no per-record Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats._findings import singleton_list

S, I32, I64, F64, B = pa.string(), pa.int32(), pa.int64(), pa.float64(), pa.bool_()

#: a log's mapping: its typed records and their times (ms) -> activity id(s), severity id, OCSF columns
Mapper = Callable[[pa.StructArray, pa.Array], tuple[Any, int, dict[str, pa.Array]]]
#: the captions of status_id 0-2
STATUS = pa.array(["Unknown", "Success", "Failure"], S)
_ALG_NAMES = pa.array(["Unknown", "MD5", "SHA-1", "SHA-256"], S)


def field(s: pa.StructArray, name: str) -> pa.Array:
    return s.field(name)


def where(mask: pa.Array, arr: pa.Array) -> pa.Array:
    """``arr`` where ``mask`` holds, else null (an object's attributes where its required one is given)."""
    return pc.if_else(mask, arr, pa.scalar(None, arr.type))


def ms(seconds: pa.Array) -> pa.Array:
    """Seconds (an ``interval``, a ``time``) as whole milliseconds."""
    return pc.round(pc.multiply(seconds, 1000.0)).cast(I64)


def by(values: pa.Array, table: dict[str, int], other: int, none: int) -> pa.Array:
    """The id of each value in ``table``; ``other`` for another value, ``none`` for a null."""
    ids = pc.take(pa.array(list(table.values()), I32), pc.index_in(values, value_set=pa.array(list(table), S)))
    return pc.if_else(pc.is_null(values), pa.scalar(none, I32), pc.fill_null(ids, pa.scalar(other, I32)))


def true_false(flag: pa.Array, if_true: int, if_false: int, none: int) -> pa.Array:
    return pc.fill_null(pc.if_else(flag, pa.scalar(if_true, I32), pa.scalar(if_false, I32)), pa.scalar(none, I32))


def status(flag: pa.Array) -> dict[str, pa.Array]:
    """``status_id`` / ``status``: Success where ``flag`` is true, Failure where false, else Unknown."""
    ids = true_false(flag, 1, 2, 0)
    return {"status_id": ids, "status": STATUS.take(ids)}


def fingerprint(value: pa.Array, algorithm: pa.Array | int) -> pa.Array:
    """A ``fingerprint`` of each value (null where it is) by ``algorithm`` (MD5, SHA-1, SHA-256 ids)."""
    n = len(value)
    alg = pa.array(np.full(n, algorithm, np.int32)) if isinstance(algorithm, int) else algorithm
    return pa.StructArray.from_arrays([value, alg, _ALG_NAMES.take(alg)], names=["value", "algorithm_id", "algorithm"],
                                      mask=pc.is_null(value))


def hex_fingerprints(value: pa.Array) -> pa.Array:
    """``fingerprints[]`` of one hex digest a row (its algorithm by its length: SHA-256, SHA-1, MD5, else
    Unknown), null where there is none."""
    n = pc.utf8_length(value)
    alg = pc.fill_null(pc.if_else(pc.equal(n, 64), pa.scalar(3, I32), pc.if_else(
        pc.equal(n, 40), pa.scalar(2, I32), pc.if_else(pc.equal(n, 32), pa.scalar(1, I32), pa.scalar(0, I32)))),
        pa.scalar(0, I32))  # fmt: skip
    return singleton_list(fingerprint(value, alg), pc.is_valid(value))


def endpoints_evidence(src: pa.Array, sport: pa.Array, dst: pa.Array, dport: pa.Array) -> pa.Array:
    """A finding's ``evidences[]``: one evidence of the addresses a row names (null where it names none)."""
    ends = [pa.StructArray.from_arrays([ip, port], names=["ip", "port"], mask=pc.is_null(ip))
            for ip, port in ((src, sport), (dst, dport))]
    evidence = pa.StructArray.from_arrays(ends, names=["src_endpoint", "dst_endpoint"])
    return singleton_list(evidence, pc.or_(pc.is_valid(src), pc.is_valid(dst)))


def const(value: Any, n: int, typ: pa.DataType) -> pa.Array:
    return pa.repeat(pa.scalar(value, typ), n)
