"""Partial masking: ``4111111111111111`` -> ``************1111`` (keep the last N, and/or first N).

Per configured field (``fields: [actor.user.email_addr]`` with the stage's defaults, or
``fields: {path: {keep_first: 0, keep_last: 4, char: "*"}}``). The masked value keeps the
original length; a value no longer than ``keep_first + keep_last`` is masked entirely, so a
short value is never shown whole. Like tokenization, the original values are replaced
with their masked form in ``raw_data``/``unmapped`` (see ``_columns.rewrite_raw``). Distinct
values are masked once per batch; masking is one-way.
"""

from __future__ import annotations

import functools
from typing import Any

import pyarrow as pa

from secpipe.transforms.protect._columns import (
    Replacement,
    get_path,
    map_distinct,
    rewrite_raw_columns,
    set_path,
)
from secpipe.transforms.protect.options import MaskOptions, MaskRule
from secpipe.transforms.protect.tokenize import RAW_COLUMNS


def mask_value(value: str, rule: MaskRule) -> str:
    """Mask one value under ``rule`` (length kept)."""
    n = len(value)
    if n <= rule.keep_first + rule.keep_last:
        return rule.char * n
    tail = value[n - rule.keep_last :] if rule.keep_last else ""
    return value[: rule.keep_first] + rule.char * (n - rule.keep_first - rule.keep_last) + tail


class MaskStage:
    """Vectorized partial masking of configured fields."""

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        opts = MaskOptions.model_validate(options)
        self.name = name
        default = MaskRule(keep_first=opts.keep_first, keep_last=opts.keep_last, char=opts.char)
        self.fields: dict[str, MaskRule] = (
            opts.fields if isinstance(opts.fields, dict) else dict.fromkeys(opts.fields, default)
        )

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Mask one batch; returns it."""
        repl: list[Replacement] = []
        for path, rule in self.fields.items():
            arr = get_path(batch, path)
            if arr is None or arr.null_count == len(arr) or not (pa.types.is_string(arr.type) or pa.types.is_integer(arr.type)):
                continue
            mapped, indices, distinct, out = map_distinct(arr, functools.partial(mask_value, rule=rule))
            batch = set_path(batch, path, mapped)
            repl.append(Replacement(indices, distinct, out, len(distinct) <= 256))
        return [rewrite_raw_columns(batch, RAW_COLUMNS, repl) if repl else batch]


def make_mask(name: str, options: dict[str, Any], data_dir: Any = None) -> MaskStage:
    """STAGES factory for ``type: mask``."""
    return MaskStage(name, options)
