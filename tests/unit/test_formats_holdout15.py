"""Input real producers write that the formats' typed reads refused (fifteenth round).

- Unquoted numbers where a format's field is text: an account id or event version written as a
  JSON number (exporters that type columns, hand-written rule tests). msgspec refused the record
  (``Expected `str | null`, got `int```) and it was dead-lettered. Now the number's JSON text is
  the field's value; ``raw_data`` keeps the record as it came. Any other wrong type (an object, a
  bool where text is wanted) is still dead-lettered with msgspec's reason.
- Syslog lines without PRI or header: RFC 3164 section 4.3.3 has a relay keep such a message,
  its whole content as the MSG, stamped with the relay's clock. They were dead-lettered, and a
  file opening with one was not recognized as syslog at all.

The CloudTrail records are real Panther test events of ``shared/data/real`` changed only where
the test says (spec-built mutations, not third-party files).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import TIME_FROM_RECEIPT
from tests.unit.native_support import same_both_ways
from tests.unit.test_formats_holdout import _rows


def _record(real: Path) -> dict[str, Any]:
    rec: dict[str, Any] = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_text())["Records"][0]
    return rec


def _doc(recs: list[dict[str, Any]]) -> bytes:
    return json.dumps({"Records": recs}, separators=(",", ":")).encode()


def test_cloudtrail_unquoted_numbers_are_kept_as_text(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = _record(real)
    quoted = json.loads(json.dumps(rec))
    numbers = json.loads(json.dumps(rec))
    numbers["recipientAccountId"] = int(rec["recipientAccountId"])
    numbers["userIdentity"]["accountId"] = int(rec["userIdentity"]["accountId"])
    numbers["eventVersion"] = float(rec["eventVersion"])
    numbers["eventID"] = "other"  # its own event (a second uid), else identical
    quoted["eventID"] = "other"
    dec = same_both_ways("cloudtrail", _doc([rec, numbers]), monkeypatch, "unquoted numbers")
    assert not dec.dead
    orig, num = _rows(dec)
    assert num["cloud"]["account"]["uid"] == orig["cloud"]["account"]["uid"] == rec["recipientAccountId"]
    assert num["actor"]["user"]["account"]["uid"] == rec["userIdentity"]["accountId"]
    assert num["metadata"]["log_version"] == rec["eventVersion"]
    assert json.loads(num["raw_data"]) == numbers  # the record as it came
    # the mapping is the quoted record's, but for the uid (its own bytes)
    ref = _rows(formats.get("cloudtrail").decode(_doc([quoted]), "t"))[0]
    for key in ("class_uid", "activity_id", "time", "api", "cloud", "actor", "src_endpoint", "resources"):
        assert num[key] == ref[key], key


def test_cloudtrail_unquoted_number_in_a_list_item(real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = json.loads((real / "panther-analysis/extracted/cloudtrail.json").read_text())["Records"]
    rec = next(r for r in recs if r.get("resources") and "accountId" in r["resources"][0])
    numbers = copy.deepcopy(rec)
    numbers["resources"][0]["accountId"] = int(rec["resources"][0]["accountId"])
    dec = same_both_ways("cloudtrail", _doc([numbers]), monkeypatch, "resources[0].accountId")
    assert not dec.dead
    assert _rows(dec)[0]["resources"][0]["owner"]["account"]["uid"] == rec["resources"][0]["accountId"]


def test_trivy_unquoted_number_is_kept() -> None:
    report = {"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-2024-1", "PkgName": "p", "InstalledVersion": 1.2, "Severity": "LOW"}]}]}  # fmt: skip
    dec = formats.get("trivy").decode(json.dumps(report).encode(), "t")
    assert not dec.dead and _rows(dec)[0]["vulnerabilities"][0]["affected_packages"][0]["version"] == "1.2"


@pytest.mark.parametrize(("path", "value"), [(("eventName",), {"a": 1}), (("userIdentity", "accountId"), True)])
def test_other_wrong_types_are_still_dead_lettered(real: Path, path: tuple[str, ...], value: object) -> None:
    rec = _record(real)
    bad = copy.deepcopy(rec)
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    bad["eventID"] = "bad"
    dec = formats.get("cloudtrail").decode(_doc([rec, bad]), "t")
    assert len(_rows(dec)) == 1 and len(dec.dead) == 1
    assert "Expected `str | null`" in dec.dead[0].reason and path[-1] in dec.dead[0].reason


def test_k8s_audit_unquoted_number_is_kept(real: Path) -> None:
    line = (real / "panther-analysis/extracted/k8s_audit.jsonl").read_text().splitlines()[0]
    ev = json.loads(line)
    ev["user"]["uid"] = 1000  # a numeric uid, as some identity providers give
    dec = formats.get("k8s_audit").decode(json.dumps(ev).encode(), "t")
    assert not dec.dead and _rows(dec)[0]["actor"]["user"]["uid"] == "1000"


def test_syslog_file_opening_without_header(tmp_path: Path) -> None:
    from secpipe.formats import detect

    doc = (b"kernel: a line some collector wrote with no header\n"
           b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8\n")  # fmt: skip
    assert detect(doc).name == "syslog"
    dec = formats.get("syslog").decode(doc, "t")
    assert not dec.dead
    rows = sorted(_rows(dec), key=lambda r: r["time"])
    assert rows[0]["message"] == "'su root' failed for lonvick on /dev/pts/8"
    assert rows[1]["message"] == "kernel: a line some collector wrote with no header"
    assert TIME_FROM_RECEIPT in rows[1]["metadata"]["labels"]


def test_github_audit_enable_and_disable_are_both_updates(real: Path) -> None:
    """Turning a setting on or off changes the resource (OCSF API Activity 3 Update); enabling
    was read as Create (1), beside disabling as Update. Panther's real GitHub.Audit events."""
    lines = (real / "panther-analysis/extracted/github_audit.jsonl").read_text().splitlines()
    wanted = {"org.enable_two_factor_requirement", "org.disable_two_factor_requirement", "org.saml_enabled",
              "org.saml_disabled", "repo.enable", "secret_scanning.disable"}  # fmt: skip
    picked = [x for x in lines if json.loads(x)["action"] in wanted]
    assert len(picked) == len(wanted)
    dec = formats.get("github").decode("\n".join(picked).encode(), "t")
    assert not dec.dead
    acts = {r["api"]["operation"]: r["activity_id"] for r in _rows(dec)}
    assert acts == dict.fromkeys(wanted, 3)
