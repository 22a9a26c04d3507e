"""CycloneDX components: the affected package of each vulnerability ref (for :mod:`secpipe.formats.sbom`).

Design: a ref resolves to a component by ``bom-ref`` (``components[]``, nested components too,
then the tree of ``metadata.component``), a BOM-link (``urn:cdx:<serial>/<version>#<bom-ref>``)
by its fragment, and an unresolvable ref that is a package URL by parsing the purl
(:func:`package`). Two paths give the same seven per-event columns (:class:`Packages`):

- :func:`packages_py`: components decoded into small msgspec structs, walked into a dict (the
  first component met for a bom-ref wins), each distinct ref resolved once in Python.
- :func:`component_table` + :func:`packages_native`: the compacted ``components`` array walked
  natively as the one list of a wrapper record (``_fast.extract``; no bytes object per
  component; nested ``components`` arrays walked the same way, level by level), the Trivy properties picked per component with numpy, refs resolved with one Arrow
  ``index_in`` and the package columns taken from the component columns; only refs no
  component holds by bom-ref (BOM-links, the metadata component, purls) are resolved in
  Python. It declines (None: the msgspec path decides, with its dead letters) without the
  extension, for an irregular component, or when two components share a bom-ref (the first
  met wins there, an order the columns do not keep).

Wrong types (:func:`decode_components`, the msgspec path's reader): CycloneDX 1.6 types a component's
``bom-ref``, ``type``, ``group``, ``name``, ``version``, ``purl`` and its properties' ``name``/``value`` as
strings (``version`` free text: "should ideally comply with semantic versioning but is not enforced"). A JSON
number there is read as its text exactly as written, the way the vulnerabilities' decode reads an unquoted
number (the value is all there, ``raw_data`` keeps the vulnerability as it came), but from the token itself:
``1.10`` stays ``"1.10"``, which ``1.1`` would not be. Any other wrong type (an object, array or boolean for a
string, ``properties`` or ``components`` that are no array, an item that is no object) dead-letters that
component alone (its compact JSON) with msgspec's wording and its JSON path (offset: its position in ``components[]``;
a nested component of the wrong type leaves its parent and siblings); a ``components`` that is no array is
dead-lettered as one value. The BOM's other components and its vulnerabilities go on: a ref to a component
left out resolves as any unknown ref (a package URL is parsed; otherwise the ref alone), nothing invented.
The native walk declines such a BOM (the msgspec path decides).

Guarantees: both paths give equal columns (the sbom tests compare them on the real samples,
the benchmark BOM and mutated BOMs); Trivy's component properties give the package type
(``aquasecurity:trivy:PkgType``, else the purl's type), uid (``PkgID``, else the bom-ref) and
path (``FilePath``), the first non-null value of each name; where a component has no Trivy property,
Syft's (``syft:package:type``, ``syft:location:0:path``) stands for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats._findings import S, nonempty
from secpipe.formats.base import DeadLetter, strs


class Property(msgspec.Struct, gc=False):
    name: str | None = None
    value: str | None = None


class Component(msgspec.Struct, gc=False):
    bom_ref: str | None = msgspec.field(default=None, name="bom-ref")
    type: str | None = None
    group: str | None = None
    name: str | None = None
    version: str | None = None
    purl: str | None = None
    properties: list[Property] | None = None
    components: list[Component] | None = None


_LIST = msgspec.json.Decoder(list[Component] | None)
_ONE = msgspec.json.Decoder(Component)
_RAWS = msgspec.json.Decoder(list[msgspec.Raw] | None)
_NONE = msgspec.Raw(b"")


class _Loose(msgspec.Struct, gc=False):
    """A component whose values are read one by one (:func:`decode_components`' fallback)."""

    bom_ref: msgspec.Raw = msgspec.field(default=_NONE, name="bom-ref")
    type: msgspec.Raw = _NONE
    group: msgspec.Raw = _NONE
    name: msgspec.Raw = _NONE
    version: msgspec.Raw = _NONE
    purl: msgspec.Raw = _NONE
    properties: msgspec.Raw = _NONE
    components: msgspec.Raw = _NONE


class _LooseProperty(msgspec.Struct, gc=False):
    name: msgspec.Raw = _NONE
    value: msgspec.Raw = _NONE


_LOOSE = msgspec.json.Decoder(_Loose)
_LOOSE_PROPS = msgspec.json.Decoder(list[_LooseProperty] | None)
_NUMBER = re.compile(rb"-?[0-9]")  # how a JSON number starts (the document is valid JSON already)
_KIND = {ord("{"): "object", ord("["): "array", ord("t"): "bool", ord("f"): "bool"}
_STR = msgspec.json.Decoder(str)


class _Wrong(ValueError):
    """A component value of the wrong JSON type, with msgspec's wording and the value's path."""


def _text(raw: msgspec.Raw, path: str) -> str | None:
    """A string field's value: the string, None, or a number's text as written."""
    b = bytes(raw)
    if not b or b == b"null":
        return None
    if b[:1] == b'"':
        return _STR.decode(b)
    if _NUMBER.match(b):
        return b.decode()
    msg = f"Expected `str | null`, got `{_KIND.get(b[0], 'value')}` - at `{path}`"
    raise _Wrong(msg)


def _component(raw: msgspec.Raw, path: str, at: int, source: str, fmt: str, dead: list[DeadLetter]) -> Component:
    """One component: msgspec's typed decode, else its values read one by one (a nested component of
    the wrong type dead-lettered into ``dead``); raises :class:`_Wrong` when this one is of the wrong type."""
    try:
        return _ONE.decode(raw)
    except msgspec.DecodeError:
        pass
    try:
        loose = _LOOSE.decode(raw)
    except msgspec.DecodeError as exc:  # (no object: its own values are not read)
        msg = f"{exc} - at `{path}`"
        raise _Wrong(msg) from None
    try:
        props = _LOOSE_PROPS.decode(loose.properties) if bytes(loose.properties) else None
    except msgspec.DecodeError as exc:
        why = str(exc)
        msg = why.replace("`$", f"`{path}.properties", 1) if "`$" in why else f"{why} - at `{path}.properties`"
        raise _Wrong(msg) from None
    text = {k: _text(getattr(loose, k), f"{path}.{'bom-ref' if k == 'bom_ref' else k}")
            for k in ("bom_ref", "type", "group", "name", "version", "purl")}
    properties = None if props is None else [
        Property(_text(p.name, f"{path}.properties[{i}].name"), _text(p.value, f"{path}.properties[{i}].value"))
        for i, p in enumerate(props)]  # fmt: skip
    nested = None
    if bytes(loose.components) and bytes(loose.components) != b"null":
        try:
            items = _RAWS.decode(loose.components) or []
        except msgspec.DecodeError as exc:
            msg = f"{exc} - at `{path}.components`"
            raise _Wrong(msg) from None
        nested = _array(items, f"{path}.components", at, source, fmt, dead)
    return Component(**text, properties=properties, components=nested)


def _array(items: list[msgspec.Raw], path: str, at: int | None, source: str, fmt: str,
           dead: list[DeadLetter]) -> list[Component]:
    """The components of one array, each of the wrong type dead-lettered alone (offset ``at``, else its index)."""
    out: list[Component] = []
    for i, raw in enumerate(items):
        where = i if at is None else at
        try:
            out.append(_component(raw, f"{path}[{i}]", where, source, fmt, dead))
        except _Wrong as exc:
            why = f"not a CycloneDX component: {exc} (the BOM's other components and its vulnerabilities are kept)"
            dead.append(DeadLetter(why, source, where, _compact(raw), fmt))
    return out


def _compact(raw: msgspec.Raw) -> bytes:
    """A dead component's bytes as compact JSON, the same on both paths (the native one reads the compacted
    document), as the vulnerabilities' dead letters are."""
    return msgspec.json.format(bytes(raw), indent=-1)


def decode_components(raw: msgspec.Raw | None, source: str, fmt: str, dead: list[DeadLetter]) -> list[Component]:
    """The ``components`` array: one msgspec call; where a value has the wrong type, component by
    component (see the module docstring), the bad ones dead-lettered into ``dead``."""
    if raw is None:
        return []
    try:
        return _LIST.decode(raw) or []  # (null: none, as for a nested ``components``)
    except msgspec.DecodeError:
        pass
    try:
        items = _RAWS.decode(raw) or []
    except msgspec.DecodeError as exc:
        why = f"not a CycloneDX components array: {exc} - at `$.components` (the vulnerabilities are kept)"
        dead.append(DeadLetter(why, source, 0, _compact(raw), fmt))
        return []
    return _array(items, "$.components", None, source, fmt, dead)


def decode_subject(raw: msgspec.Raw, source: str, fmt: str, dead: list[DeadLetter]) -> Component | None:
    """``metadata.component`` read as :func:`decode_components` reads one (None: dead-lettered)."""
    try:
        return _component(raw, "$.metadata.component", 0, source, fmt, dead)
    except _Wrong as exc:
        why = f"not a CycloneDX component: {exc} (the BOM's vulnerabilities are kept, without its subject)"
        dead.append(DeadLetter(why, source, 0, _compact(raw), fmt))
        return None


def purl_parts(p: str) -> tuple[str | None, str | None, str | None]:
    """(type, name, version) of a package URL (``pkg:type/ns/name@version?q#sub``)."""
    body = p[4:].split("#", 1)[0].split("?", 1)[0]
    path, _, ver = body.rpartition("@") if "@" in body else (body, "", "")
    ptype, *parts = [unquote(x) for x in path.split("/")]
    if not parts:
        return ptype or None, None, unquote(ver) or None
    sep = _NS_JOIN.get(ptype.lower())
    name = sep.join(parts) if sep and len(parts) > 1 else parts[-1]
    return ptype or None, name, unquote(ver) or None


#: purl types whose namespace is part of the package name (as Trivy names them); others (deb,
#: rpm, apk: the namespace is the distro) keep the last segment.
_NS_JOIN = {"maven": ":", "npm": "/", "golang": "/", "composer": "/", "swift": "/", "github": "/", "cocoapods": "/"}


def walk(comps: list[Component] | None, into: dict[str, Component]) -> None:
    """Components by bom-ref, nested ones too (the first met for a bom-ref is kept)."""
    stack = list(comps or ())
    while stack:
        c = stack.pop()
        if c.bom_ref is not None:
            into.setdefault(c.bom_ref, c)
        if c.components:
            stack.extend(c.components)


_TRIVY = "aquasecurity:trivy:"
#: the component properties the mapping reads, by the Trivy name it keys them by: Trivy's own, then
#: Syft's (Syft and Grype BOMs: ``syft:package:type``, the first ``syft:location:<n>:path``)
_ALIASES = {f"{_TRIVY}PkgType": (f"{_TRIVY}PkgType", "syft:package:type"), f"{_TRIVY}PkgID": (f"{_TRIVY}PkgID",),
            f"{_TRIVY}FilePath": (f"{_TRIVY}FilePath", "syft:location:0:path"),
            f"{_TRIVY}ImageID": (f"{_TRIVY}ImageID",)}  # fmt: skip
_RANK = {alias: (key, rank) for key, names in _ALIASES.items() for rank, alias in enumerate(names)}


def props(c: Component) -> dict[str, str]:
    """The properties the mapping reads (:data:`_ALIASES`: the first value of the first name that has one)."""
    best: dict[str, tuple[int, str]] = {}
    for p in c.properties or ():
        got = _RANK.get(p.name or "")
        if got is not None and p.value is not None:
            key, rank = got
            if key not in best or rank < best[key][0]:
                best[key] = (rank, p.value)
    return {k: v for k, (_r, v) in best.items()}


def package(ref: str | None, comps: dict[str, Component]) -> tuple[Any, ...]:
    """(name, version, purl, type, uid, path, component type) of one affected ref."""
    if ref is None:
        return (None,) * 7
    c = comps.get(ref)
    frag = ref.split("#", 1)[1] if ref.startswith("urn:cdx:") and "#" in ref else None
    if c is None and frag is not None:
        c = comps.get(frag)
    if c is not None:
        got = props(c)
        name = c.name
        if c.group and name:
            name = f"{c.group}:{name}" if (c.purl or "").startswith("pkg:maven/") else f"{c.group}/{name}"
        ptype = got.get(f"{_TRIVY}PkgType") or (purl_parts(c.purl)[0] if c.purl else None)
        return (name, c.version, c.purl, ptype, got.get(f"{_TRIVY}PkgID") or c.bom_ref, got.get(f"{_TRIVY}FilePath"),
                c.type)  # fmt: skip
    purl = frag if frag and frag.startswith("pkg:") else ref if ref.startswith("pkg:") else None
    if purl is None:
        return (None, None, None, None, ref, None, None)
    ptype, name, ver = purl_parts(purl)
    return (name, ver, purl, ptype, frag or ref, None, None)


@dataclass(slots=True)
class Packages:
    """The affected package per event (null where the event has no ref or it resolves to nothing)."""

    name: pa.Array
    version: pa.Array
    purl: pa.Array
    type: pa.Array
    uid: pa.Array
    path: pa.Array
    component_type: pa.Array

    @classmethod
    def of_tuples(cls, pk: list[tuple[Any, ...]]) -> Packages:
        """From :func:`package` tuples, one per event."""
        return cls(*(strs([p[k] for p in pk]) for k in range(7)))


def packages_py(refs: list[str | None], comps: dict[str, Component]) -> Packages:
    """Each event's package from the walked components (each distinct ref resolved once)."""
    cache: dict[str | None, tuple[Any, ...]] = {}
    return Packages.of_tuples([cache[r] if r in cache else cache.setdefault(r, package(r, comps)) for r in refs])


_FIELDS = ("bom-ref", "type", "group", "name", "version", "purl")
#: one record ``{"c": <a components array>}`` a level: the components are the items of ``c[]``
#: (no split of the array into a bytes object per component)
_SPEC = _fast.Spec(
    (("c[]", _fast.LIST), *((f"c[].{k}", _fast.STR) for k in _FIELDS), ("c[].properties[]", _fast.LIST),
     ("c[].properties[].name", _fast.STR), ("c[].properties[].value", _fast.STR), ("c[].components", _fast.RAW)),
    (), ("c",),
)  # fmt: skip


@dataclass(slots=True)
class ComponentTable:
    """Every component (nested ones too) as columns: the package fields :func:`package` derives."""

    bom_ref: pa.Array
    name: pa.Array  # group joined as package() joins it
    version: pa.Array
    purl: pa.Array
    pkg_type: pa.Array  # the Trivy PkgType property (purl type still to derive where it is empty)
    uid: pa.Array
    path: pa.Array
    type: pa.Array


def component_table(raw: msgspec.Raw | None, *, compact: bool = False) -> ComponentTable | None:
    """The ``components`` array walked natively, or None (no extension, an irregular component,
    a nested ``components`` that is not an array, a bom-ref two components share); ``compact``:
    ``raw`` is compact text already (not formatted again)."""
    if not _fast.available():
        return None
    arrays: list[Any] = [] if raw is None else [raw if compact else msgspec.json.format(raw, indent=-1)]
    parts: list[dict[str, pa.Array]] = []
    while arrays:
        if any(bytes(memoryview(a)[:1]) != b"[" for a in arrays):  # (null or another type: msgspec's path says why)
            return None
        cols = _fast.extract([b'{"c":%s}' % a for a in arrays], _SPEC)
        if cols is None:
            return None
        parts.append(_level(cols))
        nested = cols.strings["c[].components"].drop_null()  # the few components that nest
        arrays = [t.encode() for t in nested.filter(pc.not_equal(nested, "null")).to_pylist()]
    if not parts:
        empty = pa.array([], S)
        return ComponentTable(*(empty,) * 8)
    col = {k: pa.concat_arrays([p[k] for p in parts]) for k in parts[0]}
    refs = col["bom-ref"]
    if len(pc.unique(refs)) - (refs.null_count > 0) != len(refs) - refs.null_count:  # (unique: 2x count_distinct's speed)
        return None
    group, name, purl = col["group"], col["name"], col["purl"]
    maven = pc.fill_null(pc.starts_with(purl, "pkg:maven/"), False)
    joined = pc.binary_join_element_wise(group, pc.if_else(maven, ":", "/"), name, "")
    name = pc.if_else(pc.and_(nonempty(group), nonempty(name)), joined, name)
    pkg_id = col[f"{_TRIVY}PkgID"]
    return ComponentTable(refs, name, col["version"], purl, col[f"{_TRIVY}PkgType"],
                          pc.if_else(nonempty(pkg_id), pkg_id, refs), col[f"{_TRIVY}FilePath"], col["type"])  # fmt: skip


def _level(cols: _fast.Columns) -> dict[str, pa.Array]:
    """One level's component columns, with the first non-null value of each Trivy property."""
    out = {k: cols.strings[f"c[].{k}"] for k in _FIELDS}
    offsets, _mask = cols.lists["c[].properties[]"]
    names, values = cols.strings["c[].properties[].name"], cols.strings["c[].properties[].value"]
    n = len(offsets) - 1
    has_value = pc.is_valid(values)
    for prop in ("PkgType", "PkgID", "FilePath"):
        got = None
        for alias in _ALIASES[_TRIVY + prop]:  # the first name's value, else the next's (as props())
            hit = pc.and_(pc.fill_null(pc.equal(names, alias), False), has_value)
            pos = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
            comp = np.searchsorted(offsets, pos, side="right") - 1
            first, at = np.unique(comp, return_index=True)  # positions ascend: the first item of each component
            idx = np.zeros(n, np.int64)
            idx[first] = pos[at]
            missing = np.ones(n, bool)
            missing[first] = False
            col = values.take(pa.array(idx, mask=missing))
            got = col if got is None else pc.coalesce(got, col)
        out[_TRIVY + prop] = got
    return out


def packages_native(table: ComponentTable, meta: dict[str, Component], ref_col: pa.Array) -> Packages:
    """Each event's package: refs found by bom-ref in ``table`` taken from its columns; the others
    (``meta``: the metadata component's tree, BOM-links, purls) resolved as :func:`package` does."""
    found = pc.index_in(ref_col, value_set=table.bom_ref, skip_nulls=True)
    alone: dict[int, tuple[Any, ...]] = {}  # event -> package() tuple, where no table row applies
    if found.null_count > ref_col.null_count:
        ci = found.to_numpy(zero_copy_only=False).astype(np.float64)  # NaN where not found
        rows = np.flatnonzero(np.isnan(ci) & pc.is_valid(ref_col).to_numpy(zero_copy_only=False))
        refs = dict(zip(rows.tolist(), ref_col.take(pa.array(rows)).to_pylist(), strict=True))
        distinct = list(dict.fromkeys(refs.values()))
        frags = [r.split("#", 1)[1] if r.startswith("urn:cdx:") and "#" in r else None for r in distinct]
        at = pc.index_in(strs(frags), value_set=table.bom_ref, skip_nulls=True).to_pylist()
        # a ref the metadata component's tree holds wins over a BOM-link fragment in components
        via = {r: (k if r not in meta else None) for r, k in zip(distinct, at, strict=True)}
        tuples = {r: package(r, meta) for r, k in via.items() if k is None}
        for j in rows.tolist():
            r = refs[j]
            k = via[r]
            if k is None:
                alone[j] = tuples[r]
            else:
                ci[j] = k
        lost = np.isnan(ci)
        found = pa.array(np.where(lost, 0, ci).astype(np.int32), mask=lost)
    cols = [c.take(found) for c in (table.name, table.version, table.purl, table.pkg_type, table.uid, table.path,
                                     table.type)]  # fmt: skip
    # the purl's type where a component has no Trivy PkgType (once per distinct purl)
    ptype, purl = cols[3], cols[2]
    given = nonempty(ptype)
    if not pc.all(given).as_py():
        ptype = cols[3] = pc.if_else(given, ptype, pa.scalar(None, S))
        need = pc.and_(pc.invert(given), nonempty(purl))
        if pc.any(need).as_py():
            wanted = pc.filter(purl, need)
            types = {p: purl_parts(p)[0] for p in pc.unique(wanted).to_pylist()}
            cols[3] = pc.replace_with_mask(ptype, need, strs([types[p] for p in wanted.to_pylist()]))
    if alone:
        mask = np.zeros(len(ref_col), bool)
        mask[list(alone)] = True
        order = sorted(alone)
        at_mask = pa.array(mask)
        cols = [pc.replace_with_mask(c, at_mask, strs([alone[j][k] for j in order])) for k, c in enumerate(cols)]
    return Packages(*cols)
