"""GitLab emoji webhooks: ``award`` adds a reaction (Create), ``revoke`` removes it (Delete) (round 31).

Payload: GitLab's "Webhook events" documentation, "Emoji events" (``object_kind`` emoji, ``event_type``
and ``object_attributes.action`` award; the revoke one is the same with ``revoke``), as GitLab's
merge request 123952 that added the hook shows it; abridged to the keys the mapping reads. The award
was activity Other.
"""

from __future__ import annotations

import json

from secpipe import formats

AWARD = {
    "object_kind": "emoji", "event_type": "award",
    "user": {"id": 1, "name": "Blake Bergstrom", "username": "root", "email": "[REDACTED]"},
    "project_id": 6,
    "project": {"id": 6, "name": "Flight", "web_url": "http://gdk.test:3000/flightjs/Flight", "path_with_namespace": "flightjs/Flight"},
    "object_attributes": {"user_id": 1, "created_at": "2023-07-04 20:44:11 UTC", "id": 1, "name": "thumbsup",
                          "awardable_type": "Note", "awardable_id": 363, "updated_at": "2023-07-04 20:44:11 UTC",
                          "action": "award", "awarded_on_url": "http://gdk.test:3000/flightjs/Flight/-/issues/42#note_363"},
}  # fmt: skip


def test_emoji_award_and_revoke_activities() -> None:
    revoke = json.loads(json.dumps(AWARD))
    revoke["event_type"] = revoke["object_attributes"]["action"] = "revoke"
    data = b"\n".join(json.dumps(p).encode() for p in (AWARD, revoke))
    dec = formats.get("gitlab").decode(data, "test")
    assert not dec.dead
    rows = [r for b in dec.batches for r in b.to_pylist()]
    assert [(r["activity_name"], r["api"]["operation"]) for r in rows] == [("Create", "emoji.award"), ("Delete", "emoji.revoke")]
    assert rows[0]["actor"]["user"]["name"] == "root"
    assert {"type": "emoji", "name": "thumbsup", "uid": "1"} in rows[0]["resources"]


def test_emoji_awards_walked_natively_have_the_same_activity() -> None:
    from secpipe.formats import _gitlab_native

    n = max(_gitlab_native.MIN_BATCH, 64)
    data = b"\n".join(json.dumps({**AWARD, "object_attributes": {**AWARD["object_attributes"], "id": i}}).encode() for i in range(n))
    dec = formats.get("gitlab").decode(data, "test")
    rows = [r for b in dec.batches for r in b.to_pylist()]
    assert len(rows) == n and {r["activity_name"] for r in rows} == {"Create"}
