"""Scanner and SBOM outputs secpipe does not read, named in the dead letter of input no format claims.

``secpipe ingest --format auto`` dead-letters what no format recognizes as "unrecognized input".
For outputs no format reads, the reason names what the file is and, where the tool writes one, the
output to ingest instead:

- SPDX tag-value documents (the sbom format reads SPDX JSON, 2.x and 3's JSON-LD);
- the native JSON of scanners whose SARIF the sarif format reads: KICS, Hadolint and Dockle (each
  reason names the tool's SARIF option; Semgrep's, Gitleaks', Bandit's, Checkov's and tfsec's JSON
  have their own formats);
- TruffleHog's JSON lines (it writes no SARIF);
- Trivy's human-readable outputs: its table (``--format table``, the default) and the JUnit XML of its
  ``contrib/junit.tpl`` template (a lossy rendering: the package name and version joined into one
  ``classname``), each named with ``--format json``, which holds the same findings whole;
- GitHub dependency snapshots (the dependency submission API's payload: ``trivy --format github``,
  Syft's, component-detection's): a package list per manifest for GitHub's dependency graph, no
  finding, and no OCSF class here records a package inventory (as a CycloneDX BOM without
  vulnerabilities holds no event); the reason names the outputs that hold the findings.

Each pattern is asked of the first 64 KiB only after every format declined it, so a wrong name costs
no event; the patterns are the tools' own keys (several at once where one key alone is common), so
each names only its tool's files.
"""

from __future__ import annotations

import re


def _all(*keys: bytes) -> re.Pattern[bytes]:
    """A pattern found where every one of ``keys`` (patterns) is, in any order."""
    return re.compile(rb"\A" + b"".join(rb"(?=.*?" + k + rb")" for k in keys), re.S)


_SARIF = "its SARIF output is read by the sarif format"
_TRIVY_JSON = "run trivy with `--format json`: the trivy format reads it"

#: (what the file is, what to ingest instead, a pattern of its head)
_KNOWN: tuple[tuple[str, str, re.Pattern[bytes]], ...] = (
    ("an SPDX tag-value document", "use SPDX JSON (the sbom format reads it; an SPDX 2 document holds no security event)",
     re.compile(rb'^\s*(?:#[^\n]*\n\s*)*SPDXVersion:\s*SPDX-')),
    ("a KICS JSON report", f"run `kics scan --report-formats sarif`: {_SARIF}",
     re.compile(rb'"kics_version"\s*:|\A(?=.*?"queries"\s*:\s*\[)(?=.*?"query_id"\s*:)(?=.*?"query_name"\s*:)', re.S)),
    ("a Hadolint JSON report", f"run `hadolint -f sarif`: {_SARIF}",
     re.compile(rb'\A\s*\[\s*\{.{0,2048}?"code"\s*:\s*"(?:DL|SC)\d{4}"', re.S)),
    ("a Dockle JSON report", f"run `dockle -f sarif`: {_SARIF}",
     re.compile(rb'"summary"\s*:\s*\{\s*"fatal"\s*:|"code"\s*:\s*"(?:CIS-DI|DKL-DI|DKL-LI)-\d{4}"')),
    ("TruffleHog JSON lines", "it has no format here (TruffleHog writes no SARIF)",
     _all(rb'"SourceMetadata"\s*:', rb'"DetectorName"\s*:')),
    ("a Trivy table report", _TRIVY_JSON,
     re.compile(rb'(?m)^Total: \d+ \((?:UNKNOWN|LOW|MEDIUM|HIGH|CRITICAL): \d+|^Report Summary\s*\n\s*\xe2\x94\x8c')),
    ("a Trivy JUnit report (contrib/junit.tpl)", _TRIVY_JSON, re.compile(rb'<testsuites\b[^>]*\bname\s*=\s*"trivy"')),
    ("a GitHub dependency snapshot", "it lists packages, no finding: ingest the scanner's findings instead "
     "(`trivy --format json` or `--format cyclonedx`, `syft -o cyclonedx-json` scanned by Grype)",
     _all(rb'"detector"\s*:\s*\{', rb'"scanned"\s*:', rb'"manifests"\s*:', rb'"sha"\s*:')),
)  # fmt: skip


def unread(head: bytes) -> str | None:
    """The dead-letter reason of a known output no format reads (None for anything else)."""
    for what, instead, pattern in _KNOWN:
        if pattern.search(head):
            return f"unrecognized input: {what} is not a format secpipe reads: {instead}"
    return None


__all__ = ["unread"]
