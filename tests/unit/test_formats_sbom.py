"""Golden, detection and dead-letter tests for the ``sbom`` format (CycloneDX and SPDX JSON).

Inputs are real files copied verbatim under tests/cases/sbom (see SOURCE.md there: Trivy's
integration goldens and CycloneDX's VEX examples). Expected values were written by reading
those files and the OCSF 1.8.0 schema (Vulnerability Finding 2002: status_id 1 New, 2 In
Progress, 3 Suppressed, 4 Resolved; severity_id 1 Informational .. 5 Critical), not by
running the code.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from secpipe import formats
from secpipe.cli import ingest
from secpipe.formats.base import Decoded
from secpipe.formats.sbom import Sbom

CASES = Path(__file__).resolve().parents[1] / "cases" / "sbom"
FLUENTD = CASES / "fluentd-multiple-lockfiles-short.cdx.json.golden"
FILES = sorted(p for p in CASES.iterdir() if p.name != "SOURCE.md")


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


def _decode(data: bytes, source: str = "t.json") -> Decoded:
    return formats.get("sbom").decode(data, source)


def _rows(res: Decoded) -> list[dict]:
    return [r for b in res.batches for r in b.to_pylist()]


def _by_cve(res: Decoded) -> dict[str, dict]:
    return {r["vulnerabilities"][0]["cve"]["uid"]: r for r in _rows(res)}


def test_every_case_is_detected_as_sbom() -> None:
    for p in FILES:
        fmt = formats.detect(p.read_bytes()[: 64 * 1024])
        assert fmt is not None and fmt.name == "sbom", p.name


def test_sniff_key_sorted_spdx_and_cyclonedx() -> None:
    # conda-spdx.json.golden is key-sorted: "SPDXID": "SPDXRef-DOCUMENT" first, "spdxVersion" last.
    data = (CASES / "conda-spdx.json.golden").read_bytes()
    assert b'"spdxVersion"' not in data[:1000]
    assert Sbom().sniff(data[:1000]) > 50
    assert Sbom().sniff(b'{"bomFormat": "CycloneDX", "components": [') > 50  # specVersion further down
    assert Sbom().sniff(b'{"bomFormat": "SomethingElse", "specVersion": "1.4"}') == 0
    assert Sbom().sniff(b"[]") == 0


def test_sniff_does_not_claim_trivy_or_sarif(real: Path) -> None:
    for p in sorted((real / "trivy").rglob("*.json*")) + sorted((real / "sarif-sdk").rglob("*.sarif"))[:50]:
        assert Sbom().sniff(p.read_bytes()[: 64 * 1024]) == 0, p


def test_trivy_cyclonedx_golden() -> None:
    # Trivy image scan as CycloneDX 1.6: 3 vulnerabilities, each affecting one component.
    res = _decode(FLUENTD.read_bytes(), str(FLUENTD))
    assert not res.dead and res.events == 3
    rows = _by_cve(res)
    assert set(rows) == {"CVE-2019-18224", "CVE-2019-18276", "CVE-2020-8165"}
    r = rows["CVE-2019-18224"]
    assert r["class_uid"] == 2002 and r["type_uid"] == 200201 and r["activity_id"] == 1
    # ratings: amazon medium, nvd high (v2), nvd critical (v3.1), redhat medium, ubuntu medium -> Critical
    assert r["severity_id"] == 5 and r["severity"] == "Critical"
    assert r["time"] == _ms("2021-08-25T12:20:30+00:00")  # metadata.timestamp
    assert r["metadata"]["product"] == {"name": "trivy", "vendor_name": "aquasecurity", "version": "dev"}
    assert r["metadata"]["log_version"] == "1.6"
    assert r["metadata"].get("labels") is None
    assert (r["status_id"], r["status"]) == (1, "New")  # no VEX analysis
    fi = r["finding_info"]
    assert fi["uid"] == "CVE-2019-18224|pkg:deb/debian/libidn2-0@2.0.5-1?distro=debian-10.2"
    assert fi["title"] == "CVE-2019-18224" and fi["types"] == ["Vulnerability"]
    assert fi["src_url"] == "https://salsa.debian.org/security-tracker-team/security-tracker"
    assert fi["first_seen_time"] == _ms("2019-10-21T17:15:00+00:00")
    assert fi["modified_time"] == _ms("2019-10-29T19:15:00+00:00")
    v = r["vulnerabilities"][0]
    assert v["desc"].startswith("idn2_to_ascii_4i in lib/lookup.c in GNU libidn2 before 2.1.1")
    assert v["severity"] == "critical" and v["vendor_name"] == "debian"
    assert v["cve"]["cwe"]["uid"] == "CWE-787"  # the CVE's weakness (OCSF 1.8.0: just one of advisory / cve / cwe)
    assert v["is_fix_available"] is True
    assert v["remediation"]["desc"] == "Upgrade libidn2-0 to version 2.0.5-1+deb10u1"
    assert len(v["references"]) == 15 and v["references"][0] == "https://avd.aquasec.com/nvd/cve-2019-18224"
    cvss = {(c["version"], c["vendor_name"]): (c["base_score"], c["vector_string"]) for c in v["cve"]["cvss"]}
    assert cvss == {
        ("2.0", "nvd"): (7.5, "AV:N/AC:L/Au:N/C:P/I:P/A:P"),
        ("3.1", "nvd"): (9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        ("3.0", "redhat"): (5.6, "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L"),
    }
    pkg = v["affected_packages"][0]
    assert pkg == {
        "name": "libidn2-0", "version": "2.0.5-1", "fixed_in_version": None, "type": "debian",
        "purl": "pkg:deb/debian/libidn2-0@2.0.5-1?distro=debian-10.2", "uid": "libidn2-0@2.0.5-1", "path": None,
    }  # fmt: skip
    subject, comp = r["resources"]
    assert subject["type"] == "container"
    assert subject["name"] == "integration/testdata/fixtures/images/fluentd-multiple-lockfiles.tar.gz"
    assert subject["uid"] == "sha256:5a992077baba51b97f27591a10d54d2f2723dc9c81a3fe419e261023f2554933"  # ImageID
    assert (comp["type"], comp["name"]) == ("library", "libidn2-0")
    assert r["message"] == (
        "CVE-2019-18224 in libidn2-0 in integration/testdata/fixtures/images/fluentd-multiple-lockfiles.tar.gz"
    )
    assert r["unmapped"] is None  # every key of these vulnerabilities is mapped
    assert json.loads(r["raw_data"])["id"] == "CVE-2019-18224"

    bash = rows["CVE-2019-18276"]
    # ratings: high, low, high (v2), high (v3.1), low, high, low (redhat v3.1), low -> High
    assert bash["severity_id"] == 4
    bv = bash["vulnerabilities"][0]
    assert bv["is_fix_available"] is False and bv["remediation"] is None  # no recommendation: no remediation object (desc is required)
    assert bv["affected_packages"][0]["uid"] == "bash@5.0-4"

    gem = rows["CVE-2020-8165"]["vulnerabilities"][0]
    assert gem["cve"]["cwe"]["uid"] == "CWE-502"
    p = gem["affected_packages"][0]
    assert (p["name"], p["version"], p["type"], p["purl"]) == ("activesupport", "6.0.2.1", "gemspec",
                                                               "pkg:gem/activesupport@6.0.2.1")  # fmt: skip
    assert p["path"] == "var/lib/gems/2.5.0/specifications/activesupport-6.0.2.1.gemspec"


def test_same_cve_has_trivy_columns(real: Path) -> None:
    # trivy/debian-buster.json.golden holds CVE-2019-18224 in libidn2-0 2.0.5-1 (Trivy JSON report).
    trivy = formats.get("trivy").decode((real / "trivy/debian-buster.json.golden").read_bytes(), "t")
    tb = next(b for b in trivy.batches if b.column("class_uid")[0].as_py() == 2002)
    sb = _decode(FLUENTD.read_bytes()).batches[0]
    t_type = tb.schema.field("vulnerabilities").type.value_type
    s_type = sb.schema.field("vulnerabilities").type.value_type
    for f in t_type:  # every leaf Trivy fills is filled here too, with the same Arrow type
        if f.name in ("fix_coverage_id", "fix_coverage"):  # from Trivy's vendor Status: no CycloneDX field
            continue
        assert s_type.field(f.name).type == f.type, f.name
    t_row = next(r for r in tb.to_pylist() if r["vulnerabilities"][0]["cve"]["uid"] == "CVE-2019-18224")
    s_row = _by_cve(Decoded(batches=[sb]))["CVE-2019-18224"]
    tv, sv = t_row["vulnerabilities"][0], s_row["vulnerabilities"][0]
    assert sv["cve"]["cwe"] == tv["cve"]["cwe"]
    assert {k: sv["cve"][k] for k in ("uid", "created_time", "modified_time")} == {
        k: tv["cve"][k] for k in ("uid", "created_time", "modified_time")
    }
    assert sorted(sv["cve"]["cvss"], key=str) == sorted(tv["cve"]["cvss"], key=str)
    tp, sp = tv["affected_packages"][0], sv["affected_packages"][0]
    assert {k: sp[k] for k in ("name", "version", "type", "uid")} == {k: tp[k] for k in ("name", "version", "type", "uid")}


def test_vex_not_affected_is_suppressed() -> None:
    # CISA use case 1: CVE-2021-44228 not_affected in metadata.component "product-ABC" (ABC 4.2).
    res = _decode((CASES / "vex-not_affected.json").read_bytes())
    assert not res.dead and res.events == 1
    (r,) = _rows(res)
    assert (r["status_id"], r["status"], r["status_code"]) == (3, "Suppressed", "not_affected")
    assert r["status_detail"].startswith("This version of Product ABC is not affected")
    assert r["severity_id"] == 5  # NVD critical 10.0
    assert r["time"] == _ms("2022-03-03T00:00:00+00:00")
    pkg = r["vulnerabilities"][0]["affected_packages"][0]
    assert (pkg["name"], pkg["version"], pkg["uid"]) == ("ABC", "4.2", "product-ABC")
    analysis = json.loads(r["unmapped"])["analysis"]
    assert analysis["justification"] == "code_not_present" and analysis["response"] == ["will_not_fix"]


def test_vex_resolved() -> None:
    (r,) = _rows(_decode((CASES / "vex-fixed.json").read_bytes()))
    assert (r["status_id"], r["status"], r["status_code"]) == (4, "Resolved", "resolved")
    assert r["status_detail"] == "This version of Product DEF has been fixed."


def test_vex_bom_link_ref_resolves_from_purl() -> None:
    # VEX/vex.json: no components and no metadata; the ref is a BOM-link to a Maven purl.
    res = _decode((CASES / "vex.json").read_bytes())
    assert not res.dead and res.events == 1
    (r,) = _rows(res)
    assert (r["status_id"], r["status"]) == (3, "Suppressed")
    assert r["severity_id"] == 4  # NVD high 7.5, SNYK high 8.2, Acme none 0.0 -> High
    assert r["metadata"]["labels"] == ["secpipe:time_from_receipt"]  # no metadata.timestamp
    v = r["vulnerabilities"][0]
    pkg = v["affected_packages"][0]
    assert pkg["name"] == "com.fasterxml.jackson.core:jackson-databind" and pkg["version"] == "2.10.0"
    assert pkg["type"] == "maven"
    assert pkg["purl"] == "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar"
    assert v["related_vulnerabilities"] == ["SNYK-JAVA-COMFASTERXMLJACKSONCORE-1048302"]
    assert v["cve"]["cwe"]["uid"] == "CWE-611" and v["is_fix_available"] is True
    assert [c["version"] for c in v["cve"]["cvss"]] == ["3.1", "3.1", "3.1"]
    assert r["finding_info"]["first_seen_time"] == _ms("2020-12-03T00:00:00+00:00")
    un = json.loads(r["unmapped"])
    assert un["analysis"]["response"] == "will_not_fix"  # one word, as the file writes it
    assert un["created"] == "2020-12-03T00:00:00.000Z" and "credits" in un and un["detail"].startswith("XXE Injection")


@pytest.mark.parametrize("name", ["conda-cyclonedx.json.golden", "conda-spdx.json.golden"])
def test_inventory_only_documents_hold_no_event(name: str) -> None:
    res = _decode((CASES / name).read_bytes())
    assert (res.events, res.batches, res.dead) == (0, [], [])


def test_one_event_per_affected_ref_and_nested_components() -> None:
    doc = json.loads(FLUENTD.read_text())
    os_comp, bash, libidn, gem = doc["components"]
    os_comp["components"] = [bash, libidn]  # nested under the OS component
    doc["components"] = [os_comp, gem]
    v = doc["vulnerabilities"][1]  # CVE-2019-18276 in bash
    v["affects"].append({"ref": libidn["bom-ref"]})
    res = _decode(json.dumps(doc).encode())
    assert not res.dead and res.events == 4
    rows = [r for r in _rows(res) if r["vulnerabilities"][0]["cve"]["uid"] == "CVE-2019-18276"]
    assert sorted(r["vulnerabilities"][0]["affected_packages"][0]["name"] for r in rows) == ["bash", "libidn2-0"]
    assert len({r["metadata"]["uid"] for r in rows}) == 2
    assert rows[0]["raw_data"] == rows[1]["raw_data"]


def test_redelivery_keeps_event_identity() -> None:
    data = FLUENTD.read_bytes()
    compact = json.dumps(json.loads(data), separators=(",", ":")).encode()
    uid = lambda res: sorted(r["metadata"]["uid"] for r in _rows(res))  # noqa: E731
    assert uid(_decode(data)) == uid(_decode(compact))


def test_utf8_byte_order_mark_is_ignored() -> None:
    data = b"\xef\xbb\xbf" + (CASES / "vex-fixed.json").read_bytes()
    assert formats.detect(data).name == "sbom"
    res = _decode(data)
    assert not res.dead and res.events == 1


def test_vulnerability_without_affects_is_one_event() -> None:
    doc = json.loads((CASES / "vex-fixed.json").read_text())
    del doc["vulnerabilities"][0]["affects"]
    (r,) = _rows(_decode(json.dumps(doc).encode()))
    assert r["vulnerabilities"][0]["affected_packages"] is None
    assert r["finding_info"]["uid"] == "CVE-2021-44228"


def test_bad_vulnerability_is_dead_lettered_alone() -> None:
    doc = json.loads(FLUENTD.read_text())
    doc["vulnerabilities"][0]["ratings"] = "high"  # must be an array
    res = _decode(json.dumps(doc).encode(), "bom.json")
    assert res.events == 3 and len(res.dead) == 1
    d = res.dead[0]
    assert d.format == "sbom" and (d.source, d.offset) == ("bom.json", 0)
    assert "not a CycloneDX vulnerability" in d.reason and "ratings" in d.reason
    assert json.loads(d.raw)["id"] == "CVE-2019-18224"
    assert sorted(_by_cve(res)) == ["CVE-2019-18276", "CVE-2020-8165"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": [', "not a CycloneDX or SPDX"),
        (b"[1, 2]", "Expected `object`"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": {}}', "$.vulnerabilities"),
        (b'{"bomFormat": "CycloneDX", "specVersion": 1.5}', "$.specVersion"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "2.0"}', "specVersion '2.0'"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": {"timestamp": [5]}}', "$.metadata.timestamp"),
        (b'{"spdxVersion": "SPDX-3.0", "SPDXID": "SPDXRef-DOCUMENT"}', "unsupported SPDX version"),
        (b'{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": {}}', "$.packages"),
        (b'{"name": "x"}', "no `bomFormat` or `spdxVersion`"),
    ],
)
def test_bad_documents_are_dead_lettered_whole(body: bytes, words: str) -> None:
    res = _decode(body, "bad.json")
    assert res.batches == [] and res.events == 1 and len(res.dead) == 1
    assert words in res.dead[0].reason and res.dead[0].format == "sbom"


def _ingest_app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.callback()(lambda: None)
    ingest.register(app)
    return app


_STORED = {"fluentd-multiple-lockfiles-short.cdx.json.golden": 3, "vex.json": 1, "vex-not_affected.json": 1,
           "vex-fixed.json": 1, "conda-cyclonedx.json.golden": 0, "conda-spdx.json.golden": 0}  # fmt: skip


@pytest.mark.parametrize("name", sorted(_STORED))
def test_ingest_auto_each_file(tmp_path: Path, name: str) -> None:
    # `secpipe ingest --format auto --json FILE`: findings stored, nothing dead-lettered, the file counted.
    res = CliRunner().invoke(_ingest_app(), ["ingest", "--format", "auto", "--json", "--data", str(tmp_path),
                                             str(CASES / name)])  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    n = _STORED[name]
    assert summary["files"] == 1 and summary["dead_letter"] == 0 and summary["events"] == n, summary
    assert summary["stored"] == ({"vulnerability_finding": n} if n else {}), summary


def test_ingest_auto_console_script(tmp_path: Path) -> None:
    # The real command in its own process over the whole case folder.
    assert sorted(_STORED) == sorted(p.name for p in FILES)
    out = subprocess.run(
        [sys.executable, "-c", "from secpipe.cli.main import main; main()", "ingest", "--format", "auto", "--json",
         "--data", str(tmp_path), *map(str, FILES)],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["files"] == len(FILES) and summary["dead_letter"] == 0
    assert summary["stored"] == {"vulnerability_finding": sum(_STORED.values())}
