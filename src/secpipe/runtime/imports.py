"""Start-up imports of a short-lived command.

Design: numpy's import attaches ~350 docstrings to its C functions through ``add_newdoc``,
which passes each through :func:`inspect.cleandoc` (pure Python, ~70 us for numpy's long
texts): ~25 CPU-ms of every ``secpipe ingest``, whose process imports numpy (pyarrow does)
and never shows a docstring. :func:`numpy_as_is` imports numpy with ``cleandoc`` returning
the text as it is for the duration of that import only, so numpy's docstrings keep their
source indentation in this process; nothing else changes.

Guarantees: a no-op when numpy is already imported; ``inspect.cleandoc`` is restored even
when the import fails (the error is raised as the plain import would raise it).
"""

from __future__ import annotations

import inspect
import sys


def _as_is(doc: str) -> str:
    return doc


def numpy_as_is() -> None:
    """Import numpy without cleaning its docstrings (see the module docstring)."""
    if "numpy" in sys.modules:
        return
    clean = inspect.cleandoc
    inspect.cleandoc = _as_is
    try:
        import numpy  # noqa: F401
    finally:
        inspect.cleandoc = clean
