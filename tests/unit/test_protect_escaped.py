"""Tokenize removes a value from raw text also where the source's JSON encoder wrote it escaped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe import formats
from secpipe.security.keys import generate_key
from secpipe.transforms.protect._columns import get_path
from secpipe.transforms.protect.tokenize import TokenizeStage

NAMES = ["CORP\\alice", "José Müller", "ops&dev<team>", 'q"uote', "plainuser"]


def _go(text: str) -> str:
    """``text`` as Go's encoding/json writes it (Kubernetes, Vault, Falco): HTML characters escaped."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@pytest.mark.parametrize("encoder", ["python-ascii", "python-utf8", "go"])
def test_escaped_originals_are_tokenized_in_raw_data(encoder: str, real: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real CloudTrail records (panther-analysis) whose IAM user names need JSON escapes, written by three
    encoders: after tokenize no spelling of a name is left in raw_data, which stays JSON holding the token."""
    monkeypatch.setenv("SECPIPE_TOKENIZE_KEY", generate_key())
    records = json.loads((real / "panther-analysis" / "extracted" / "cloudtrail.json").read_text())["Records"]
    records = [r for r in records if isinstance(r.get("userIdentity"), dict) and r["userIdentity"].get("userName")
               and r["eventName"] != "ConsoleLogin"][:5]  # API Activity: the caller is actor.user
    assert len(records) == 5
    lines = []
    for rec, name in zip(records, NAMES, strict=True):
        rec["userIdentity"]["userName"] = name
        text = json.dumps(rec, ensure_ascii=encoder == "python-ascii", separators=(",", ":"))
        lines.append(_go(text) if encoder == "go" else text)
    stage = TokenizeStage("t", {"type": "tokenize", "fields": {"actor.user.name": "hmac"}})
    seen = []
    for batch in formats.get("cloudtrail").decode("\n".join(lines).encode(), "test").batches:
        out = stage.process(batch)[0]
        names = get_path(batch, "actor.user.name").to_pylist()
        tokens = get_path(out, "actor.user.name").to_pylist()
        for name, token, raw in zip(names, tokens, out.column("raw_data").to_pylist(), strict=True):
            spellings = {name, json.dumps(name)[1:-1], json.dumps(name, ensure_ascii=False)[1:-1],
                         _go(json.dumps(name, ensure_ascii=False)[1:-1])}
            assert not any(s in raw for s in spellings), (encoder, name, raw[:200])
            assert json.loads(raw)["userIdentity"]["userName"] == token != name
            seen.append(name)
    assert sorted(seen) == sorted(NAMES)
