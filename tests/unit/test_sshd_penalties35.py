"""sshd's PerSourcePenalties records (OpenSSH 9.8+ srclimit.c ``srclimit_penalise``) -> Network Activity (4001).

Lines: the two sshd lines of jtesta/ssh-audit issue #349 (a stock OpenSSH 10.3p1 server, default settings: an
``activating`` penalty and the ``drop connection`` it causes; the issue wrapped each line in two and left the
stamp, host and pid out: given here), and the ``deferred`` line a published n8n troubleshooting write-up quotes
(cut after "seconds"). Expected values are read from them and from srclimit.c at openssh-portable 49480f1934
(the formats ``%s: new %s %s penalty of %.3f seconds for %s``, ``%s: activating %s penalty of %.3f seconds for
%s`` and ``%s penalty table full, cannot penalise %s for %s``, behind the function name), not from the mapping.
"""

from __future__ import annotations

import json
from typing import Any

from secpipe.formats.syslog import Syslog
from secpipe.schema.ocsf import validate_batch

HEAD = b"Jun 16 10:00:0%d host sshd[4242]: "
ISSUE_349 = [
    b"srclimit_penalise: 127.0.0.1/32: activating ipv4 penalty of 15.76 seconds for penalty: connections without "
    b"attempting authentication",
    b"drop connection #2 from [127.0.0.1]:40046 on [127.0.0.1]:22 penalty: connections without attempting "
    b"authentication",
]
DEFERRED = b"srclimit_penalise: ipv4: new 192.168.192.199/32 deferred penalty of 10 seconds"


def _rows(lines: list[bytes]) -> list[dict[str, Any]]:
    doc = b"".join(HEAD % i + line + b"\n" for i, line in enumerate(lines))
    d = Syslog().decode(doc, "sshd")
    assert d.dead == [] and d.events == len(lines)
    rows = []
    for b in d.batches:
        assert validate_batch(b.column("class_name")[0].as_py().lower().replace(" ", "_"), b.schema) == []
        rows.extend(b.to_pylist())
    return sorted(rows, key=lambda r: r["time"])


def test_an_activating_penalty_blocks_the_source_and_its_drop_follows() -> None:
    pen, drop = _rows(ISSUE_349)
    assert (pen["class_uid"], pen["activity_id"], pen["activity_name"], pen["type_uid"]) == (4001, 99, "Penalty", 400199)
    assert (pen["action"], pen["disposition"]) == ("Denied", "Blocked")
    assert pen["status_detail"] == "penalty: connections without attempting authentication"
    assert pen["src_endpoint"]["ip"] == "127.0.0.1" and pen["src_endpoint"].get("port") is None
    assert pen.get("dst_endpoint") is None
    ci = pen["connection_info"]
    assert (ci["direction"], ci["protocol_name"], ci["protocol_ver_id"]) == ("Inbound", "tcp", 4)
    assert json.loads(pen["unmapped"])["sshd"] == {"penalty": "activating", "seconds": 15.76, "masklen": 32,
                                                   "family": "ipv4"}  # fmt: skip
    assert pen["actor"]["process"] == {"name": "sshd", "pid": 4242}
    # the refused connection (unchanged: session 34's reader)
    assert (drop["activity_name"], drop["src_endpoint"]["port"], drop["dst_endpoint"]["port"]) == ("Refuse", 40046, 22)
    assert json.loads(drop["unmapped"])["sshd"] == {"startups": 2}


def test_new_deferred_and_table_full_penalties() -> None:
    lines = [
        DEFERRED,
        b"srclimit_penalise: ipv6: new 2001:db8::7/64 active penalty of 30.000 seconds for penalty: failed "
        b"authentication",
        b"srclimit_penalise: ipv4 penalty table full, cannot penalise 198.51.100.9/32 for penalty: attempted "
        b"authentication by invalid user",
    ]
    deferred, active, full = _rows(lines)
    assert (deferred["action"], deferred["disposition"], deferred.get("status_detail")) == ("Observed", "Logged", None)
    assert json.loads(deferred["unmapped"])["sshd"] == {"penalty": "deferred", "seconds": 10, "masklen": 32,
                                                        "family": "ipv4"}  # fmt: skip
    assert (active["action"], active["src_endpoint"]["ip"], active["connection_info"]["protocol_ver_id"]) == \
        ("Denied", "2001:db8::7", 6)  # fmt: skip
    assert (full["action"], full["disposition"], full["status_detail"]) == \
        ("Observed", "No Action", "penalty: attempted authentication by invalid user")  # fmt: skip
    assert json.loads(full["unmapped"])["sshd"] == {"penalty": "table full", "masklen": 32, "family": "ipv4"}


def test_other_penalty_text_stays_a_base_event() -> None:
    # srclimit_penalty_info's listing (sshd's SIGINFO) and a cut line are no penalty decision
    rows = _rows([b"srclimit_penalise: ipv4: new 10.0.0.1", b"client 10.0.0.1/32 penalty: failed authentication "
                  b"(12.000 secs left)"])  # fmt: skip
    assert [r["class_uid"] for r in rows] == [0, 0]
