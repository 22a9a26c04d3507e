"""OCSF 1.8.0 as Arrow: class lookup, typed paths, batch assembly and enums."""

from secpipe.schema.ocsf import (
    OCSF_VERSION,
    arrow_type,
    assemble,
    category_uid,
    class_uid,
    ocsf,
    validate_batch,
)

__all__ = ["OCSF_VERSION", "arrow_type", "assemble", "category_uid", "class_uid", "ocsf", "validate_batch"]
