"""An Elasticsearch / OpenSearch index's documents exported to a file, read as the records they are.

Teams moving off an ELK stack export what their indexes hold: a search or scroll answer saved
(``GET index/_search?pretty``: the Search API's response, ``took``, ``timed_out``, ``_shards``,
``hits.total``, ``hits.hits[]._index/_id/_score/_source``), or the hits one a line (elasticdump's
output) or as an array (``jq '.hits.hits'``). Where the documents are records a format reads, as
the ``_bulk`` route stores them (CloudTrail records, Kubernetes audit events indexed as they are),
each format's sniffer saw the record inside the wrapper and claimed the file, whose decode then
dead-lettered it whole. The wrappers here follow the Search API's documented response; the records
inside are the real samples of ../shared/data/real (Panther's CloudTrail and Kubernetes audit test
events), and what is stored must be what the bare records store (same uids)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.holdout_support import ingest_file as _ingest

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real" / "panther-analysis" / "extracted"


def _answer(index: str, records: list[dict]) -> dict:
    return {"took": 4, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {"total": {"value": len(records), "relation": "eq"}, "max_score": 1.0,
                     "hits": [{"_index": index, "_id": f"id{i}", "_score": 1.0, "_source": r} for i, r in enumerate(records)]}}  # fmt: skip


def _records(name: str, n: int) -> list[dict]:
    text = (REAL / name).read_text()
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()][:n]
    got = json.loads(text)
    return (got["Records"] if isinstance(got, dict) else got)[:n]


def _uids(rows: list[dict]) -> list[str]:
    return sorted(r["metadata"]["uid"] for r in rows)


def test_search_answer_scroll_hits_and_arrays_of_records(tmp_path: Path) -> None:
    for name, index in (("cloudtrail.json", "cloudtrail-2024.05"), ("k8s_audit.jsonl", "k8s-audit")):
        records = _records(name, 4)
        bare = tmp_path / f"bare-{index}.json"
        bare.write_text("\n".join(json.dumps(r) for r in records))
        dead, want = _ingest(bare, tmp_path / f"d-{index}")
        assert not dead and len(want) == 4
        answer = _answer(index, records)
        shapes = {
            "search.json": json.dumps(answer, indent=2),  # ?pretty
            "compact.json": json.dumps(answer),
            "dump.ndjson": "\n".join(json.dumps(h) for h in answer["hits"]["hits"]),  # elasticdump, a scroll saved
            "hits.json": json.dumps(answer["hits"]["hits"], indent=2),  # jq '.hits.hits'
        }
        for shape, text in shapes.items():
            path = tmp_path / f"{index}-{shape}"
            path.write_text(text)
            dead, rows = _ingest(path, tmp_path / f"{index}-{shape}.d")
            assert not dead, (index, shape, dead)  # red before: each file dead-lettered whole
            assert _uids(rows) == _uids(want), (index, shape)
            assert {r["class_uid"] for r in rows} == {r["class_uid"] for r in want}


def test_a_document_no_format_reads_is_dead_lettered_alone(tmp_path: Path) -> None:
    records = _records("cloudtrail.json", 3)
    answer = _answer("mixed", [records[0], {"level": "info", "msg": "an app's own log line"}, records[1], records[2]])
    path = tmp_path / "search.json"
    path.write_text(json.dumps(answer, indent=2))
    dead, rows = _ingest(path, tmp_path / "d")
    assert len(rows) == 3 and all(r["class_uid"] == 6003 for r in rows)
    assert len(dead) == 1 and dead[0].startswith("unrecognized input")


def test_a_file_that_only_opens_like_an_export_is_read_as_before(tmp_path: Path) -> None:
    # an object opening with "hits" that is no search answer (a record of some format): detection decides
    path = tmp_path / "x.json"
    records = _records("cloudtrail.json", 2)
    path.write_text(json.dumps({"hits": 3, "_source": "x", "Records": records}))
    dead, rows = _ingest(path, tmp_path / "d")
    assert len(rows) == 2 and not dead
