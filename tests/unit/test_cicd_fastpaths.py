"""The CI/CD formats' fast paths give what the plain paths give.

Covers the paths added for throughput: NDJSON lines compacted from views of the document,
one batched msgspec decode per view (with record-by-record isolation when a record is bad),
GitLab webhooks mapped column by column, GitHub main objects read with the payload (and the
fallback when one cannot be), and ISO times without an aware copy. Expected values come from
the inputs written here and Python's own datetime arithmetic, not from running the formats.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import msgspec
import pytest

from secpipe.formats._cicd import iso_ms
from secpipe.formats.base import split_json_records
from secpipe.formats.github import GitHub
from secpipe.formats.gitlab import GitLab
from secpipe.formats.jenkins import Jenkins


def _rows(dec) -> list[dict]:
    return [r for b in dec.batches for r in b.to_pylist()]


def test_ndjson_lines_offsets_whitespace_and_dead_letters() -> None:
    lines = [b'{"a": 1}', b"", b"  \r", b'\t{"b":[1, 2]}\r', b"[1]", b"{bad", b'{"c":"x y"}{"d":2}', b'{"e":3}']
    data = b"\n".join(lines)
    raws, offs, dead = split_json_records(data, "src", "fmt")
    starts = [sum(len(x) + 1 for x in lines[:i]) for i in range(len(lines))]
    assert raws == [b'{"a":1}', b'{"b":[1,2]}', b'{"c":"x y"}', b'{"d":2}', b'{"e":3}']
    assert offs == [starts[0], starts[3], starts[6], starts[6], starts[7]]
    assert [(d.reason.partition(":")[0], d.offset, d.raw) for d in dead] == [
        ("not a JSON object", starts[4], b"[1]"),
        ("invalid JSON", starts[5], b"{bad"),
    ]
    assert "malformed" in dead[1].reason  # msgspec's own words on what is wrong
    assert all(type(r) is bytes for r in raws) and all(type(d.raw) is bytes for d in dead)


def test_gitlab_batch_with_a_bad_record_dead_letters_only_it() -> None:
    push = {"object_kind": "push", "user_username": "ann", "ref": "refs/heads/main", "before": "0" * 40,
            "after": "a" * 40, "total_commits_count": 2, "project": {"id": 7, "path_with_namespace": "g/p"}}  # fmt: skip
    bad = dict(push, total_commits_count="two")  # wrong type for a typed field
    audit = {"author_id": 1, "author_name": "Ann", "entity_type": "Project", "entity_path": "g/p",
             "event_type": "project_created", "created_at": "2024-01-02T03:04:05Z", "extra": {"k": [1, 2]}}  # fmt: skip
    data = b"\n".join(json.dumps(x).encode() for x in (push, bad, audit))
    dec = GitLab().decode(data, "t")
    assert len(dec.dead) == 1 and dec.dead[0].offset == len(json.dumps(push)) + 1
    assert "not a GitLab record" in dec.dead[0].reason
    rows = {r["api"]["operation"]: r for r in _rows(dec)}
    hook, ev = rows["push"], rows["project_created"]
    assert hook["activity_id"] == 1 and hook["message"] == "ann pushed 2 commit(s) to refs/heads/main"
    assert hook["resources"] == [{"type": "project", "name": "g/p", "uid": "7"},
                                 {"type": "git_ref", "name": "refs/heads/main", "uid": "a" * 40}]  # fmt: skip
    assert json.loads(hook["unmapped"]) == {"before": "0" * 40, "total_commits_count": 2}
    assert ev["time"] == int(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC).timestamp() * 1000)
    assert json.loads(ev["unmapped"]) == {"extra": {"k": [1, 2]}}


def test_gitlab_webhook_without_project_has_no_resources_column() -> None:
    note = {"object_kind": "note", "user": {"username": "bo"}}
    dec = GitLab().decode(json.dumps(note).encode(), "t")
    (batch,) = dec.batches
    assert "resources" not in batch.schema.names  # every value null: left out, as before


def test_jenkins_batch_isolates_a_bad_record() -> None:
    good = {"_class": "hudson.model.FreeStyleBuild", "number": 3, "result": "SUCCESS", "timestamp": 1700000000000,
            "duration": 5000, "fullName": "app/build", "artifacts": []}  # fmt: skip
    data = b"\n".join(json.dumps(x).encode() for x in (good, dict(good, number="x"), dict(good, number=4)))
    dec = Jenkins().decode(data, "t")
    assert len(dec.dead) == 1
    rows = _rows(dec)
    assert [r["metadata"]["correlation_uid"] for r in rows] == ["app/build#3", "app/build#4"]
    assert rows[0]["time"] == 1700000005000 and json.loads(rows[0]["unmapped"]) == {"artifacts": []}


def _issue_payload(**extra: object) -> dict:
    return {"action": "opened", "issue": {"number": 1, "created_at": "2024-05-01T10:00:00Z",
            "updated_at": "2024-05-02T11:30:00Z"}, "repository": {"id": 9, "full_name": "o/r"},
            "sender": {"login": "octo", "id": 5}, **extra}  # fmt: skip


def test_github_generic_event_time_from_its_main_object() -> None:
    (row,) = _rows(GitHub().decode(json.dumps(_issue_payload()).encode(), "t"))
    assert row["api"]["operation"] == "issues.opened"
    assert row["time"] == int(dt.datetime(2024, 5, 2, 11, 30, tzinfo=dt.UTC).timestamp() * 1000)


def test_github_payload_with_an_out_of_range_number_is_still_mapped() -> None:
    # msgspec cannot hold 1e999 as a Python value; the payload is read without the main objects
    data = json.dumps(_issue_payload()).encode()[:-1] + b',"label":1e999}'
    dec = GitHub().decode(data, "t")
    assert dec.dead == []
    (row,) = _rows(dec)
    assert row["time"] == int(dt.datetime(2024, 5, 2, 11, 30, tzinfo=dt.UTC).timestamp() * 1000)
    assert b'"label":1e999' in row["unmapped"].encode()


def test_iso_ms_matches_the_timestamp_arithmetic() -> None:
    rnd = random.Random(7)
    zones = [dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(dt.timedelta(hours=-8))]
    for _ in range(3000):
        t = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rnd.randint(-10**9, 4 * 10**9),
                                                                  microseconds=rnd.randint(0, 999_999))  # fmt: skip
        local = t.astimezone(rnd.choice(zones))
        expected = int(t.timestamp() * 1000)
        assert iso_ms(local.isoformat()) == expected
        assert iso_ms(t.replace(tzinfo=None).isoformat()) == expected  # naive = UTC
        assert iso_ms(t.strftime("%Y-%m-%d %H:%M:%S UTC")) == int(t.replace(microsecond=0).timestamp() * 1000)


def test_iso_ms_of_huge_epoch_numbers_is_no_time() -> None:
    """A JSON number time past ~1.8e305 s is infinite once in ms: no usable time, not a crash
    (int(inf) raised OverflowError, which dead-lettered the whole document)."""
    for v in (1e306, -1e306, 1.7e308, 9.3e18, -9.3e18):
        assert iso_ms(v) is None, v
    assert iso_ms(1.7e9) == 1_700_000_000_000 and iso_ms(1.7e12) == 1_700_000_000_000
    audit = {"action": "repo.create", "actor": "octocat", "org": "github", "repo": "github/x", "created_at": 1e306,
             "@timestamp": 1700000000000}  # fmt: skip
    dec = GitHub().decode(json.dumps(audit).encode(), "huge")
    assert dec.dead == [] and _rows(dec)[0]["time"] == 1_700_000_000_000


def test_msgspec_still_rejects_out_of_range_numbers_as_values() -> None:
    """Why the GitHub fallback exists: this must raise for the test above to mean something."""
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b"1e999", type=float)
