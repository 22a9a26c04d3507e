"""Real samples secpipe was not developed against, second round (``tests/cases/holdout``, see its SOURCE.md).

As in ``test_formats_holdout.py``: each file is ingested by auto-detection and checked against
what the file itself holds and against the format's specification mapped to OCSF 1.8.0. The
expectations were written from the source documents and the schema, not from secpipe's output.

Regressions covered: ``snyk container test --json`` applications (``applications[]``: each
application found in the image is a project with its own issues) were not stored.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats import _fast
from secpipe.formats.base import Decoded
from tests.unit.native_support import same_both_ways

CASES = Path(__file__).resolve().parents[1] / "cases" / "holdout"
NATIVE = pytest.mark.skipif(not _fast.available(), reason="native extension not built (or SECPIPE_NATIVE=0)")


def _auto(name: str) -> tuple[str, Decoded]:
    """(detected format name, decode) of a case file, as file ingest with ``--format auto`` does."""
    data = (CASES / name).read_bytes()
    fmt = formats.detect(data[:65536])
    assert fmt is not None, name
    return fmt.name, fmt.decode(data, name)


def _rows(d: Decoded) -> list[dict[str, Any]]:
    return [r for b in d.batches for r in b.to_pylist()]


# --------------------------------------------------------------------------------------
# Snyk container
# --------------------------------------------------------------------------------------

SNYK_CONTAINER = "test-report-container-with-app-vulns.json"


def test_snyk_container_applications_are_findings() -> None:
    name, d = _auto(SNYK_CONTAINER)
    assert name == "snyk" and not d.dead
    rows = _rows(d)
    assert d.events == len(rows) == 2  # 1 OS package issue + 1 in the Go binary found in the image
    by_id = {r["finding_info"]["uid"].split("|")[0]: r for r in rows}
    os_pkg, app = by_id["SNYK-DEBIAN10-ZLIB-2976149"], by_id["SNYK-GOLANG-GOLANGORGXCRYPTOSSH-551923"]
    assert {r["finding_info"]["product"]["name"] for r in rows} == {"Snyk Container"}
    # the image project
    res = os_pkg["resources"][0]
    assert (res["name"], res["uid"]) == ("docker-image|vulnerable", "vulnerable:latest")
    assert json.loads(res["data"]) == {"org": "appsec-playground", "packageManager": "deb", "platform": "linux/amd64",
                                       "baseImage": "python:3.11.0b3-slim-buster"}  # fmt: skip
    assert os_pkg["severity_id"] == 5 and os_pkg["vulnerabilities"][0]["cve"]["uid"] == "CVE-2022-37434"
    assert os_pkg["vulnerabilities"][0]["is_fix_available"] is False
    # the application: its own project (targetFile the binary), its own package manager
    res = app["resources"][0]
    assert (res["name"], res["uid"]) == ("mymod", "vulnerable:latest")
    assert json.loads(res["data"]) == {"org": "appsec-playground", "packageManager": "gomodules", "targetFile": "/bin/gobin"}
    v = app["vulnerabilities"][0]
    assert app["severity_id"] == 4 and v["cve"]["uid"] == "CVE-2020-9283" and v["cwe"]["uid"] == "CWE-347"
    pkg = v["affected_packages"][0]
    assert (pkg["name"], pkg["version"], pkg["fixed_in_version"]) == (
        "golang.org/x/crypto/ssh", "#c2843e01d9a2", "0.0.0-20200220183623-bac4c82f6975")  # fmt: skip
    assert v["is_exploit_available"] is True  # exploit: Functional
    assert "GHSA-ffhg-7mh4-33c4" in v["related_vulnerabilities"]


def test_snyk_container_array_of_images() -> None:
    """``snyk container test img1 img2 --json`` prints an array of image reports, each with applications."""
    doc = json.loads((CASES / SNYK_CONTAINER).read_text())
    other = copy.deepcopy(doc)
    other["path"], other["applications"][0]["path"] = "other:1", "other:1"
    other["applications"].append(copy.deepcopy(other["applications"][0]) | {"targetFile": "/usr/bin/x"})
    d = formats.get("snyk").decode(json.dumps([doc, other]).encode(), "src")
    assert not d.dead and d.events == 5
    where = sorted((r["resources"][0]["uid"], r["resources"][0]["name"]) for r in _rows(d))
    assert where == [("other:1", "docker-image|vulnerable"), ("other:1", "mymod"), ("other:1", "mymod"),
                     ("vulnerable:latest", "docker-image|vulnerable"), ("vulnerable:latest", "mymod")]  # fmt: skip


@NATIVE
def test_snyk_container_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads((CASES / SNYK_CONTAINER).read_text())
    docs = [doc]
    bad = copy.deepcopy(doc)
    bad["applications"][0]["vulnerabilities"][0]["severity"] = 7  # irregular: the msgspec path decides
    docs.append(bad)
    lic = copy.deepcopy(doc)
    lic["applications"][0]["vulnerabilities"].append({"type": "license", "id": "snyk:lic:golang:x:GPL-2.0",
                                                      "license": "GPL-2.0", "severity": "high", "title": "GPL-2.0 license",
                                                      "packageName": "x", "version": "1.0", "from": ["mymod@*", "x@1.0"]})  # fmt: skip
    docs.append(lic)
    for i, x in enumerate(docs):
        same_both_ways("snyk", json.dumps(x).encode(), monkeypatch, i)
