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
