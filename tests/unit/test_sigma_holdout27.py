"""Sigma rules of the twenty-seventh round: the modifiers appendix's time modifiers.

Events: Panther's CloudTrail test events (../shared/data/real/panther-analysis/extracted, Apache-2.0).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from secpipe.detect.sigma import load_rules
from tests.unit.holdout_support import sigma_rows as _rows

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
CLOUDTRAIL = REAL / "panther-analysis" / "extracted" / "cloudtrail.json"


def _rule(tmp_path: Path, detection: str) -> Path:
    p = tmp_path / "rule.yml"
    p.write_text("title: t\nid: 0d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource:\n  product: aws\n  service: cloudtrail\n"
                 "detection:\n" + textwrap.indent(textwrap.dedent(detection), "  ") + "level: low\n")
    return p


# -- time modifiers (sigma-specification sigma-appendix-modifiers.md v2.1.0, "Time Modifiers") ----

def test_time_modifier_compared_with_a_number(tmp_path: Path) -> None:
    # The appendix's time modifiers "extract a numeric value from a date"; chained with gte (a
    # console login at 17h or later) pySigma gives a comparison of that part, which was compared
    # as the whole date text cast to a number: no event ever matched.
    body = CLOUDTRAIL.read_bytes()  # the 16 ConsoleLogin records are one Authentication batch
    evening = _rule(tmp_path, """
        selection:
          eventName: ConsoleLogin
          eventTime|hour|gte: 17
        condition: selection
        """)
    assert _rows(load_rules([evening]), body, "cloudtrail") == [2, 9]  # 19:41:40 and 17:16:36
    night = _rule(tmp_path, """
        selection:
          eventName: ConsoleLogin
          eventTime|hour: 0
          eventTime|year|lt: 2020
        condition: selection
        """)
    assert _rows(load_rules([night]), body, "cloudtrail") == [4, 5, 6, 7, 10, 11, 12, 13]
