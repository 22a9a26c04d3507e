"""The ``threat_intel`` transform: match a batch's IPs, domains, URLs and hashes against feeds.

Per batch and per kind, the values of every configured field (``src_endpoint.ip``,
``dst_endpoint.ip``, the proxies of ``src_endpoint.intermediate_ips[]``, a DNS response's ``answers[].rdata``,
``*.domain``, ``url.url_string``, ``file.hashes[].value``, the same objects in a finding's ``evidences[]``, ...) are
dictionary-encoded once; only the *distinct* values are looked up (see
:mod:`.matcher`), allowlisted values and expired indicators are dropped, and the hits are
joined back to event rows with numpy. Each match adds to the event:

- ``enrichments[]``: name = the field path, value = the observed value, provider = feed,
  type ``threat_intel``, desc = indicator description, ``data`` = JSON {indicator, kind,
  confidence, labels, ref, valid_until}, ``reputation`` from the confidence;
- ``observables[]``: name = field path, value, ``type_id`` (2 IP, 1 hostname, 6 URL, 8 hash, 5 e-mail,
  99 Other with ``type`` "Autonomous System Number" for ASNs) and the same reputation.

ASN indicators match ``asn_fields`` (``<ep>.autonomous_system.number``, as decimal text); the
geoip stage fills those, so a config that matches ASN-DROP lists threat_intel after geoip.
E-mail address indicators match ``email_fields`` (``actor.user.email_addr``, ``user.email_addr``,
``email.from``/``sender``/``smtp_from``), compared lower-cased; JA3 fingerprints (SSLBL
``ja3_md5``, MISP ``ja3-fingerprint-md5``) match ``ja3_fields`` (``tls.ja3_hash.value``), never
file hashes, as observables of type 30 Fingerprint; certificate fingerprints (SSLBL's SHA1 list,
MISP ``x509-fingerprint-*``, STIX ``x509-certificate:hashes``) match ``x509_fields``
(``tls.certificate.fingerprints[].value``, ``file.signature.certificate.fingerprints[].value``).

and every matched event yields one Detection Finding (2004) whose ``severity_id`` comes from
the highest indicator confidence: >= 90 High, >= 70 Medium, >= 40 Low, else Informational.
The finding's ``metadata.correlation_uid`` and ``finding_info.related_events[].uid`` are the
event's ``metadata.uid``; its uid is a hash of the stage, the event uid and the matched
indicators, so a redelivered event yields the same finding uid.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.errors import ConfigError
from secpipe.formats.base import base_columns, const, to_batch
from secpipe.schema.ocsf import class_of
from secpipe.transforms.enrich._columns import append_lists, field_values, rows_to_lists, set_fields
from secpipe.transforms.enrich._ip import _pairs
from secpipe.transforms.enrich.intel.feeds import Clock, IntelStore
from secpipe.transforms.enrich.intel.indicators import idna_names
from secpipe.transforms.enrich.intel.loaders import CASELESS_KINDS, canonical_urls
from secpipe.transforms.enrich.intel.matcher import _EMPTY, Index
from secpipe.transforms.enrich.options import ThreatIntelOptions

log = logging.getLogger("secpipe.enrich.intel")

_TYPE_ID = {"ip": 2, "domain": 1, "url": 6, "hash": 8, "asn": 99, "email": 5, "ja3": 30, "x509": 30}
_TYPE_NAME = {2: "IP Address", 1: "Hostname", 6: "URL String", 8: "Hash", 99: "Autonomous System Number",
              5: "Email Address", 30: "Fingerprint"}
S = pa.string()
_REP = pa.struct([("provider", S), ("base_score", pa.float64()), ("score_id", pa.int32()), ("score", S)])
_ENRICH = pa.struct([("name", S), ("value", S), ("type", S), ("provider", S), ("desc", S), ("data", S),
                     ("created_time", pa.int64()), ("reputation", _REP)])
_OBS = pa.struct([("name", S), ("value", S), ("type_id", pa.int32()), ("type", S), ("reputation", _REP)])


def severity_from_confidence(conf: np.ndarray) -> np.ndarray:
    """Indicator confidence 0-100 -> OCSF severity_id (see module docstring)."""
    return np.select([conf >= 90, conf >= 70, conf >= 40], [4, 3, 2], 1).astype(np.int32)


def score_from_confidence(conf: np.ndarray) -> np.ndarray:
    """Confidence -> reputation score_id (10 Malicious, 9 Probably, 8 Possibly, 7 Suspicious)."""
    return np.select([conf >= 90, conf >= 70, conf >= 40], [10, 9, 8], 7).astype(np.int32)


class Matches:
    """Match rows of one batch: event row, field path id, observed value, indicator row."""

    def __init__(self) -> None:
        """Start empty."""
        self.rows: list[np.ndarray] = []
        self.fields: list[np.ndarray] = []
        self.values: list[pa.Array] = []
        self.inds: list[np.ndarray] = []
        self.kinds: list[str] = []

    def add(self, kind: str, rows: np.ndarray, fields: np.ndarray, values: pa.Array, inds: np.ndarray) -> None:
        """Add hits of one kind."""
        if len(rows):
            self.rows.append(rows)
            self.fields.append(fields)
            self.values.append(values)
            self.inds.append(inds)
            self.kinds.extend([kind] * len(rows))

    def __len__(self) -> int:
        """Number of (event, indicator) matches."""
        return sum(len(r) for r in self.rows)


class ThreatIntelStage:
    """Vectorized IOC matching with enrichments, observables and Detection Findings."""

    def __init__(self, name: str, opts: ThreatIntelOptions, *, state_dir: Path | None = None,
                 clock: Clock = time.time) -> None:
        """Load every feed now; with ``on_error: fail`` a feed that cannot load stops startup."""
        self.name = name
        self.opts = opts
        self.clock = clock
        self.store = IntelStore(opts.feeds, opts.allowlists, state_dir=state_dir, clock=clock)
        self.store.refresh(force=True)
        broken = [f for f in self.store.feeds if f.state.table is None]
        if broken and opts.on_error == "fail":
            f = broken[0]
            msg = f"{f.role} {f.name!r} ({f.source}) could not be loaded: {f.state.error} — fix it or set on_error: degrade"
            msg_0 = f"transforms.{name}"
            raise ConfigError(msg_0, msg)
        for f in broken:
            log.error("intel %s %s: not loaded (%s); matching continues without it", f.role, f.name, f.state.error)
        if opts.background_refresh:
            self.store.start()
        #: indicator kind -> the event fields its indicators are matched on
        self._kinds = (("ip", opts.ip_fields), ("domain", opts.domain_fields), ("url", opts.url_fields),
                       ("hash", opts.hash_fields), ("asn", opts.asn_fields), ("email", opts.email_fields),
                       ("ja3", opts.ja3_fields), ("x509", opts.x509_fields))  # fmt: skip
        self._fields = [p for _kind, paths in self._kinds for p in paths]

    def close(self) -> None:
        """Stop background refreshes."""
        self.store.stop()

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Enrich matched events and emit one Detection Finding per matched event."""
        if batch.num_rows == 0:
            return [batch]
        index, allow = self.store.index, self.store.allow
        if index.size == 0:
            return [batch]
        now_ms = int(self.clock() * 1000)
        m = self.match(batch, index, allow, now_ms)
        if not len(m):
            return [batch]
        cls = class_of(batch)
        enriched, enr, obs, rows = self._annotate(batch, cls, index, m, now_ms)
        out = [enriched]
        if self.opts.findings and cls != "detection_finding":
            out.append(self._findings(batch, index, m, enr, obs, rows))
        return out

    # ---------------------------------------------------------------- matching

    def match(self, batch: pa.RecordBatch, index: Index, allow: Index, now_ms: int) -> Matches:
        """All live, non-allowlisted (event row, indicator) matches of a batch."""
        m = Matches()
        for kind, paths in self._kinds:
            got: list[tuple[int, tuple[pa.Array, np.ndarray]]] = []
            for p in paths:
                fv = field_values(batch, p)
                if fv is not None and len(fv[0]):
                    got.append((self._fields.index(p), fv))
            if not got:
                continue
            vals = pa.concat_arrays([g[0].cast(S) for _fid, g in got])
            rows = np.concatenate([g[1] for _fid, g in got])
            fids = np.concatenate([np.full(len(g[0]), fid, np.int32) for fid, g in got])
            if kind in CASELESS_KINDS:
                vals = pc.utf8_lower(vals)
            if kind == "x509":
                vals = pc.replace_substring(vals, ":", "")
            enc = pc.dictionary_encode(vals)
            distinct = enc.dictionary
            if kind == "url":  # scheme/host case, default port, empty path: as the indicators are stored
                distinct = canonical_urls(distinct)
            elif kind in ("domain", "email"):  # a name in Unicode as its A-labels, as the indicators are stored
                distinct = idna_names(distinct)
            codes = enc.indices.to_numpy(zero_copy_only=False)
            present = pc.is_valid(enc.indices).to_numpy(zero_copy_only=False)
            d_pos, ind = self._lookup(kind, distinct, index, allow)
            if not len(d_pos):
                continue
            live = index.live(ind, now_ms)
            d_pos, ind = d_pos[live], ind[live]
            occ = np.flatnonzero(present)
            occ_codes = codes[occ].astype(np.int64)
            order = np.argsort(occ_codes, kind="stable")
            pair_at, occ_at = _pairs(occ_codes[order], d_pos)
            hit = occ[order][occ_at]
            m.add(kind, rows[hit], fids[hit], distinct.take(pa.array(d_pos[pair_at])), ind[pair_at])
        return m

    @staticmethod
    def _lookup(kind: str, distinct: pa.Array, index: Index, allow: Index) -> tuple[np.ndarray, np.ndarray]:
        if kind == "ip":
            q, r, parsed = index.match_ips(distinct)
            if len(q) and allow.size:
                aq, _ar = allow.ips.lookup(parsed)
                q, r = _drop(q, r, aq, allow.pattern_hits(kind, distinct))
            return q, r
        if kind == "domain":  # an address (a DNS answer's, a host named by its IP) or host:port names no domain
            named = np.flatnonzero(pc.invert(pc.fill_null(pc.match_substring_regex(distinct, r"^[0-9.]*$|:"), True))
                                   .to_numpy(zero_copy_only=False))
            names = distinct.take(pa.array(named))
            values = names.to_pylist()
            q, r = index.match_domains(values)
            if len(q) and allow.size:
                aq, _ar = allow.match_domains(values)
                q, r = _drop(q, r, aq, allow.pattern_hits(kind, names))
            return named[q], r
        values = distinct.to_pylist()
        q, r = index.match_exact(kind, values)
        if len(q) and allow.size:
            aq, _ar = allow.match_exact(kind, values)
            hosts = allow.match_url_hosts(distinct) if kind == "url" else _EMPTY
            q, r = _drop(q, r, aq, hosts, allow.pattern_hits(kind, distinct))
        return q, r

    # ---------------------------------------------------------------- output

    def _annotate(self, batch: pa.RecordBatch, cls: str, index: Index, m: Matches,
                  now_ms: int) -> tuple[pa.RecordBatch, pa.Array, pa.Array, np.ndarray]:
        rows = np.concatenate(m.rows)
        fids = np.concatenate(m.fields)
        values = pa.concat_arrays(m.values)
        inds = np.concatenate(m.inds)
        kinds = pa.array(m.kinds, S)
        t = index.table.take(pa.array(inds))
        conf = t.column("confidence").to_numpy().astype(np.int64)
        feed = t.column("feed").combine_chunks()
        rep = pa.StructArray.from_arrays(
            [feed, pa.array(conf.astype(np.float64)), pa.array(score_from_confidence(conf)),
             _score_captions(score_from_confidence(conf))], fields=list(_REP))
        names = pa.array(self._fields, S).take(pa.array(fids))
        data = _data_json(index, inds)
        enr = pa.StructArray.from_arrays(
            [names, values, pc.binary_join_element_wise("threat_intel", kinds, ":"), feed,
             t.column("description").combine_chunks(), data, const(now_ms, len(rows), pa.int64()), rep],
            fields=list(_ENRICH))
        type_ids = pc.index_in(kinds, value_set=pa.array(list(_TYPE_ID))).to_numpy(zero_copy_only=False)
        tid = np.array(list(_TYPE_ID.values()), np.int32)[type_ids]
        obs = pa.StructArray.from_arrays(
            [names, values, pa.array(tid), pa.array([_TYPE_NAME[int(x)] for x in np.unique(tid)], S).take(
                pa.array(np.searchsorted(np.unique(tid), tid))), rep], fields=list(_OBS))
        n = batch.num_rows
        cols = {
            "enrichments": append_lists(_get(batch, "enrichments"), rows_to_lists(n, rows, enr)),
            "observables": append_lists(_get(batch, "observables"), rows_to_lists(n, rows, obs)),
        }
        return set_fields(batch, cls, cols), enr, obs, rows

    def _findings(self, batch: pa.RecordBatch, index: Index, m: Matches, enr: pa.Array, obs: pa.Array,
                  rows: np.ndarray) -> pa.RecordBatch:
        inds = np.concatenate(m.inds)
        conf = index.cols["confidence"].take(pa.array(inds)).to_numpy().astype(np.int64)
        uniq, inv = np.unique(rows, return_inverse=True)
        best = np.full(len(uniq), -1, np.int64)
        np.maximum.at(best, inv, conf)
        # The strongest match of each event names the finding.
        order = np.lexsort((-conf, inv))
        top = order[np.searchsorted(inv[order], np.arange(len(uniq)))]
        ev_uid = _get(batch, "metadata.uid")
        ev_uids = ev_uid.take(pa.array(uniq)).to_pylist() if ev_uid is not None else [None] * len(uniq)
        feeds = index.cols["feed"].take(pa.array(inds)).to_pylist()
        ivals = index.cols["value"].take(pa.array(inds)).to_pylist()
        keys: list[list[str]] = [[] for _ in uniq]
        for j, e in enumerate(inv.tolist()):
            keys[e].append(f"{feeds[j]}\x1f{ivals[j]}")
        uids = [hashlib.blake2b("\0".join([self.name, str(u), *sorted(k)]).encode(), digest_size=16).hexdigest()
                for u, k in zip(ev_uids, keys, strict=True)]
        times = batch.column("time").take(pa.array(uniq)) if "time" in batch.schema.names else const(int(self.clock() * 1000), len(uniq), pa.int64())
        sev = pa.array(severity_from_confidence(best))
        cols = base_columns("detection_finding", kind="threat_intel", product="secpipe", vendor="secpipe",
                            uids=uids, times_ms=times.cast(pa.int64()), raws=None, activity_id=1, severity_id=sev)
        top_obs = obs.take(pa.array(top))
        top_feed = pc.struct_field(pc.struct_field(top_obs, "reputation"), "provider")
        title = pc.binary_join_element_wise("Threat intel match: ", pc.struct_field(top_obs, "value"), " (",
                                            top_feed, ")", "")
        per_event = rows_to_lists(len(uniq), inv, pa.array(np.arange(len(inv))))
        cls_name = class_of(batch)
        cols.update({
            "finding_info.uid": pa.array(uids, S),
            "finding_info.title": title,
            "finding_info.desc": pc.binary_join_element_wise(
                pc.struct_field(top_obs, "name"), " matched indicator ", ivals_col(ivals, top), " from feed ",
                top_feed, ""),
            "finding_info.types": const(["Threat Intelligence"], len(uniq), pa.list_(S)),
            "finding_info.data_sources": const([cls_name], len(uniq), pa.list_(S)),
            "finding_info.analytic.name": const(self.name, len(uniq)),
            "finding_info.analytic.type_id": const(9, len(uniq), pa.int32()),
            "finding_info.analytic.type": const("Exact Data Match", len(uniq)),
            "finding_info.related_events": pa.ListArray.from_arrays(
                pa.array(np.arange(len(uniq) + 1), pa.int32()),
                pa.StructArray.from_arrays([pa.array(ev_uids, S)], names=["uid"])),
            "metadata.correlation_uid": pa.array(ev_uids, S),
            "confidence_score": pa.array(best.astype(np.int32)),
            "is_alert": const(True, len(uniq), pa.bool_()),
            "status_id": const(1, len(uniq), pa.int32()),
            "status": const("New", len(uniq)),
            "enrichments": _regroup(per_event, enr),
            "observables": _regroup(per_event, obs),
        })
        acct = _get(batch, "cloud.account.uid")
        if acct is not None:
            cols["cloud.account.uid"] = acct.take(pa.array(uniq))
            prov = _get(batch, "cloud.provider")
            cols["cloud.provider"] = prov.take(pa.array(uniq)) if prov is not None else pa.nulls(len(uniq), S)
        return to_batch("detection_finding", cols)


def _drop(q: np.ndarray, r: np.ndarray, *allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Matches whose value position is not allowlisted."""
    keep = ~np.isin(q, np.concatenate(allowed))
    return q[keep], r[keep]


def ivals_col(ivals: list[Any], top: np.ndarray) -> pa.Array:
    """The indicator value of each event's strongest match."""
    return pa.array(ivals, S).take(pa.array(top))


def _regroup(per_event: pa.Array, values: pa.Array) -> pa.Array:
    """Lists of match indices -> lists of the corresponding values."""
    return pa.ListArray.from_arrays(per_event.offsets, values.take(pc.list_flatten(per_event)))


def _get(batch: pa.RecordBatch, path: str) -> pa.Array | None:
    got = field_values(batch, path)
    return None if got is None else got[0]


_SCORES = {10: "Malicious", 9: "Probably Malicious", 8: "Possibly Malicious", 7: "Suspicious/Risky"}


def _score_captions(ids: np.ndarray) -> pa.Array:
    keys = np.array(sorted(_SCORES), np.int32)
    return pa.array([_SCORES[int(k)] for k in keys], S).take(pa.array(np.searchsorted(keys, ids)))


_ENC = msgspec.json.Encoder(order="sorted")


def _data_json(index: Index, inds: np.ndarray) -> pa.Array:
    """Enrichment ``data`` JSON, built once per distinct matched indicator."""
    uniq, inv = np.unique(inds, return_inverse=True)
    t = index.table.take(pa.array(uniq)).select(["value", "kind", "confidence", "labels", "ref", "valid_until"])
    enc = _ENC.encode
    texts = [enc({"indicator": r["value"], **{k: v for k, v in r.items() if k != "value" and v is not None}}).decode()
             for r in t.to_pylist()]
    return pa.array(texts, S).take(pa.array(inv))


def build_stage(name: str, options: dict[str, Any], data_dir: Path | None = None) -> ThreatIntelStage:
    """STAGES factory for ``type: threat_intel``."""
    opts = ThreatIntelOptions.model_validate(options)
    state = Path(data_dir) / "intel" / name if data_dir is not None else None
    return ThreatIntelStage(name, opts, state_dir=state)
