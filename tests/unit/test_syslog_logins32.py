"""Dropbear, BSD su, doas and older PAM logins in syslog (session 32).

Lines: Wazuh's decoder tests (wazuh/wazuh ``ruleset/testing/tests/``): ``dropbear.ini`` (Dropbear's
``Bad password attempt for 'U' from A:P``, ``Login attempt for nonexistent user from A:P``, ``Pubkey
auth succeeded for 'U' with key FP from A:P``: svr-authpasswd.c, svr-auth.c, svr-authpubkey.c),
``su.ini`` (the BSDs' su: ``BAD SU U to T on TTY`` / ``U to T on TTY``, FreeBSD su.c) and ``pam.ini``
(an older pam_unix's own ``N more authentication failures; ...``), ``doas.ini`` (OpenBSD's doas). All were
Base Events.
"""

from __future__ import annotations

import json
from typing import Any

from secpipe import formats

LINES = [
    "Jan  8 16:39:33 tp.lan dropbear[14824]: Bad password attempt for 'root' from 193.219.28.149:48629",
    "Jan  8 19:54:12 tp.lan dropbear[15197]: Login attempt for nonexistent user from 182.72.89.122:4328",
    "Jan  8 19:32:41 tp.lan dropbear[15165]: Pubkey auth succeeded for 'root' with key md5 "
    "78:d6:41:ca:78:37:80:88:1d:15:0a:68:91:d1:4e:ad from 10.10.10.241:51737",
    "Apr 27 15:22:23 niban su[234]: BAD SU ger to fwmaster on /dev/ttyp0",
    "Apr 22 17:51:51 enigma su: dcid to root on /dev/ttyp1",
    "Nov 11 22:46:29 localhost sshd(pam_unix)[15794]: 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= "
    "rhost=10.0.3.1  user=root",
]


def _rows() -> list[dict[str, Any]]:
    dec = formats.get("syslog").decode("\n".join(LINES).encode(), "test")
    assert not dec.dead
    return sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: LINES.index(r["raw_data"]))


def _auth(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["class_name"], r["activity_name"], r["status"], (r.get("user") or {}).get("name"),
            ((r.get("actor") or {}).get("user") or {}).get("name"))  # fmt: skip


def test_embedded_bsd_and_old_pam_logins() -> None:
    bad, nobody, pubkey, bad_su, su, more = _rows()
    assert _auth(bad) == ("Authentication", "Logon", "Failure", "root", None)
    assert (bad["src_endpoint"], bad["auth_protocol"]) == ({"ip": "193.219.28.149", "port": 48629}, "password")
    assert _auth(nobody)[:4] == ("Authentication", "Logon", "Failure", None) and nobody["status_detail"] == "nonexistent user"
    assert _auth(pubkey) == ("Authentication", "Logon", "Success", "root", None) and pubkey["auth_protocol"] == "publickey"
    assert _auth(bad_su) == ("Authentication", "Account Switch", "Failure", "fwmaster", "ger")
    assert _auth(su) == ("Authentication", "Account Switch", "Success", "root", "dcid")
    assert _auth(more)[:4] == ("Authentication", "Logon", "Failure", "root") and more["count"] == 2
    assert more["src_endpoint"]["ip"] == "10.0.3.1"


#: Wazuh's doas.ini (OpenBSD doas.c: ``%s ran command %s as %s from %s``, ``failed auth for %s``, and the
#: older ``ran command as %s: %s`` / ``failed command for %s: %s``)
DOAS = [
    "Apr 13 08:49:20 ix doas: failed command for ddp2: ls",
    "Mar 22 07:21:58 ix doas: ddp ran command /bin/ksh as root from /data/ddp/projects/git/sysconf/ossec/rules",
    "Feb 29 14:58:39 ix doas: failed auth for ddp",
    "Aug 13 15:16:40 ix doas: ddp ran command as ddpnfs: ls",
]


def test_doas_is_an_account_switch() -> None:
    dec = formats.get("syslog").decode("\n".join(DOAS).encode(), "test")
    rows = sorted((r for b in dec.batches for r in b.to_pylist()), key=lambda r: DOAS.index(r["raw_data"]))
    assert [_auth(r) for r in rows] == [
        ("Authentication", "Account Switch", "Failure", None, "ddp2"), ("Authentication", "Account Switch", "Success", "root", "ddp"),
        ("Authentication", "Account Switch", "Failure", None, "ddp"), ("Authentication", "Account Switch", "Success", "ddpnfs", "ddp")]
    assert [r["status_detail"] for r in rows if r["status"] == "Failure"] == ["command not permitted", "failed auth"]
    assert [json.loads(r["unmapped"] or "{}").get("command") for r in rows] == ["ls", "/bin/ksh", None, "ls"]
