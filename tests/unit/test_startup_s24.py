"""``secpipe ingest`` imports numpy with its docstrings as written (session 24).

numpy's import passes ~350 docstrings through ``inspect.cleandoc``; ``runtime.imports.numpy_as_is``
skips that for the import alone. What must hold: ``cleandoc`` is the real one again afterwards
(also when the import fails), numpy works, and the plain ingest line imports numpy that way.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

from secpipe.runtime import imports


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_numpy_imported_as_is_then_cleandoc_restored() -> None:
    got = _run("""
        import inspect, sys
        real = inspect.cleandoc
        from secpipe.runtime import imports
        assert "numpy" not in sys.modules
        imports.numpy_as_is()
        import numpy as np
        print(inspect.cleandoc is real, int(np.arange(5).sum()), np.array.__doc__.startswith("array("))
        print(inspect.cleandoc("  a\\n    b") == "a\\nb")
    """)
    # numpy's docstring is its source text (a leading newline), not cleaned: the import was as-is
    assert got.splitlines() == ["True 10 False", "True"]


def test_restored_when_the_import_fails() -> None:
    got = _run("""
        import inspect, sys
        real = inspect.cleandoc
        sys.modules["numpy"] = None  # an import of numpy now raises ImportError
        del sys.modules["numpy"]
        import builtins
        orig = builtins.__import__
        def refuse(name, *a, **k):
            if name == "numpy":
                raise ImportError("no numpy here")
            return orig(name, *a, **k)
        builtins.__import__ = refuse
        from secpipe.runtime import imports
        try:
            imports.numpy_as_is()
        except ImportError as exc:
            print("raised", exc)
        print(inspect.cleandoc is real)
    """)
    assert got.splitlines() == ["raised no numpy here", "True"]


def test_no_op_once_numpy_is_loaded() -> None:
    import numpy  # noqa: F401

    real = inspect.cleandoc
    imports.numpy_as_is()
    assert inspect.cleandoc is real


def test_plain_ingest_imports_numpy_as_is(tmp_path: Path) -> None:
    """The plain ``secpipe ingest`` line goes through ``numpy_as_is`` (and still stores the events)."""
    src = tmp_path / "ct.json"
    src.write_text('{"Records":[{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com",'
                   '"eventName":"GetObject","awsRegion":"us-east-1","eventID":"e1","recipientAccountId":"1"}]}')
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from secpipe.runtime import imports
        calls = []
        real = imports.numpy_as_is
        imports.numpy_as_is = lambda: (calls.append(1), real())[1]
        from secpipe.cli import main
        sys.argv = ["secpipe", "ingest", "--json", "--data", {str(tmp_path / 'd')!r}, {str(src)!r}]
        import atexit  # main ends the process with os._exit after the atexit handlers
        atexit.register(lambda: print("calls", len(calls), "numpy" in sys.modules, file=sys.stderr))
        main.main()
    """)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert '"events":1' in out.stdout
    assert "calls 1 True" in out.stderr
