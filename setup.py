"""Build hook: the optional C accelerator of the protect stages' raw-text rewrite.

Everything else is declared in pyproject.toml. The extension is ``optional``: where no C
compiler is available the install goes on and ``_columns.replace_rows`` uses its DuckDB /
per-row Python paths (same output, slower).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("secpipe.transforms.protect._rewrite", ["src/secpipe/transforms/protect/_rewrite.c"],
                             optional=True)])
