"""The ``_bulk`` answer of a uniform body built from byte templates (es_bulk._created) is the
answer the general builder (es_bulk._answer) gives, item for item: same op, index, ``_id``
(one random prefix a request, then the item's index in hex), ``_seq_no`` and status; also past
the kept templates, and with index names or ids holding ``%`` or quotes."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from secpipe.server import es_bulk


def _masked(answer: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    ids = []
    for item in answer["items"]:
        (inner,) = item.values()
        ids.append(inner["_id"])
        inner["_id"] = None
    answer["took"] = 0
    return answer, ids


@pytest.mark.parametrize("n", [1, 2, 5, 9, 300])
@pytest.mark.parametrize(("op", "index", "id_"), [("index", "cloudtrail-b", None), ("create", 'logs-%d"%s\\x', None),
                                                  ("index", "x", 'same%s"id')])  # fmt: skip
def test_the_template_answer_is_the_general_answer(n: int, op: str, index: str, id_: str | None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(es_bulk, "_TAILS", [])
    monkeypatch.setattr(es_bulk, "_TAILS_KEPT", 4)  # items past the kept templates are made per request
    bulk = es_bulk.Uniform(op, index, id_, [b"{}"] * n)
    fast, fast_ids = _masked(json.loads(es_bulk._created(bulk, time.perf_counter())))
    slow, slow_ids = _masked(es_bulk._answer(bulk.items(), {}, time.perf_counter()))
    assert fast == slow
    if id_ is not None:
        assert fast_ids == slow_ids == [id_] * n
    else:
        assert len({i[:12] for i in fast_ids}) == 1, "one random prefix a request"
        assert [int(i[12:], 16) for i in fast_ids] == list(range(n))
        assert len(es_bulk._TAILS) == min(n, 4)
    again, again_ids = _masked(json.loads(es_bulk._created(bulk, time.perf_counter())))
    assert again == slow
    if id_ is None:
        assert again_ids[0][:12] != fast_ids[0][:12], "a new prefix for the next request"
