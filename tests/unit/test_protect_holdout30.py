"""Holdout sweep round 30: Windows command lines whose passwords reached the lake unredacted.

Each as its tool documents it and as process-creation logs (Sysmon 1, Security 4688, PowerShell 4104) record it:

- ``net user NAME PASS [/add]`` and ``net user /add NAME PASS`` (Microsoft's net user syntax; Atomic Red Team
  T1136.001 "Create a new user in a command prompt": ``net user /add #{username} #{password}``); ``*`` prompts, a
  ``/switch`` is none, ``net user NAME`` alone only shows the account;
- 7-Zip's ``-pPASS`` and RAR's ``-pPASS`` / ``-hpPASS`` (attached; Atomic Red Team T1560.001 tests 2 and 4:
  ``"%programfiles%/WinRAR/Rar.exe" a -hp"blue" hello.rar``, ``"%ProgramFiles%\\7-zip\\7z.exe" u archive.7z *txt
  -pblue``); RAR's ``-p-`` is "no password" and ``-p`` alone prompts;
- ``cmdkey ... /pass:PASS`` (Microsoft's cmdkey syntax; the RDP helper scripts that store credentials so);
  ``/pass`` alone prompts, a variable stays;
- ``schtasks ... /RP PASS`` and ``/P PASS`` (Microsoft's schtasks create syntax); ``*`` and ``none`` are no password;
- PowerShell's ``ConvertTo-SecureString "PASS" -AsPlainText -Force`` (Microsoft's ConvertTo-SecureString example 3:
  ``ConvertTo-SecureString "P@ssW0rD!" -AsPlainText -Force``; Atomic Red Team T1047's
  ``PSCredential(..., (ConvertTo-SecureString "#{password}" -AsPlainText -Force))``) and ``"PASS" |
  ConvertTo-SecureString -AsPlainText -Force``; a variable or a command's output stays;
- PuTTY's ``plink`` / ``pscp`` / ``psftp -pw PASS`` (the PuTTY manual, "-pw: specify a password"; the RDP tunnels
  through plink that Sigma's "Potential RDP Tunneling Via Plink" looks for);
- ``-p PASS`` of NetExec / CrackMapExec, evil-winrm, the MongoDB shell and tools, ``docker login`` and ``az login``
  (their manuals; ``docker run -p`` is a port, a bare ``-p`` prompts, NetExec's password list file stays);
- Apache's ``htpasswd -b[c] FILE USER PASS`` and ``htpasswd -nb USER PASS`` (its manual: "-b Use batch mode; i.e.,
  get the password from the command line rather than prompting for it", example ``htpasswd -db /usr/web/.htpasswd-all
  jones Pwd4Steve``); without -b htpasswd prompts.
Issuers' prefixed tokens of gitleaks' default config (config/gitleaks.toml) that had no detector: Sourcegraph (``sgp_``),
Prefect (``pnu_``), Artifactory API keys (``AKCp``), Clojars (``CLOJARS_``), EasyPost (``EZAK`` / ``EZTK``) and
Flutterwave secret and encryption keys (``FLWSECK...``; a public ``FLWPUBK`` key stays), each its own finding type.
A Windows batch variable (``%DB_PASSWORD%``) is a reference, not a password, after any password option or key.
The compiled first screen picks the same rows as RE2 for each (and test_protect_vectorized's ``_anchor_spellings``).
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from secpipe import _compute as pc
from secpipe.transforms.protect import _native
from secpipe.transforms.protect.redact import PREFILTER
from tests.unit.holdout_support import assert_screen_matches_re2, fragment_lines, redact_lines

TPS = [
    # Atomic Red Team T1136.001 (values filled in), net.exe / net1.exe as Sysmon records the image path
    ("net user /add T1136.001_CMD T1136_pass123!", "T1136_pass123!"),
    ("net user backdoor Winter2024! /add /domain", "Winter2024!"),
    ('"C:\\Windows\\system32\\net.exe" user svc_admin P@ssw0rd1 /add', "P@ssw0rd1"),
    ("C:\\Windows\\system32\\net1  user Administrator N3wAdm1nPw", "N3wAdm1nPw"),
    ('NET USER "Help Desk" H3lpD3sk! /ADD', "H3lpD3sk!"),
    ('{"CommandLine":"\\"C:\\\\Windows\\\\system32\\\\net.exe\\" user hacker H4ck3dPw! /add"}', "H4ck3dPw!"),
    # Atomic Red Team T1560.001 tests 2 and 4 (verbatim but the variables), 7za / WinRAR / unrar
    ('"%programfiles%/WinRAR/Rar.exe" a -hp"blue" hello.rar', "blue"),
    ('"%ProgramFiles%\\7-zip\\7z.exe" u archive.7z *txt -pblue', "blue"),
    ("7za.exe a -tzip -pExf1lPass -mem=AES256 C:\\Users\\Public\\d.zip C:\\Users\\bob\\Documents", "Exf1lPass"),
    ("WinRAR.exe a -ep1 -r -hpS3cretRar C:\\temp\\out.rar C:\\data", "S3cretRar"),
    ("unrar x -pInf3ct3d payload.rar", "Inf3ct3d"),
    # cmdkey, as the RDP helper scripts run it (the variables expanded)
    ("cmdkey /generic:TERMSRV/159.69.229.235 /user:rdpuser /pass:Katzenfutter", "Katzenfutter"),
    ('CMDKEY.EXE /add:fileserver /user:CORP\\bob /PASS:"Sp4ce Pw"', "Sp4ce Pw"),
    # schtasks' run-as and remote passwords
    ("schtasks /create /tn Updater /tr C:\\Users\\Public\\u.exe /sc onlogon /ru CORP\\svc /rp Svc!Pass42", "Svc!Pass42"),
    ("SCHTASKS.EXE /Create /S dc01 /U CORP\\admin /P Adm1nPw! /TN t /TR calc.exe /SC ONCE /ST 00:00", "Adm1nPw!"),
    # ConvertTo-SecureString: Microsoft's example 3, Atomic Red Team T1047 (the password filled in), a pipeline
    ('$Secure_String_Pwd = ConvertTo-SecureString "P@ssW0rD!" -AsPlainText -Force', "P@ssW0rD!"),
    ('$credential = New-Object System.Management.Automation.PSCredential("CORP\\bob", '
     '(ConvertTo-SecureString "Atom1cPw!" -AsPlainText -Force))', "Atom1cPw!"),
    ("convertto-securestring -asplaintext -force -string 'Lower5ecret'", "Lower5ecret"),
    ("$pw = 'Pip3dPw!' | ConvertTo-SecureString -AsPlainText -Force", "Pip3dPw!"),
    ('{"ScriptBlockText":"$p = ConvertTo-SecureString \\"Js0nPw!\\" -AsPlainText -Force"}', "Js0nPw!"),
    # PuTTY's tools; Apache's htpasswd in batch mode (its manual's example verbatim, then -bc / -nbB / -bB forms)
    ("plink.exe -ssh -l root -pw toorP4ss -R 3389:127.0.0.1:3389 203.0.113.10", "toorP4ss"),
    ('"C:\\Program Files\\PuTTY\\pscp.exe" -P 2222 -pw "Sc0p Pw" backup.zip ops@10.0.0.2:/srv', "Sc0p Pw"),
    ("psftp -l ops -pw Sftp4Ops! files.example.com", "Sftp4Ops!"),
    ("htpasswd -db /usr/web/.htpasswd-all jones Pwd4Steve", "Pwd4Steve"),
    ("htpasswd -bc /etc/nginx/.htpasswd admin Adm1nHt!", "Adm1nHt!"),
    ("htpasswd -nbB admin 'Bcrypt Pw1'", "Bcrypt Pw1"),
    ("/usr/bin/htpasswd -B -C 12 -b /etc/apache2/.htpasswd bob B0bPass", "B0bPass"),
    # NetExec / CrackMapExec and evil-winrm as their wikis show them, the MongoDB shell, docker login, az login
    ("nxc smb 192.168.1.0/24 -u UserName -p 'PASSWORDHERE'", "PASSWORDHERE"),
    ("crackmapexec winrm 10.0.0.5 -u administrator -p Summer2024! -x whoami", "Summer2024!"),
    ("evil-winrm -i 10.0.0.5 -u Administrator -p 'P@ss w0rd!'", "P@ss w0rd!"),
    ("mongosh --host db01 -u admin -p M0ng0Adm1n --authenticationDatabase admin", "M0ng0Adm1n"),
    ("docker login -u ci-bot -p D0ck3rHubPw registry.example.com", "D0ck3rHubPw"),
    ("az login --service-principal -u 00000000-0000-0000-0000-000000000000 -p Az.Sp~Secret123 --tenant t", "Az.Sp~Secret123"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "secret"), TPS)
def test_windows_command_line_passwords_are_redacted(line: str, secret: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert secret not in messages[0] and secret not in raws[0]
    assert kinds == ["cli_password"] and "[REDACTED:cli_password]" in messages[0]


@pytest.mark.parametrize("line", [
    # no password: net user lists, shows, prompts, switches
    "net user", "net user hacker /add", "net user bob *", "net user administrator /domain", "net user guest /active:no",
    "net users", "net user bob | findstr Last", "Invalid user admin from 203.0.113.7 port 52114",
    # the archivers' prompts and their other switches; -p- is "no password"
    "7z a -p archive.7z C:\\data", "7z x backup.7z -o/tmp/out -y", "rar a -p- -r out.rar C:\\data", "rar a -hp out.rar f",
    "tar -czpf backup.tgz /etc", "library list -pfoo",
    # variables and prompts of cmdkey, schtasks and ConvertTo-SecureString
    "cmdkey /generic:TERMSRV/$RDShost /user:$user /pass:$Password", 'cmdkey /generic:"$h" /user:"$u" /pass:""',
    "cmdkey /add:srv /user:bob /pass", 'cmdkey /generic:"!hostname!" /user:"%dominio%\\!cusuario!" /pass:"%CPASS%"',
    "cmdkey /list", "schtasks /create /tn t /tr x /sc daily /ru SYSTEM /rp *", "schtasks /query /fo LIST /v",
    "schtasks /create /tn t /tr x /ru bob /rp /sc once", "schtasks /create /tn t /tr x /ru bob /rp none",
    "$s = ConvertTo-SecureString $env:ADMIN_PW -AsPlainText -Force", "ConvertTo-SecureString (Get-Content pw.txt)",
    "$pw | ConvertTo-SecureString -AsPlainText -Force", "ConvertFrom-SecureString $s",
    "password=%DB_PASSWORD%", "psexec \\\\h -u bob -p %ADMINPW% cmd",
    # PuTTY's and htpasswd's prompts and other options
    "plink -ssh -l root -P 22 203.0.113.10", "pscp -pwfile pw.txt f h:/tmp", "plink -pw $SSH_PW -batch h",
    "htpasswd /usr/local/etc/apache/.htpasswd-users jsmith", "htpasswd -c /home/doe/public_html/.htpasswd jane",
    "htpasswd -D .htpasswd bob", "htpasswd -v .htpasswd bob",
    # docker run's port, the prompts, a password list, a variable
    "docker run -p 8080:80 nginx", "mongo -u admin -p --authenticationDatabase admin", "mongosh mongodb://h -u u -p",
    "nxc smb 10.0.0.5 -u users.txt -p passwords.txt --continue-on-success", "netexec smb 10.10.10.0/24 -u a -p $PW",
])  # fmt: skip
def test_lookalikes_stay(line: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert messages == [line] and raws == [line] and kinds == []


B62 = "Zq7Lw2Nd8vKpR4tYs1Hb6Xm9Cj3Ue5Gf0AiWn2Qx"  # made up in the issuers' shapes (gitleaks' rules)
TOKENS = [
    (f"export SRC_ACCESS_TOKEN=sgp_{'0123456789abcdef'}_{'3f9c1a7e5b2d4f6a8c0e' * 2}", "sourcegraph_token"),
    (f"src login https://sourcegraph.example --token sgp_local_{'3f9c1a7e5b2d4f6a8c0e' * 2}", "sourcegraph_token"),
    (f"PREFECT_API_KEY=pnu_{B62[:36]}", "prefect_token"),
    (f'{{"artifactory_api_key":"AKCp{(B62 * 2)[:69]}"}}', "artifactory_key"),
    (f"CLOJARS_DEPLOY_TOKEN CLOJARS_{(B62.lower() * 2)[:60]}", "clojars_token"),
    (f"EasyPost::Client.new(api_key: 'EZAK{(B62 * 2)[:54]}')", "easypost_token"),
    (f"easypost test key EZTK{(B62 * 2)[:54]}", "easypost_token"),
    # verbatim from a public Laravel services config (a test-mode key pair): the secret key and the encryption key go,
    # the public key stays
    ("'secret' => 'FLWSECK_TEST-23d0c4ff52455968094e5e2214ebb392-X',", "flutterwave_key"),
    ("'environment' => 'FLWSECK_TEST050630a918d1',", "flutterwave_key"),
]


@pytest.mark.parametrize(("line", "kind"), TOKENS)
def test_prefixed_tokens_are_redacted(line: str, kind: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert kinds == [kind] and f"[REDACTED:{kind}]" in messages[0] and messages[0] == raws[0]


@pytest.mark.parametrize("line", [
    "'key' => 'FLWPUBK_TEST-8cad7a5e065dea34fc34687d2e04f585-X',", 'placeholder="FLWSECK_TEST-xxx"', "sgp_short_token",
    "pip install prefect; pnu_ tokens start so", "AKCp", "CLOJARS_USERNAME=bob", "EZAK is EasyPost's prefix",
])  # fmt: skip
def test_token_lookalikes_stay(line: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert messages == [line] and raws == [line] and kinds == []


# the new anchors and their near-misses, for the compiled screen against RE2 with PREFILTER
FRAGMENTS = ["net", "NET", "Net1", "net1", "net.exe", "NET.EXE", "net.ex", "\\", '"', "'", " ", "\t", "\n", "\r", "  ",
             "user", "USER", "User", "users", "use", "usr", " user ", "\tuser\t", "/add", "x", "é", "cabinet", "7z", "7za",
             "7zr", "7zz", "7zx", "7", "z", "rar", "RAR", "Rar", "raR", "ra", "WinRAR", "unrar", ".exe", ".EXE", "-p",
             "-hp", "-h", "-p-", "-px", "-hpx", "-p\"", "p", "cmdkey", "CMDKEY", "CmdKey", "cmdke", "dkey", "/pass:",
             "/PASS:", "/Pass", "/pass", "pass:", "schtasks", "SCHTASKS", "SchTasks", "chtasks", "schtask", "/rp", "/RP",
             "/p", "/P", "/r", "/rpx", "/px", "ConvertTo-SecureString", "convertto-securestring", "CONVERTTO-SECURESTRING",
             "ConvertTo-SecureStrin", "Convertto-", "o-", "-SecureString", "to-s", "|", "plink", "PLINK.EXE", "pscp",
             "psftp", "psft", "-pw", "-pW", "-p w", "htpasswd", "htpasswd.exe", "HTPASSWD", "-b", "-nb", "-cbB", "-Bb",
             "-C", "-xb", "-n", "12", "b", "sgp_", "sg", "pnu_", "pn", "AKCp", "AKC", "AKIA", "CLOJARS_", "CLOJARS", "EZAK",
             "EZTK", "EZ", "FLWSECK", "FLWSEC", "FLWPUBK", "nxc", "cme", "acme", "netexec", "crackmapexec", "evil-winrm",
             "mongo", "mongosh", "mongodump", "docker login", "docker", "login", "az login", "az", "-p "]


@pytest.mark.parametrize("seed", [30, 31])
def test_native_screen_matches_re2_on_the_new_anchors(seed: int) -> None:
    assert_screen_matches_re2(fragment_lines(FRAGMENTS, 20000, seed, [line for line, _ in TPS]))


def test_many_options_on_one_line_scan_it_once() -> None:
    """A long line of options with no command before them: each is checked against the line before it, but the
    compiled screen scans each byte back once a row (not once an option: 50k options would be 2.5e9 steps)."""
    import time

    if not _native.screen_available():
        pytest.skip("the C accelerator is not built here (no C compiler when installing)")
    line = " -px /PASS: /rp -pw -b" * 40_000
    col = pa.array([line, "x " + line + " rar -px"])
    start = time.process_time()
    hit, _keys = _native.screen(col, True, False)
    assert time.process_time() - start < 1.0
    assert hit.to_pylist() == pc.fill_null(pc.match_substring_regex(col, PREFILTER), False).to_pylist() == [False, True]
