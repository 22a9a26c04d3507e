"""Files that open with a JSON text spread over lines, read by a ``lines`` format (h3, s18).

``read_documents`` cut a ``lines`` format's input at line ends: right for NDJSON and syslog,
wrong for one JSON text printed over many lines (``json.dumps(indent=4)``, ``jq``, the AWS
CLI: a k8s EventList, a CloudWatch Logs answer). Past the 64 KiB head its last line (the
closing brace, when the file ends without a newline) became a document of its own, so the rest
did not parse and every line was dead-lettered (and past 8 MiB the text was cut in pieces).
Such a file is now read whole. The records are Panther's real EKS audit events and the loghub
OpenSSH lines (``tests/cases/holdout``, see its SOURCE.md), in the shape ``aws logs
filter-log-events`` prints.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from secpipe.runtime.batch import ingest_files
from secpipe.runtime.pipeline import Pipeline
from secpipe.sources import files
from secpipe.sources.files import read_documents

T0 = 1765349746000


def _answer(messages: list[str]) -> bytes:
    events = [{"logStreamName": "kube-apiserver-audit-0123", "timestamp": T0 + i, "message": m,
               "ingestionTime": T0 + 900, "eventId": str(10**55 + i)} for i, m in enumerate(messages)]  # fmt: skip
    return json.dumps({"events": events, "searchedLogStreams": []}, indent=4).encode()


def test_spread_json_is_one_document(real: Path, tmp_path: Path) -> None:
    lines = (real / "panther-analysis/extracted/k8s_audit.jsonl").read_text().splitlines()
    body = _answer(lines * 4)  # > 64 KiB, no newline at the end (as the CLI prints it)
    assert len(body) > 64 * 1024 and not body.endswith(b"\n")
    path = tmp_path / "eks-audit.json"
    path.write_bytes(body)
    docs = list(read_documents(str(path)))
    assert len(docs) == 1 and docs[0].data == body and docs[0].fmt is not None and docs[0].fmt.name == "k8s_audit"
    data = tmp_path / "d"
    pipe = Pipeline(data)
    ingest_files(pipe, [str(path)], "auto")
    res = pipe.flush()
    bare = formats.get("k8s_audit").decode("\n".join(lines).encode(), "bare")  # the same records as NDJSON
    uids = {u for b in bare.batches for u in b.column("metadata").field("uid").to_pylist()}
    assert len(uids) > 100
    # red before: nothing stored, every printed line dead-lettered; the 4 copies are one event each
    assert sum(res.stored.values()) == len(uids) and res.duplicates == 4 * sum(b.num_rows for b in bare.batches) - len(uids)


def test_ndjson_and_text_are_still_cut(tmp_path: Path) -> None:
    """NDJSON (its first line is a JSON text) and log text that opens with a bracket are runs
    of lines: still read in chunks."""
    ndjson = b"".join(b'{"kind": "Event", "auditID": "%d"}\n' % i for i in range(40000))
    text = b"".join(b"[2025/12/10 06:55:%02d] [error] upstream timed out #%d\n" % (i % 60, i) for i in range(40000))
    pretty_first = b'{"events": [\n'
    for body, spread in ((ndjson, False), (text, False), (b"[\n" + ndjson, True), (pretty_first + ndjson, True)):
        assert files._spread_json(body[: 64 * 1024]) is spread, body[:20]
    path = tmp_path / "a.jsonl"
    path.write_bytes(ndjson)
    assert len(list(read_documents(str(path), "k8s_audit", chunk=256 * 1024))) > 2


def test_a_broken_first_ndjson_line_is_still_a_line() -> None:
    """An NDJSON file whose first record is cut (no JSON text by itself) is still read in
    chunks: its line ends with the record's brace, where no printer breaks a line."""
    head = b'{"kind": "Event", "auditID": "1", "verb": "get"\n{"kind": "Event", "auditID": "2"}\n'
    assert files._spread_json(head) is False
    assert files._spread_json(b'{"kind": "Event",\n "auditID": "1"}\n') is True
