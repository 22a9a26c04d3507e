"""Helpers shared by the specification-conformance tests (tests/unit/test_spec_*.py)."""

from __future__ import annotations

from secpipe import formats
from secpipe.formats.base import Decoded
from secpipe.schema.ocsf import class_name_of, validate_batch


def detected(doc: bytes) -> str | None:
    """The format `--format auto` picks for a document (the same 64 KiB head the readers sniff)."""
    fmt = formats.detect(doc[:65536])
    return fmt.name if fmt else None


def rows(res: Decoded) -> list[dict]:
    """Every row of every batch, after checking each batch only holds attributes of its class."""
    for b in res.batches:
        cls = class_name_of(int(b.column("class_uid")[0].as_py()))
        assert validate_batch(cls, b.schema) == [], f"fields not in {cls}"
    return [r for b in res.batches for r in b.to_pylist()]
