"""Windows events exported as XML (wevtutil /f:xml, Get-WinEvent ToXml, Event Viewer's Save as XML):
``--format auto`` reads them as the evtx JSON records the json format maps, where SigmaHQ's Windows
rules read them; they were dead-lettered as unrecognized input.

Events: tests/cases/evtx_xml (see SOURCES.md): Microsoft's 4624 and 4688 event XML, an Event Viewer
export, SigmaHQ's wocao regression record (Sysmon 1) as Windows renders it in XML. Rules:
tests/cases/sigma_holdout (SigmaHQ).
"""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from secpipe import formats
from secpipe.cli.main import _register, app
from secpipe.detect.sigma import load_rules
from tests.unit.holdout_support import sigma_rows as _rows

CASES = Path(__file__).resolve().parents[1] / "cases"
XML = CASES / "evtx_xml"
RULES = CASES / "sigma_holdout"


def _records(body: bytes) -> list[dict]:
    dec = formats.get("evtx_xml").decode(body, "test")
    assert not dec.dead, dec.dead
    return [orjson.loads(r) for b in dec.batches for r in b.column("raw_data").to_pylist()]


def test_auto_detects_each_export_shape() -> None:
    for name in ("ms-docs-4624.xml", "ms-docs-4688.xml", "eventviewer-dns-4013.xml", "sigmahq-wocao-sysmon1.xml"):
        body = (XML / name).read_bytes()
        got = formats.detect(body[:65536])
        assert got is not None and got.name == "evtx_xml", name
        assert formats.detect(body.decode().encode("utf-16")[:65536]) is got, name  # a UTF-16 export
    assert formats.detect(b'<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.5"/>').name == "sbom"
    assert formats.detect(b"<Events><Event><System/></Event></Events>") is None  # not the event schema
    assert formats.detect(b"<14>Mar  1 10:00:00 wec nxlog: <Event xmlns='http://schemas.microsoft.com/win/2004/08/"
                          b"events/event'><System/></Event>") is not formats.get("evtx_xml")  # a syslog line
    # PowerShell 5's redirection writes UTF-16; two exports concatenated (each with its declaration)
    export = (XML / "eventviewer-dns-4013.xml").read_text()
    assert _records((export + export).encode("utf-16")) == _records(export.encode()) * 2


def test_records_are_the_evtx_json_of_the_event() -> None:
    # SigmaHQ's regression record (the evtx crate's JSON) and the same event as wevtutil writes it
    want = orjson.loads((RULES / "sigmahq-regression-proc_creation_win_apt_wocao.json").read_bytes())["Event"]
    (got,) = _records((XML / "sigmahq-wocao-sysmon1.xml").read_bytes())
    got = got["Event"]
    assert got["#attributes"] == want["#attributes"]
    assert {k: v for k, v in got["System"].items() if k != "Provider"} == \
        {k: v for k, v in want["System"].items() if k != "Provider"}  # numbers as numbers, <Correlation/> null
    assert got["EventData"] == {k: str(v) for k, v in want["EventData"].items()}  # XML has no types
    (logon,) = _records((XML / "ms-docs-4624.xml").read_bytes())
    assert logon["Event"]["System"]["Security"] is None
    assert logon["Event"]["System"]["Correlation"] == {"#attributes": {"ActivityID": "{00D66690-1CDF-0000-AC66-D600DF1CD101}"}}
    assert logon["Event"]["EventData"]["ProcessName"] == "C:\\Windows\\System32\\svchost.exe"
    (proc,) = _records((XML / "ms-docs-4688.xml").read_bytes())
    assert proc["Event"]["EventData"]["CommandLine"] is None  # <Data Name="CommandLine" />
    (dns,) = _records((XML / "eventviewer-dns-4013.xml").read_bytes())
    assert dns["Event"]["EventData"] == {"#attributes": {"Name": "DNS_EVENT_DS_OPEN_WAIT"}}
    assert dns["Event"]["RenderingInfo"]["Level"] == "Avertissement"


def test_classic_logs_unnamed_data_and_qualifiers() -> None:
    # Windows PowerShell's classic log as Event Viewer saves it (a CTF write-up's PowerShell.xml, cut)
    body = (b"<Events><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
            b"<Provider Name='PowerShell'/><EventID Qualifiers='0'>400</EventID><Level>4</Level><Task>4</Task>"
            b"<Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='2020-09-20T06:30:07.000000000Z'/>"
            b"<EventRecordID>18</EventRecordID><Channel>Windows PowerShell</Channel><Computer>WIN-6CNOVHMFLR0</Computer>"
            b"<Security/></System><EventData><Data>Available</Data><Data>None</Data><Data>\tNewEngineState=Available\n"
            b"\tHostName=ConsoleHost\n\tHostApplication=powershell.exe -enc SQBFAFgA</Data></EventData></Event></Events>")
    (rec,) = _records(body)
    assert rec["Event"]["System"]["EventID"] == {"#attributes": {"Qualifiers": 0}, "#text": 400}
    assert rec["Event"]["EventData"]["Data"]["#text"][:2] == ["Available", "None"]
    rule = RULES / "posh_pc_tamper_windows_defender_set_mp.yml"
    assert _rows(load_rules([rule]), orjson.dumps(rec)) == []  # a ps_classic_start event, no Defender tampering


def test_sigmahq_rule_fires_on_the_xml_event_only(tmp_path: Path) -> None:
    wocao = load_rules([RULES / "proc_creation_win_apt_wocao.yml"])
    body = (XML / "sigmahq-wocao-sysmon1.xml").read_bytes()
    dec = formats.get("evtx_xml").decode(body, "t")
    assert sum(len(wocao.matches(b)) for b in dec.batches) == 1
    for near in ("ms-docs-4688.xml", "ms-docs-4624.xml"):  # a process creation (4688) without wocao's command line
        dec = formats.get("evtx_xml").decode((XML / near).read_bytes(), "t")
        assert sum(len(wocao.matches(b)) for b in dec.batches) == 0, near
    # a 4624 rule's integer values match the XML's text (LogonType 2, an interactive logon)
    logon = formats.get("evtx_xml").decode((XML / "ms-docs-4624.xml").read_bytes(), "t")
    rule = tmp_path / "r.yml"
    for n, hits in ((2, 1), (10, 0)):
        rule.write_text("title: t\nid: 6d4f0a5e-8f9a-4b6e-9a51-3c7c8e1b2f40\nlogsource: {product: windows, service: security}\n"
                        f"detection:\n  sel:\n    EventID: 4624\n    LogonType: {n}\n    TargetUserName: Administrator\n"
                        "  condition: sel\nlevel: low\n")
        assert sum(len(load_rules([rule]).matches(b)) for b in logon.batches) == hits, n


def test_a_broken_event_and_a_dtd_are_dead_lettered() -> None:
    good = (XML / "sigmahq-wocao-sysmon1.xml").read_bytes().strip()
    broken = good.replace(b"</EventData>", b"</EventDat>")
    dec = formats.get("evtx_xml").decode(good + b"\r\n" + broken + b"\r\n" + good + b"\r\n", "w.xml")
    assert dec.events == 3 and sum(b.num_rows for b in dec.batches) == 2
    assert len(dec.dead) == 1 and dec.dead[0].reason.startswith("invalid Windows event XML (event 1): mismatched tag")
    assert dec.dead[0].raw.strip() == broken
    bomb = (b'<?xml version="1.0"?><!DOCTYPE Events [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b"<Events>" + good.replace(b"SigmaCatchVm</Computer>", b"&b;</Computer>") + b"</Events>")
    assert formats.detect(bomb).name == "evtx_xml"
    dec = formats.get("evtx_xml").decode(bomb, "b.xml")
    assert not dec.batches and dec.events == 1
    assert dec.dead[0].reason == "Windows event XML with a DTD or entity declaration (<!DOCTYPE/<!ENTITY refused)"


def test_auto_ingest_then_hunt(tmp_path: Path) -> None:
    _register()
    data = tmp_path / "data"
    runner = CliRunner()
    got = runner.invoke(app, ["ingest", "--format", "auto", "--data", str(data), str(XML / "sigmahq-wocao-sysmon1.xml"),
                              str(XML / "ms-docs-4688.xml")])
    assert got.exit_code == 0, got.output
    got = runner.invoke(app, ["hunt", "--data", str(data), "-r", str(RULES / "proc_creation_win_apt_wocao.yml"), "--json"])
    assert got.exit_code == 0, got.output
    assert orjson.loads(got.output.strip().splitlines()[-1])["findings"] == 1


def test_input_with_no_event_is_dead_lettered_not_a_crash() -> None:
    # the format given JSON (the mutation fuzz's cross-format mode: a GitHub Actions jobs page) raised
    # ValueError out of decode (the whole body lost): it is one dead letter naming what is missing
    doc = (Path(__file__).parents[1] / "cases" / "github_actions28" / "jobs-luoda.json").read_bytes()
    d = formats.get("evtx_xml").decode(doc, "x")
    assert (d.batches, d.events, [x.reason for x in d.dead]) == ([], 1, ["no <Event> element of the Windows event schema"])
