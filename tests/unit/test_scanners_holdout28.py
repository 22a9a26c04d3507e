"""Scanner outputs of the holdout round 28 (``tests/cases/scanners28/SOURCES.md``).

Native JSON of scanners whose SARIF the sarif format reads, TruffleHog's JSON lines, Kubernetes
policy reports and AWS Security Hub findings are dead-lettered under ``--format auto`` with a reason
that names the tool's output (and its SARIF option), not "no format matched".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secpipe.sources.files import read_documents

CASES = Path(__file__).resolve().parents[1] / "cases" / "scanners28"

#: (case file, what the reason names, what it says to ingest instead)
_NATIVE = [
    ("gitleaks-defectdojo.json", "a Gitleaks JSON report", "gitleaks --report-format sarif"),
    ("semgrep-defectdojo.json", "a Semgrep JSON report", "semgrep --sarif"),
    ("bandit-defectdojo.json", "a Bandit JSON report", "bandit -f sarif"),
    ("tfsec-defectdojo.json", "a tfsec JSON report", "tfsec --format sarif"),
    ("hadolint-defectdojo.json", "a Hadolint JSON report", "hadolint -f sarif"),
    ("dockle-defectdojo.json", "a Dockle JSON report", "dockle -f sarif"),
    ("checkov-defectdojo.json", "a Checkov JSON report", "checkov -o sarif"),
    ("kics-defectdojo.json", "a KICS JSON report", "--report-formats sarif"),
    ("trufflehog-defectdojo.json", "TruffleHog JSON lines", "TruffleHog writes no SARIF"),
    ("kyverno-defectdojo.json", "a Kubernetes policy report", "no format here"),
]

#: documented payloads, verbatim heads (sources in the comments)
_INLINE = {
    # gitleaks 7: DefectDojo unittests/scans/gitleaks/version_7.5.0.json (first finding)
    "gitleaks7": (
        b'[\n    {\n     "line": "      \\"raw_source_code_extract\\": \\"AKIAIOSFODNN7EXAMPLE\\",",\n'
        b'     "lineNumber": 13,\n     "offender": "AKIAIOSFODNN7EXAMPLE",\n'
        b'     "commit": "6d127980966808f7413935678e079dcd7fedf9c2",\n     "repo": ".",\n'
        b'     "rule": "AWS Access Key",\n     "tags": "key, AWS"\n    }\n]\n',
        "a Gitleaks JSON report",
    ),
    # semgrep 1.x with no finding: its paths block (semgrep's cli output, `semgrep --json`)
    "semgrep-empty": (
        b'{"version": "1.56.0", "results": [], "errors": [], "paths": {"scanned": ["app.py"]}}',
        "a Semgrep JSON report",
    ),
    # `kubectl get policyreports -A -o json`: a List of wgpolicyk8s.io PolicyReports (Kyverno's)
    "policyreport-list": (
        b'{"apiVersion": "v1", "items": [{"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",'
        b' "metadata": {"name": "polr-ns-prod", "namespace": "prod"}, "results": [{"policy": "require-labels",'
        b' "rule": "check-team-label", "result": "fail", "severity": "high", "message": "label \'team\' is required",'
        b' "category": "Best Practices", "resources": [{"kind": "Deployment", "name": "api", "namespace": "prod"}]}]}],'
        b' "kind": "List", "metadata": {"resourceVersion": ""}}',
        "a Kubernetes policy report (wgpolicyk8s.io / openreports.io)",
    ),
    # AWS Security Hub User Guide, "EventBridge event formats": Security Hub Findings - Imported (head)
    "asff-eventbridge": (
        b'{"version":"0","id":"8e5622f9-d81c-4d81-612a-9319e7ee2506","detail-type":"Security Hub Findings - Imported",'
        b'"source":"aws.securityhub","account":"123456789012","time":"2019-04-11T21:52:17Z","region":"us-west-2",'
        b'"resources":[],"detail":{"findings":[{"SchemaVersion":"2018-10-08",'
        b'"Id":"us-west-2/123456789012/98aebb2207407c87f51e89943f12b1ef",'
        b'"ProductArn":"arn:aws:securityhub:us-west-2::product/aws/macie","AwsAccountId":"123456789012"}]}}',
        "AWS Security Finding Format (ASFF) findings",
    ),
}


def _reason(path: Path) -> str:
    [doc] = read_documents(str(path))
    assert doc.dead is not None
    return doc.dead.reason


@pytest.mark.parametrize(("name", "what", "instead"), _NATIVE)
def test_native_scanner_json_is_named_with_what_to_ingest(name: str, what: str, instead: str) -> None:
    reason = _reason(CASES / name)
    assert reason.startswith(f"unrecognized input: {what}"), reason
    assert "is not a format secpipe reads" in reason and instead in reason


@pytest.mark.parametrize("key", sorted(_INLINE))
def test_documented_variants_are_named(key: str, tmp_path: Path) -> None:
    doc, what = _INLINE[key]
    f = tmp_path / "report.json"
    f.write_bytes(doc)
    assert _reason(f).startswith(f"unrecognized input: {what} is not a format secpipe reads")


def test_asff_reason_is_not_only_trivys() -> None:
    from secpipe.formats._unread import unread

    reason = unread(_INLINE["asff-eventbridge"][0]) or ""
    assert "no format here" in reason and "trivy --format json" in reason
