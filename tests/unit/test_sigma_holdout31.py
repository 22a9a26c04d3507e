"""Sigma field resolution (thirty-first round): a field the built-in mappings read from several
spellings is absent only when every spelling is, also where a prefix mapping applies.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from tests.unit.test_sigma_holdout24 import _hits


def _lines(events: list[dict]) -> bytes:
    return b"\n".join(msgspec.json.encode(e) for e in events)


def _rule(tmp_path: Path, logsource: str, selection: str) -> str:
    rule = tmp_path / "rule.yml"
    rule.write_text(f"title: t\nid: 4f1e9a52-3c1d-4c55-9d0b-0d7a3c9b1e31\nlogsource: {logsource}\n"
                    f"detection:\n  selection:\n    {selection}\n  condition: selection\n")
    return str(rule)  # _hits joins it to RULES: an absolute path stays itself


def test_windows_computer_absent_only_when_every_spelling_is(tmp_path: Path) -> None:
    """``Computer`` is also read as NXLog's flat ``Hostname``, which the windows prefixes read again
    under ``Event.EventData.`` / ``winlog.event_data.``: the null test over those alternatives was
    ORed (absence_of_all saw another list) and held for every record that named its computer."""
    events = [{"EventID": 4624, "Computer": "ws1.contoso.com", "Channel": "Security"},
              {"EventID": 4624, "Hostname": "ws1.contoso.com", "SourceName": "Microsoft-Windows-Security-Auditing"},
              {"EventID": 4624, "Channel": "Security"}]
    rule = _rule(tmp_path, "{product: windows}", "EventID: 4624\n    Computer: null")
    assert _hits(rule, _lines(events), "json") == [2]
