"""What :func:`secpipe.server.shipped.text_lines` hands a format an index or sourcetype is mapped
to, for shippers' documents of round 26's samples (tests/cases/wire_holdout/SOURCE.md)."""

from __future__ import annotations

import json
from pathlib import Path

from secpipe.server.shipped import text_lines

WIRE = Path(__file__).parents[1] / "cases" / "wire_holdout"


def test_journald_document_bound_for_syslog_is_the_journal_entry() -> None:
    sudo = (WIRE / "elastic-agent-journald-auth.ndjson").read_bytes().splitlines()[0]
    (entry,) = text_lines([sudo], "syslog")
    got = json.loads(entry)
    # the sample's syslog.identifier/priority/facility, host.hostname, journald.process.name/pid, @timestamp
    assert got["SYSLOG_IDENTIFIER"] == "sudo" and got["PRIORITY"] == "1" and got["SYSLOG_FACILITY"] == "10"
    assert got["_HOSTNAME"] == "bullseye" and got["_COMM"] == "sudo" and got["_PID"] == "34581"
    assert got["__REALTIME_TIMESTAMP"] == "1730755481568000"  # 2024-11-04T21:24:41.568Z
    assert got["MESSAGE"].startswith("     foo : user NOT in sudoers ;")


def test_record_format_gets_the_wrapped_record_only_when_it_reads_it() -> None:
    record = (WIRE / "elastic-cloudtrail-console-login.log").read_bytes().strip()
    wrapper = json.dumps({"message": record.decode(), "input": {"type": "aws-s3"}}).encode()
    other = json.dumps({"message": "not a CloudTrail record", "input": {"type": "aws-s3"}}).encode()
    assert text_lines([wrapper, record, other], "cloudtrail") == [record, record, other]
    # per-document names: only the documents bound for that format
    assert text_lines([wrapper, wrapper], ["cloudtrail", None]) == [record, wrapper]
