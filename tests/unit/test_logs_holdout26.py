"""Real samples secpipe was not developed against, round 26: cloud, runtime, infrastructure and
CI/CD logs (``tests/cases/holdout``, see its SOURCE.md heading "Round 26 (logs)").

Expectations are written from the source documents and the formats' own references (nginx's
``ngx_log_error_core`` / ``ngx_http_log_error`` line layout, its ``log_format`` variables), not
from secpipe's output.
"""

from __future__ import annotations

import json

from tests.unit.test_formats_holdout import _auto, _rows


def test_nginx_error_log_file_takes_the_lines_own_stamp_and_level() -> None:
    """Elastic's nginx ``error.log`` lines (``YYYY/MM/DD HH:MM:SS [level] PID#TID: *CID text``):
    recognized by ``--format auto`` (they were refused as unrecognized; ``--format syslog`` gave
    them the receipt time and no severity). Each takes its own stamp (no zone: UTC, as a BSD
    header), its level as the severity, its pid, and keeps the connection and the request's
    context (client, server, request, upstream, host, referrer) in ``unmapped.nginx``. The
    FastCGI stderr of several lines is one line each (a line is a message)."""
    name, d = _auto("elastic-nginx-error-raw.log")
    assert name == "syslog" and not d.dead and d.events == 7
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {0}
    first = next(r for r in rows if r["raw_data"].startswith("2016/10/25 14:49:34"))
    assert first["time"] == 1477406974000  # 2016-10-25T14:49:34Z
    assert first["metadata"]["log_level"] == "err" and first["severity_id"] == 4
    assert (first["actor"]["process"]["name"], first["actor"]["process"]["pid"]) == ("nginx", 54053)
    assert first["message"].startswith('open() "/usr/local/Cellar/nginx/1.10.2_1/html/favicon.ico" failed (2:')
    ctx = json.loads(first["unmapped"])["nginx"]
    assert ctx == {"tid": "0", "connection": "1", "client": "127.0.0.1", "server": "localhost",
                   "request": "GET /favicon.ico HTTP/1.1", "host": "localhost:8080", "referrer": "http://localhost:8080/"}
    warn = next(r for r in rows if r["raw_data"].startswith("2022/10/24 20:40:32 [warn]"))
    assert warn["metadata"]["log_level"] == "warning" and warn["severity_id"] == 3
    wctx = json.loads(warn["unmapped"])["nginx"]
    assert wctx["upstream"] == "https://2.2.2.2:443/api/?tkd=343" and wctx["server"] == "service[.]domain[.]com"
    assert wctx["connection"] == "149074" and wctx["request"] == "GET /api/?tkd=343 HTTP/1.1"
    fastcgi = next(r for r in rows if r["raw_data"].startswith("2019/10/30 23:26:34"))
    assert fastcgi["actor"]["process"]["pid"] == 205860 and fastcgi["message"].startswith("FastCGI sent in stderr:")
    assert "client" not in json.loads(fastcgi["unmapped"])["nginx"]
    php = [r for r in rows if r["raw_data"].startswith("PHP message:")]
    assert len(php) == 2 and all(r["metadata"]["log_level"] is None for r in php)


def test_nginx_error_line_forwarded_by_syslog_keeps_its_header() -> None:
    """The ``nginx_error`` line an rsyslog server filed (round 25's sample): the header's time
    and tag stay; the line's level is its severity (no ``<PRI>``) and nginx's pid the process's."""
    name, d = _auto("otus-rsyslog-nginx-access-error.log")
    err = next(r for r in _rows(d) if r["class_uid"] == 0)
    assert err["time"] == 1718534545000 and err["actor"]["process"]["name"] == "nginx_error"  # 13:42:25+03:00
    assert err["actor"]["process"]["pid"] == 3456 and err["metadata"]["log_level"] == "err"
    assert err["message"].startswith("2024/06/16 13:42:25 [error] 3456#3456: *3 directory index")
    assert json.loads(err["unmapped"])["nginx"]["client"] == "192.168.65.1"


def test_nginx_access_lines_with_address_lists() -> None:
    """Elastic's nginx access lines whose client is a list (``$http_x_forwarded_for`` or
    ``$proxy_add_x_forwarded_for`` where ``$remote_addr`` stands, quoted or not, comma or space
    separated, the vhost first): recognized by ``--format auto`` (the file was refused) and HTTP
    Activity (they were Base Events with the receipt time): the first address is the client,
    the others ``intermediate_ips``; the request's own time."""
    name, d = _auto("elastic-nginx-access-with-host.log")
    assert name == "syslog" and not d.dead and d.events == 10
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {4002}
    by = {r["raw_data"]: r for r in rows}
    ocelot = next(r for k, r in by.items() if k.startswith("example.com 10.0.0.2, 10.0.0.1, 127.0.0.1 "))
    assert ocelot["time"] == 1481105107000  # 07/Dec/2016:11:05:07 +0100
    assert ocelot["src_endpoint"]["ip"] == "10.0.0.2" and ocelot["src_endpoint"]["intermediate_ips"] == ["10.0.0.1", "127.0.0.1"]
    assert ocelot["dst_endpoint"]["hostname"] == "example.com" and ocelot["http_request"]["url"]["path"] == "/ocelot"
    cdn = next(r for k, r in by.items() if k.startswith('example.com:80 "10.5.102.222'))
    assert cdn["src_endpoint"]["ip"] == "10.5.102.222"
    assert cdn["src_endpoint"]["intermediate_ips"] == ["199.96.1.1", "204.246.1.1", "10.2.1.185"]
    assert cdn["dst_endpoint"]["port"] == 80 and cdn["http_request"]["url"]["query_string"] == "q=100"
    assert cdn["http_request"]["user_agent"] == "Amazon CloudFront" and cdn["http_response"]["body_length"] == 25507
    v6 = next(r for k, r in by.items() if "2a02:cf40" in k)
    assert v6["src_endpoint"]["ip"] == "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6"
    assert v6["src_endpoint"]["intermediate_ips"] == ["10.225.192.17", "10.2.2.121"]
    assert (v6["http_response"]["code"], v6["status_id"]) == (404, 2)
    named = next(r for k, r in by.items() if k.startswith("example.com localhost, localhost"))
    assert named["src_endpoint"]["hostname"] == "localhost" and named["src_endpoint"]["ip"] is None
    single = next(r for k, r in by.items() if k.startswith("example.com 172.17.0.1 "))
    assert single["src_endpoint"]["ip"] == "172.17.0.1" and single["src_endpoint"]["intermediate_ips"] is None


def test_gitlab_application_json_sign_ins_are_authentication() -> None:
    """Elastic's GitLab ``application_json.log`` lines: recognized by ``--format auto`` (they were
    refused; ``--format gitlab`` dead-lettered each as no GitLab record). SessionsController's
    sign-in lines are Authentication (``Successful Login`` / ``Failed Login`` Logon with the
    status, ``User Logout`` Logoff; the user, the address, ``admin=true`` an Admin, the
    ``standard`` method no MFA); the other application messages Base Events with their severity
    and ``meta.user`` as the actor; ``correlation_id`` correlates a line with its request."""
    name, d = _auto("elastic-gitlab-application-json.log")
    assert name == "gitlab" and not d.dead and d.events == 9
    rows = _rows(d)
    auth = {r["message"].split(":")[0]: r for r in rows if r["class_uid"] == 3002}
    assert sorted(auth) == ["Failed Login", "Successful Login", "User Logout"]
    ok, failed, out = auth["Successful Login"], auth["Failed Login"], auth["User Logout"]
    assert (ok["activity_id"], ok["status_id"], failed["activity_id"], failed["status_id"]) == (1, 1, 1, 2)
    assert out["activity_id"] == 2 and out["user"]["name"] == "root"
    assert ok["time"] == 1717180413869  # 2024-05-31T18:33:33.869Z
    assert (ok["user"]["name"], ok["user"]["type_id"], ok["src_endpoint"]["ip"]) == ("root", 2, "192.168.65.1")
    assert ok["is_mfa"] is False and ok["auth_protocol"] == "standard" and ok["service"]["name"] == "GitLab"
    assert ok["metadata"]["correlation_uid"] == "01HZ7YVD5VY6ZNVA6NHF1T9J64"
    assert failed["user"]["name"] == "test" and failed["src_endpoint"]["ip"] == "192.168.65.1"
    assert json.loads(failed["unmapped"])["meta.caller_id"] == "SessionsController#new"
    other = {r["message"]: r for r in rows if r["class_uid"] == 0}
    assert len(other) == 6
    deleted = other['Project "root/test" was deleted']
    assert deleted["actor"]["user"]["name"] == "root" and deleted["actor"]["user"]["uid"] == "1"
    assert json.loads(deleted["unmapped"])["meta.root_caller_id"] == "Admin::ProjectsController#destroy"
    assert other["Skipping fixing column default because connections mismatch"]["severity_id"] == 3  # WARN
    lease = next(r for m, r in other.items() if m.startswith("Cannot obtain an exclusive lease"))
    assert lease["severity_id"] == 4 and json.loads(lease["unmapped"])["lease_timeout"] == 300  # ERROR


def test_gitlab_auth_json_rack_attack_block_is_denied_http_activity() -> None:
    """GitLab's ``auth_json.log`` line of a request Rack::Attack blocklisted (the example of
    GitLab's "Log system" documentation, as Elastic's test has it): recognized by ``--format
    auto`` (it was refused) and HTTP Activity Get of the Git path, from the client, action
    Denied / disposition Blocked, severity from ``ERROR``; ``env`` stays in ``unmapped``."""
    name, d = _auto("elastic-gitlab-auth-json.log")
    assert name == "gitlab" and not d.dead and d.events == 1
    (r,) = _rows(d)
    assert (r["class_uid"], r["activity_id"], r["severity_id"]) == (4002, 3, 4)
    assert r["time"] == 1681942465893  # 2023-04-19T22:14:25.893Z
    assert r["http_request"]["http_method"] == "GET"
    assert r["http_request"]["url"]["path"] == "/group/project.git/info/refs"
    assert r["http_request"]["url"]["query_string"] == "service=git-upload-pack"
    assert r["src_endpoint"]["ip"] == "67.43.156.18"
    assert (r["action_id"], r["action"], r["disposition_id"], r["disposition"]) == (2, "Denied", 2, "Blocked")
    assert r["metadata"]["correlation_uid"] == "01GYDSAKAN2SPZPAMJNRWW5H8S" and json.loads(r["unmapped"]) == {"env": "blocklist"}


def test_pfsense_filterlog_lines_are_network_activity() -> None:
    """Elastic's pfSense ``filterlog`` lines (BSD header without a hostname, the pf log's CSV in
    the "Raw Filter Log Format"): Network Activity Traffic (they were Base Events with the CSV
    unread): block Denied / Blocked, pass Allowed; Inbound; IPv4 and IPv6; TCP, UDP, IGMP and
    ICMP with their numbers; addresses and TCP/UDP ports; the IP length; the rule's tracker."""
    name, d = _auto("elastic-pfsense-filterlog-bsd.log")
    assert name == "syslog" and not d.dead and d.events == 19
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {4001} and {r["activity_id"] for r in rows} == {6}
    first = rows[0]
    assert (first["action_id"], first["action"], first["disposition_id"], first["disposition"]) == (2, "Denied", 2, "Blocked")
    assert (first["time_dt"].month, first["time_dt"].day, first["time_dt"].hour, first["time_dt"].second) == (7, 3, 19, 30)
    assert first["actor"]["process"]["name"] == "filterlog" and first["actor"]["process"]["pid"] == 72237
    assert (first["src_endpoint"]["ip"], first["src_endpoint"]["port"]) == ("10.170.12.50", 49724)
    assert first["dst_endpoint"]["ip"] == "1.1.1.1" and first["dst_endpoint"]["port"] == 853
    ci = first["connection_info"]
    assert (ci["direction_id"], ci["protocol_ver_id"], ci["protocol_num"], ci["protocol_name"]) == (1, 4, 6, "tcp")
    assert first["traffic"]["bytes"] == 60 and first["firewall_rule"]["uid"] == "1535324496"
    pf = json.loads(first["unmapped"])["filterlog"]
    assert (pf["rule"], pf["interface"], pf["reason"], pf["tcp_flags"]) == ("146", "igb1.12", "match", "S")
    ntp = next(r for r in rows if r["dst_endpoint"]["ip"] == "216.229.4.66")
    assert ntp["action"] == "Allowed" and ntp["connection_info"]["protocol_name"] == "udp"
    assert (ntp["src_endpoint"]["port"], ntp["dst_endpoint"]["port"], ntp["traffic"]["bytes"]) == (123, 123, 76)
    v6 = next(r for r in rows if r["connection_info"]["protocol_ver_id"] == 6)
    assert v6["src_endpoint"]["ip"] == "fe80::208:9bff:fef3:652b" and v6["dst_endpoint"]["ip"] == "ff02::1:2"
    assert (v6["src_endpoint"]["port"], v6["dst_endpoint"]["port"]) == (546, 547)
    assert (v6["connection_info"]["protocol_num"], v6["connection_info"]["protocol_name"]) == (17, "udp")
    assert v6["firewall_rule"]["uid"] == "1000000105"
    igmp = next(r for r in rows if r["connection_info"]["protocol_name"] == "igmp")
    assert igmp["connection_info"]["protocol_num"] == 2 and igmp["dst_endpoint"]["port"] is None
    icmp = [r for r in rows if r["connection_info"]["protocol_name"] == "icmp"]
    assert len(icmp) == 2 and {json.loads(r["unmapped"])["filterlog"]["icmp_type"] for r in icmp} == {"request"}


def test_pfsense_webconfigurator_and_openvpn_logins_are_authentication() -> None:
    """pfSense's own authentication messages (Elastic's pfSense php-fpm and OpenVPN test lines):
    the webConfigurator's ``Successful login for user 'U' from: A (<server>)`` and
    ``authentication error`` (Logon Success / Failure, the user, the address, the RADIUS server's
    protocol), the OpenVPN script's ``user 'U' authenticated`` / ``could not authenticate.``; they
    were Base Events. OpenVPN's connection chatter stays Base Events."""
    name, d = _auto("elastic-pfsense-phpfpm.log")
    assert name == "syslog" and not d.dead and d.events == 3
    rows = _rows(d)
    assert {r["class_uid"] for r in rows} == {3002} and {r["activity_id"] for r in rows} == {1}
    radius, local, error = rows
    assert (radius["status_id"], radius["user"]["name"], radius["src_endpoint"]["ip"]) == (1, "admin", "10.150.150.77")
    assert (radius["auth_protocol"], radius["auth_protocol_id"]) == ("RADIUS", 10)
    assert radius["service"]["name"] == "webConfigurator" and radius["is_remote"] is True
    assert (local["auth_protocol"], local["auth_protocol_id"]) == ("Local Database Fallback", 99)
    assert (error["status_id"], error["user"]["name"], error["src_endpoint"]["ip"]) == (2, "asdf", "175.16.199.1")
    name, d = _auto("elastic-pfsense-openvpn.log")
    assert name == "syslog" and not d.dead and d.events == 12
    auth = [r for r in _rows(d) if r["class_uid"] == 3002]
    ok, failed = sorted(auth, key=lambda r: r["status_id"])
    assert [(r["status_id"], r["user"]["name"], r["service"]["name"]) for r in (ok, failed)] == [
        (1, "bob", "openvpn"), (2, "bob", "openvpn")]  # fmt: skip
    assert failed["time"] == 1625370038477 and failed["device"]["hostname"] == "pfSense.example.com"  # 22:40:38.477134-05:00


def test_a_syslog_file_mixing_junos_and_audit_logins_is_read_whole() -> None:
    """A syslog server's file holding a Junos router's login lines and a Linux host's audit
    records (round 24's and 25's real lines, one after the other): the Junos and the audit
    authentications are each found among the lines the other left; the decode stopped with
    Arrow's 'must all be the same length' (the second reader's mask was made over all lines)."""
    from secpipe import formats
    from tests.unit.test_formats_holdout import CASES

    junos = (CASES / "junos-bsd-auth-lines.log").read_bytes()
    audit = (CASES / "go-libaudit-audit-ubuntu16.log").read_bytes()
    fmt = formats.get("syslog")
    alone = [sum(r["class_uid"] == 3002 for r in _rows(fmt.decode(b, "x"))) for b in (junos, audit)]
    d = fmt.decode(junos.rstrip(b"\n") + b"\n" + audit, "messages")
    assert not d.dead and d.events == junos.rstrip(b"\n").count(b"\n") + 1 + audit.count(b"\n") + (not audit.endswith(b"\n"))
    auth = [r for r in _rows(d) if r["class_uid"] == 3002]
    assert len(auth) == sum(alone) and alone[1] == 2
    assert any("SSHD_LOGIN_FAILED" in r["message"] for r in auth) and any(r["metadata"]["event_code"] == "USER_LOGIN" for r in auth)


def test_openshift_oauth_server_login_is_authentication(python_only) -> None:  # type: ignore[no-untyped-def]
    """The OpenShift documentation's audit log examples ("Viewing the audit logs": the OpenShift
    API, Kubernetes API and OAuth API servers' events, and the OAuth server's login event). The
    login is an anonymous request the OAuth server annotates with who tried
    (``authentication.openshift.io/username``) and its decision (``error``): Authentication Logon
    Failure of ``kubeadmin`` from 10.128.2.6 (it was API Activity of ``system:anonymous``
    succeeding with 302); the other three stay API Activity. Native and msgspec paths alike."""
    from secpipe import formats
    from secpipe.formats import _fast
    from tests.unit.native_support import assert_same_decoded
    from tests.unit.test_formats_holdout import CASES

    name, d = _auto("openshift-docs-audit-log-examples.jsonl")
    assert name == "k8s_audit" and not d.dead and d.events == 4
    rows = _rows(d)
    assert sorted(r["class_uid"] for r in rows) == [3002, 6003, 6003, 6003]
    (login,) = [r for r in rows if r["class_uid"] == 3002]
    assert (login["activity_id"], login["status_id"], login["status_detail"]) == (1, 2, "error")
    assert login["user"]["name"] == "kubeadmin" and login["src_endpoint"]["ip"] == "10.128.2.6"
    assert login["time"] == 1652290276280 and login["status_code"] == "302"  # 2022-05-11T17:31:16.280155Z
    assert login["http_request"]["url"]["path"] == "/login" and login["metadata"]["original_event_uid"] == "13c20345-f33b-4b7d-b3b6-e7793f805621"
    assert json.loads(login["unmapped"])["annotations"]["authentication.openshift.io/username"] == "kubeadmin"
    api = {r["metadata"]["original_event_uid"]: r for r in rows if r["class_uid"] == 6003}
    assert api["dd4c44e2-3ea1-4830-9ab7-c91a5f1388d6"]["src_endpoint"]["intermediate_ips"] == ["10.128.0.1"]
    data = (CASES / "openshift-docs-audit-log-examples.jsonl").read_bytes()
    native = formats.get("k8s_audit").decode(data * 40, "ocp")  # a batch large enough for the native walk
    python_only()
    assert not _fast.available()
    assert_same_decoded(native, formats.get("k8s_audit").decode(data * 40, "ocp"), "ocp")


def test_fortigate_admin_logins_filed_by_a_syslog_server() -> None:
    """Elastic's FortiOS 7.6 lines as a syslog server files them (RFC 3339 stamp, the device's
    address, FortiOS's ``key=value`` MSG with no TAG): recognized by ``--format auto`` (the file
    was refused) and the administrator logins are Authentication (logid 0100032002 failed with
    its reason, 0100032001 successful; the user, the client ``srcip``, the FortiGate's ``dstip``,
    the ``https`` method); the configuration changes stay Base Events at the header's time."""
    name, d = _auto("elastic-fortigate-7-6-admin.log")
    assert name == "syslog" and not d.dead and d.events == 5
    rows = _rows(d)
    auth = sorted((r for r in rows if r["class_uid"] == 3002), key=lambda r: r["time"])
    assert len(auth) == 2 and [r["status_id"] for r in auth] == [2, 1] and {r["activity_id"] for r in auth} == {1}
    failed, ok = auth
    assert failed["time"] == 1775176269976  # 2026-04-03T00:31:09.976660+00:00
    assert (failed["user"]["name"], failed["src_endpoint"]["ip"], failed["dst_endpoint"]["ip"]) == ("admin", "172.16.1.2", "172.16.1.1")
    assert failed["status_detail"] == "passwd_invalid" and ok["status_detail"] is None
    assert (ok["auth_protocol"], ok["service"]["name"], ok["device"]["ip"]) == ("https", "FortiGate", "192.168.2.1")
    changes = [r for r in rows if r["class_uid"] == 0]
    assert len(changes) == 3 and all('logid="0100044547"' in r["message"] for r in changes)


def test_fortios_lines_without_a_syslog_header_take_their_own_time() -> None:
    """Elastic's FortiOS lines with no syslog header at all (``date=... time=... logid=...``, as a
    FortiGate's disk log or a relay that dropped the header keeps them): recognized by
    ``--format auto`` (they were refused) and each takes its own time (``eventtime``: epoch ns, or
    seconds on the multicast line; the receipt time before), its ``level`` as the severity and
    ``logid`` as the event code; the admin login is Authentication."""
    name, d = _auto("elastic-fortigate-7-4-bare.log")
    assert name == "syslog" and not d.dead and d.events == 4
    rows = {r["metadata"]["event_code"]: r for r in _rows(d)}
    assert sorted(rows) == ["0000000013", "0002000012", "0100032001", "0108037894"]
    assert all("secpipe:time_from_receipt" not in (r["metadata"].get("labels") or []) for r in rows.values())
    forward = rows["0000000013"]
    assert forward["time"] == 1557513467369 and forward["metadata"]["log_level"] == "notice"  # eventtime ns
    assert rows["0002000012"]["time"] == 1554039772000  # eventtime in seconds
    ha = rows["0108037894"]
    assert ha["severity_id"] == 5 and ha["metadata"]["log_level"] == "crit" and ha["class_uid"] == 0
    login = rows["0100032001"]
    assert (login["class_uid"], login["status_id"], login["user"]["name"]) == (3002, 1, "admin")
    assert (login["src_endpoint"]["ip"], login["auth_protocol"], login["time"]) == ("172.16.200.254", "ssh", 1557771654587)
