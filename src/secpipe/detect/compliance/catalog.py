"""Compliance packs: Sigma rules that carry a ``compliance:`` block, and the frameworks.

A control is backed by Sigma rules under ``rules/compliance/<pack>/`` (one, or one per source:
files with the same ``control`` id merge) whose extra top-level key says what it proves::

    compliance:
      control: cis-aws-4.3                      # secpipe control id (unique)
      title: Ensure usage of the 'root' account is monitored
      pack: cis-aws                             # cis-aws | k8s | cicd
      frameworks:                               # framework -> requirement ids in it
        cis-aws: ['4.3']
        pci-dss: [10.2.1.2, 7.2.2]
        hipaa: [164.312(a)(2)(i), 164.312(b)]
        nist-800-53: [AC-6(9), AC-2(7), AU-6]
        soc2: [CC6.1, CC6.3, CC7.2]
      data:                                     # events the control needs ("no data" otherwise)
        - {class: api_activity, source: cloudtrail}

``source`` is the input format name, stored as ``metadata.log_name``. Framework names:
see :data:`FRAMEWORKS`. The packs ship in the repository's ``rules/compliance`` and, in an
installed package, under ``<prefix>/share/secpipe/rules/compliance``;
``SECPIPE_COMPLIANCE_RULES`` overrides both.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from secpipe.errors import SecpipeError


class ComplianceError(SecpipeError):
    """A compliance pack or framework that cannot be used; the message says the fix."""


@dataclass(frozen=True)
class Framework:
    """A framework a report can be made for."""

    name: str
    title: str
    #: prefix of requirement ids in ``compliance.requirements`` (e.g. "PCI DSS 10.2.1.2").
    label: str
    description: str


FRAMEWORKS: dict[str, Framework] = {
    f.name: f
    for f in (
        Framework("cis-aws", "CIS Amazon Web Services Foundations Benchmark v3.0.0 — Section 4, Monitoring", "CIS AWS",
                  "The CloudTrail monitoring controls 4.1-4.15 (metric filters and alarms), evaluated on CloudTrail events."),
        Framework("pci-dss", "PCI DSS v4.0", "PCI DSS",
                  "Payment Card Industry Data Security Standard v4.0 requirements that the packs' controls give evidence for."),
        Framework("hipaa", "HIPAA Security Rule — 45 CFR §164.312 Technical safeguards", "HIPAA",
                  "Access control, audit controls, integrity, authentication and transmission security safeguards."),
        Framework("nist-800-53", "NIST SP 800-53 Rev. 5", "NIST SP 800-53",
                  "Security and privacy controls (AC, AU, CM, IA, RA, SA, SC, SI families) the packs' controls evidence."),
        Framework("soc2", "SOC 2 — AICPA Trust Services Criteria (2017, revised points of focus 2022)", "SOC 2",
                  "Common Criteria CC6 (logical access), CC7 (system operations) and CC8 (change management)."),
        Framework("k8s", "secpipe Kubernetes audit controls", "K8S",
                  "Exec/attach into pods, privileged pods, cluster-admin bindings, secret reads, anonymous access."),
        Framework("cicd", "secpipe CI/CD controls", "CICD",
                  "Critical vulnerabilities in container images, secrets found by scanners, unreviewed production changes."),
    )
}  # fmt: skip

PACKS = ("cis-aws", "k8s", "cicd")


class DataNeed(BaseModel):
    """Events a control needs: an OCSF class and, optionally, the input format."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    class_name: str = Field(alias="class")
    source: str | None = None


class ComplianceBlock(BaseModel):
    """The ``compliance:`` block of a pack rule."""

    model_config = ConfigDict(extra="forbid")

    control: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    title: str
    pack: str
    frameworks: dict[str, list[str]]
    data: list[DataNeed] = Field(min_length=1)


@dataclass(frozen=True)
class PackRule:
    """One Sigma rule of a pack."""

    id: str
    title: str
    level: str
    path: Path
    description: str


@dataclass(frozen=True)
class Control:
    """One compliance control, backed by one or more Sigma rules (e.g. one per source)."""

    id: str
    title: str
    pack: str
    rules: tuple[PackRule, ...]
    frameworks: dict[str, tuple[str, ...]]
    data: tuple[DataNeed, ...]

    @property
    def level(self) -> str:
        """The highest level of its rules."""
        order = ["informational", "low", "medium", "high", "critical"]
        return max((r.level for r in self.rules), key=lambda lv: order.index(lv) if lv in order else 2)

    def requirements(self) -> list[str]:
        """Every mapped requirement, labelled by framework ("PCI DSS 10.2.1.2", ...)."""
        return [f"{FRAMEWORKS[f].label} {r}" for f in FRAMEWORKS for r in self.frameworks.get(f, ())]

    def standards(self) -> list[str]:
        """Titles of the frameworks this control maps to."""
        return [FRAMEWORKS[f].title for f in FRAMEWORKS if self.frameworks.get(f)]


def packs_dir() -> Path:
    """Where the shipped compliance packs are (see module docstring)."""
    env = os.environ.get("SECPIPE_COMPLIANCE_RULES")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[4] / "rules" / "compliance"
    if repo.is_dir():
        return repo
    installed = Path(sys.prefix) / "share" / "secpipe" / "rules" / "compliance"
    if installed.is_dir():
        return installed
    msg = f"compliance packs not found (looked in {repo} and {installed}) — set SECPIPE_COMPLIANCE_RULES to the rules/compliance folder"
    raise ComplianceError(msg)


def _control(path: Path, doc: dict[str, Any]) -> Control:
    try:
        block = ComplianceBlock.model_validate(doc.get("compliance"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = f"{path}: compliance.{where}: {first['msg']} — see secpipe.detect.compliance.catalog for the block's shape"
        raise ComplianceError(msg) from exc
    unknown = sorted(set(block.frameworks) - set(FRAMEWORKS))
    if unknown:
        msg = f"{path}: unknown framework(s) {', '.join(unknown)} — use {', '.join(FRAMEWORKS)}"
        raise ComplianceError(msg)
    if block.pack not in PACKS:
        msg = f"{path}: unknown pack {block.pack!r} — use {', '.join(PACKS)}"
        raise ComplianceError(msg)
    rule = PackRule(
        id=str(doc.get("id")), title=str(doc.get("title")), level=str(doc.get("level", "medium")), path=path,
        description=str(doc.get("description", "")).strip(),
    )
    return Control(
        id=block.control, title=block.title, pack=block.pack, rules=(rule,),
        frameworks={k: tuple(v) for k, v in block.frameworks.items()}, data=tuple(block.data),
    )  # fmt: skip


def _merge(a: Control, b: Control) -> Control:
    if (a.title, a.pack, a.frameworks) != (b.title, b.pack, b.frameworks):
        msg = (f"{b.rules[0].path}: control {b.id} is also defined in {a.rules[0].path} with a different title, pack "
               "or frameworks — rules of one control must carry the same compliance block (data may differ)")
        raise ComplianceError(msg)
    data = a.data + tuple(d for d in b.data if d not in a.data)
    return Control(a.id, a.title, a.pack, a.rules + b.rules, a.frameworks, data)


def rule_files(root: Path | None = None) -> list[Path]:
    """The pack rule files, sorted."""
    root = root or packs_dir()
    return sorted(p for p in Path(root).rglob("*.yml") if p.is_file())


def load_controls(root: Path | None = None) -> list[Control]:
    """Every control of every pack, in a stable order (pack, then file name)."""
    by_id: dict[str, Control] = {}
    rule_ids: dict[str, Path] = {}
    for path in rule_files(root):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            msg = f"{path}: not valid YAML: {exc} — fix the syntax"
            raise ComplianceError(msg) from exc
        if not isinstance(doc, dict) or "compliance" not in doc:
            continue
        c = _control(path, doc)
        rid = c.rules[0].id
        if rid in rule_ids:
            msg = f"{path}: rule id {rid} is also used by {rule_ids[rid]} — give each rule its own id"
            raise ComplianceError(msg)
        rule_ids[rid] = path
        by_id[c.id] = _merge(by_id[c.id], c) if c.id in by_id else c
    controls = list(by_id.values())
    order = {p: i for i, p in enumerate(PACKS)}
    return sorted(controls, key=lambda c: (order[c.pack], _natural(c.frameworks.get(c.pack, (c.id,))[0])))


def _natural(ref: str) -> tuple[Any, ...]:
    parts = ref.replace("-", ".").split(".")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def framework(name: str) -> Framework:
    """The framework called ``name``, or an error listing the known ones."""
    if name not in FRAMEWORKS:
        msg = f"unknown framework {name!r} — use one of: {', '.join(FRAMEWORKS)}"
        raise ComplianceError(msg)
    return FRAMEWORKS[name]


def controls_for(name: str, controls: list[Control]) -> list[Control]:
    """The controls that give evidence for a framework."""
    framework(name)
    return [c for c in controls if c.frameworks.get(name)]
