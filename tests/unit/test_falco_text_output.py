"""Falco's text output (``json_output: false``, Falco's default, and what its ``http_output`` then
POSTs as text/plain) is the JSON alert's ``output`` line. secpipe reads Falco's JSON output: a
text alert is dead-lettered with the setting to change, not only "not a JSON object". Alerts:
../shared/data/real/falco (falcosecurity/falco test output)."""

from __future__ import annotations

import json
from pathlib import Path

from secpipe.formats import get
from secpipe.formats.base import decode_document


def test_text_alerts_say_to_turn_json_output_on(real: Path) -> None:
    lines = (real / "falco/test/output_files/single_rule_with_cat_write.json").read_bytes().splitlines()
    alerts = [json.loads(x) for x in lines if x.strip()]
    text = "".join(a["output"] + "\n" for a in alerts[:3]).encode()
    dec = decode_document(get("falco"), text, "falco_http:test")
    assert dec.batches == [] and len(dec.dead) == 3
    assert all(d.reason.startswith("a Falco text alert (json_output: false)") and "json_output: true" in d.reason
               for d in dec.dead)  # fmt: skip
    other = decode_document(get("falco"), b"not json at all\n", "x")  # other text keeps the plain reason
    assert other.dead and not other.dead[0].reason.startswith("a Falco text alert")
