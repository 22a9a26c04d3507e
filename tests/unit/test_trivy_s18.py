"""Trivy ``k8s`` reports with one broken part (session 18): only that part is dead-lettered.

The reports are built to ``trivy k8s --format json``'s shape (``ClusterName`` and ``Resources`` of
``--report all``, ``Findings`` of ``--report summary``) around the real results of Trivy's own
golden report ``alpine-39-high-critical.json.golden`` (one per workload), then one value inside
one resource is given another JSON type. Before, msgspec refused the report and every resource's
findings were dead-lettered with it; now the broken result (or resource) is, with its path, and the
others are stored with the uids they have in the unbroken report, on both decode paths.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from secpipe import formats
from secpipe.formats.base import Decoded
from tests.unit.native_support import same_both_ways

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
GOLDEN = json.loads((REAL / "trivy" / "alpine-39-high-critical.json.golden").read_bytes())
PER_RESULT = sum(len(r.get("Vulnerabilities") or ()) for r in GOLDEN["Results"])


def _report(key: str, mutate: Callable[[dict[str, Any]], object] | None = None) -> bytes:
    workloads = [{"Namespace": "default", "Kind": "Deployment", "Name": name, "Metadata": copy.deepcopy(GOLDEN["Metadata"]),
                  "Results": copy.deepcopy(GOLDEN["Results"])} for name in ("api", "web", "db")]  # fmt: skip
    doc = {"ClusterName": "prod", key: workloads}
    if mutate is not None:
        mutate(doc[key])
    return json.dumps(doc, indent=2).encode()


def _uids(d: Decoded) -> dict[str, str]:
    return {r["metadata"]["uid"]: r["resources"][0]["name"] for b in d.batches for r in b.to_pylist()}


#: (the mutation of the resources, the path of the dead letter, is a whole resource dead)
CASES: list[tuple[str, Callable[[list[Any]], object], str, bool]] = [
    ("vulnerabilities-object", lambda w: w[1]["Results"][0].update(Vulnerabilities={"CVE-2019-14697": {}}),
     "$.{key}[1].Results[0].Vulnerabilities", False),
    ("target-number", lambda w: w[1]["Results"][0].update(Target=7), "$.{key}[1].Results[0].Target", False),
    ("result-string", lambda w: w[1]["Results"].__setitem__(0, "alpine"), "$.{key}[1].Results[0]", False),
    ("results-object", lambda w: w[1].update(Results={"Target": "x"}), "$.{key}[1].Results", True),
    ("resource-string", lambda w: w.__setitem__(1, "web"), "$.{key}[1]", True),
    ("namespace-list", lambda w: w[1].update(Namespace=["default"]), "$.{key}[1].Namespace", True),
    ("repo-tags-string", lambda w: w[1]["Metadata"].update(RepoTags="alpine:3.9"),
     "$.{key}[1].Metadata.RepoTags", True),
]  # fmt: skip


@pytest.mark.parametrize("key", ["Resources", "Findings"])
@pytest.mark.parametrize(("name", "mutate", "path", "whole"), CASES, ids=[c[0] for c in CASES])
def test_k8s_report_broken_part_alone(key: str, name: str, mutate: Callable[[list[Any]], object], path: str,
                                      whole: bool, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    assert PER_RESULT == 2
    good = formats.get("trivy").decode(_report(key), "src")
    assert not good.dead and good.events == 3 * PER_RESULT
    d = same_both_ways("trivy", _report(key, mutate), monkeypatch, name)
    assert [x.reason.split(" - at ")[-1] for x in d.dead] == [f"`{path.format(key=key)}`"]
    assert d.dead[0].reason.startswith("a broken part of a trivy k8s report: Expected ")
    assert d.dead[0].offset == 1 and d.dead[0].format == "trivy"
    kept = _uids(d)
    assert sorted(kept.values()) == ["api", "api", "db", "db"]  # the other resources' findings stored
    # with the uids of the unbroken report; where the broken resource's results cannot be counted
    # (no list), the ordinals of the results after it shift (the uid hashes a result's ordinal)
    same = set(kept.items()) if name not in ("results-object", "resource-string") else {
        (u, n) for u, n in kept.items() if n == "api"}
    assert same <= set(_uids(good).items()) and len(same) in (2, 4)
    assert d.events == 4 + 1
    broken = json.loads(d.dead[0].raw)
    if whole:
        assert broken == json.loads(_report(key, mutate))[key][1]
    else:
        assert broken == json.loads(_report(key, mutate))[key][1]["Results"][0]


def test_k8s_report_broken_outside_resources_stays_whole() -> None:
    # a report broken at its top (no resource to blame) is still dead-lettered whole
    doc = json.loads(_report("Resources"))
    doc["ClusterName"] = ["prod"]
    d = formats.get("trivy").decode(json.dumps(doc).encode(), "src")
    assert not d.batches and len(d.dead) == 1 and d.dead[0].reason.startswith("not a Trivy JSON report")


def test_k8s_report_two_broken_results_of_one_resource() -> None:
    def mutate(w: list[Any]) -> None:
        w[0]["Results"].append({"Target": "x", "Secrets": "none"})
        w[2]["Results"][0]["Vulnerabilities"][1] = "CVE"  # a finding of the wrong shape: that finding only
        w[0]["Results"][0]["Vulnerabilities"] = 3

    d = formats.get("trivy").decode(_report("Resources", mutate), "src")
    assert [x.reason.split(" - at ")[-1] for x in d.dead] == [
        "`$.Resources[0].Results[0].Vulnerabilities`", "`$.Resources[0].Results[1].Secrets`",
        "not a Trivy vulnerability: Expected `object`, got `str`"]  # fmt: skip
    assert sum(b.num_rows for b in d.batches) == 3 and d.events == 6  # web's two, db's good one
