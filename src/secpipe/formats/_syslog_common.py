"""Column helpers the syslog readers share (:mod:`.syslog` and its ``_syslog_*`` modules): the
Arrow types, null for an empty or NILVALUE field, a JSON object built from columns, numbers a type
holds, and the address test.
"""

from __future__ import annotations

import ipaddress

import pyarrow as pa

from secpipe import _compute as pc

S = pa.string()
_I32 = pa.int32()
_I64 = pa.int64()


def _nil_empty(arr: pa.Array) -> pa.Array:
    """Empty string -> null."""
    return pc.if_else(pc.fill_null(pc.equal(arr, ""), True), pa.scalar(None, S), arr)


def _nil(arr: pa.Array) -> pa.Array:
    """NILVALUE ``-`` and empty -> null."""
    bad = pc.or_(pc.equal(arr, "-"), pc.equal(arr, ""))
    return pc.if_else(pc.fill_null(bad, True), pa.scalar(None, S), arr)


def _object(items: list[tuple[str, pa.Array]], n: int) -> pa.Array:
    """Columnar JSON object from (key, JSON-value column) pairs; null members are left out."""
    members = [pc.fill_null(pc.binary_join_element_wise(f'"{key}":', val, ",", ""), "") for key, val in items]
    joined = pc.binary_join_element_wise(*members, "") if members else pa.array([""] * n, S)
    body = pc.binary_join_element_wise("{", pc.replace_substring_regex(joined, ",$", ""), "}", "")
    return pc.if_else(pc.equal(joined, ""), pa.scalar(None, S), body)


def _is_ip(text: pa.Array) -> pa.Array:
    """Whether each string is an IPv4 or IPv6 address (by its characters)."""
    return pc.fill_null(pc.match_substring_regex(text, r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$"), False)


def _number(text: pa.Array, typ: pa.DataType) -> pa.Array:
    """The values that are whole numbers the type holds, cast; any other (a word, a negative, a
    number past the type: a 6 GB download's size where OCSF has an int32) null, the line keeping
    it: a device's odd value never fails the batch's cast."""
    ok = pc.fill_null(pc.match_substring_regex(text, r"^\d{1,18}$"), False)
    wide = pc.if_else(ok, text, pa.scalar(None, S)).cast(_I64)
    if typ == _I64:
        return wide
    return pc.if_else(pc.fill_null(pc.less_equal(wide, 2_147_483_647), False), wide, pa.scalar(None, _I64)).cast(typ)


def _matches(cand: pa.Array, msg: pa.Array, regex: str) -> tuple[pa.Array, pa.Array] | None:
    """(which messages ``regex`` takes among the candidates ``cand``, its groups for those
    messages), or None where it takes none (a reader's lines then go on to the next reader)."""
    if not pc.any(cand).as_py():
        return None
    got = pc.extract_regex(pc.if_else(cand, msg, pa.scalar(None, S)), regex)
    hit = pc.is_valid(got)
    if not pc.any(hit).as_py():
        return None
    return hit, got.filter(hit)


def _traffic(bytes_out: pa.Array, bytes_in: pa.Array, packets_out: pa.Array, packets_in: pa.Array) -> dict[str, pa.Array]:
    """Network Activity's ``traffic`` of a connection from its bytes and packets each way: the
    initiator's out, the responder's in, and their sums (null where either side is)."""
    return {
        "traffic.bytes_out": bytes_out, "traffic.bytes_in": bytes_in, "traffic.bytes": pc.add(bytes_out, bytes_in),
        "traffic.packets_out": packets_out, "traffic.packets_in": packets_in,
        "traffic.packets": pc.add(packets_out, packets_in),
    }  # fmt: skip


def _address_hosts(host: pa.Array) -> pa.Array | None:
    """Whether each header host is an IP address (``ipaddress`` decides, once per distinct value
    that has only an address's characters), or None where none is."""
    maybe = pc.fill_null(pc.match_substring_regex(host, r"^(?:[0-9.]{7,15}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$"), False)
    if not pc.any(maybe).as_py():
        return None
    found = []
    for value in pc.unique(host.filter(maybe)).to_pylist():
        try:
            ipaddress.ip_address(value)
        except ValueError:
            continue
        found.append(value)
    if not found:
        return None
    return pc.fill_null(pc.is_in(host, value_set=pa.array(found, S)), False)
