"""Input formats: an explicit ``name -> Format class`` registry, and auto-detection.

Adding a format: one module under ``formats/`` with a :class:`~secpipe.formats.base.Format`
subclass, one entry in :data:`_FORMATS` (module, class, sniff ceiling), one golden test under
``tests/cases/<name>/``.

Design (start-up and per-file cost):
- :data:`REGISTRY` is a read-only mapping that imports a format's module the first time its
  class is asked for, so ``import secpipe.formats.base`` (the runtime, the server) and
  ``secpipe ingest --format NAME`` import only the formats they use, not all of them.
- :func:`detect` asks the formats in registry order, as before, but skips a format whose
  *ceiling* (the highest score its ``sniff`` can return) cannot beat the best score so far:
  ties go to the earlier format, so a later one must score strictly higher. A CloudTrail head
  (95) is then only also asked of ``sbom`` (97), and the skipped formats are not even imported.

Guarantees: :func:`detect` returns exactly the format an exhaustive pass (every format's
``sniff``, highest score, first on ties) returns, provided every ceiling in :data:`_FORMATS` is
at least what that sniff can return; tests/unit/test_formats_detect_fast.py checks each
ceiling against the literal scores in the sniff's source and the result against the
exhaustive pass on every real sample.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from secpipe._lazy import LazyRegistry
from secpipe.errors import UnknownFormatError
from secpipe.formats.base import BOM, DeadLetter, Decoded, Format

#: name -> (module under secpipe.formats, class name, sniff ceiling), in detection order.
_FORMATS: dict[str, tuple[str, str, int]] = {
    "cloudtrail": ("cloudtrail", "CloudTrail", 95),
    "k8s_audit": ("k8s_audit", "K8sAudit", 95),
    "github": ("github", "GitHub", 92),
    "github_actions": ("github_actions", "GitHubActions", 90),
    "gitlab": ("gitlab", "GitLab", 92),
    "jenkins": ("jenkins", "Jenkins", 92),
    "jenkins_log": ("jenkins_log", "JenkinsLog", 85),
    "github_actions_log": ("github_actions_log", "GitHubActionsLog", 80),
    "syslog": ("syslog", "Syslog", 95),
    "json": ("generic_json", "GenericJSON", 60),
    "evtx_xml": ("evtx_xml", "EvtxXML", 90),
    "zeek_tsv": ("zeek_tsv", "ZeekTSV", 90),
    "trivy": ("trivy", "Trivy", 95),
    "snyk": ("snyk", "Snyk", 90),
    "snyk_audit": ("snyk_audit", "SnykAudit", 85),
    "sarif": ("sarif", "Sarif", 90),
    "falco": ("falco", "Falco", 85),
    "opa": ("opa", "Opa", 90),
    "alertmanager": ("alertmanager", "Alertmanager", 90),
    "sonarqube": ("sonarqube", "SonarQube", 85),
    "gitlab_security": ("gitlab_security", "GitLabSecurity", 88),
    "sbom": ("sbom", "Sbom", 97),
    "grype": ("grype", "Grype", 90),
    "osv_scanner": ("osv_scanner", "OsvScanner", 90),
    "npm_audit": ("npm_audit", "NpmAudit", 90),
    "pip_audit": ("pip_audit", "PipAudit", 90),
    "dependency_track": ("dependency_track", "DependencyTrack", 90),
    "govulncheck": ("govulncheck", "Govulncheck", 90),
    "code_quality": ("code_quality", "CodeQuality", 80),
    "semgrep": ("semgrep", "Semgrep", 88),
    "gitleaks": ("gitleaks", "Gitleaks", 88),
    "policy_report": ("policy_report", "PolicyReport", 90),
    "bandit": ("bandit", "Bandit", 88),
    "checkov": ("checkov", "Checkov", 88),
    "tfsec": ("tfsec", "Tfsec", 88),
    "asff": ("asff", "Asff", 90),
    "guardduty": ("guardduty", "GuardDuty", 90),
    "docker_events": ("docker_events", "DockerEvents", 90),
    "ocsf": ("ocsf_json", "OcsfJson", 88),
}


#: ``name -> Format class``; a class's module is imported when the class is first asked for.
REGISTRY: Mapping[str, type[Format]] = LazyRegistry({n: (f"secpipe.formats.{m}", a) for n, (m, a, _c) in _FORMATS.items()})

#: formats whose ``sniff`` is a function of a light module (name -> module under
#: secpipe.formats, function): detect() asks that function and imports the format's module only
#: when its score wins (sbom, the only format that can outscore a CloudTrail head, cost ~7.5 ms
#: of every ``--format auto`` start to import). The class's sniff returns what the function
#: returns, and none of them is a catch-all (tests/unit/test_formats_detect_fast.py checks both).
_SNIFFERS: dict[str, tuple[str, str]] = {"sbom": ("_sniff", "sbom")}
_SNIFF_FUNCTIONS: dict[str, Callable[[bytes], int]] = {}


def _sniffer(name: str) -> Callable[[bytes], int]:
    """The light sniff function of format ``name`` (one of :data:`_SNIFFERS`)."""
    fn = _SNIFF_FUNCTIONS.get(name)
    if fn is None:
        module, attr = _SNIFFERS[name]
        fn = _SNIFF_FUNCTIONS[name] = getattr(importlib.import_module(f"secpipe.formats.{module}"), attr)
    return fn


_INSTANCES: dict[str, Format] = {}
#: (name, ceiling) in detection order: what detect() walks.
_CEILINGS: tuple[tuple[str, int], ...] = tuple((name, entry[2]) for name, entry in _FORMATS.items())


def get(name: str) -> Format:
    """The format registered under ``name`` (one shared, stateless instance)."""
    fmt = _INSTANCES.get(name)
    if fmt is None:
        if name not in REGISTRY:
            known = ", ".join(sorted(REGISTRY))
            msg = f"unknown format {name!r}; known formats: {known} (or 'auto')"
            raise UnknownFormatError(msg)
        fmt = _INSTANCES[name] = REGISTRY[name]()
    return fmt


def detect(head: bytes, *, catch_all: bool = False) -> Format | None:
    """The format most confident about ``head``, or None when none claims it.

    Catch-all formats (``Format.catch_all``, e.g. the generic ``json``) take part only when
    ``catch_all`` is set: wire endpoints whose documents must never be refused set it, while
    `secpipe ingest --format auto` does not, so input no specific format recognizes is
    dead-lettered as unrecognized rather than stored as an untyped event; without it a catch-all
    format still claims the shapes it reads specifically (``Format.claim``: ``json`` a Windows
    event converted from evtx).
    """
    head = head.removeprefix(BOM)  # a UTF-8 byte-order mark (Windows tools write one) is not content
    if b'"awslogs"' in head[:256]:  # a Lambda event of CloudWatch Logs: what its gzip data holds decides
        from secpipe.formats._cwlogs import awslogs_head

        head = awslogs_head(head) or head
    best_score, best = 0, None
    for name, ceiling in _CEILINGS:
        if ceiling <= best_score:
            continue  # cannot beat the best so far (ties go to the earlier format)
        if name in _SNIFFERS and name not in _INSTANCES:
            score = _sniffer(name)(head)  # its module imported only if it wins (below)
        else:
            fmt = get(name)
            score = fmt.claim(head) if fmt.catch_all and not catch_all else fmt.sniff(head)
        if score > best_score:
            best_score, best = score, name
    return None if best is None else get(best)


__all__ = ["REGISTRY", "DeadLetter", "Decoded", "Format", "detect", "get"]
