"""A threat-intelligence feed given to ``secpipe ingest --format auto`` (session 26).

A STIX bundle, a MISP event or a MISP warninglist holds indicators, not events: no event format
claims it, and its dead letter said only "no format matched". The reason now names what the file
is and where it goes instead (a threat_intel transform's feeds or allowlists); other input no
format recognizes keeps the old reason. Real samples from ../shared/data/real/threat-intel.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REAL
from tests.helpers import ingest, query

INTEL = REAL / "threat-intel"


@pytest.mark.parametrize(("rel", "what", "role"), [
    ("oasis-cti-stix2-json-schemas/examples/indicator-for-c2-ip-address.json", "a STIX 2.x bundle", "a feed"),
    ("oasis-cti-stix2-json-schemas/examples/threat-reports/apt1.json", "a STIX 2.x bundle", "a feed"),
    ("pymisp/feed-derived/57153590-f73c-49fa-be4b-4737950d210f.json", "a MISP event", "a feed"),
    ("misp-warninglists/lists/rfc1918/list.json", "a MISP warninglist", "an allowlist"),
])  # fmt: skip
def test_feed_dead_letter_names_it(rel: str, what: str, role: str, data_dir: Path) -> None:
    path = INTEL / rel
    s = ingest(data_dir, path, fmt="auto")
    assert s["stored"] == {} and s["dead_letter"] == 1
    (row,) = query(data_dir, "SELECT reason, raw FROM dead_letter")
    assert row["reason"] == (f"unrecognized input: {what} is threat intelligence, not events: load it as {role} of a "
                             "threat_intel transform (see examples/enrich.yaml)")  # fmt: skip
    assert row["raw"] == path.read_text()  # the file kept whole, as any unrecognized input


def test_other_unrecognized_json_keeps_the_plain_reason(data_dir: Path, tmp_path: Path) -> None:
    # JSON that mentions the words only as values is no feed
    f = tmp_path / "note.json"
    f.write_text('{"note": "\\"type\\": \\"bundle\\" and \\"Event\\": {} are words here", "n": 1}\n')
    s = ingest(data_dir, f, fmt="auto")
    assert s["dead_letter"] == 1
    (row,) = query(data_dir, "SELECT reason FROM dead_letter")
    assert row["reason"] == "unrecognized input: no format matched (give --format NAME; see `secpipe formats`)"


@pytest.mark.parametrize("name", ["sigmahq-regression-proc_creation_win_apt_wocao.json",
                                  "sigmahq-regression-win_security_pua_nssm_service_installation.json"])
def test_evtx_json_is_an_event_not_a_misp_feed(name: str, data_dir: Path, tmp_path: Path) -> None:
    """A Windows event converted from evtx (SigmaHQ's regression records: {"Event": {"#attributes", "System",
    "EventData"}}) opens like a MISP event ({"Event": {...}}) but is an event: ``--format auto`` stores it with the
    json format, whose Event.System/EventData Sigma's Windows rules read, also as NDJSON lines (session 27: it was
    dead-lettered as a MISP feed). The wocao record (Sysmon 1) is a process launched (session 31's _winrecords)."""
    path = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout" / name
    assert ingest(data_dir, path, fmt="auto")["stored"] == {"process_activity" if "wocao" in name else "base_event": 1}
    lines = tmp_path / "events.jsonl"
    cases = path.parent
    lines.write_text("".join(json.dumps(json.loads((cases / f).read_text())) + "\n" for f in (
        "sigmahq-regression-proc_creation_win_apt_wocao.json", "sigmahq-regression-win_security_pua_nssm_service_installation.json")))
    s = ingest(tmp_path / "lake", lines, fmt="auto")
    assert s["stored"] == {"base_event": 1, "process_activity": 1} and s["dead_letter"] == 0
