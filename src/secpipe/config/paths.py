"""Files and directories a pipeline config names: checked by ``secpipe validate``.

Relative paths are resolved as ``secpipe up`` (and ``secpipe ingest --config``) resolve them:
against the working directory of the process, not the config file's directory; the message
says so, with the directory it used. Checked, with their key paths:

- ``server.tls.cert`` / ``key`` / ``client_ca``; any ``tls:`` mapping of a component
  (``cert``, ``key``, ``ca``, ``client_ca``, ``ca_bundle``, ``client_cert``, ``client_key``);
- every component key ending in ``_file`` (``playbooks_file``, ``key_file``,
  ``routing_key_file``, ...), at any depth;
- ``threat_intel`` ``feeds[].path`` / ``allowlists[].path``; ``geoip`` ``city`` / ``country`` /
  ``asn`` / ``anonymous``; ``lookup`` ``path``; ``sigma`` ``rules[]`` (file or directory) and
  ``pipelines[]``; ``compliance`` ``rules_dir``;
- ``file`` source ``paths[]``: the source waits for files to appear (a log not yet written, a
  bucket not yet synced), so a path (or a glob's directory before its first wildcard) that does
  not exist yet is a *warning*; an existing one that cannot be read is an error.

Guarantees: a file must be a readable regular file, a directory a readable directory; each
problem is one :class:`~secpipe.errors.ConfigError` naming the key path and the fix. Nothing
is created or modified.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from secpipe.errors import ConfigError

Kind = Literal["file", "dir", "file_or_dir", "watched"]

#: component type -> (key pattern, kind); ``[]`` walks a list, ``.`` a mapping
COMPONENT_PATHS: dict[str, list[tuple[str, Kind]]] = {
    "threat_intel": [("feeds[].path", "file_or_dir"), ("allowlists[].path", "file_or_dir")],  # MISP feeds are dirs
    "geoip": [("city", "file"), ("country", "file"), ("asn", "file"), ("anonymous", "file")],
    "lookup": [("path", "file")],
    "sigma": [("rules[]", "file_or_dir"), ("pipelines[]", "file")],
    "compliance": [("rules_dir", "dir")],
    "file": [("paths[]", "watched")],
}
_TLS_FILES = ("cert", "key", "ca", "client_ca", "ca_bundle", "client_cert", "client_key")
_WHAT = {"file": "an existing, readable file", "dir": "an existing directory",
         "file_or_dir": "an existing file or directory", "watched": "a readable path"}


def check_paths(cfg: Any, cwd: Path | None = None) -> tuple[list[ConfigError], list[ConfigError]]:
    """(errors, warnings): every missing or unreadable path the validated config ``cfg`` names."""
    base = Path(cwd) if cwd is not None else Path.cwd()
    errors: list[ConfigError] = []
    warnings: list[ConfigError] = []
    for key, value, kind in _named(cfg):
        problem = _problem(Path(value) if Path(value).is_absolute() else base / value, kind)
        if problem:
            where = "" if Path(value).is_absolute() else (f" (relative paths are read from the working directory "
                                                          f"{base}, as `secpipe up` reads them)")  # fmt: skip
            if kind == "watched" and "permission" not in problem:
                warnings.append(ConfigError(key, f"{problem}: {value}{where} — the source reads files once they "
                                                 "appear; check the path if they should be there already"))  # fmt: skip
            else:
                errors.append(ConfigError(key, f"{problem}: {value}{where} — give {_WHAT[kind]} or remove the key"))
    return errors, warnings


def _named(cfg: Any) -> Iterator[tuple[str, str, Kind]]:
    """(key path, path as written, kind) of every path the config names."""
    tls = cfg.server.tls
    if tls is not None:
        for k in ("cert", "key", "client_ca"):
            if getattr(tls, k, None):
                yield f"server.tls.{k}", getattr(tls, k), "file"
    for section in ("sources", "transforms", "sinks"):
        for name, raw in getattr(cfg, section).items():
            if not isinstance(raw, dict):
                continue
            prefix = f"{section}.{name}"
            for pattern, kind in COMPONENT_PATHS.get(str(raw.get("type")), []):
                for key, value in _walk(raw, pattern.split("."), prefix):
                    if isinstance(value, str) and value:
                        yield key, value, kind
            yield from _generic(raw, prefix)


def _walk(node: Any, parts: list[str], prefix: str) -> Iterator[tuple[str, Any]]:
    if not parts:
        yield prefix, node
        return
    part, rest = parts[0], parts[1:]
    many = part.endswith("[]")
    key = part.removesuffix("[]")
    value = node.get(key) if isinstance(node, dict) else None
    if many and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, rest, f"{prefix}.{key}[{i}]")
    elif not many and value is not None:
        yield from _walk(value, rest, f"{prefix}.{key}")


def _generic(node: Any, prefix: str) -> Iterator[tuple[str, str, Kind]]:
    """Keys ending in ``_file`` and the files of ``tls:`` mappings, at any depth."""
    if isinstance(node, dict):
        for k, v in node.items():
            key = f"{prefix}.{k}"
            if isinstance(v, str) and v and str(k).endswith("_file"):
                yield key, v, "file"
            elif k == "tls" and isinstance(v, dict):
                for f in _TLS_FILES:
                    if isinstance(v.get(f), str) and v[f]:
                        yield f"{key}.{f}", v[f], "file"
            else:
                yield from _generic(v, key)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _generic(v, f"{prefix}[{i}]")


def _problem(p: Path, kind: Kind) -> str | None:
    """Why ``p`` cannot serve as ``kind``, or None."""
    if kind == "watched":
        text = str(p)
        wild = min((text.index(c) for c in "*?[" if c in text), default=-1)
        if wild >= 0:  # a glob: its fixed directory must exist
            fixed = Path(text[:wild]).parent if not text[:wild].endswith("/") else Path(text[:wild])
            return None if fixed.is_dir() else f"nothing matches yet: no directory {fixed}"
        if p.exists():
            return None if os.access(p, os.R_OK) else "cannot read (permission denied)"
        return "nothing there yet"
    if not p.exists():
        return "not found"
    if kind == "file" and not p.is_file():
        return "not a regular file"
    if kind == "dir" and not p.is_dir():
        return "not a directory"
    if not os.access(p, os.R_OK | (os.X_OK if p.is_dir() else 0)):
        return "cannot read (permission denied)"
    return None
