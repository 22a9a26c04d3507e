"""The ``geoip`` transform: MaxMind City/Country, ASN and Anonymous-IP data on endpoints.

Design: per batch, the IPs of every configured endpoint (``src_endpoint.ip``,
``dst_endpoint.ip``) are dictionary-encoded together; each *distinct* IP not already in the
bounded cache is looked up once per database with the ``maxminddb`` C reader; the per-IP
results become Arrow columns that are ``take``-n back to the rows. Written fields (OCSF):

- ``<ep>.location``: ``country`` (ISO code), ``city``, ``continent`` (name), ``region``
  (first subdivision), ``postal_code``, ``lat``, ``long``, ``coordinates`` ([long, lat]),
  ``provider`` (the database type, e.g. ``GeoIP2-City``);
- ``<ep>.autonomous_system``: ``number`` and ``name`` (from the ``asn`` database, or from the
  ``traits`` of a GeoIP2 Enterprise database given as ``city``, which holds MaxMind's ISP data);
- IPinfo (and ip-location-db) databases keep flat strings instead of MaxMind's maps
  (``country_code``/``country``, ``continent``, ``asn`` "AS15169", ``as_name``): read as the
  same fields;
- anonymizer flags (OCSF has no field for them; the Anonymous-IP, Anonymous-Plus, Residential-Proxy and
  IP-Risk databases hold them) as ``metadata.labels`` entries
  ``geoip:<ep>:<flag>`` (``is_anonymous_vpn`` -> ``geoip:src_endpoint:anonymous_vpn``).

A known MaxMind/DB-IP database type given under a role it has no data for (a Domain or
Connection-Type database as ``city``, a City database as ``asn``) is refused like a corrupt
file, with the role it fits; vendor-neutral or unknown types are accepted.

Guarantees: a database that is missing or corrupt at startup is a :class:`ConfigError` naming
the file (``on_error: fail``), or, with ``on_error: degrade``, a logged error and a stage that
passes events through and keeps trying to open the file. A database file that changes is
reopened (checked every ``check_every`` seconds); a bad replacement keeps the old reader. A
record that cannot be read (corrupt data section, broken pointer) leaves that one IP
un-enriched and is counted in ``lookup_errors``; it never fails the batch.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import maxminddb
import numpy as np
import pyarrow as pa
from maxminddb.errors import InvalidDatabaseError

from secpipe import _compute as pc
from secpipe.errors import ConfigError, SecpipeError
from secpipe.schema.ocsf import class_of
from secpipe.transforms.enrich._columns import add_labels, field_values, set_fields
from secpipe.transforms.enrich.options import GeoIPOptions

log = logging.getLogger("secpipe.enrich.geoip")

_FLAGS = ("is_anonymous", "is_anonymous_vpn", "is_hosting_provider", "is_public_proxy", "is_residential_proxy",
          "is_tor_exit_node")


_MISS = object()


class GeoIPError(SecpipeError):
    """A MaxMind database that cannot be opened."""


#: MaxMind/DB-IP database types by the role whose data they hold (matched as substrings of ``database_type``)
_ROLE_TYPES = {"city": ("City", "Country", "Enterprise"), "country": ("City", "Country", "Enterprise"),
               "asn": ("ASN", "ISP"), "anonymous": ("Anonymous", "Residential-Proxy", "IP-Risk")}
_VENDORS = ("GeoIP", "GeoLite", "DBIP")


def role_mismatch(role: str, db_type: str) -> str | None:
    """Why a known database type cannot serve ``role`` (None when it can, or the type is unknown)."""
    if not db_type.startswith(_VENDORS) or any(t in db_type for t in _ROLE_TYPES[role]):
        return None
    fits = [r for r, types in _ROLE_TYPES.items() if r != "country" and any(t in db_type for t in types)]
    hint = f"configure it as `{fits[0]}:`" if fits else "the geoip stage writes no field from it; remove it"
    return f"a {db_type} database has no {role} data — {hint}"


@dataclass
class Database:
    """One .mmdb file, reopened when it changes."""

    role: str
    path: Path
    reader: Any = None
    signature: tuple[int, int, int] | None = None
    db_type: str = ""
    error: str | None = None
    reloads: int = 0

    def open(self) -> None:
        """Open (or reopen) the file; raises GeoIPError with the fix."""
        try:
            st = self.path.stat()
            reader = maxminddb.open_database(str(self.path), maxminddb.MODE_AUTO)
            db_type = str(reader.metadata().database_type)
        except FileNotFoundError as exc:
            msg = f"{self.role} database not found: {self.path} — download it (e.g. geoipupdate) or fix the path"
            raise GeoIPError(msg) from exc
        except (InvalidDatabaseError, ValueError, OSError) as exc:
            msg = f"{self.role} database {self.path} is not a valid MaxMind DB ({exc}) — replace the file"
            raise GeoIPError(msg) from exc
        problem = role_mismatch(self.role, db_type)
        if problem:
            reader.close()
            msg = f"{self.role} database {self.path}: {problem}"
            raise GeoIPError(msg)
        old = self.reader
        self.reader, self.db_type, self.error = reader, db_type, None
        self.signature = (st.st_mtime_ns, st.st_size, st.st_ino)
        if old is not None:
            self.reloads += 1
            old.close()

    def changed(self) -> bool:
        """True when the file on disk differs from the open one."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return False
        return (st.st_mtime_ns, st.st_size, st.st_ino) != self.signature


@dataclass
class GeoStats:
    """Counters of a geoip stage."""

    lookups: int = 0
    cache_hits: int = 0
    lookup_errors: int = 0
    by_db: dict[str, int] = field(default_factory=dict)


_GEO_FIELDS: list[tuple[str, pa.DataType]] = [
    ("location.country", pa.string()), ("location.city", pa.string()), ("location.continent", pa.string()),
    ("location.region", pa.string()), ("location.postal_code", pa.string()), ("location.lat", pa.float64()),
    ("location.long", pa.float64()), ("location.provider", pa.string()),
    ("autonomous_system.number", pa.int32()), ("autonomous_system.name", pa.string()),
]  # fmt: skip


class GeoIPStage:
    """Adds location and autonomous system to endpoints; each distinct IP looked up once."""

    def __init__(self, name: str, opts: GeoIPOptions, *, clock: Any = time.monotonic) -> None:
        """Open every configured database (see module docstring for error handling)."""
        self.name = name
        self.opts = opts
        self.clock = clock
        self.stats = GeoStats()
        self.dbs: list[Database] = []
        for role in ("city", "country", "asn", "anonymous"):
            path = getattr(opts, role)
            if path:
                db = Database(role, Path(path))
                try:
                    db.open()
                except GeoIPError as exc:
                    if opts.on_error == "fail":
                        msg = f"transforms.{name}.{role}"
                        raise ConfigError(msg, str(exc)) from exc
                    db.error = str(exc)
                    log.error("geoip %s: %s — continuing without it (on_error: degrade)", name, exc)
                self.dbs.append(db)
        self._cache: dict[str, tuple[Any, ...] | None] = {}
        self._next_check = self.clock() + opts.check_every

    def _maybe_reload(self) -> None:
        now = self.clock()
        if now < self._next_check:
            return
        self._next_check = now + self.opts.check_every
        for db in self.dbs:
            if db.reader is None or db.changed():
                try:
                    db.open()
                except GeoIPError as exc:
                    if db.error != str(exc):
                        log.error("geoip %s: reload failed: %s — keeping the previous database", self.name, exc)
                    db.error = str(exc)
                    continue
                log.info("geoip %s: (re)opened %s database %s", self.name, db.role, db.path)
                self._cache.clear()

    def close(self) -> None:
        """Close the readers."""
        for db in self.dbs:
            if db.reader is not None:
                db.reader.close()
                db.reader = None

    # ------------------------------------------------------------------ lookup

    def lookup(self, ip: str) -> tuple[Any, ...] | None:
        """Geo/ASN/anonymous facts for one IP (cached); None when no database knows it."""
        return self.lookup_many([ip])[0]

    def lookup_many(self, ips: list[str]) -> list[tuple[Any, ...] | None]:
        """:meth:`lookup` for many distinct IPs: cache first, then one pass per database."""
        cache = self._cache
        out: list[Any] = [cache.get(ip, _MISS) for ip in ips]
        todo = [i for i, f in enumerate(out) if f is _MISS]
        self.stats.cache_hits += len(ips) - len(todo)
        if not todo:
            return out
        self.stats.lookups += len(todo)
        new_ips = [ips[i] for i in todo]
        geo: list[list[Any] | None] = [None] * len(todo)
        flags: list[list[str] | None] = [None] * len(todo)
        lang = self.opts.language
        for db in self.dbs:
            if db.reader is None:
                continue
            recs = self._records(db, new_ips)
            hits = [j for j, r in enumerate(recs) if r.__class__ is dict]
            if not hits:
                continue
            self.stats.by_db[db.role] = self.stats.by_db.get(db.role, 0) + len(hits)
            for j in hits:
                rec = recs[j]
                g = geo[j]
                if g is None:
                    g = geo[j] = [None] * len(_GEO_FIELDS)
                if db.role in ("city", "country"):
                    _geo(rec, g, lang, db.db_type)
                    traits = rec.get("traits")
                    if g[8] is None and isinstance(traits, dict):  # GeoIP2 Enterprise: the ISP data in traits
                        g[8], g[9] = _asn(traits)
                elif db.role == "asn":
                    g[8], g[9] = _asn(rec)
                else:
                    fl = flags[j]
                    if fl is None:
                        fl = flags[j] = []
                    fl.extend(f.removeprefix("is_") for f in _FLAGS if rec.get(f))
        size = self.opts.cache_size
        if size and len(cache) + len(todo) > size:
            cache.clear()
        for j, i in enumerate(todo):
            g = geo[j]
            fact = (tuple(g), tuple(flags[j] or ())) if g is not None else None
            out[i] = fact
            if size:
                cache[ips[i]] = fact
        return out

    def _records(self, db: Database, ips: list[str]) -> list[Any]:
        """``db.reader.get`` of every IP; an IP the reader refuses or a record it cannot read gives None."""
        get = db.reader.get
        try:
            return [get(ip) for ip in ips]
        except (ValueError, InvalidDatabaseError):
            pass  # a non-IP / IPv6 against an IPv4 database / a broken record: redo one by one
        recs: list[Any] = []
        for ip in ips:
            try:
                recs.append(get(ip))
            except ValueError:
                recs.append(None)  # not an IP, or IPv6 against an IPv4-only database: no data
            except InvalidDatabaseError as exc:
                self.stats.lookup_errors += 1
                log.debug("geoip %s: %s lookup of %s failed: %s", self.name, db.role, ip, exc)
                recs.append(None)
        return recs

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Enrich every configured endpoint that has an ``ip``."""
        self._maybe_reload()
        if batch.num_rows == 0 or not any(db.reader is not None for db in self.dbs):
            return [batch]
        eps = []
        for ep in self.opts.endpoints:
            got = field_values(batch, f"{ep}.ip")
            if got is not None:
                eps.append((ep, got[0].cast(pa.string())))
        if not eps:
            return [batch]
        errors_before = self.stats.lookup_errors
        allv = pa.concat_arrays([v for _ep, v in eps])
        enc = pc.dictionary_encode(allv)
        distinct = enc.dictionary.to_pylist()
        facts = self.lookup_many(distinct)
        if self.stats.lookup_errors > errors_before:
            log.warning("geoip %s: %d lookups hit unreadable database records (those IPs are left un-enriched)",
                        self.name, self.stats.lookup_errors - errors_before)
        hits = [(k, f) for k, f in enumerate(facts) if f is not None]
        if not hits:
            return [batch]
        hit_at = [k for k, _f in hits]
        # Columns over the distinct IPs with facts, then spread to all distinct IPs (null = no facts).
        by_field = list(zip(*[f[0] for _k, f in hits], strict=True))
        pos = np.full(len(facts), -1, np.int64)
        pos[hit_at] = np.arange(len(hit_at))
        spread = pa.array(pos, mask=pos < 0)
        cols_d = [pa.array(v, t).take(spread) for v, (_p, t) in zip(by_field, _GEO_FIELDS, strict=True)]
        codes = enc.indices
        cls = class_of(batch)
        out: dict[str, pa.Array] = {}
        label_rows: list[np.ndarray] = []
        label_vals: list[str] = []
        start = 0
        hit_d = pos >= 0
        for ep, vals in eps:
            idx = codes.slice(start, len(vals))
            start += len(vals)
            idx_np = idx.to_numpy(zero_copy_only=False)
            valid = ~np.asarray(pc.is_null(idx).to_numpy(zero_copy_only=False))
            if not hit_d[idx_np[valid].astype(np.int64)].any():
                continue
            for (path, _t), col in zip(_GEO_FIELDS, cols_d, strict=True):
                taken = col.take(idx)
                if taken.null_count < len(taken):
                    out[f"{ep}.{path}"] = taken
            lat, lon = out.get(f"{ep}.location.lat"), out.get(f"{ep}.location.long")
            if lat is not None and lon is not None:
                both = pc.and_(pc.is_valid(lat), pc.is_valid(lon))
                xy = np.column_stack([lon.to_numpy(zero_copy_only=False), lat.to_numpy(zero_copy_only=False)]).ravel()
                offsets = pa.array(np.arange(len(lat) + 1, dtype=np.int32) * 2)
                out[f"{ep}.location.coordinates"] = pa.ListArray.from_arrays(offsets, pa.array(xy), mask=pc.invert(both))
            for flag in sorted({fl for f in facts if f for fl in f[1]}):
                has = np.array([f is not None and flag in f[1] for f in facts], dtype=np.bool_)
                rows = np.flatnonzero(valid & has[np.where(valid, idx_np, 0).astype(np.int64)])
                label_rows.append(rows)
                label_vals.extend([f"geoip:{ep}:{flag}"] * len(rows))
        batch = set_fields(batch, cls, out)
        if label_rows:
            batch = add_labels(batch, cls, np.concatenate(label_rows), pa.array(label_vals, pa.string()))
        return [batch]

    def status(self) -> dict[str, Any]:
        """Databases, reloads, errors and lookup counters."""
        return {"databases": [{"role": d.role, "path": str(d.path), "type": d.db_type, "loaded": d.reader is not None,
                               "reloads": d.reloads, "error": d.error} for d in self.dbs],
                "lookups": self.stats.lookups, "cache_hits": self.stats.cache_hits,
                "lookup_errors": self.stats.lookup_errors}


def _asn(rec: dict[str, Any]) -> tuple[int | None, str | None]:
    """(number, name): MaxMind/DB-IP ``autonomous_system_*``, or IPinfo's flat ``asn`` ("AS15169") and
    ``as_name`` (``name`` in IPinfo's ASN database)."""
    num = rec.get("autonomous_system_number")
    if num is not None:
        return num, rec.get("autonomous_system_organization")
    m = _ASN_TEXT.match(str(rec.get("asn") or ""))
    if m is None or int(m[1]) > _INT32_MAX:
        return None, None
    return int(m[1]), rec.get("as_name") or rec.get("name")


_ASN_TEXT = re.compile(r"(?i)^(?:AS)?(\d{1,10})$")
_INT32_MAX = (1 << 31) - 1  # autonomous_system.number is an OCSF integer (int32 here)


def _flat_geo(rec: dict[str, Any], geo: list[Any], db_type: str) -> None:
    """IPinfo / ip-location-db records: flat strings (``country_code`` or a two-letter ``country``,
    ``continent_name`` or ``continent``, ``city``, ``region``, ``postal_code``, ``latitude``/``longitude``)."""

    def text(key: str) -> str | None:
        v = rec.get(key)
        return v if isinstance(v, str) and v else None

    country = text("country")
    geo[0] = geo[0] or text("country_code") or (country if country and len(country) == 2 else None)
    continent = text("continent")
    geo[1] = geo[1] or text("city")
    geo[2] = geo[2] or text("continent_name") or (continent if continent and len(continent) > 2 else None)
    geo[3] = geo[3] or text("region")
    geo[4] = geo[4] or text("postal_code")
    if geo[5] is None:
        try:
            lat, lon = float(rec["latitude"]), float(rec["longitude"])
        except (KeyError, TypeError, ValueError):
            pass  # no (or no numeric) coordinates in this record
        else:
            geo[5], geo[6] = lat, lon
    if any(v is not None for v in geo[:7]):
        geo[7] = geo[7] or db_type


def _geo(rec: dict[str, Any], geo: list[Any], lang: str, db_type: str) -> None:
    def name(obj: Any) -> Any:
        return (obj or {}).get("names", {}).get(lang) if isinstance(obj, dict) else None

    country = rec.get("country") or rec.get("registered_country") or {}
    if not isinstance(country, dict) or "country_code" in rec or isinstance(rec.get("continent"), str):  # IPinfo: flat
        _flat_geo(rec, geo, db_type)
        return
    geo[0] = geo[0] or country.get("iso_code")
    geo[1] = geo[1] or name(rec.get("city"))
    geo[2] = geo[2] or name(rec.get("continent"))
    subs = rec.get("subdivisions") or []
    geo[3] = geo[3] or (name(subs[0]) if subs else None)
    geo[4] = geo[4] or (rec.get("postal") or {}).get("code")
    loc = rec.get("location") or {}
    if geo[5] is None and loc.get("latitude") is not None:
        geo[5], geo[6] = float(loc["latitude"]), float(loc["longitude"])
    if any(v is not None for v in geo[:7]):
        geo[7] = geo[7] or db_type


def build_stage(name: str, options: dict[str, Any], data_dir: Path | None = None) -> GeoIPStage:
    """STAGES factory for ``type: geoip``."""
    del data_dir
    return GeoIPStage(name, GeoIPOptions.model_validate(options))
