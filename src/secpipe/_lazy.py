"""A read-only name -> object mapping whose objects are imported on first use.

Why: format classes and config option models live in modules that cost start-up time to import
(decoders, pydantic models); a registry of them by name should import only what a run asks for.
Guarantees: iteration, ``len`` and ``in`` never import; ``m[name]`` imports the named module once
and caches the attribute; an unknown name raises KeyError (so ``m.get(name)`` is None).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


class LazyRegistry(Mapping[str, T], Generic[T]):
    """``name -> object`` from ``name -> (module, attribute)``, each imported when first asked for."""

    def __init__(self, entries: Mapping[str, tuple[str, str]]) -> None:
        self._entries = dict(entries)
        self._loaded: dict[str, T] = {}

    def __getitem__(self, name: str) -> T:
        obj = self._loaded.get(name)
        if obj is None:
            module, attr = self._entries[name]
            obj = self._loaded[name] = getattr(importlib.import_module(module), attr)
        return obj

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries


__all__ = ["LazyRegistry"]
