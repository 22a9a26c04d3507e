"""Input formats: an explicit ``name -> Format class`` registry, and auto-detection.

Adding a format: one module under ``formats/`` with a :class:`~secpipe.formats.base.Format`
subclass, one entry in :data:`REGISTRY`, one golden test under ``tests/cases/<name>/``.
"""

from __future__ import annotations

from secpipe.errors import UnknownFormatError
from secpipe.formats.alertmanager import Alertmanager
from secpipe.formats.base import BOM, DeadLetter, Decoded, Format
from secpipe.formats.cloudtrail import CloudTrail
from secpipe.formats.falco import Falco
from secpipe.formats.generic_json import GenericJSON
from secpipe.formats.github import GitHub
from secpipe.formats.gitlab import GitLab
from secpipe.formats.jenkins import Jenkins
from secpipe.formats.jenkins_log import JenkinsLog
from secpipe.formats.k8s_audit import K8sAudit
from secpipe.formats.opa import Opa
from secpipe.formats.sarif import Sarif
from secpipe.formats.sbom import Sbom
from secpipe.formats.snyk import Snyk
from secpipe.formats.sonarqube import SonarQube
from secpipe.formats.syslog import Syslog
from secpipe.formats.trivy import Trivy

REGISTRY: dict[str, type[Format]] = {
    CloudTrail.name: CloudTrail,
    K8sAudit.name: K8sAudit,
    GitHub.name: GitHub,
    GitLab.name: GitLab,
    Jenkins.name: Jenkins,
    JenkinsLog.name: JenkinsLog,
    Syslog.name: Syslog,
    GenericJSON.name: GenericJSON,
    Trivy.name: Trivy,
    Snyk.name: Snyk,
    Sarif.name: Sarif,
    Falco.name: Falco,
    Opa.name: Opa,
    Alertmanager.name: Alertmanager,
    SonarQube.name: SonarQube,
    Sbom.name: Sbom,
}

_INSTANCES: dict[str, Format] = {}


def get(name: str) -> Format:
    """The format registered under ``name`` (one shared, stateless instance)."""
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        msg = f"unknown format {name!r}; known formats: {known} (or 'auto')"
        raise UnknownFormatError(msg)
    if name not in _INSTANCES:
        _INSTANCES[name] = REGISTRY[name]()
    return _INSTANCES[name]


def detect(head: bytes, *, catch_all: bool = False) -> Format | None:
    """The format most confident about ``head``, or None when none claims it.

    Catch-all formats (``Format.catch_all``, e.g. the generic ``json``) take part only when
    ``catch_all`` is set: wire endpoints whose documents must never be refused set it, while
    `secpipe ingest --format auto` does not, so input no specific format recognizes is
    dead-lettered as unrecognized rather than stored as an untyped event.
    """
    head = head.removeprefix(BOM)  # a UTF-8 byte-order mark (Windows tools write one) is not content
    best: tuple[int, Format | None] = (0, None)
    for name in REGISTRY:
        fmt = get(name)
        if fmt.catch_all and not catch_all:
            continue
        score = fmt.sniff(head)
        if score > best[0]:
            best = (score, fmt)
    return best[1]


__all__ = ["REGISTRY", "DeadLetter", "Decoded", "Format", "detect", "get"]
