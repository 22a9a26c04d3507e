"""Config models of the protect stages (pydantic only, so config.models can import them freely)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["hmac", "reversible", "ip"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenizeOptions(_Strict):
    """``type: tokenize``: keyed tokens for configured fields (and their raw occurrences)."""

    type: str = "tokenize"
    inputs: list[str] = Field(default_factory=list)
    fields: list[str] | dict[str, Mode]
    mode: Mode = "hmac"
    key_env: str = "SECPIPE_TOKENIZE_KEY"
    key_file: str | None = None
    ip_keep_v4: int = Field(24, ge=0, le=32)
    ip_keep_v6: int = Field(48, ge=0, le=128)
    raw: bool = True
    min_raw_length: int = Field(4, ge=1)
    substring_max_distinct: int = Field(256, ge=0)


class MaskRule(_Strict):
    """How one field is masked: keep the first/last N characters, the rest become ``char``."""

    keep_first: int = Field(0, ge=0)
    keep_last: int = Field(4, ge=0)
    char: str = Field("*", min_length=1, max_length=1)


class MaskOptions(_Strict):
    """``type: mask``: partial masking of configured fields."""

    type: str = "mask"
    inputs: list[str] = Field(default_factory=list)
    fields: list[str] | dict[str, MaskRule]
    keep_first: int = Field(0, ge=0)
    keep_last: int = Field(4, ge=0)
    char: str = Field("*", min_length=1, max_length=1)


class RedactOptions(_Strict):
    """``type: redact``: find secrets in every string field, replace with typed placeholders."""

    type: str = "redact"
    inputs: list[str] = Field(default_factory=list)
    detectors: list[str] | None = None  # default: all built-in detectors
    #: fields holding expected credential *ids* (CloudTrail accessKeyId), not leaked secrets.
    exclude_fields: list[str] = Field(default_factory=lambda: ["actor.user.credential_uid", "user.credential_uid"])
    entropy_min: float = Field(4.5, gt=0)
    entropy_min_length: int = Field(32, ge=16)
    findings: bool = True
