"""Build hook: secpipe's two optional native accelerators.

Everything else is declared in pyproject.toml. Both extensions are ``optional``: where no
compiler is available the install goes on and secpipe uses its pure-Python paths (same
output, slower).

- ``secpipe.formats._columnar`` (Rust, ``native/``): canonical JSON records to Arrow column
  buffers and SHA-256 event uids, the ingest hot path (``secpipe.formats._fast``).
- ``secpipe.transforms.protect._rewrite`` (C): the protect stages' raw-text rewrite.
"""

from setuptools import Extension, setup
from setuptools_rust import Binding, RustExtension

setup(
    ext_modules=[Extension("secpipe.transforms.protect._rewrite", ["src/secpipe/transforms/protect/_rewrite.c"],
                           optional=True)],
    rust_extensions=[RustExtension("secpipe.formats._columnar", path="native/Cargo.toml", binding=Binding.PyO3,
                                   optional=True, py_limited_api=True, debug=False)],
)
