"""Holdout sweep round 28: MISP events that are not published; PhishTank's brand, id and verification.

MISP releases an event (to sharing partners, feeds, IDS exports) when it is published; until then it is a draft its
analysts have not vetted, and PyMISP's feed generator exports published events only (its default filter
``{'published': 'true'}``). A SOC does not alert on drafts: an export's events with ``"published": false`` (or the
``"0"`` of older exports) give no indicator by default, their attributes count as context (as ``to_ids``-off ones do),
and ``unpublished: true`` on the feed takes them. Samples: PyMISP's ``tests/mispevent_testfiles/existing_event.json``
(not published) and the real events of ``pymisp/feed-derived`` (3 published, 2 not), under /work/shared/data/real.

PhishTank's data files (phishtank.org developer_info: ``online-valid.csv`` / ``.json``, columns
``phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target``): the ``target`` is the
brand the phish imitates (a label an analyst filters on; ``Other`` is none), ``phish_id`` the entry's id (the ref), and
a submission the community has not verified (``verified: no``, in the API's and full dumps) is no indicator.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secpipe.transforms.enrich.intel.feeds import Feed
from secpipe.transforms.enrich.intel.loaders import load, load_misp_feed
from secpipe.transforms.enrich.options import FeedOptions


@pytest.fixture
def pymisp(real: Path) -> Path:
    return real / "threat-intel" / "pymisp"


def test_an_unpublished_event_gives_no_indicator_unless_the_feed_asks(pymisp: Path, tmp_path: Path) -> None:
    path = pymisp / "tests/mispevent_testfiles/existing_event.json"
    draft = Feed(FeedOptions(name="drafts", path=str(path)))
    assert draft.refresh(0) and draft.state.error is None  # an empty feed, not a refresh error
    assert draft.state.table is not None and draft.state.table.num_rows == 0 and draft.state.skipped > 0
    taken = Feed(FeedOptions(name="drafts", path=str(path), unpublished=True))
    assert taken.refresh(0) and taken.state.table is not None and taken.state.table.num_rows == 68
    # the same event, published (the flag as older exports spell it, "1"): its indicators
    doc = json.loads(path.read_bytes())
    doc["published"] = "1"
    assert load(json.dumps(doc).encode(), "misp", conf=70).table.num_rows == 68
    doc["published"] = "0"
    assert load(json.dumps(doc).encode(), "misp", conf=70).table.num_rows == 0


def test_a_feed_directory_takes_its_published_events(pymisp: Path) -> None:
    feed = pymisp / "feed-derived"
    published = {json.loads((feed / f"{u}.json").read_bytes())["Event"]["info"]
                 for u in json.loads((feed / "manifest.json").read_bytes())
                 if json.loads((feed / f"{u}.json").read_bytes())["Event"]["published"]}
    assert len(published) == 3
    f = Feed(FeedOptions(name="circl", path=str(feed), format="misp_feed"))
    assert f.refresh(0) and f.state.table is not None
    assert set(f.state.table.column("description").to_pylist()) == published
    assert len(set(load_misp_feed(feed, 70, unpublished=True).table.column("description").to_pylist())) == 5


def test_an_attribute_search_answer_drops_the_attributes_of_unpublished_events() -> None:
    attr = {"type": "ip-dst", "value": "198.51.100.7", "to_ids": True, "uuid": "a1"}
    body = {"response": {"Attribute": [
        {**attr, "Event": {"info": "released", "published": True}},
        {**attr, "value": "203.0.113.9", "uuid": "a2", "Event": {"info": "draft", "published": False}},
        {**attr, "value": "192.0.2.5", "uuid": "a3", "Event": {"info": "no flag"}}]}}
    out = load(json.dumps(body).encode(), "misp", conf=70)
    assert sorted(out.table.column("value").to_pylist()) == ["192.0.2.5", "198.51.100.7"]
    assert len(load(json.dumps(body).encode(), "misp", conf=70, unpublished=True).table) == 3


PHISHTANK_CSV = (b"phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target\n"
                 b"8415373,https://secure-paypal.example.com/webapps/signin,"
                 b"http://www.phishtank.com/phish_detail.php?phish_id=8415373,2024-01-01T10:00:00+00:00,yes,"
                 b"2024-01-01T10:05:00+00:00,yes,PayPal\n"
                 b"8415374,http://login.example.net/,http://www.phishtank.com/phish_detail.php?phish_id=8415374,"
                 b"2024-01-01T11:00:00+00:00,yes,2024-01-01T11:05:00+00:00,yes,Other\n"
                 b"8415375,http://maybe.example.org/,http://www.phishtank.com/phish_detail.php?phish_id=8415375,"
                 b"2024-01-01T12:00:00+00:00,no,,yes,Other\n")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_phishtank_entries_name_their_brand_and_id_and_unverified_ones_are_skipped(fmt: str) -> None:
    import csv
    import io

    body = PHISHTANK_CSV
    if fmt == "json":
        rows = list(csv.DictReader(io.StringIO(PHISHTANK_CSV.decode())))
        body = json.dumps([{**r, "details": [{"ip_address": "198.51.100.7", "country": "US"}]} for r in rows]).encode()
    out = load(body, "auto", conf=70)
    got = [(r["value"], r["labels"], r["ref"]) for r in out.table.to_pylist()]
    assert got == [("https://secure-paypal.example.com/webapps/signin", ["PayPal"], "8415373"),
                   ("http://login.example.net/", None, "8415374")]
    assert out.skipped == 1


def test_otx_pulse_malware_families_and_adversary_are_labels() -> None:
    """An OTX pulse names its malware families (the subscribed-pulses page: names; the pulse API: objects with
    ``display_name``) and its adversary (``""`` when none): an analyst filters matches on them, as on its tags."""
    indicators = [{"id": 1, "indicator": "198.51.100.7", "type": "IPv4", "is_active": 1, "expiration": None}]
    pulse = {"id": "6523a0a1b2c3", "name": "Emotet epoch 5 C2", "tags": ["emotet", "botnet"], "TLP": "white",
             "adversary": "TA542", "malware_families": [{"id": "Emotet", "display_name": "Emotet", "target": None}],
             "attack_ids": [{"id": "T1071", "name": "Application Layer Protocol", "display_name": "T1071"}],
             "indicators": indicators}
    subscribed = {"results": [{**pulse, "malware_families": ["Emotet", "Heodo"], "adversary": ""}], "count": 1,
                  "next": None}
    for doc, labels in ((pulse, ["emotet", "botnet", "Emotet", "TA542"]),
                        (subscribed, ["emotet", "botnet", "Emotet", "Heodo"])):
        rows = load(json.dumps(doc).encode(), "auto", conf=70).table.to_pylist()
        assert [(r["value"], r["labels"], r["ref"]) for r in rows] == [("198.51.100.7", labels, "6523a0a1b2c3")]
