"""geoip stage on more MaxMind database types (tests/cases/enrich_geoip, see SOURCE.md).

Expectations come from MaxMind's source-data JSON (what each test network resolves to) and
from each database's type: a type without any data the stage writes must be refused with the
role it fits, never loaded to enrich nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from secpipe.errors import ConfigError
from secpipe.transforms.enrich.geoip import build_stage, role_mismatch
from tests.unit.test_enrich_geoip import _disjoint, ct_batch

CASES = Path(__file__).resolve().parents[1] / "cases" / "enrich_geoip"


def _cases(name: str) -> list[tuple[str, dict[str, Any]]]:
    """(first address, record) of the networks of a source JSON that overlap no other."""
    return _disjoint(json.loads((CASES / name).read_text()))


@pytest.mark.parametrize(("db", "role", "hint"), [
    ("GeoIP2-Domain-Test.mmdb", "city", "writes no field"),
    ("GeoIP2-Connection-Type-Test.mmdb", "asn", "writes no field"),
    ("GeoIP-Anonymous-Plus-Test.mmdb", "city", "configure it as `anonymous:`"),
    ("GeoIP2-Enterprise-Test.mmdb", "asn", "configure it as `city:`"),
])
def test_database_type_without_the_roles_data_is_refused(db: str, role: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=hint):
        build_stage("geo", {"type": "geoip", role: str(CASES / db)})
    degraded = build_stage("geo", {"type": "geoip", role: str(CASES / db), "on_error": "degrade"})
    assert degraded.status()["databases"][0]["loaded"] is False
    assert "has no" in degraded.status()["databases"][0]["error"]


def test_role_mismatch_accepts_unknown_and_fitting_types() -> None:
    assert role_mismatch("city", "GeoIP2-Precision-Enterprise-Shield") is None
    assert role_mismatch("asn", "GeoIP2-ISP") is None
    assert role_mismatch("city", "DBIP-City-Lite") is None
    assert role_mismatch("city", "Test") is None  # not a known vendor type: accepted
    assert role_mismatch("anonymous", "GeoIP-Residential-Proxy") is None


def test_enterprise_as_city_matches_source_json() -> None:
    cases = _cases("GeoIP2-Enterprise-Test.json")
    assert any(":" in ip for ip, _r in cases) and any(":" not in ip for ip, _r in cases)
    st = build_stage("geo", {"type": "geoip", "city": str(CASES / "GeoIP2-Enterprise-Test.mmdb")})
    out = st.process(ct_batch([ip for ip, _r in cases]))[0]
    for (ip, rec), row in zip(cases, out.to_pylist(), strict=True):
        loc = (row["src_endpoint"] or {}).get("location") or {}
        country = (rec.get("country") or rec.get("registered_country") or {}).get("iso_code")
        city = ((rec.get("city") or {}).get("names") or {}).get("en")
        assert (loc.get("country"), loc.get("city")) == (country, city), ip


def test_anonymous_plus_flags_match_source_json() -> None:
    cases = _cases("GeoIP-Anonymous-Plus-Test.json")
    st = build_stage("geo", {"type": "geoip", "anonymous": str(CASES / "GeoIP-Anonymous-Plus-Test.mmdb")})
    out = st.process(ct_batch([ip for ip, _r in cases]))[0]
    flags = ("is_anonymous", "is_anonymous_vpn", "is_hosting_provider", "is_public_proxy", "is_residential_proxy",
             "is_tor_exit_node")
    seen = 0
    for (ip, rec), row in zip(cases, out.to_pylist(), strict=True):
        want = sorted(f"geoip:src_endpoint:{f.removeprefix('is_')}" for f in flags if rec.get(f))
        got = sorted(x for x in row["metadata"].get("labels") or [] if x.startswith("geoip:"))
        assert got == want, ip
        seen += bool(want)
    assert seen > 0
