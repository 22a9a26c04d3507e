"""Real samples secpipe was not developed against, round 27: syslog and text logs
(``tests/cases/holdout``, see its SOURCE.md heading "Round 27 (logs)").

Expectations are written from the source documents and the formats' own references (the Linux
kernel's ``nf_log_syslog.c`` line layout, ufw's and EdgeOS's rule prefixes), not from secpipe's
output.
"""

from __future__ import annotations

import json
from pathlib import Path

from secpipe import formats
from tests.unit.test_formats_holdout import _auto, _rows


def test_netfilter_packet_logs_are_network_activity() -> None:
    """Elastic's iptables lines (kernel ``LOG`` target lines behind BSD and RFC 3339 headers,
    with and without ``<PRI>``, dmesg's uptime stamp, EdgeOS rule prefixes glued to ``IN=``, an
    ``iptables DROP_INPUT:`` prefix, a relay's ``DENY:`` TAG, IPv6 ICMPv6, ESP, forwarded UDP and
    ICMP): Network Activity Traffic (they were Base Events with the packet unread)."""
    name, d = _auto("elastic-iptables-raw.log")
    assert name == "syslog" and not d.dead and d.events == 24
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {4001} and {r["activity_id"] for r in rows} == {6}
    first = next(r for r in rows if r["raw_data"].startswith("<161>"))
    assert (first["action_id"], first["action"], first["disposition_id"], first["disposition"]) == (2, "Denied", 2, "Blocked")
    assert first["firewall_rule"]["name"] == "wan-lan-default-D" and first["device"]["hostname"] == "Hostname"
    assert (first["src_endpoint"]["ip"], first["src_endpoint"]["port"]) == ("67.43.156.15", 38842)
    assert (first["dst_endpoint"]["ip"], first["dst_endpoint"]["port"]) == ("10.4.0.5", 443)
    ci = first["connection_info"]
    assert (ci["direction_id"], ci["protocol_ver_id"], ci["protocol_num"], ci["protocol_name"]) == (1, 4, 6, "tcp")
    assert first["traffic"]["bytes"] == 52
    assert json.loads(first["unmapped"])["netfilter"] == {"in": "eth0", "mac": "90:10:20:76:8d:20:90:10:65:29:b6:2a:08:00", "tcp_flags": "ACK"}
    iso = next(r for r in rows if r["raw_data"].startswith("<6>2021-03-12"))
    assert iso["time"] == 1615558218000 and iso["severity_id"] == 1
    drop = [r for r in rows if "DROP_INPUT" in r["raw_data"]]
    assert len(drop) == 10 and {r["action"] for r in drop} == {"Denied"}
    assert {r["firewall_rule"]["name"] for r in drop} == {"iptables DROP_INPUT"}
    assert {r["dst_endpoint"]["port"] for r in drop} == {445, 1433, 80, 139, 8088}
    deny = next(r for r in rows if r["raw_data"].startswith("Jan  8 03:37:09 DENY:"))
    assert deny["action"] == "Denied" and deny["connection_info"]["protocol_name"] == "icmp"
    # an ICMP error quotes the packet it answers: the outer packet's addresses, no ports
    assert (deny["src_endpoint"]["ip"], deny["dst_endpoint"]["ip"]) == ("192.168.2.71", "192.168.2.83")
    assert deny["src_endpoint"]["port"] is None and deny["traffic"]["bytes"] == 88
    assert json.loads(deny["unmapped"])["netfilter"]["icmp_type"] == "3"
    v6 = next(r for r in rows if "OUT=enp0s3" in r["raw_data"])
    assert (v6["src_endpoint"]["ip"], v6["dst_endpoint"]["ip"]) == ("fe80::84:88ff:feae:790a", "ff02::16")
    assert v6["connection_info"]["direction_id"] == 2 and v6["connection_info"]["protocol_ver_id"] == 6
    assert (v6["connection_info"]["protocol_num"], v6["connection_info"]["protocol_name"]) == (58, "icmpv6")
    assert (v6["action_id"], v6["action"], v6["disposition_id"]) == (0, "Unknown", None)  # no prefix: no verdict
    accept = [r for r in rows if "[WAN_OUT-2000-A]" in r["raw_data"]]
    assert len(accept) == 3 and {r["action"] for r in accept} == {"Allowed"}
    assert {r["connection_info"]["direction_id"] for r in accept} == {0}  # IN and OUT: forwarded
    esp = next(r for r in rows if "PROTO=ESP" in r["raw_data"])
    assert (esp["connection_info"]["protocol_num"], esp["dst_endpoint"]["port"]) == (50, None)


def test_ufw_and_firewalld_prefixes_name_the_verdict() -> None:
    """ufw's ``[UFW BLOCK]`` after dmesg's stamp (a user's line quoted in a public question about
    feeding ufw logs to syslog-ng, its addresses anonymised there and here), ``[UFW AUDIT]`` (no
    verdict), firewalld's ``filter_IN_public_REJECT:`` (the prefix its ``LogDenied`` rules
    write), a bare dmesg line (quoted in a public forum thread, IPv6 link-local LLMNR): each is
    Network Activity with the prefix's verdict; a program's line that only mentions ``SRC=``
    stays a Base Event."""
    lines = [
        "Jun 23 08:51:22 server1 kernel: [486938.916177] [UFW BLOCK] IN=eth1 OUT= MAC=00:00:00:00:00:00:00:00:00:00:00:00:00:00 "
        "SRC=86.101.38.88 DST=10.1.1.1 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=51005 DF PROTO=TCP SPT=41945 DPT=16881 WINDOW=7300 RES=0x00 SYN URGP=0 ",
        "Feb 19 10:39:46 proxy kernel: [852160.927134] [UFW AUDIT] IN= OUT=eth0 SRC=10.0.0.2 DST=1.1.1.1 LEN=40 TOS=0x00 "
        "PREC=0x00 TTL=64 ID=47185 DF PROTO=TCP SPT=44991 DPT=443 WINDOW=1024 RES=0x00 SYN URGP=0 UID=1000 GID=1000",
        "Feb 19 10:39:47 fw kernel: filter_IN_public_REJECT: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 "
        "SRC=192.0.2.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=3306 WINDOW=64240 RES=0x00 SYN URGP=0",
        "[ 20.586965] [UFW BLOCK] IN=wlan0 OUT= MAC= SRC=fe80:0000:0000:0000:69df:0f31:0cee:feab "
        "DST=ff02:0000:0000:0000:0000:0000:0001:0003 LEN=86 TC=0 HOPLIMIT=255 FLOWLBL=67613 PROTO=UDP SPT=5355 DPT=5355 LEN=46",
        "Feb 19 10:39:48 app1 myapp[12]: connection SRC=1.2.3.4 accepted OUT=ok",
    ]
    d = formats.get("syslog").decode("\n".join(lines).encode(), "test")
    assert not d.dead
    rows = {r["raw_data"]: r for r in _rows(d)}
    block, audit, reject, bare, other = (rows[line] for line in lines)
    assert (block["class_uid"], block["action"], block["disposition"], block["firewall_rule"]["name"]) == (4001, "Denied", "Blocked", "UFW BLOCK")
    assert (block["src_endpoint"]["ip"], block["dst_endpoint"]["port"], block["connection_info"]["direction"]) == ("86.101.38.88", 16881, "Inbound")
    assert (audit["action"], audit["firewall_rule"]["name"], audit["connection_info"]["direction"]) == ("Unknown", "UFW AUDIT", "Outbound")
    assert (reject["action_id"], reject["disposition_id"], reject["disposition"]) == (2, 25, "Rejected")
    assert (bare["action"], bare["src_endpoint"]["ip"], bare["dst_endpoint"]["ip"]) == ("Denied", "fe80::69df:f31:cee:feab", "ff02::1:3")
    assert "mac" not in json.loads(bare["unmapped"])["netfilter"]
    assert other["class_uid"] == 0


def test_fortigate_traffic_logs_are_network_activity() -> None:
    """Elastic's FortiOS traffic logs (``type="traffic"``, forward and local; FortiOS 6.x to 7.x
    key orders, ``<PRI>`` straight before the pairs): Network Activity (they were Base Events).
    The Log Message Reference's ``action``: deny is a session the policy blocked (Refuse,
    Denied / Blocked); close, timeout and the resets end an allowed session; any other is
    allowed (Traffic)."""
    name, d = _auto("elastic-fortigate-traffic.log")
    assert name == "syslog" and not d.dead and d.events == 8
    rows = {r["connection_info"]["uid"]: r for r in _rows(d)}
    assert {r["class_uid"] for r in rows.values()} == {4001} and len(rows) == 8
    deny = rows["155313"]
    assert (deny["activity_id"], deny["action_id"], deny["action"], deny["disposition_id"]) == (5, 2, "Denied", 2)
    assert (deny["src_endpoint"]["ip"], deny["src_endpoint"]["port"]) == ("10.10.10.10", 60899)
    assert (deny["dst_endpoint"]["ip"], deny["dst_endpoint"]["port"]) == ("67.43.156.13", 161)
    assert (deny["connection_info"]["protocol_num"], deny["connection_info"]["protocol_name"]) == (17, "udp")
    assert deny["firewall_rule"]["uid"] == "0" and deny["device"]["hostname"] == "testswitch1"
    assert deny["metadata"]["event_code"] == "0000000013" and deny["time"] == 1592961368000
    close = rows["2345"]
    assert (close["activity_id"], close["activity_name"], close["action"]) == (2, "Close", "Allowed")
    assert (close["firewall_rule"]["uid"], close["firewall_rule"]["name"]) == ("2365", "someoldpolicyname")
    t = close["traffic"]
    assert (t["bytes_out"], t["bytes_in"], t["bytes"], t["packets_out"], t["packets_in"]) == (923, 77654, 78577, 113, 70)
    assert close["duration"] == 126_000 and close["actor"]["user"]["name"] == "elasticuser"
    assert close["app_name"] == "Skype.Portals" and close["connection_info"]["protocol_name"] == "tcp"
    assert json.loads(close["unmapped"])["fortios"] == {"srcintf": "port1", "dstintf": "wan1"}
    accept = rows["4352"]
    assert (accept["activity_id"], accept["action"]) == (6, "Allowed") and accept["traffic"]["packets"] == 1769018
    v6 = rows["6542345"]
    assert v6["connection_info"]["protocol_ver_id"] == 6 and v6["connection_info"]["protocol_name"] == "icmpv6"
    assert v6["src_endpoint"]["port"] is None and v6["app_name"] == "icmp6/25/0"
    newer = rows["214919072"]  # FortiOS 7.x: srcname between srcip and srcport, srcmac
    assert (newer["src_endpoint"]["ip"], newer["src_endpoint"]["port"], newer["src_endpoint"]["mac"]) == ("10.10.10.6", 61031, "b4:b5:b6:e6:db:bb")
    assert newer["action"] == "Denied" and newer["time"] == 1683012706143
    assert rows["54234"]["action"] == "Allowed" and rows["54234"]["actor"]["user"]["name"] == "elasticsuper"  # ip-conn


def test_fortigate_traffic_without_a_header_and_other_logs_stay() -> None:
    """Round 26's bare FortiOS lines: the forward and multicast traffic logs are Network
    Activity now; the admin login stays Authentication and the HA event a Base Event."""
    _, d = _auto("elastic-fortigate-7-4-bare.log")
    rows = {r["metadata"]["event_code"]: r for r in _rows(d)}
    assert (rows["0000000013"]["class_uid"], rows["0002000012"]["class_uid"]) == (4001, 4001)
    assert (rows["0100032001"]["class_uid"], rows["0108037894"]["class_uid"]) == (3002, 0)
    multicast = rows["0002000012"]
    assert (multicast["dst_endpoint"]["ip"], multicast["dst_endpoint"]["port"]) == ("230.1.1.2", 7878)
    assert multicast["traffic"]["bytes_out"] == 5940 and multicast["duration"] == 22_000


def test_cisco_asa_connection_and_acl_messages_are_network_activity() -> None:
    """Elastic's Cisco ASA lines (``%ASA-<sev>-<number>``: Built/Teardown connections, access-group
    and access-list verdicts, inbound denies; a ``names`` host, idfw users glued to the port, IPv6,
    a non-ASCII user): Network Activity (they were Base Events with the text unread). Cisco's
    message guide: an outbound Built names the responder first (the initiator is the source), an
    inbound one the initiator; a Teardown does not say which side began, so it is flagged
    ``is_src_dst_assignment_known`` false (its order: test_logs_holdout28)."""
    name, d = _auto("elastic-cisco-asa-connections.log")
    assert name == "syslog" and not d.dead and d.events == 19
    rows = _rows(d)
    net = [r for r in rows if r["class_uid"] == 4001]
    assert len(net) == 17  # the translation and the spoof deny stay Base Events
    out = net[0]
    assert (out["activity_id"], out["action"], out["connection_info"]["direction_id"]) == (1, "Allowed", 2)
    assert (out["src_endpoint"]["ip"], out["src_endpoint"]["port"]) == ("172.31.98.44", 1772)
    assert (out["dst_endpoint"]["ip"], out["dst_endpoint"]["port"]) == ("100.66.205.104", 80)
    assert out["connection_info"]["uid"] == "11757" and out["connection_info"]["protocol_name"] == "tcp"
    assert out["is_src_dst_assignment_known"] is True and out["metadata"]["event_code"] == "ASA-6-302013"
    assert json.loads(out["unmapped"])["asa"] == {"src_interface": "inside", "dst_interface": "outside"}
    reset = net[1]
    assert (reset["activity_id"], reset["activity_name"], reset["is_src_dst_assignment_known"]) == (3, "Reset", False)
    assert (reset["traffic"]["bytes"], reset["duration"]) == (38110, 67_000)
    assert json.loads(reset["unmapped"])["asa"]["reason"] == "TCP Reset-I"
    acl = [r for r in net if r["metadata"]["event_code"] == "ASA-4-106023"]
    assert len(acl) == 2 and {(r["activity_id"], r["action"], r["disposition"]) for r in acl} == {(5, "Denied", "Blocked")}
    assert {r["firewall_rule"]["name"] for r in acl} == {"acl_dmz"} and {r["dst_endpoint"]["port"] for r in acl} == {53}
    listed = {r["message"].split()[2]: r for r in net if r["metadata"]["event_code"].endswith("-106100")}  # its verdict
    assert listed["denied"]["action"] == "Denied" and listed["denied"]["firewall_rule"]["name"] == "inside"
    assert listed["est-allowed"]["action"] == "Allowed" and listed["est-allowed"]["src_endpoint"]["port"] == 49840
    # "%ASA-session-5-106100:": a message class between the facility and the severity
    assert listed["permitted"]["metadata"]["event_code"] == "ASA-session-5-106100" and listed["permitted"]["activity_id"] == 6
    udp = next(r for r in net if r["connection_info"]["uid"] == "89743275")
    assert (udp["activity_name"], udp["duration"], udp["traffic"]["bytes"]) == ("Close", (3600 + 23 * 60 + 45) * 1000, 140)
    named = next(r for r in net if r["connection_info"]["uid"] == "447236")  # outbound: "to dmz:OCSP_Server/5678" began it
    assert (named["src_endpoint"]["hostname"], named["src_endpoint"]["ip"], named["src_endpoint"]["port"]) == ("OCSP_Server", None, 5678)
    inbound = next(r for r in net if r["connection_info"]["uid"] == "27215708")
    assert (inbound["src_endpoint"]["ip"], inbound["dst_endpoint"]["ip"], inbound["dst_endpoint"]["port"]) == ("10.2.3.4", "81.2.69.144", 80)
    v6 = next(r for r in net if r["connection_info"]["uid"] == "251933191")
    assert v6["src_endpoint"]["ip"] == "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6" and v6["src_endpoint"]["port"] == 62477
    denied_in = [r for r in net if r["metadata"]["event_code"] in ("ASA-2-106006", "ASA-2-106007", "ASA-6-106015")]
    assert len(denied_in) == 3 and {r["connection_info"]["direction_id"] for r in denied_in} == {1}
    assert {r["action"] for r in denied_in} == {"Denied"}
    special = net[-1]
    assert (special["src_endpoint"]["port"], special["dst_endpoint"]["ip"], special["duration"]) == (63790, "192.168.0.1", 2_158_000)


def test_panos_traffic_logs_are_network_activity() -> None:
    """Elastic's PAN-OS traffic logs (BSD header, the CSV of the "Traffic Log Fields"): Network
    Activity (they were Base Events with the CSV unread). The subtype is the activity (end Close,
    start Open, deny / drop Refuse, none Traffic), the Action the verdict; the Generated Time (it
    has the year the BSD header lacks) the time."""
    name, d = _auto("elastic-panos-traffic.log")
    assert name == "syslog" and not d.dead and d.events == 7
    rows = {r["connection_info"]["uid"]: r for r in _rows(d)}
    assert {r["class_uid"] for r in rows.values()} == {4001} and len(rows) == 7
    end = rows["22751"]
    assert (end["activity_id"], end["action"], end["disposition"]) == (2, "Allowed", "Allowed")
    assert end["time"] == 1543594147000 and end["device"]["hostname"] == "PA-220"  # 2018-11-30T16:09:07Z
    assert (end["src_endpoint"]["ip"], end["src_endpoint"]["port"], end["src_endpoint"]["zone"]) == ("192.168.15.207", 55113, "trust")
    assert (end["dst_endpoint"]["ip"], end["dst_endpoint"]["port"], end["dst_endpoint"]["zone"]) == ("175.16.199.1", 443, "untrust")
    assert (end["connection_info"]["protocol_name"], end["connection_info"]["protocol_num"]) == ("tcp", 6)
    assert (end["firewall_rule"]["name"], end["app_name"], end["duration"]) == ("new_outbound_from_trust", "apple-maps", 586_000)
    t = end["traffic"]
    assert (t["bytes"], t["bytes_out"], t["bytes_in"], t["packets"], t["packets_out"], t["packets_in"]) == (7734, 1758, 5976, 36, 16, 20)
    panos = json.loads(end["unmapped"])["panos"]
    assert (panos["nat_src"], panos["inbound_if"], panos["end_reason"]) == ("192.168.1.63", "ethernet1/2", "tcp-fin")
    assert rows["24257"]["activity_id"] == 1 and rows["24242"]["activity_id"] == 5 and rows["24090"]["activity_id"] == 5
    assert rows["24190"]["activity_id"] == 6 and rows["24190"]["connection_info"]["protocol_name"] == "udp"
    assert rows["24223"]["connection_info"]["protocol_num"] == 1


def test_cloudwatch_log_events_date_a_yearless_line_by_their_timestamp() -> None:
    """Loghub's OpenSSH lines (``Dec 10 06:55:46 LabSZ sshd[24200]: ...``, logged in 2015) as the
    CloudWatch agent ships them, in the subscription envelope the CloudWatch Logs guide documents:
    a BSD stamp has no year, and the log event's ``timestamp`` says when CloudWatch took the line.
    The year is the one that puts the line at most a day after that timestamp, not the receipt
    clock's (a replayed 2015 export was dated in the current year); a ``Dec 31`` line stamped
    on Jan 1 is the year before."""
    lines = (Path(__file__).parents[1] / "cases" / "holdout" / "loghub_OpenSSH_head.log").read_text().splitlines()

    def envelope(messages: list[str], t0: int) -> bytes:
        return json.dumps({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/var/log/secure",
                           "logStream": "i-0123456789abcdef0", "subscriptionFilters": ["to-firehose"],
                           "logEvents": [{"id": str(37 * 10**54 + i), "timestamp": t0 + i, "message": m}
                                         for i, m in enumerate(messages)]}).encode()  # fmt: skip

    d = formats.get("syslog").decode(envelope(lines[:3], 1449730547000), "firehose")  # 2015-12-10T06:55:47Z
    assert not d.dead and [r["time"] for r in _rows(d)] == [1449730546000] * 3  # 2015-12-10T06:55:46Z
    new_year = lines[0].replace("Dec 10 06:55:46", "Dec 31 23:59:58")
    d = formats.get("syslog").decode(envelope([new_year], 1451606401000), "firehose")  # 2016-01-01T00:00:01Z
    assert [r["time"] for r in _rows(d)] == [1451606398000]  # 2015-12-31T23:59:58Z


def test_shadow_utils_and_passwd_lines_are_account_and_group_changes() -> None:
    """Elastic's system auth lines of shadow-utils (groupadd, useradd, userdel, usermod, gpasswd,
    groupdel) and pam_unix's chauthtok: a user created, deleted or its password changed is Account
    Change (3001); a group created or deleted, a user added to or removed from one, Group Management
    (3006) (they were Base Events). The ``shadow group`` / ``/etc/gshadow`` line the tools write
    for the same change stays a Base Event, so each change is one event."""
    name, d = _auto("elastic-system-auth-accounts.log")
    assert name == "syslog" and not d.dead and d.events == 17
    rows = _rows(d)
    by_msg = {r["message"]: r for r in rows}
    created = by_msg["new user: name=apache, UID=48, GID=48, home=/usr/share/httpd, shell=/sbin/nologin"]
    assert (created["class_uid"], created["activity_id"], created["status_id"]) == (3001, 1, 1)
    assert (created["user"]["name"], created["user"]["uid"], created["device"]["hostname"]) == ("apache", "48", "localhost")
    assert created["actor"]["process"]["name"] == "useradd"
    deleted = by_msg["delete user 'siem_test'"]
    assert (deleted["class_uid"], deleted["activity_name"], deleted["user"]["name"]) == (3001, "Delete", "siem_test")
    changed = by_msg["pam_unix(passwd:chauthtok): password changed for user123"]
    assert (changed["class_uid"], changed["activity_id"], changed["user"]["name"]) == (3001, 3, "user123")
    group = by_msg["new group: name=apache, GID=48"]
    assert (group["class_uid"], group["activity_name"], group["group"]["name"], group["group"]["uid"]) == (3006, "Create", "apache", "48")
    added = by_msg["user alice added by root to group sudo"]
    assert (added["activity_name"], added["user"]["name"], added["group"]["name"], added["actor"]["user"]["name"]) == ("Add User", "alice", "sudo", "root")
    assert by_msg["add 'testuser' to group 'wheel'"]["group"]["name"] == "wheel"
    removed = by_msg["delete 'siem_test' from group 'tcpdump'"]
    assert (removed["class_uid"], removed["activity_id"], removed["user"]["name"]) == (3006, 4, "siem_test")
    assert by_msg["user alice removed by root from group sudo"]["activity_name"] == "Remove User"
    assert {by_msg[m]["activity_name"] for m in ("removed group 'siem_group'", "group 'fleet' removed from /etc/group")} == {"Delete"}
    assert [r["class_uid"] for r in rows].count(0) == 7  # the shadow/gshadow twins and the two passwd lines without a change


def test_sshd_refusals_by_configuration_are_failed_logons() -> None:
    """sshd's refusals of an account by its configuration, as OpenSSH's auth.c writes them
    (``allowed_user``: "User %.100s from %.100s not allowed because not listed in AllowUsers",
    "... none of user's groups are listed in AllowGroups", "User %.100s not allowed because
    account is locked"; ``auth_root_allowed``: "ROOT LOGIN REFUSED FROM %.200s port %d"), the first
    as a user quoted it from ``sshd-session`` (OpenSSH 9.8+) in a public write-up: Authentication
    Logon Failures with the reason (they were Base Events; "Invalid user", the same refusal for an
    unknown account, was one already)."""
    lines = [
        "Mar  3 10:00:02 vm1 sshd-session[9231]: User asur from 192.168.122.1 not allowed because not listed in AllowUsers",
        "Mar  3 10:00:03 vm1 sshd[812]: User invitado from gw.example.net not allowed because none of user's groups are listed in AllowGroups",
        "Mar  3 10:00:04 vm1 sshd[813]: User bob not allowed because account is locked",
        "Mar  3 10:00:05 vm1 sshd[814]: ROOT LOGIN REFUSED FROM 198.51.100.7 port 40022",
    ]
    d = formats.get("syslog").decode("\n".join(lines).encode(), "test")
    rows = {r["raw_data"]: r for r in _rows(d)}
    allow, groups, locked, root = (rows[line] for line in lines)
    assert {r["class_uid"] for r in rows.values()} == {3002}
    assert {(r["activity_id"], r["status_id"], r["is_remote"]) for r in (allow, groups, root)} == {(1, 2, True)}
    assert (allow["user"]["name"], allow["src_endpoint"]["ip"]) == ("asur", "192.168.122.1")
    assert allow["status_detail"] == "not allowed because not listed in AllowUsers" and allow["service"]["name"] == "sshd-session"
    assert (groups["src_endpoint"]["hostname"], groups["src_endpoint"]["ip"]) == ("gw.example.net", None)
    assert (locked["user"]["name"], locked["status"], locked["status_detail"]) == ("bob", "Failure", "not allowed because account is locked")
    assert (root["user"]["name"], root["src_endpoint"]["ip"], root["src_endpoint"]["port"]) == ("root", "198.51.100.7", 40022)
    assert root["status_detail"] == "root login refused"


def test_junos_srx_session_logs_are_network_activity() -> None:
    """Elastic's Juniper SRX ``RT_FLOW`` lines (RFC 5424 with the ``junos@`` element: session
    create, deny, close, AppTrack create, a logical system's ``_LS`` deny; one stamp without a
    zone): Network Activity (they were Base Events with the element only in ``unmapped``)."""
    name, d = _auto("elastic-juniper-srx-flow.log")
    assert name == "syslog" and not d.dead and d.events == 7
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {4001}
    create, deny, deny_old, close, fin, apptrack, deny_ls = rows
    assert (create["activity_id"], create["action"], create["connection_info"]["uid"]) == (1, "Allowed", "6093")
    assert (create["src_endpoint"]["ip"], create["src_endpoint"]["port"], create["src_endpoint"]["zone"]) == ("10.0.0.1", 594, "vpn")
    assert (create["dst_endpoint"]["zone"], create["firewall_rule"]["name"]) == ("trust", "vpn_trust_permit-all")
    assert (create["connection_info"]["protocol_num"], create["connection_info"]["protocol_name"]) == (1, "icmp")
    assert create["actor"].get("user") is None and create.get("app_name") is None  # N/A, UNKNOWN: no value
    assert (deny["activity_id"], deny["action"], deny["disposition"], deny["dst_endpoint"]["port"]) == (5, "Denied", "Blocked", 161)
    assert deny_old["connection_info"]["uid"] is None and deny_old["connection_info"]["protocol_name"] == "tcp"
    assert (close["activity_name"], close["duration"], close["traffic"]["bytes_out"], close["traffic"]["packets_in"]) == ("Close", 60_000, 94, 0)
    assert (fin["app_name"], fin["traffic"]["bytes"], fin["traffic"]["bytes_in"]) == ("HTTP", 872, 535)
    assert json.loads(fin["unmapped"])["structured_data"]["junos@67.43.156.15"]["reason"] == "TCP FIN"
    assert (apptrack["activity_id"], apptrack["dst_endpoint"]["zone"]) == (1, "Danger")
    assert (deny_ls["activity_id"], deny_ls["metadata"]["event_code"]) == (5, "RT_FLOW_SESSION_DENY_LS")


def test_jenkins_audit_trail_syslog_messages_are_mapped_as_its_log_file() -> None:
    """The Audit Trail plugin's Syslog logger (jenkinsci/audit-trail-plugin ``SyslogAuditLogger``:
    RFC 3164 and the APP-NAME ``jenkins`` by default) sends each message as the log file holds it
    after the time; here the messages of round 24's real log file (khannashiv/Jenkins-Practice)
    and the plugin's login messages (``AuthenticationAuditListener``), as a syslog server files
    them. They are API Activity, Scheduled Job Activity and Authentication as in the log file
    (they were Base Events); another program's lines stay syslog's."""
    messages = [
        "/job/monitor-jenkins-grafana-prometheus/configSubmit by user2 from [0:0:0:0:0:0:0:1]",
        "job/monitor-jenkins-grafana-prometheus/ #49 Started by user user2, Parameters:[]",
        "monitor-jenkins-grafana-prometheus #49 Started by user user2, Parameters:[] on Built-In Node;Slave-Agent-Node-1 "
        "started at 2026-01-07T18:58:04Z completed in 160980ms completed: SUCCESS",
        "Successful login for user 'user2'",
        "Failed login attempt for user 'admin'",
    ]
    lines = [f"<14>Jan  8 00:2{i}:02 ci01 jenkins: {m}" for i, m in enumerate(messages)]
    lines.append("<14>Jan  8 00:29:02 ci01 cron[12]: (root) CMD (run-parts /etc/cron.hourly)")
    d = formats.get("syslog").decode("\n".join(lines).encode(), "test")
    assert not d.dead
    rows = {r["message"]: r for r in _rows(d)}
    request, started, finished, ok, bad = (rows[m] for m in messages)
    assert (request["class_uid"], request["api"]["operation"], request["actor"]["user"]["name"]) == (6003, "configSubmit", "user2")
    assert request["src_endpoint"]["ip"] == "0:0:0:0:0:0:0:1" and request["resources"][0]["name"] == "monitor-jenkins-grafana-prometheus"
    assert request["device"]["hostname"] == "ci01" and request["actor"]["process"]["name"] == "jenkins"
    assert (started["class_uid"], started["activity_id"], started["metadata"]["correlation_uid"]) == (1006, 6, "monitor-jenkins-grafana-prometheus#49")
    assert (finished["class_uid"], finished["status"], finished["duration"]) == (1006, "Success", 160980)
    assert (ok["class_uid"], ok["status_id"], ok["user"]["name"]) == (3002, 1, "user2")
    assert (bad["class_uid"], bad["status_id"], bad["user"]["name"]) == (3002, 2, "admin")
    assert rows["(root) CMD (run-parts /etc/cron.hourly)"]["class_uid"] == 0


def test_numbers_past_their_column_type_are_no_value_not_a_failed_batch() -> None:
    """A device's odd number (a port or protocol past int32, a byte count past int64) in an
    otherwise real FortiOS, PAN-OS, ASA or Junos line is read as absent: the cast of the batch's
    column failed and the whole file was dead-lettered by the decode guard."""
    cases = Path(__file__).parents[1] / "cases" / "holdout"
    forti = (cases / "elastic-fortigate-traffic.log").read_text().splitlines()[0].replace("srcport=60899", "srcport=99999999999")
    pan = (cases / "elastic-panos-traffic.log").read_text().splitlines()[0].replace(",55113,443,", ",99999999999,443,")
    asa = (cases / "elastic-cisco-asa-connections.log").read_text().splitlines()[1].replace("bytes 38110", "bytes 99999999999999999999")
    junos = (cases / "elastic-juniper-srx-flow.log").read_text().splitlines()[0].replace('protocol-id="1"', 'protocol-id="99999999999"')
    d = formats.get("syslog").decode("\n".join([forti, pan, asa, junos]).encode(), "test")
    assert not d.dead
    rows = _rows(d)
    assert [r["class_uid"] for r in rows] == [4001] * 4
    assert rows[0]["src_endpoint"]["port"] is None and rows[0]["dst_endpoint"]["port"] == 161
    assert sorted(r["src_endpoint"]["port"] is None for r in rows) == [False, False, True, True]
    teardown = next(r for r in rows if r["metadata"]["event_code"] == "ASA-6-302014")
    assert teardown["traffic"] is None or teardown["traffic"]["bytes"] is None
    flow = next(r for r in rows if r["metadata"]["event_code"] == "RT_FLOW_SESSION_CREATE")
    assert flow["connection_info"]["protocol_num"] is None and flow["src_endpoint"]["port"] == 594


def test_a_payload_time_wins_over_a_yearless_bsd_header() -> None:
    """An ArcSight connector's CEF event (Elastic's cef ``test-syslog.json``, its
    ``event.original``: ``rt=1500404461000``, 2017-07-18T19:01:01Z) and a FortiOS traffic log
    (``eventtime``), each behind a relay's BSD header, which has no year: the payload's own time
    (with its year and zone) is the time; it was the header's, dated in the receipt clock's year."""
    cef = ("CEF:0|Unix|Unix||arcsight:143:1|Started Session|Low| eventId=31 msg=Started Session 21 of user root "
           "categorySignificance=/Informational categoryBehavior=/Access/Start categoryDeviceGroup=/Operating System "
           "catdt=Operating System categoryOutcome=/Success categoryObject=/Host/Application/Service art=1500404470493 "
           "deviceSeverity=info act=Started rt=1500404461000 suser=root dhost=centos7 cs1=systemd cs2=daemon cs1Label=Module "
           "cs2Label=Facility cn1Label=File Descriptor ahost=centos7.as agt=10.2.3.4 agentZoneURI=/All Zones/ArcSight "
           "System/Private Address Space Zones/RFC1918: 10.0.0.0-10.255.255.255 amac=00-50-56-8E-C0-90 av=7.6.0.8009.0 "
           "atz=America/Argentina/Buenos_Aires at=syslog dvchost=centos7 dtz=America/Argentina/Buenos_Aires "
           "deviceFacility=daemon deviceProcessName=systemd _cefVer=0.1 aid=4SNQXV30BABCAIi+-ZH3gxT\\=\\=")
    forti = (Path(__file__).parents[1] / "cases" / "holdout" / "elastic-fortigate-7-4-bare.log").read_text().splitlines()[0]
    lines = [f"<134>Jul 18 19:01:10 centos7.as {cef}", f"<189>May 10 14:37:48 fgt01 {forti}"]
    d = formats.get("syslog").decode("\n".join(lines).encode(), "test")
    rows = {r["raw_data"]: r for r in _rows(d)}
    assert not d.dead and len(rows) == 2
    assert rows[lines[0]]["time"] == 1500404461000 and rows[lines[0]]["metadata"]["log_format"] == "CEF"
    assert rows[lines[1]]["time"] == 1557513467369 and rows[lines[1]]["class_uid"] == 4001  # eventtime (ns) of 2019-05-10


def test_haproxy_http_logs_are_http_activity() -> None:
    """Elastic's HAProxy ``option httplog`` lines (behind a BSD header: captured headers or none, a
    ``~`` TLS frontend, a unix-socket client ``-``, ``<NOSRV>`` 503s, an exploit probe's query, the
    HTTPS form with TLS fields after the request): HTTP Activity (they were Base Events). The
    accept date (with its year and milliseconds) is the time: the BSD header has no year."""
    name, d = _auto("elastic-haproxy-http.log")
    assert name == "syslog" and not d.dead and d.events == 7
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {4002}
    first = rows[0]
    assert first["time"] == 1532941432726  # 2018-07-30T09:03:52.726Z
    assert (first["activity_name"], first["http_request"]["http_method"], first["http_response"]["code"]) == ("Get", "GET", 304)
    assert first["http_request"]["url"]["path"] == "/component---src-pages-index-js-4b15624544f97cf0bb8f.js"
    assert (first["src_endpoint"]["ip"], first["src_endpoint"]["port"], first["http_response"]["length"]) == ("67.43.156.13", 38862, 168)
    assert (first["duration"], first["status"], first["actor"]["process"]["name"]) == (2, "Success", "haproxy")
    hap = json.loads(first["unmapped"])["haproxy"]
    assert (hap["frontend"], hap["backend"], hap["server"], hap["termination_state"]) == ("incoming~", "docs_microservice", "docs", "----")
    assert hap["request_headers"] == "docs.example.internal||"
    socket = rows[1]
    assert (socket["activity_name"], socket["src_endpoint"]["ip"], socket["src_endpoint"].get("hostname")) == ("Options", None, None)
    probe = rows[3]
    assert probe["http_request"]["url"]["query_string"].startswith("s=/index/\\think\\app/testinvokefunction")
    assert (probe["status"], probe["http_response"]["code"]) == ("Failure", 404)
    nosrv = rows[4]
    assert json.loads(nosrv["unmapped"])["haproxy"]["server"] == "<NOSRV>" and nosrv["status_code"] == "503"
    assert rows[6]["http_request"]["url"]["path"] == "/index.html" and rows[6]["duration"] == 109


def test_apache_error_log_file_is_recognized_and_takes_its_own_stamp_and_level() -> None:
    """Elastic's Apache httpd ``error_log`` lines (2.2's ``[error] [client A]``, 2.4's
    ``[module:level] [pid P:tid T]`` with microseconds, the ISO ``%{cu}t`` stamp with its zone, a
    ``trace3`` line with its source, a startup line without a prefix): recognized by ``--format
    auto`` (they were refused), each with its own time, level as the severity, pid, ``AHnnnnn`` as
    the event code and the text after the prefix as the message."""
    name, d = _auto("elastic-apache-error.log")
    assert name == "syslog" and not d.dead and d.events == 8
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {0}
    old = rows[0]
    assert (old["time"], old["severity_id"], old["metadata"]["log_level"]) == (1482769328000, 4, "err")  # 2016-12-26T16:22:08Z
    assert old["message"] == "File does not exist: /var/www/favicon.ico" and old["metadata"]["log_format"] == "Apache error"
    assert json.loads(old["unmapped"])["apache"] == {"client": "192.168.33.1"}
    notice = rows[1]
    assert (notice["time"], notice["actor"]["process"]["pid"], notice["metadata"]["event_code"]) == (1482768955103, 11379, "AH00094")
    warn = next(r for r in rows if r["metadata"]["event_code"] == "AH01374")
    assert warn["severity_id"] == 3 and json.loads(warn["unmapped"])["apache"] == {"module": "include", "client": "89.160.20.156:12345"}
    zoned = next(r for r in rows if "FOREGROUND" in r["message"])
    assert zoned["time"] == 1753191951323  # 2025-07-22T15:45:51.323+02:00
    trace = rows[-1]
    assert (trace["metadata"]["log_level"], trace["actor"]["process"]["pid"]) == ("debug", 121591)
    assert json.loads(trace["unmapped"])["apache"]["source"] == "mod_rewrite.c(470)"
    assert trace["message"].startswith("10.121.192.8 - - [api-dev.onintranet.com/sid#55a374e851c8]")


def test_squid_native_access_log_is_http_activity() -> None:
    """Squid ``access.log`` lines in its native format (LTW-GCR-CSOC's sample of a real log, and
    OSSEC's documented ``TCP_DENIED/403`` CONNECT line, given the epoch time the native format
    opens with): recognized by ``--format auto`` (they were refused) and read as HTTP Activity:
    the line's own epoch time, the client, the URL and its parts, the upstream server's address,
    status, bytes, content type, elapsed ms; a ``_DENIED`` result Denied."""
    name, d = _auto("csoc-squid-access.log")
    assert name == "syslog" and not d.dead and d.events == 3
    first = _rows(d)[0]
    assert (first["class_uid"], first["activity_name"], first["time"]) == (4002, "Get", 1467011166543)
    url = first["http_request"]["url"]
    assert (url["scheme"], url["hostname"], url["path"]) == ("http", "www.help.1and1.co.uk", "/domains-c40986/transfer-domains-c79878")
    assert (first["src_endpoint"]["ip"], first["dst_endpoint"]["ip"], first["dst_endpoint"]["hostname"]) == ("127.0.0.1", "212.227.34.3", "www.help.1and1.co.uk")
    assert (first["http_response"]["code"], first["http_response"]["length"], first["http_response"]["content_type"]) == (200, 41846, "text/html")
    assert (first["duration"], first["action"], first["status"]) == (401, "Allowed", "Success")
    assert json.loads(first["unmapped"])["squid"] == {"result_code": "TCP_MISS", "hierarchy_code": "DIRECT"}
    denied = _rows(formats.get("syslog").decode(
        b"1467011170.000      5 59.59.106.40 TCP_DENIED/403 1382 CONNECT 202.43.200.11:25 - NONE/- text/html", "test"))[0]
    assert (denied["activity_name"], denied["action"], denied["status"], denied["http_response"]["code"]) == ("Connect", "Denied", "Failure", 403)
    assert (denied["http_request"]["url"]["hostname"], denied["http_request"]["url"]["port"]) == ("202.43.200.11", 25)
    assert denied["dst_endpoint"].get("ip") is None


def test_windows_firewall_log_is_network_activity() -> None:
    """OSSEC's documented Windows Firewall log samples (``pfirewall.log``: its ``#Fields`` line, DROP
    of UDP and TCP on RECEIVE, XP's OPEN and CLOSE): recognized by ``--format auto`` (they were
    refused) and read as Network Activity with the line's own time; the ``#Fields`` line stays a
    Base Event (nothing accepted is lost)."""
    name, d = _auto("ossec-windows-firewall.log")
    assert name == "syslog" and not d.dead and d.events == 5
    rows = _rows(d)
    net = [r for r in rows if r["class_uid"] == 4001]
    assert len(net) == 4 and [r["class_uid"] for r in rows].count(0) == 1
    udp, tcp, opened, closed = net
    assert udp["time"] == 1158662892000  # 2006-09-19T10:48:12Z
    assert (udp["activity_id"], udp["action"], udp["disposition"], udp["connection_info"]["direction"]) == (6, "Denied", "Blocked", "Inbound")
    assert (udp["src_endpoint"]["ip"], udp["src_endpoint"]["port"], udp["dst_endpoint"]["ip"], udp["dst_endpoint"]["port"]) == (
        "172.20.73.241", 2250, "239.255.255.250", 1900)
    assert (udp["connection_info"]["protocol_num"], udp["traffic"]["bytes"]) == (17, 250)
    assert json.loads(tcp["unmapped"])["windows_firewall"] == {"tcp_flags": "SA", "path": "RECEIVE"}
    assert (opened["activity_name"], opened["action"], opened["dst_endpoint"]["port"]) == ("Open", "Allowed", 445)
    assert (closed["activity_name"], closed["connection_info"]["protocol_name"], closed["connection_info"]["direction_id"]) == ("Close", "udp", 0)


def test_a_response_size_past_int32_is_no_value_not_a_failed_file() -> None:
    """Apache's documented Common Log Format line (``127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700]
    "GET /apache_pb.gif HTTP/1.0" 200 2326``) with the size of a 6 GB download, as a mirror's
    access log has them; and an HAProxy and a Squid line with as many bytes: OCSF's
    ``http_response.body_length`` / ``length`` are int32, so the value is absent (the line keeps
    it); the batch's cast failed and the whole file was dead-lettered."""
    lines = [
        '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /ubuntu-24.04-desktop-amd64.iso HTTP/1.0" 200 6114656256',
        '127.0.0.1 - frank [10/Oct/2000:13:55:37 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
        "Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 "
        '10/0/30/69/109 200 6114656256 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"',
        "1467011166.543    401 127.0.0.1 TCP_MISS/200 6114656256 GET http://www.help.1and1.co.uk/x - DIRECT/212.227.34.3 text/html",
    ]
    d = formats.get("syslog").decode("\n".join(lines).encode(), "test")
    assert not d.dead
    rows = {r["raw_data"]: r for r in _rows(d)}
    assert rows[lines[0]]["http_response"]["body_length"] is None and rows[lines[1]]["http_response"]["body_length"] == 2326
    assert rows[lines[2]]["http_response"]["length"] is None and rows[lines[3]]["http_response"]["length"] is None
    assert {r["class_uid"] for r in rows.values()} == {4002}


def test_jenkins_audit_duration_past_int64_is_no_value() -> None:
    """Round 24's real finalized-build line of the Audit Trail log (khannashiv/Jenkins-Practice)
    with its ``completed in <n>ms`` damaged to 21 digits: the build's end is still read (Scheduled
    Job Activity, its result) with no duration; the int64 cast raised and the decode guard
    dead-lettered the whole file."""
    line = (Path(__file__).parents[1] / "cases" / "holdout" / "jenkins-audit-trail-khannashiv.log").read_text().splitlines()[3]
    d = formats.get("jenkins_log").decode(line.replace("160980ms", "160980000000000000000ms").encode(), "test")
    assert not d.dead
    (row,) = _rows(d)
    assert (row["class_uid"], row["status"], row["duration"]) == (1006, "Success", None)


def test_meraki_flow_and_firewall_messages_are_network_activity() -> None:
    """Elastic's Cisco Meraki lines (``<134>1 <epoch> <device> <type> ...``: flows with ``allow``
    after the type, with a ``pattern:`` (the numeric ``1 all``: deny, as Meraki parsers' tests
    read it; ``Group Policy Allow``; ``deny (src ...)``), ICMPv6 and a bare protocol number, a VPN
    firewall line, NAT ``ip_flow_start``/``ip_flow_end``): the header's epoch time and device, and
    Network Activity (they were Base Events with the receipt time)."""
    name, d = _auto("elastic-meraki-flows.log")
    assert name == "syslog" and not d.dead and d.events == 9
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {4001}
    first = rows[0]
    assert (first["time"], first["device"]["hostname"], first["metadata"]["event_code"]) == (1647478988289, "MX84_4", "flows")
    assert (first["action"], first["activity_id"], first["src_endpoint"]["mac"]) == ("Allowed", 6, "00:7C:2D:BD:76:F2")
    assert (first["src_endpoint"]["port"], first["dst_endpoint"]["ip"], first["connection_info"]["protocol_name"]) == (54841, "10.0.0.34", "udp")
    assert (rows[1]["action"], rows[1]["firewall_rule"]["name"]) == ("Denied", "1 all")
    assert (rows[2]["connection_info"]["protocol_num"], rows[2]["connection_info"]["protocol_ver_id"]) == (58, 6)
    assert json.loads(rows[2]["unmapped"])["meraki"] == {"icmp_type": "135"}
    assert (rows[3]["connection_info"]["protocol_num"], rows[3]["connection_info"]["protocol_name"]) == (2, None)
    assert (rows[4]["action"], rows[5]["action"], rows[6]["action"]) == ("Allowed", "Denied", "Allowed")
    start, end = rows[7], rows[8]
    assert (start["activity_name"], start["action"], end["activity_name"]) == ("Open", "Unknown", "Close")
    assert json.loads(start["unmapped"])["meraki"] == {"translated_ip": "1.128.3.4", "translated_port": "34294"}
