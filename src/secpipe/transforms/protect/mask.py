"""Partial masking: ``4111111111111111`` -> ``************1111`` (keep the last N, and/or first N).

Per configured field (``fields: [actor.user.email_addr]`` with the stage's defaults, or
``fields: {path: {keep_first: 0, keep_last: 4, char: "*"}}``; a field inside a list as ``email.to[]``
or ``actor.user.groups[].name``, each of its values). The masked value keeps the
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
    field_values,
    list_replacements,
    map_distinct,
    put_values,
    rewrite_raw_columns,
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
            got = field_values(batch, path)
            if got is None:
                continue
            arr, rows = got
            if arr.null_count == len(arr) or not (pa.types.is_string(arr.type) or pa.types.is_integer(arr.type)):
                continue
            mapped, indices, distinct, out = map_distinct(arr, functools.partial(mask_value, rule=rule))
            batch = put_values(batch, path, mapped)
            embedded = len(distinct) <= 256
            repl.extend([Replacement(indices, distinct, out, embedded)] if rows is None
                        else list_replacements(indices, rows, batch.num_rows, distinct, out, embedded))
        return [rewrite_raw_columns(batch, RAW_COLUMNS, repl) if repl else batch]


def make_mask(name: str, options: dict[str, Any], data_dir: Any = None) -> MaskStage:
    """STAGES factory for ``type: mask``."""
    return MaskStage(name, options)
