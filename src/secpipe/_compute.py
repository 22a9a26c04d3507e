"""``pyarrow.compute`` without its import cost: Arrow kernels wrapped on first use.

Why by hand: ``import pyarrow.compute`` wraps every kernel Arrow registers (~290) at import,
each with a signature (``inspect``) and a numpy-style docstring (``docscrape``, ``pydoc``):
~40 ms of every secpipe process on a quiet host, 10-15% of a short ``secpipe ingest``.
secpipe calls a few dozen kernels, so this module makes a kernel's wrapper the first time
an attribute names it (module ``__getattr__``), with pyarrow's own calling convention:
arguments up to the kernel's arity, then its options class's fields positionally or by
keyword, or ``options=`` (an options object or a dict), and ``memory_pool=``; an
:class:`Expression` first argument builds an expression. ``cast``, ``take`` and
``fill_null``, which pyarrow.compute writes in Python, are restated here; ``and_`` / ``or_``
are the kernels ``and`` / ``or``. A name that is neither a kernel nor one of these is
looked up in ``pyarrow._compute`` (options classes, ``Expression``) and, failing that, in
``pyarrow.compute`` itself, imported then.

secpipe's modules import it as ``pc``, in place of pyarrow.compute. pyarrow's own methods
(``Array.cast``, ``.take``, ``.filter``, ``.is_null``, ``Table.filter``...) import
pyarrow.compute on their first call through a private hook, ``pyarrow.lib._pc()``, which
caches the module in ``pyarrow.lib.__pc``; importing this module puts itself there (when
pyarrow has that slot and it is still empty), so those methods use these same wrappers and
an ingest never builds the full module. With another pyarrow layout nothing is installed
and pyarrow imports its module as before.

Guarantees: a wrapper returns what the ``pyarrow.compute`` function of the same name
returns for the same arguments and raises what it raises (tests/unit/test_compute_lazy.py
compares them, and checks that every function pyarrow.compute writes in Python is either
restated here or taken from it); an unknown name raises AttributeError.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pyarrow as pa
from pyarrow import _compute as _c
from pyarrow._compute import CastOptions, Expression, TakeOptions, call_function

#: the Python names pyarrow.compute gives kernels whose Arrow names are Python keywords
_RENAMED = {"and_": "and", "or_": "or"}
#: what pyarrow.compute writes in Python over a kernel of the same name (or over none), not
#: restated here: taken from pyarrow.compute itself
_PYTHON_ONLY = frozenset({"index", "top_k_unstable", "bottom_k_unstable", "random", "field", "scalar"})


def _options_class(func: Any) -> Any:
    """The options class of ``func``, or None (also when pyarrow exposes no Python class for it)."""
    name = func._doc.options_class
    return getattr(_c, name, None) if name else None


def _handle_options(name: str, options_class: Any, options: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """pyarrow.compute's rule: extra arguments build the options; else ``options`` as given."""
    if args or kwargs:
        if options is not None:
            msg = f"Function {name!r} called with both an 'options' argument and additional arguments"
            raise TypeError(msg)
        return options_class(*args, **kwargs)
    if options is None:
        return None
    if isinstance(options, dict):
        return options_class(**options)
    if isinstance(options, options_class):
        return options
    msg = f"Function {name!r} expected a {options_class} parameter, got {type(options)}"
    raise TypeError(msg)


def _wrap(name: str, func: Any) -> Callable[..., Any]:
    """The wrapper of kernel ``func`` exposed as ``name``, as pyarrow.compute builds it."""
    options_class, arity = _options_class(func), func.arity

    if options_class is None:
        def plain(*args: Any, memory_pool: Any = None) -> Any:
            if arity is not Ellipsis and len(args) != arity:
                msg = f"{name} takes {arity} positional argument(s), but {len(args)} were given"
                raise TypeError(msg)
            if args and isinstance(args[0], Expression):
                return Expression._call(name, list(args))
            return func.call(args, None, memory_pool)

        plain.__name__ = plain.__qualname__ = name
        return plain

    def with_options(*args: Any, memory_pool: Any = None, options: Any = None, **kwargs: Any) -> Any:
        option_args: tuple[Any, ...] = ()
        if arity is not Ellipsis:
            if len(args) < arity:
                msg = f"{name} takes {arity} positional argument(s), but {len(args)} were given"
                raise TypeError(msg)
            args, option_args = args[:arity], args[arity:]
        opts = _handle_options(name, options_class, options, option_args, kwargs)
        if args and isinstance(args[0], Expression):
            return Expression._call(name, list(args), opts)
        return func.call(args, opts, memory_pool)

    with_options.__name__ = with_options.__qualname__ = name
    return with_options


def cast(arr: Any, target_type: Any = None, safe: bool | None = None, options: Any = None,
         memory_pool: Any = None) -> Any:
    """``pyarrow.compute.cast``: cast ``arr`` to ``target_type`` (checked unless ``safe=False``)."""
    if (safe is not None or target_type is not None) and options is not None:
        msg = "Must either pass values for 'target_type' and 'safe' or pass a value for 'options'"
        raise ValueError(msg)
    if options is None:
        target_type = pa.types.lib.ensure_type(target_type)
        options = CastOptions.unsafe(target_type) if safe is False else CastOptions.safe(target_type)
    return call_function("cast", [arr], options, memory_pool)


def take(data: Any, indices: Any, *, boundscheck: bool = True, memory_pool: Any = None) -> Any:
    """``pyarrow.compute.take``: the values of ``data`` at ``indices``."""
    return call_function("take", [data, indices], TakeOptions(boundscheck=boundscheck), memory_pool)


def fill_null(values: Any, fill_value: Any) -> Any:
    """``pyarrow.compute.fill_null``: ``values`` with nulls replaced by ``fill_value``."""
    if not isinstance(fill_value, pa.Array | pa.ChunkedArray | pa.Scalar):
        fill_value = pa.scalar(fill_value, type=values.type)
    elif values.type != fill_value.type:
        fill_value = pa.scalar(fill_value.as_py(), type=values.type)
    return call_function("coalesce", [values, fill_value])


def __getattr__(name: str) -> Any:
    """A kernel's wrapper (made once), else ``pyarrow._compute``'s or ``pyarrow.compute``'s attribute."""
    if name.startswith("__"):
        raise AttributeError(name)
    kernel = _RENAMED.get(name, name)
    try:
        func = None if name in _PYTHON_ONLY else _c.get_function(kernel)
    except pa.ArrowKeyError:
        func = None
    if func is not None and func.kind != "hash_aggregate" and not (func.kind == "scalar_aggregate" and func.arity == 0):
        value: Any = _wrap(name, func)
    elif hasattr(_c, name) and name not in _PYTHON_ONLY:
        value = getattr(_c, name)
    else:
        import pyarrow.compute  # the rare name only the full module has

        value = getattr(pyarrow.compute, name)
    globals()[name] = value
    return value


def _serve_pyarrow_methods() -> None:
    """Be the module pyarrow's own methods call kernels through (see the module docstring)."""
    slots = vars(pa.lib)
    if "__pc" in slots and slots["__pc"] is None:
        slots["__pc"] = sys.modules[__name__]


_serve_pyarrow_methods()
