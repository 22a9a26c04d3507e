"""Options of the ``compliance`` transform (unknown keys are errors)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ComplianceOptions(BaseModel):
    """Which packs to evaluate in the stream, and where they are."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["compliance"] = "compliance"
    inputs: list[str] = Field(default_factory=list)
    packs: list[str] = Field(default_factory=list, description="cis-aws, k8s, cicd; empty means all.")
    rules_dir: str | None = Field(None, description="Folder of pack rules; default: the shipped rules/compliance.")
