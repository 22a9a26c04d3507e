"""Session 33: the compiled secret screen knows ``redact.NEWER_ANCHORS`` itself (``secpipe_screen4``).

An extension built before (``secpipe_screen3``) missed session 32's anchors and ``_native.screen_rows`` ran one more
RE2 pass for them; screen4 looks for them in its own pass. The lines below are fragments of each anchor (pass-the-hash
options, mimikatz / Rubeus key options, OpenSSL's -k, winexe / pth-* -U, wget's and the AWS CLI's secrets, sudo -S with
the option forms sudo(8) allows before it, keytool's -storepass, ssh-keygen, SQL Server's bcp / osql / isql, winrs,
lftp, dsmod / dsadd, .NET's NetworkCredential, Linux audit EXECVE / PROCTITLE records, reg add / Set-ItemProperty of
DefaultPassword) and their near-misses (a missing blank, a name one letter short, another case, a line break between
a command and its option), joined at random: the compiled screen must pick the rows RE2 picks with the patterns.
"""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from secpipe import _compute as pc
from secpipe.transforms.protect import _native
from secpipe.transforms.protect.redact import PREFILTER, SPECIFIC_RE2

NT = "BD1C6503987F8FF006296118F359FA79"
FRAGMENTS = [
    " ", "  ", "\t", "\n", "\r", "\\", '"', "'", ":", "=", "x", "S", "-", "--", "[", ".", "a", "0123456789abcdef", NT,
    NT[:31], "sudo", "su", "do", " -S", " -kS", " -k", " -u", " -Sx", " -", "-S", "pseudo", "sudo\t-k", "sudo -", " -A",
    "NetworkCredential", "System.Net.", " [", "Net.NetworkCredential", "networkcredential", "NetworkCredentia",
    " argc=", "argc=", "5", " proctitle=", "proctitle", " aws_secret_access_key", "aws_secret_access_key", " \t",
    " -H", " -h", " -Hash", " -HASH", " -nthash", " -aesKey", " --pw-nt-hash", " --hashes", " -hashes",
    " /ntlm:", " /RC4:", " /aes256:", " /des:", " /Pth:", " /krbtgt:", " /oldntlm:", " /newNTLM:", " /v", " /V",
    "DefaultPassword", "defaultPASSWORD", " -Name", " -name", " -NAME",
    "openssl", "openssl.exe", "openssl.EXE", " -K", " -k\t", "winexe", "pth-a", "pth-", " -U", " --user",
    " --ftp-password", " --http-password", " --proxy-password", " --secret-access-key", " --s3-secret-access-key",
    " --aws-secret-access-key", " --oauth2-bearer", " -srcstorepass", " -deststorepass", " -keypass", " -storepass",
    " -srckeypass", " -destx", "ssh-keygen", " -N", " -P", "bcp", "BCP", "xbcp", "osql", "isql", "Isql.exe", "(bcp",
    " -password", " -pwd", "dsmod", "dsadd", "lftp", "winrs", "WinRS", " -p:", " -P:", " -PASSWORD:", " -password:",
    "hydra", "medusa", "smbmap", "enum4linux", "enum4linux-ng", " -p", " -p\t",
    "command=", "?command=", "&command=", "\\u0026command=", "\\u0026", "u0026command=", "comman", "Command=", "&",
    "&quot;", "&apos;", "&#34;", "&#x27;", "&amp;",
]  # fmt: skip


def _lines(seed: int, n: int = 8000) -> pa.Array:
    rnd = random.Random(seed)
    lines = ["".join(rnd.choice(FRAGMENTS) for _ in range(rnd.randrange(1, 12))) for _ in range(n)]
    return pa.array([None, "", *lines])


def _screen4() -> None:
    if not _native.screen_available() or not _native._screen_knows_newer():
        pytest.skip("the compiled screen here is not built from this source (no secpipe_screen4)")


@pytest.mark.parametrize("seed", [33, 133])
def test_screen4_picks_the_newer_anchors_rows_itself(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The specific anchors alone (GENERIC off: the NT hashes are 32-character words) and PREFILTER as a whole, with the
    extra RE2 pass of an older build out of the way."""
    _screen4()

    def no_pass(col: pa.Array, hit: np.ndarray) -> None:
        msg = "screen4 needs no RE2 pass for NEWER_ANCHORS"
        raise AssertionError(msg)

    monkeypatch.setattr(_native, "_add_newer", no_pass)
    col = _lines(seed)
    for generic, pattern in ((False, SPECIFIC_RE2), (True, PREFILTER)):
        hit, _keys = _native.screen(col, True, generic)
        expected = pc.fill_null(pc.match_substring_regex(col, pattern), False)
        assert 0.2 < pc.mean(expected.cast(pa.int8())).as_py() < 0.8
        bad = [line for line, h, e in zip(col.to_pylist(), hit.to_pylist(), expected.to_pylist(), strict=True) if h != e]
        assert not bad, bad[:5]


def test_an_older_builds_rows_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """screen4's rows and those of the RE2 pass an older build adds (both over the same rows: nothing more is added)."""
    _screen4()
    col = _lines(7, 5000)
    hit, _keys = _native.screen(col, True, False)
    monkeypatch.setattr(_native, "_screen_knows_newer", lambda: False)
    again, _keys = _native.screen(col, True, False)
    assert again.to_pylist() == hit.to_pylist()


@pytest.mark.parametrize("line", [
    "echo $PW | sudo -k -S apt-get update", "echo $PW | sudo\t-k -S id", "sudo -kS true",
    "$c = New-Object System.Net.NetworkCredential($u, $p)", "$c = [System.Net.NetworkCredential]::new('u', 'p')",
    'type=EXECVE msg=audit(1.1:9): argc=3 a0="ls"', "type=PROCTITLE msg=audit(1.1:9): proctitle=6C73",
    "aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "bcp db.dbo.t out t.dat -S srv -U sa -P x", "ssh-keygen -q -t ed25519 -N pw -f k", "winrs -r:h -u:a -p:x cmd",
    "lftp -e 'ls' -u bob,pw sftp://h", "dsadd user CN=x -pwd pw", "openssl enc -aes-256-cbc -k pw -in f",
    "pth-winexe -U admin%x //h cmd", "hydra -l admin -p pw ssh://h", "keytool -list -srcstorepass pw",
])  # fmt: skip
def test_each_newer_anchor_as_written(line: str) -> None:
    _screen4()
    hit, _keys = _native.screen(pa.array([line, line.replace(" ", "\n", 1)]), True, False)
    expected = pc.fill_null(pc.match_substring_regex(pa.array([line, line.replace(" ", "\n", 1)]), SPECIFIC_RE2), False)
    assert hit.to_pylist() == expected.to_pylist()
    assert hit[0].as_py()


# ---- leaks: a Kubernetes exec request's command, XML-escaped quotes ------------------------------------------------

#: a kubectl exec as the API server's audit log writes it: the event of a public DFIR write-up's minikube audit.log
#: ("kubectl exec ... -- cat /etc/resolv.conf"); the command parameters as client-go's url.Values.Encode writes them
#: (sorted keys, '+' a space, %XX), JSON's "\u0026" for '&'
EXEC_EVENT = ('{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"1b0ad713-c643-441e-af7b-1076dead425d",'
              '"stage":"RequestReceived","requestURI":"/api/v1/namespaces/kube-system/pods/coredns-674b8bbfcf-dtdtm/exec?QUERY",'
              '"verb":"get","user":{"username":"minikube-user","groups":["system:masters","system:authenticated"]},'
              '"sourceIPs":["192.168.49.1"],"userAgent":"kubectl/v1.34.1 (linux/amd64) kubernetes/93248f9",'
              '"objectRef":{"resource":"pods","namespace":"kube-system","name":"coredns-674b8bbfcf-dtdtm","apiVersion":"v1",'
              '"subresource":"exec"},"requestReceivedTimestamp":"2025-10-19T14:41:14.630152Z",'
              '"stageTimestamp":"2025-10-19T14:41:14.630152Z"}')


def _k8s(query: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(raw_data, http_request.url.query_string, (type, field) of each finding) of the event with ``query`` (its '&'
    written as the audit log's JSON writes it), through the k8s_audit format and the redact stage."""
    import orjson

    from secpipe import formats
    from secpipe.transforms.protect.redact import RedactStage

    body = EXEC_EVENT.replace("QUERY", query.replace("&", "\\u0026")).encode()
    fmt = formats.detect(body)
    assert fmt is not None and fmt.name == "k8s_audit"
    [batch] = fmt.decode(body, "audit.log").batches
    out = RedactStage("r", {"type": "redact"}).process(batch)
    [row] = out[0].to_pylist()
    found = [] if len(out) == 1 else [(f["data_security"]["detection_pattern"], orjson.loads(f["unmapped"])["field"])
                                      for f in out[1].to_pylist()]
    return row["raw_data"], row["http_request"]["url"]["query_string"], found


@pytest.mark.parametrize(("query", "redacted"), [
    # kubectl exec mysql-0 -- sh -c "mysql -u root -pS3cretPw -e 'show databases'" (MySQL's -pPASSWORD, attached)
    ("command=sh&command=-c&command=mysql+-u+root+-pS3cretPw+-e+%27show+databases%27&container=mysql&stderr=true&stdout=true",
     "command=sh&command=-c&command=mysql+-u+root+-p[REDACTED:cli_password]+-e+%27show+databases%27&container=mysql"
     "&stderr=true&stdout=true"),
    # kubectl exec mysql-0 -- mysql -u root -pS3cretPw: one argument a parameter
    ("command=mysql&command=-u&command=root&command=-pS3cretPw&container=mysql&stdin=true&stdout=true&tty=true",
     "command=mysql&command=-u&command=root&command=-p[REDACTED:cli_password]&container=mysql&stdin=true&stdout=true"
     "&tty=true"),
    # a password in an environment assignment (libpq's PGPASSWORD), %20 for a space as other clients write it
    ("command=sh&command=-c&command=PGPASSWORD%3DS3cretPw%20psql%20-h%20db%20-U%20app&container=pg&stdout=true",
     "command=sh&command=-c&command=PGPASSWORD%3D[REDACTED:password]+psql+-h+db+-U+app&container=pg&stdout=true"),
    # the parameters in another order (a client that does not sort them: curl against the API)
    ("container=redis&command=redis-cli&command=-a&command=R3disPw9&stdout=true",
     "container=redis&command=redis-cli&command=-a&command=[REDACTED:cli_password]&stdout=true"),
])  # fmt: skip
def test_a_kubectl_exec_commands_password_goes_from_the_uri(query: str, redacted: str) -> None:
    raw, query_string, found = _k8s(query)
    assert query_string == redacted
    assert redacted.replace("&", "\\u0026") in raw
    assert "S3cretPw" not in raw and "R3disPw9" not in raw
    assert {field for _kind, field in found} == {"raw_data", "http_request.url.query_string"}


def test_a_kubectl_exec_without_a_secret_stays() -> None:
    """The write-up's own request, byte for byte."""
    query = "command=cat&command=%2Fetc%2Fresolv.conf&container=coredns&stderr=true&stdout=true"
    raw, query_string, found = _k8s(query)
    assert query_string == query and query.replace("&", "\\u0026") in raw and not found


#: a Security 4688 event's XML as Windows renders it (Microsoft's event schema; a quote in an element's text as &quot;),
#: the command line as a public DFIR write-up found it grepping a host's event logs ("net1 user susan_admin
#: &quot;SusanIsStrong123&quot; /ADD"), inside a Winlogbeat event (event.original holds the XML with include_xml)
XML = ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider "
       "Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>4688</EventID>"
       "<TimeCreated SystemTime='2024-05-01T10:00:00.0000000Z'/><EventRecordID>1001</EventRecordID><Channel>Security"
       "</Channel><Computer>WS01.corp.local</Computer></System><EventData><Data Name='SubjectUserName'>susan</Data>"
       "<Data Name='NewProcessName'>C:\\Windows\\System32\\net1.exe</Data><Data Name='CommandLine'>"
       "C:\\Windows\\system32\\net1 user susan_admin &quot;SusanIsStrong123&quot; /ADD</Data></EventData></Event>")


def test_an_xml_escaped_password_in_a_winlogbeat_events_original_goes() -> None:
    import json

    from secpipe import formats
    from secpipe.transforms.protect.redact import RedactStage

    doc = {"@timestamp": "2024-05-01T10:00:00.000Z", "agent": {"type": "winlogbeat", "version": "8.12.0"},
           "event": {"code": "4688", "kind": "event", "provider": "Microsoft-Windows-Security-Auditing", "original": XML},
           "winlog": {"channel": "Security", "event_id": "4688", "computer_name": "WS01.corp.local",
                      "event_data": {"SubjectUserName": "susan",
                                     "CommandLine": 'C:\\Windows\\system32\\net1 user susan_admin "SusanIsStrong123" /ADD'}},
           "message": "A new process has been created."}
    [batch] = formats.get("json").decode(json.dumps(doc).encode(), "winlogbeat.json").batches
    out = RedactStage("r", {"type": "redact"}).process(batch)
    [row] = out[0].to_pylist()
    for text in (row["raw_data"], row["unmapped"]):
        assert "SusanIsStrong123" not in text
        assert "net1 user susan_admin &quot;[REDACTED:cli_password]&quot; /ADD</Data>" in text


@pytest.mark.parametrize(("line", "redacted"), [
    ('<Data Name="CommandLine">mysql -u root -p&quot;S3cr&amp;tPw&quot; appdb</Data>',
     '<Data Name="CommandLine">mysql -u root -p&quot;[REDACTED:cli_password]&quot; appdb</Data>'),
    ('<Data Name="CommandLine">cmdkey /generic:TERMSRV/srv01 /user:corp\\bob /pass:&quot;Pa55 w0rd!&quot;</Data>',
     '<Data Name="CommandLine">cmdkey /generic:TERMSRV/srv01 /user:corp\\bob /pass:&quot;[REDACTED:cli_password]&quot;</Data>'),
    ("<Data Name='ScriptBlockText'>$pw = ConvertTo-SecureString &apos;Winter2024!x&apos; -AsPlainText -Force</Data>",
     "<Data Name='ScriptBlockText'>$pw = ConvertTo-SecureString &apos;[REDACTED:cli_password]&apos; -AsPlainText -Force"
     "</Data>"),
    ('<Data Name="CommandLine">net user bob &#34;Pa55w0rd9&#34; /add</Data>',
     '<Data Name="CommandLine">net user bob &#34;[REDACTED:cli_password]&#34; /add</Data>'),
])  # fmt: skip
def test_xml_escaped_quotes_around_a_password(line: str, redacted: str) -> None:
    from tests.unit.holdout_support import redact_lines

    messages, raws, kinds = redact_lines([line])
    assert messages == raws == [redacted]
    assert kinds == ["cli_password"]


def test_xml_escaped_quotes_without_a_secret_stay() -> None:
    """A Sysmon process creation's quoted image path (a public test fixture's), and a quoted net use share."""
    from tests.unit.holdout_support import redact_lines

    lines = ['<Data Name="CommandLine">&quot;C:\\Tools\\cleanup.exe&quot; --fixture</Data>',
             '<Data Name="CommandLine">net use &quot;\\\\fs01\\share&quot; /persistent:no</Data>']
    messages, raws, kinds = redact_lines(lines)
    assert messages == raws == lines and not kinds
