"""SARIF artifact locations as file paths (SARIF 2.1.0 §3.4 uri properties, §3.14.14 originalUriBaseIds).

A location's ``uri`` may be relative to a base named by ``uriBaseId`` (CodeQL's ``%SRCROOT%``,
Fortify's and Qodana's ``SRCROOT``); the run's ``originalUriBaseIds`` gives each base as an
``artifactLocation`` whose own ``uri`` may again be relative to another base (§3.14.14: resolved
recursively). A base the log does not define (or defines without a ``uri``: "the root of the
analysis" left unsaid) leaves the uri relative, as given: a relative uri is still the best path
there is. A resolved ``file:`` URI is written as the local path it names (RFC 8089: its ``.`` and ``..``
segments removed as RFC 3986 §5.2.4 resolves them, percent-decoded,
``file:///C:/src/a.c`` -> ``C:/src/a.c``, ``file://server/share/a.c`` -> ``//server/share/a.c``),
since OCSF's ``file.path`` is a path, and so is a relative reference left relative (percent-decoded);
any other URI (``https:``; a raw Windows path ``C:\\src\\a.c`` some producers write reads as one) stays as given.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_DRIVE = re.compile(r"^/[A-Za-z]:")


def base_uris(bases: Any) -> dict[str, str]:
    """``originalUriBaseIds`` resolved: each base id with a ``uri`` -> its URI, resolved against
    its own ``uriBaseId`` when that is defined (a cycle or an undefined parent leaves it as given).
    Entries that are no ``artifactLocation`` object (a bare string, as pre-2.1.0 logs wrote) are skipped."""
    if not isinstance(bases, dict):
        return {}
    out: dict[str, str] = {}

    def get(name: str, seen: frozenset[str]) -> str | None:
        if name in out:
            return out[name]
        loc = bases.get(name)
        uri = loc.get("uri") if isinstance(loc, dict) else None
        if name in seen or not isinstance(uri, str) or not uri:
            return None
        parent = loc.get("uriBaseId") if isinstance(loc, dict) else None
        if isinstance(parent, str) and not _SCHEME.match(uri):
            got = get(parent, seen | {name})
            if got is not None:
                uri = join(got, uri)
        out[name] = uri
        return uri

    for key in bases:
        if isinstance(key, str):
            get(key, frozenset())
    return out


def join(base: str, uri: str) -> str:
    """``uri`` resolved against ``base`` (RFC 3986 §5.2; a base is a directory, §3.14.14: a
    missing trailing slash is read as there)."""
    if _SCHEME.match(uri):
        return uri
    base = base if base.endswith("/") else base + "/"
    got = urljoin(base, uri)
    if got == uri and _SCHEME.match(base):  # a scheme urllib does not resolve against (s3:, git:)
        return base + uri.lstrip("/")
    return got


def file_path(uri: str, base_id: str | None, bases: dict[str, str]) -> str:
    """A location's path: ``uri`` resolved against its ``uriBaseId`` (when the run defines that
    base), a ``file:`` URI as the local path it names."""
    if base_id is not None and not _SCHEME.match(uri) and (base := bases.get(base_id)) is not None:
        uri = join(base, uri)
    if not _SCHEME.match(uri):  # a relative reference: its path percent-decoded ("my%20dir/a.c")
        return unquote(uri) if "%" in uri else uri
    if uri[:5].lower() != "file:":
        return uri
    parts = urlsplit(uri)
    path = unquote(_without_dot_segments(parts.path))
    if parts.netloc and parts.netloc.lower() != "localhost":
        return f"//{parts.netloc}{path}"
    return path[1:] if _DRIVE.match(path) else path


def _without_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 remove_dot_segments (``/a/./b/../c`` -> ``/a/c``), which resolving a URI applies."""
    if "." not in path:
        return path
    out: list[str] = []
    segs = path.split("/")
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1 or (out and out[0] != ""):
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/".join(out)
