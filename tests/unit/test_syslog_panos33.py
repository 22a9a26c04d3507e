"""Session 33: PAN-OS SYSTEM logs of subtype ``auth`` are Authentication events.

PAN-OS's System Log Fields (FUTURE_USE, Receive Time, Serial Number, Type, Subtype, FUTURE_USE, Generated
Time, Virtual System, Event ID, Object, FUTURE_USE, FUTURE_USE, Module, Severity, Description, Sequence
Number, Action Flags, ...): Event ID ``auth-fail`` / ``auth-success``. Real lines: syslog-ng's panos-parser
test (tests/cases/syslog33/syslog-ng-panos-system-auth.log); the success line and the quoted Description
(PAN-OS quotes a field holding a comma) are written to that layout. They were Base Events.
"""

from __future__ import annotations

from pathlib import Path

from secpipe import formats

CASES = Path(__file__).parent.parent / "cases" / "syslog33"
BUILT = (
    '<14>Jan  5 10:00:03 PA-VM 1,2024/01/05 10:00:03,007951000012345,SYSTEM,auth,2560,2024/01/05 10:00:03,,auth-success,,0,0,'
    "general,informational,\"authenticated for user 'ops'.  auth profile 'corp', vsys 'shared', server profile 'ad', "
    "server type 'LDAP', From: 2001:db8::53.\",12346,0x0,0,0,0,0,,PA-VM\n"
)  # fmt: skip


def test_panos_system_auth() -> None:
    data = (CASES / "syslog-ng-panos-system-auth.log").read_bytes() + BUILT.encode()
    dec = formats.get("syslog").decode(data, "test")
    assert not dec.dead
    rows = [r for b in dec.batches for r in b.to_pylist()]
    got = sorted((r["class_uid"], r["status"], r["user"]["name"], r["src_endpoint"]["ip"], r.get("status_detail"),
                  r["service"]["name"]) for r in rows)  # fmt: skip
    assert got == [
        (3002, "Failure", "admin", "10.0.10.55", "Invalid username/password", "PAN-OS"),
        (3002, "Failure", "admin", "10.0.10.55", "Invalid username/password", "PAN-OS"),
        (3002, "Success", "ops", "2001:db8::53", None, "PAN-OS"),
    ]
