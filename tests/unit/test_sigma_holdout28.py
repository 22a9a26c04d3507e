"""Sigma rules of the twenty-eighth round: correlations grouped by a Google Workspace event parameter.

Rules: tests/cases/sigma_holdout (see SOURCE.md "Round 28 (sigma)"). Events: Panther's Workspace
``LogEntry`` records (panther-gcp-add-group-member.jsonl) and LogEntries written in its layout
(holdout_support.workspace_entry).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import orjson

from secpipe import formats
from secpipe.detect.sigma import load_rules
from secpipe.detect.sigma.correlation import CorrelationEngine, correlate_matches
from tests.unit.holdout_support import ndjson as _ndjson
from tests.unit.holdout_support import workspace_entry as _entry

RULES = Path(__file__).resolve().parents[1] / "cases" / "sigma_holdout"


def _groups(path: Path, body: bytes, fmt: str = "k8s_audit") -> list[list]:
    """The groups of the correlation findings over ``body`` (stream engine and lake hunt agree)."""
    rs = load_rules([path])
    assert not rs.unsupported, rs.unsupported
    batches = formats.get(fmt).decode(body, "t").batches
    eng = CorrelationEngine(rs, None, clock=lambda: 1900000000.0)
    stream = [eng.process(b, rs.matches(b)) for b in batches]
    lake = correlate_matches(rs, [(b.to_table() if hasattr(b, "to_table") else b, rs.matches(b)) for b in batches],
                             now=1900000000.0)
    got = [orjson.loads(u)["group"] for out in stream if out is not None for u in out.column("unmapped").to_pylist()]
    assert sorted(got) == sorted(orjson.loads(u)["group"] for u in ([] if lake is None else
                                                                    lake.column("unmapped").to_pylist()))
    return sorted(got)


_ADD_MEMBER = """
    title: GCP User Added to Privileged Group
    name: gws_add_group_member
    id: 6f1b2d3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d
    logsource: {product: gcp, service: google_workspace.admin}
    detection:
      selection:
        protoPayload.metadata.event.eventName: ADD_GROUP_MEMBER
      condition: selection
    level: low
    ---
    title: members added per group
    id: 7f1b2d3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d
    correlation:
      type: event_count
      rules: [gws_add_group_member]
      group-by: [group_email]
      timespan: 1d
      condition: {gte: 1}
    level: medium
    """


def test_correlation_grouped_by_a_parameter_of_panthers_log_entries(tmp_path: Path) -> None:
    # group_email is the events' GROUP_EMAIL parameter, as the base rules read it: the engine was
    # built with a decoder keyed by the parameter pseudo-field's NUL-prefixed name and raised
    p = tmp_path / "c.yml"
    p.write_text(textwrap.dedent(_ADD_MEMBER))
    body = (RULES / "panther-gcp-add-group-member.jsonl").read_bytes()
    assert _groups(p, body) == [["admins@example.com"], ["normies@example.com"]]
    assert _groups(p, body, "json") == [["admins@example.com"], ["normies@example.com"]]


def test_value_count_of_a_parameter_on_sigmahqs_drive_rule(tmp_path: Path) -> None:
    # SigmaHQ's gcp_gworkspace_drive_file_shared_externally, counted per file owner (the owner
    # parameter) over distinct doc_id parameters; a multiStrValue parameter groups as its list
    drive = "drive.googleapis.com"
    shares = [("1AbC", "a@example.com"), ("1AbD", "a@example.com"), ("1AbD", "a@example.com"),
              ("1AbE", "b@example.com"), ("1AbF", ["c@example.com", "d@example.com"]),
              ("1AbG", ["c@example.com", "d@example.com"])]
    events = [_entry(drive, "google.drive.DriveService.changeAclEditors", "acl_change", "change_acl_editors",
                     {"doc_id": d, "owner": o, "visibility": "people_with_link"}, i) for i, (d, o) in enumerate(shares)]
    p = tmp_path / "c.yml"
    p.write_text((RULES / "gcp_gworkspace_drive_file_shared_externally.yml").read_text() + textwrap.dedent("""
        ---
        title: files shared externally per owner
        id: 8f1b2d3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d
        correlation:
          type: value_count
          rules: [5e79cc2d-9f4a-4b27-d1e8-3c6a2f5b8e10]
          group-by: [owner]
          timespan: 1h
          condition: {gte: 2, field: doc_id}
        level: medium
        """))
    assert _groups(p, _ndjson(events)) == [['["c@example.com","d@example.com"]'], ["a@example.com"]]
