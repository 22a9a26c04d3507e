"""Feed lifecycle: fetch from a path or HTTP URL, conditional refresh, last good copy, status.

Guarantees:

- A refresh that fails (network error, HTTP error status, a body that does not parse) keeps
  the feed's last good indicators, records the error (``status()``, ``secpipe intel status``)
  and logs a warning; it never empties a feed.
- HTTP refreshes send ``If-None-Match`` / ``If-Modified-Since`` from the last good response;
  a ``304`` only updates the refresh time. A TAXII 2.1 collection is read page by page (its envelope's ``more`` /
  ``next``) into one body, and a ``stix`` feed asks for TAXII's media type unless the feed sets ``Accept``; a JSON
  API page that links the next (OTX ``next``, OData ``@odata.nextLink``) is followed on the feed's own host. File feeds are re-read only when their mtime or
  size changed.
- With a ``state_dir``, each good body of an HTTP feed is cached on disk (``<feed>.body`` +
  ``.meta.json``); after a restart a feed whose URL is unreachable starts from that cached
  copy (and says so). File feeds are their own copy.
- ``valid_until`` of each indicator is honoured at match time; a feed with ``max_age`` gives
  indicators without their own expiry ``last good refresh + max_age``, so a feed that stops
  refreshing eventually stops matching.
- :class:`IntelStore` swaps the compiled index atomically, so matching never sees a half-built
  index; the optional background thread refreshes each feed on its own schedule.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from secpipe import _compute as pc
from secpipe.store._durable import write_file_atomic
from secpipe.transforms.enrich.intel.loaders import (
    PATTERN,
    SCHEMA,
    URL_HOST,
    FeedError,
    Loaded,
    load,
    load_misp_feed,
)
from secpipe.transforms.enrich.intel.matcher import Index
from secpipe.transforms.enrich.options import FeedOptions

log = logging.getLogger("secpipe.enrich.intel")

Clock = Callable[[], float]


@dataclass
class FeedState:
    """What is known about one feed (all times in ms since epoch)."""

    table: pa.Table | None = None
    skipped: int = 0
    etag: str | None = None
    last_modified: str | None = None
    signature: tuple[int, int] | None = None
    last_attempt: int | None = None
    last_success: int | None = None
    last_change: int | None = None
    error: str | None = None
    from_cache: bool = False
    fetches: int = 0
    not_modified: int = 0


@dataclass
class Feed:
    """One configured feed or allowlist."""

    opts: FeedOptions
    role: str = "feed"
    state_dir: Path | None = None
    state: FeedState = field(default_factory=FeedState)

    @property
    def name(self) -> str:
        """The feed's configured name."""
        return self.opts.name

    @property
    def source(self) -> str:
        """Path or URL."""
        return self.opts.url or self.opts.path or ""

    def refresh(self, now_ms: int) -> bool:
        """Fetch and parse if changed; True when the indicators changed. Never raises on feed errors."""
        st = self.state
        st.last_attempt = now_ms
        st.fetches += 1
        try:
            changed = self._fetch(now_ms)
        except (FeedError, OSError, ValueError, UnicodeDecodeError, pa.ArrowInvalid) as exc:
            st.error = _short(exc)
            kept = "keeping the last good copy" if st.table is not None else "no indicators loaded"
            log.warning("intel %s %s: refresh failed: %s — %s", self.role, self.name, st.error, kept)
            if st.table is None and self._from_cache():
                log.warning("intel %s %s: using the cached copy from a previous run", self.role, self.name)
                return True
            return False
        st.error = None
        st.last_success = now_ms
        if changed:
            st.last_change = now_ms
        else:
            st.not_modified += 1
        return changed

    def _fetch(self, now_ms: int) -> bool:
        o = self.opts
        if o.url:
            return self._fetch_http(now_ms)
        p = Path(o.path or "")
        if o.format == "misp_feed":
            if not p.is_dir():
                msg = f"{p} is not a directory — a misp_feed path is the feed directory with manifest.json"
                raise FeedError(msg)
            sig = _sig(p / "manifest.json")
            if sig == self.state.signature and self.state.table is not None:
                return False
            self._accept(load_misp_feed(p, o.confidence, _ms(o.max_age), o.unpublished), None, sig, now_ms)
            return True
        if not p.is_file():
            msg = f"file not found: {p} — fix `path` or create the file"
            raise FeedError(msg)
        sig = _sig(p)
        if sig == self.state.signature and self.state.table is not None:
            return False
        body = p.read_bytes()
        self._accept(self._parse(body, sig[0] // 1_000_000), body, sig, now_ms)  # the file was written then
        return True

    def _fetch_http(self, now_ms: int) -> bool:
        o = self.opts
        st = self.state
        headers = {"User-Agent": "secpipe-intel", **o.headers}
        if o.format == "stix" and not any(k.lower() == "accept" for k in o.headers):
            headers["Accept"] = _TAXII_ACCEPT
        if st.table is not None and st.etag:
            headers["If-None-Match"] = st.etag
        if st.table is not None and st.last_modified:
            headers["If-Modified-Since"] = st.last_modified
        got = self._get(o.url or "", headers)
        if got is None:
            return False
        body, etag, lm = got
        if body.lstrip()[:1] == b"{":
            plain = {k: v for k, v in headers.items() if not k.startswith("If-")}
            if o.format in ("stix", "auto") and b'"more"' in body and b'"next"' in body:
                body = self._taxii_pages(body, plain)
            elif o.format in ("json", "auto") and (b'"next"' in body or b'"@odata.nextLink"' in body):
                body = self._linked_pages(body, plain)
        loaded = self._parse(body, now_ms)
        st.etag, st.last_modified = etag, lm
        self._accept(loaded, body, None, now_ms)
        return True

    def _get(self, url: str, headers: dict[str, str]) -> tuple[bytes, str | None, str | None] | None:
        """(body, ETag, Last-Modified) of a GET; None for a 304 when a good copy is held."""
        req = urllib.request.Request(url, headers=headers)  # noqa: S310 - http(s) only, checked in options
        try:
            with urllib.request.urlopen(req, timeout=self.opts.timeout) as resp:  # noqa: S310
                return resp.read(), resp.headers.get("ETag"), resp.headers.get("Last-Modified")
        except urllib.error.HTTPError as exc:
            if exc.code == 304 and self.state.table is not None:
                return None
            msg = f"HTTP {exc.code} {exc.reason} from {url}"
            raise FeedError(msg) from exc
        except urllib.error.URLError as exc:
            msg = f"cannot reach {url}: {exc.reason}"
            raise FeedError(msg) from exc

    def _taxii_pages(self, first: bytes, headers: dict[str, str]) -> bytes:
        """A TAXII 2.1 Get Objects answer is one page of the collection: while its envelope says ``more`` it names
        the ``next`` page, asked for with the ``next`` URL parameter (TAXII 2.1 3.4, 3.7). Every page is fetched and
        their objects make one envelope, so a collection larger than the server's page limit is loaded whole, not
        its first page. A body that is no such envelope is returned as it is."""
        try:
            doc = json.loads(first)
        except ValueError:
            return first
        if not isinstance(doc, dict) or doc.get("more") is not True or not isinstance(doc.get("objects"), list):
            return first
        objects = list(doc["objects"])
        seen: set[str] = set()
        while doc.get("more") is True and isinstance(doc.get("next"), str) and doc["next"] not in seen:
            if len(seen) >= _MAX_PAGES:
                msg = f"TAXII collection has more than {_MAX_PAGES} pages — narrow it (added_after, match[type])"
                raise FeedError(msg)
            seen.add(doc["next"])
            got = self._get(_with_param(self.opts.url or "", "next", doc["next"]), headers)
            if got is None:
                break
            doc = json.loads(got[0])
            if not isinstance(doc, dict):
                msg = "a TAXII page that is no envelope"
                raise FeedError(msg)
            objects += doc.get("objects") or []
        return json.dumps({"objects": objects, "more": False}).encode()

    def _linked_pages(self, first: bytes, headers: dict[str, str]) -> bytes:
        """A JSON API page that links the next one: AlienVault OTX (``{"results": [...], "next": "<url>"}``: the
        subscribed pulses, a pulse's indicators) and OData answers (``{"value": [...], "@odata.nextLink": "<url>"}``:
        Defender for Endpoint's indicators). Every page on the feed's own host is fetched and their entries make one
        body, so a feed over one page is loaded whole; a body that is no such page is returned as it is."""
        try:
            doc = json.loads(first)
        except ValueError:
            return first
        key = next((k for k in ("results", "value") if isinstance(doc, dict) and isinstance(doc.get(k), list)), None)
        if key is None:
            return first
        host = urllib.parse.urlsplit(self.opts.url or "").netloc
        entries = list(doc[key])
        seen: set[str] = set()
        while isinstance(doc, dict) and isinstance(link := doc.get("next") or doc.get("@odata.nextLink"), str):
            if link in seen or urllib.parse.urlsplit(link).netloc != host or not link.startswith(("http://", "https://")):
                break  # a loop, or a link off the feed's host (its headers may carry an API key)
            if len(seen) >= _MAX_PAGES:
                msg = f"the feed links more than {_MAX_PAGES} pages — narrow it (modified_since, a filter)"
                raise FeedError(msg)
            seen.add(link)
            got = self._get(link, headers)
            if got is None:
                break
            doc = json.loads(got[0])
            entries += (doc.get(key) or []) if isinstance(doc, dict) else []
        return json.dumps({key: entries}).encode() if seen else first

    def _parse(self, body: bytes, fetched_ms: int | None = None) -> Loaded:
        o = self.opts
        name = o.path or o.url or ""
        out = load(body, o.format, conf=o.confidence, labels=o.labels, kind=o.kind, column=o.column,
                   max_age_ms=_ms(o.max_age), name=name, fetched_ms=fetched_ms, unpublished=o.unpublished)
        if out.table.num_rows == 0 and body.strip() and out.skipped == 0 and not out.empty and self.role == "feed":
            msg = "the body parsed to no indicators — check `format`"
            raise FeedError(msg)
        if self.role == "feed" and pc.any(pc.equal(out.table.column("kind"), PATTERN)).as_py():
            msg = "substring/regex MISP warninglists only suppress matches — list it under `allowlists:`"
            raise FeedError(msg)
        if self.role == "feed":  # URL-host entries only serve allowlists; the domain rows are the indicators
            out.table = out.table.filter(pc.not_equal(out.table.column("kind"), URL_HOST))
        return out

    def _accept(self, loaded: Loaded, body: bytes | None, sig: tuple[int, int] | None, now_ms: int) -> None:
        st = self.state
        st.table, st.skipped, st.signature, st.from_cache = loaded.table, loaded.skipped, sig, False
        if body is not None and self.state_dir is not None and self.opts.url:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            d = self.state_dir  # body first, then its meta: a cut leaves the previous pair or a newer body
            write_file_atomic(d / f"{self.name}.body", body, d / f"{self.name}.body.tmp")
            meta = {"etag": st.etag, "last_modified": st.last_modified, "fetched": now_ms, "source": self.source}
            write_file_atomic(d / f"{self.name}.meta.json", json.dumps(meta).encode(), d / f"{self.name}.meta.json.tmp")

    def _from_cache(self) -> bool:
        if self.state_dir is None:
            return False
        body_p = self.state_dir / f"{self.name}.body"
        meta_p = self.state_dir / f"{self.name}.meta.json"
        if not body_p.is_file() or not meta_p.is_file():
            return False
        meta = json.loads(meta_p.read_text(encoding="utf-8"))
        try:
            fetched = meta.get("fetched")
            loaded = self._parse(body_p.read_bytes(), fetched if isinstance(fetched, int) else None)
        except (FeedError, ValueError, pa.ArrowInvalid) as exc:
            log.warning("intel %s %s: cached copy unusable: %s", self.role, self.name, _short(exc))
            return False
        st = self.state
        st.table, st.skipped, st.from_cache = loaded.table, loaded.skipped, True
        st.etag, st.last_modified = meta.get("etag"), meta.get("last_modified")
        st.last_success = st.last_change = meta.get("fetched")
        return True

    def indicators(self) -> pa.Table:
        """The last good indicators with ``feed`` and feed-level expiry applied."""
        t = self.state.table if self.state.table is not None else SCHEMA.empty_table()
        if self.opts.max_age is not None and self.state.last_success is not None and t.num_rows:
            until = self.state.last_success + int(self.opts.max_age * 1000)
            vu = pc.coalesce(t.column("valid_until"), pa.scalar(until, pa.int64()))
            t = t.set_column(t.schema.get_field_index("valid_until"), "valid_until", vu)
        return t.append_column("feed", pa.repeat(pa.scalar(self.name, pa.string()), t.num_rows))

    def status(self, now_ms: int) -> dict[str, Any]:
        """JSON-able status: counts, refresh times, last error."""
        st = self.state
        t = st.table
        counts: dict[str, int] = {}
        expired = 0
        if t is not None and t.num_rows:
            for row in t.group_by("kind").aggregate([("value", "count")]).to_pylist():
                counts[row["kind"]] = row["value_count"]
            ind = self.indicators()
            expired = int(pc.sum(pc.less(ind.column("valid_until"), now_ms)).as_py() or 0)
        return {"name": self.name, "role": self.role, "source": self.source, "format": self.opts.format,
                "indicators": sum(counts.values()), "by_kind": counts, "expired": expired, "skipped": st.skipped,
                "last_attempt": _iso(st.last_attempt), "last_success": _iso(st.last_success),
                "last_change": _iso(st.last_change), "error": st.error, "from_cache": st.from_cache,
                "fetches": st.fetches, "not_modified": st.not_modified}


class IntelStore:
    """Feeds + allowlists, their compiled indexes, and their refresh schedule."""

    def __init__(self, feeds: list[FeedOptions], allowlists: list[FeedOptions], *, state_dir: Path | None = None,
                 clock: Clock = time.time) -> None:
        """Create (nothing is fetched until :meth:`refresh`)."""
        self.clock = clock
        self.state_dir = state_dir
        self.feeds = [Feed(o, "feed", state_dir) for o in feeds] + [Feed(o, "allowlist", state_dir) for o in allowlists]
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.index = Index(_with_feed(SCHEMA.empty_table()))
        self.allow = Index(_with_feed(SCHEMA.empty_table()))

    def refresh(self, force: bool = False) -> bool:
        """Refresh every due feed (all with ``force``) and recompile if any changed."""
        now = self.clock()
        changed = False
        with self._lock:
            for f in self.feeds:
                if force or now >= self._next.get(f.name + f.role, 0.0):
                    changed |= f.refresh(int(now * 1000))
                    self._next[f.name + f.role] = now + f.opts.refresh
            if changed:
                self._compile()
            self._write_status()
        return changed

    def _compile(self) -> None:
        t0 = time.perf_counter()
        main = [f.indicators() for f in self.feeds if f.role == "feed"]
        allow = [f.indicators() for f in self.feeds if f.role == "allowlist"]
        index = Index(pa.concat_tables(main) if main else _with_feed(SCHEMA.empty_table()))
        allow_index = Index(pa.concat_tables(allow) if allow else _with_feed(SCHEMA.empty_table()))
        self.index, self.allow = index, allow_index
        pa.default_memory_pool().release_unused()
        log.info("intel: compiled %d indicators, %d allow entries in %.2fs", index.size, allow_index.size,
                 time.perf_counter() - t0)

    def start(self, poll_seconds: float = 5.0) -> None:
        """Refresh in a daemon thread from now on (feeds keep their own intervals)."""
        if self._thread is not None:
            return

        def run() -> None:
            while not self._stop.wait(poll_seconds):
                self.refresh()

        self._thread = threading.Thread(target=run, name="secpipe-intel-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the refresh thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def status(self) -> list[dict[str, Any]]:
        """Status of every feed and allowlist."""
        now = int(self.clock() * 1000)
        return [f.status(now) for f in self.feeds]

    def _write_status(self) -> None:
        if self.state_dir is None:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        doc = json.dumps({"written": _iso(int(self.clock() * 1000)), "feeds": self.status()}, indent=1)
        write_file_atomic(self.state_dir / "status.json", doc.encode(), self.state_dir / "status.json.tmp")


def _with_feed(t: pa.Table) -> pa.Table:
    return t.append_column("feed", pa.array([], pa.string()))


#: what a TAXII 2.1 server serves objects as (5.4); servers that check Accept answer 406 to JSON alone
_TAXII_ACCEPT = "application/taxii+json;version=2.1, application/stix+json;q=0.9, application/json;q=0.8, */*;q=0.5"
#: the most pages of one TAXII collection a refresh follows
_MAX_PAGES = 1000


def _with_param(url: str, name: str, value: str) -> str:
    """``url`` with its query parameter ``name`` set to ``value`` (added, or replaced)."""
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode([*query, (name, value)])))


def _sig(p: Path) -> tuple[int, int]:
    st = p.stat()
    return st.st_mtime_ns, st.st_size


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
