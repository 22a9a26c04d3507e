"""Round 32: pass-the-hash material, OpenSSL's -k, wget's and the AWS CLI's space-separated secrets.

The command lines are as published (the hashes and keys in them are the authors' lab values):

- NetExec / CrackMapExec / evil-winrm ``-H NTHASH`` (or ``LM:NT``), Invoke-TheHash's ``-Hash``, smbclient's
  ``--pw-nt-hash HASH``, the pth-* tools' ``-U USER%LM:NT``, FreeRDP's ``/pth:HASH`` (adarshvs/alchemy ``AD/PTH.md``;
  the HTB Academy "Pass the Hash" notes quoted in several public repositories; Kevin-Robertson/Invoke-TheHash's README
  usage); mimikatz's ``sekurlsa::pth /ntlm:`` / ``/rc4:`` / ``/aes256:`` and ``kerberos::golden /krbtgt:``, Rubeus'
  ``asktgt`` / ``s4u`` ``/rc4:`` ``/aes256:`` (mimikatz's wiki, module sekurlsa#pth; Rubeus' README; the notes above);
  Impacket's ``--hashes`` (bloodhound-python) and ticketer.py's ``-nthash`` / ``-aesKey``;
- OpenSSL's ``enc -k PASS`` ("-k password: the password to derive the key from", openssl-enc(1); the ``tar | openssl
  des3 -salt -k PASS | dd`` idiom of many backup scripts) and ``-K HEXKEY`` (the raw key);
- wget's ``--ftp-password PASS`` / ``--http-password PASS`` (wget(1): GNU long options take the value as the next
  word too), ``aws configure set aws_secret_access_key KEY`` (the AWS CLI reference; AWS's documented example key)
  and rclone's ``--s3-secret-access-key KEY``, curl's ``--oauth2-bearer TOKEN``;
- Windows' auto-logon password, ``reg add ...\\Winlogon /v DefaultPassword /t REG_SZ /d PASS`` or PowerShell's
  ``Set-ItemProperty ... -Name DefaultPassword -Value PASS`` (Microsoft's "Turn on automatic logon in Windows"; the
  lines as provisioning scripts in public repositories write them); ``echo PASS | sudo -S`` (sudo(8): "-S, --stdin:
  write the prompt to standard error and read the password from standard input"); keytool's and jarsigner's
  ``-storepass`` / ``-keypass`` (Android's debug keystore password ``android`` and the JDK's ``changeit`` are public);
  ssh-keygen's ``-N`` / ``-P`` passphrases, SQL Server bcp's ``-P``, THC Hydra's / Medusa's ``-p`` (``-P`` is a list).

Each is the placeholder's type before this round's anchors existed: the row was not picked by the first screen. The
compiled screen of an older build (``secpipe_screen3``) does not know these anchors: ``_native.screen_rows`` adds them
with one RE2 pass (``redact.NEWER_SCREEN``); ``secpipe_screen4`` knows them (test_protect33). The screen-vs-RE2 fuzz
below checks that the rows are PREFILTER's either way.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from secpipe.transforms.protect.redact import RedactStage
from tests.unit.holdout_support import assert_screen_matches_re2, fragment_lines, redact_lines

LM, NT = "aad3b435b51404eeaad3b435b51404ee", "BD1C6503987F8FF006296118F359FA79"
AES = "b21c99fc068e3ab2ca789bccbef67de43791fd911c6e15ead25641a8fda3fe60"
TPS = [
    (f"cme smb 10.0.0.20 -u user -H {NT}  -d domain.local", NT),
    ("crackmapexec smb 172.16.1.10 -u Administrator -d . -H 30B3783CE2ABF1AF70F77D0660CF3453 -x whoami",
     "30B3783CE2ABF1AF70F77D0660CF3453"),
    (f"nxc smb 192.168.1.0/24 -u administrator -H {LM}:{NT} --local-auth", NT),
    (f"evil-winrm -i 10.0.0.20 -u user -H {NT}", NT),
    ("Invoke-SMBExec -Target 172.16.1.10 -Domain inlanefreight.htb -Username julio -Hash 64F12CDDAA88057E06A81B54E73B949B "
     '-Command "whoami" -Verbose', "64F12CDDAA88057E06A81B54E73B949B"),
    (f"smbclient //10.0.0.30/Finance -U user --pw-nt-hash {NT} -W domain.local", NT),
    (f"./pth-winexe -U Administrator%{LM}:2892d26cdf84d7a70e2eb3b9f05c425e //10.11.0.22 cmd", "2892d26cdf84d7a70e2eb3b9f05c425e"),
    ("winexe -U 'CORP/admin%Wx3Pass' //10.0.0.5 cmd.exe", "Wx3Pass"),  # winexe's usage: -U [DOMAIN/]USER[%PASS]
    ("xfreerdp /v:192.168.2.200 /u:Administrator /pth:8846F7EAEE8FB117AD06BDD830B7586C", "8846F7EAEE8FB117AD06BDD830B7586C"),
    ('mimikatz.exe privilege::debug "sekurlsa::pth /user:julio /rc4:64F12CDDAA88057E06A81B54E73B949B '
     '/domain:inlanefreight.htb /run:cmd.exe" exit', "64F12CDDAA88057E06A81B54E73B949B"),
    ('mimikatz.exe "sekurlsa::pth /user:administrator /ntlm:a569f80ccd9fda0ea5e749d20aa80657 '
     '/domain:client.offshore.com /run:c:\\rev.exe" "exit"', "a569f80ccd9fda0ea5e749d20aa80657"),
    (f"Rubeus.exe asktgt /domain:inlanefreight.htb /user:plaintext /aes256:{AES} /nowrap", AES),
    ("rubeus.exe s4u /user:attackersystem$ /rc4:EF266C6B963C0BB683941032008AD47F /impersonateuser:Administrator /ptt",
     "EF266C6B963C0BB683941032008AD47F"),
    ("kerberos::golden /user:Administrator /domain:corp.local /sid:S-1-5-21-1-2-3 /krbtgt:8846f7eaee8fb117ad06bdd830b7586c "
     "/ptt", "8846f7eaee8fb117ad06bdd830b7586c"),
    (f"bloodhound-python -u svc -d corp.local --hashes {LM}:{NT} -c All", NT),
    (f"ticketer.py -nthash {NT} -domain-sid S-1-5-21-1-2-3 -domain corp.local Administrator", NT),
    (f"getST.py -spn cifs/dc01 -aesKey {AES} corp.local/svc", AES),
    ("tar -zcvf - stuff|openssl des3 -salt -k secretpassword | dd of=stuff.des3", "secretpassword"),
    ("tar czf - myfolder | openssl enc -aes-256-cbc -salt -k 'my pass 9' | nc receiver_host 9999", "my pass 9"),
    ('openssl enc -aes-256-cbc -d -in 1.tar.gz.aes -out 1.tar.gz -K "c057f2deac4cba660f5463b8346ee67961948a598e0f4f72e7ad46d2'
     'ffeecd39" -iv "4084a32c07fb808e8dfc679c3cde6480" -nosalt -nopad', "c057f2deac4cba660f5463b8346ee6796"),
    ("echo 'Omnibus1' | sudo -S docker cp ~/football-manager/FM_Player_Stats.csv football-manager-app-1:/app/FM_Player_Stats.csv",
     "Omnibus1"),
    ("echo Sud0Pass | sudo -S -k whoami", "Sud0Pass"),
    ('jarsigner -verbose -sigalg SHA1withRSA -digestalg SHA1 -keystore cert/my-release-key.keystore -storepass Heslo123 '
     'platforms/android/build/outputs/apk/android-release-unsigned.apk alias_name', "Heslo123"),
    ("keytool -genkeypair -keystore release.jks -alias rel -keyalg RSA -storepass St0re!Pw -keypass K3y!Pw -dname CN=x",
     "K3y!Pw"),
    ("ssh-keygen -t ed25519 -N 'K3ygen Pass' -f /tmp/id", "K3ygen Pass"),
    ("bcp dbo.Orders out orders.dat -S sqlsrv01 -U sa -P BcpPw99 -c", "BcpPw99"),
    ("hydra -l admin -p Hydr4Pw ssh://10.0.0.5", "Hydr4Pw"),
    # dsmod's -pwd (its documentation's LDIF example), .NET's NetworkCredential(user, password) as PowerShell and VB
    # scripts build it (public scripts' lines)
    ("type export-3.ldif | dsmod user -pwd newpass1 -mustchpwd yes", "newpass1"),
    ('.Credentials = New Net.NetworkCredential("cuidartegestor@gmail.com", "GesCuidarte")', "GesCuidarte"),
    ("$c = [System.Net.NetworkCredential]::new('svc', 'N3wCred!')", "N3wCred!"),
    ("$p = New-Object -TypeName System.Net.NetworkCredential -ArgumentList 'svc','ArgL1st!'", "ArgL1st!"),
    # smbmap's README (a password, an LM:NT hash), enum4linux's -p, osql's / isql's -P (SQL Server's osql utility
    # syntax), winrs' -p: (Microsoft's winrs example: the password $%fgh7 is no variable), lftp's -u USER,PASS (lftp(1))
    ("smbmap -u 'apadmin' -p 'asdf1234!' -d ACME -H 10.1.3.30 -x 'net group \"Domain Admins\" /domain'", "asdf1234!"),
    ("smbmap -u jsmith -p 'aad3b435b51404eeaad3b435b51404ee:da76f2c4c96028b7a6111aef4a50a94d' -H 172.16.0.20",
     "da76f2c4c96028b7a6111aef4a50a94d"),
    ("enum4linux -u administrator -p Passw0rd1 -a 10.0.0.5", "Passw0rd1"),
    ('osql -S srv01 -U sa -P OsqlPw1 -Q "select @@version"', "OsqlPw1"),
    ("winrs -r:https://myserver.com -u:administrator -p:$%fgh7 ipconfig", "$%fgh7"),
    ("lftp -u bob,Lftp!Pw9 sftp://files.example.com", "Lftp!Pw9"),
    ("lftp -e 'mirror /x' -u 'bob,Lftp Pw 2' ftp.example.com", "Lftp Pw 2"),
]  # fmt: skip
PASSWORDS = [
    ("wget --timeout=30  --ftp-user 'architech' --ftp-password 'Arch1tech' ftp://localhost/ftp-tmp/x.md5", "Arch1tech",
     "password"),
    ("wget --passive-ftp --ftp-user FoodImage@grebvm2.epfl.ch --ftp-password Cahc1moo -nc ftp://tremplin.epfl.ch/F.zip",
     "Cahc1moo", "password"),
    ("wget --http-user=bob --http-password S3cretWeb https://example.com/f", "S3cretWeb", "password"),
    ("aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI", "aws_secret_key"),
    ("rclone lsd s3: --s3-access-key-id AKIAIOSFODNN7EXAMPLE --s3-secret-access-key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "wJalrXUtnFEMI", "aws_secret_key"),
    ('reg add "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon" /v DefaultPassword /t REG_SZ '
     '/d "Qwe123" /f', "Qwe123", "password"),
    ('reg add "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon" /v DefaultPassword /t REG_SZ /d '
     "Rt@wqPP7ZvUgtS7 /f", "Rt@wqPP7ZvUgtS7", "password"),
    ("Set-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon' -Name DefaultPassword "
     "-Value 'Aut0L0gon!'", "Aut0L0gon!", "password"),
    ("curl -fs localhost:8080/dex/userinfo --oauth2-bearer ya1b2c3d4e5f6g7h8", "ya1b2c3d4e5f6g7h8", "password"),
    ("kubectl create secret generic db --from-literal=password=S3cr3tLit", "S3cr3tLit", "password"),
    # InfluxDB 1.x's CLI (its authentication docs): -password, one dash
    ("influx -username todd -password 'influxdb4ever' -host db", "influxdb4ever", "password"),
]  # fmt: skip


def _assert_unchanged(lines: list[str]) -> None:
    """The redact stage leaves ``lines`` (as message and raw_data) as they are and reports no secret."""
    messages, raws, kinds = redact_lines(lines)
    assert messages == lines and raws == lines and kinds == []


@pytest.mark.parametrize(("line", "secret"), TPS)
def test_hashes_keys_and_command_line_passwords_are_redacted(line: str, secret: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert secret not in messages[0] and messages[0] == raws[0]
    assert kinds == ["cli_password"] and "[REDACTED:cli_password]" in messages[0]


@pytest.mark.parametrize(("line", "secret", "kind"), PASSWORDS)
def test_space_separated_option_secrets_are_redacted(line: str, secret: str, kind: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert secret not in messages[0] and messages[0] == raws[0] and kind in kinds


@pytest.mark.parametrize("line", [
    # placeholders and variables as the published notes and scripts write them
    "Rubeus.exe asktgt /user:administrator /rc4:NTLM_HASH_HERE /domain:PAINTERS.HTB /ptt",
    "mimikatz # sekurlsa::pth /user:Administrator /domain:lab /ntlm:<hash> /run:cmd.exe",
    "openssl aes-128-cbc -a -d -salt -k $1 -in $2", "openssl enc -aes-256-cbc -d -K $AES_256_KEY -iv $IV",
    "openssl enc -aes-256-cbc -salt -kfile /etc/backup.key -in a -out b", "openssl enc -aes-256-cbc -k <passphrase here> -P",
    "aws configure set aws_secret_access_key $AWS_SECRET_ACCESS_KEY", "aws configure set aws_secret_access_key default_secret_key",
    'wget --ftp-user anonymous --ftp-password "$FTP_PW" ftp://x/', "pth-winexe -U DOMAIN/Administrator //10.0.0.5 cmd",
    # another tool's -H or -k, a hash searched for, a hash file
    "grep -H d41d8cd98f00b204e9800998ecf8427e /var/log/*.log", "curl -k -H 'Accept: application/json' https://x",
    "sort -k 2 users.txt", "docker -H tcp://10.0.0.5:2375 ps", "nxc smb 10.0.0.0/24 -u users.txt -H hashes.txt",
    "Get-FileHash -Algorithm MD5 C:\\x.exe", "smbclient //srv/share -U user --pw-nt-hash",
    "certutil -hashfile C:\\x.exe SHA256", "xfreerdp /v:host /u:bob /cert:ignore /dynamic-resolution",
    # the variables of PowerShell and shell scripts, Android's public debug keystore password, prompts and lists
    "reg add $winlogon /v DefaultPassword /t REG_SZ /d $password /f | Out-Null",
    'Set-ItemProperty -Path $RegPath -Name "DefaultPassword" -Value "$DefaultPassword" -Type String',
    "reg add HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run /v Updater /t REG_SZ /d \"C:\\x.exe\" /f",
    'echo "$password" | sudo -S apt-get update -y', "echo $PASSWORD | sudo -S -k sysctl -w vm.max_map_count=262144",
    'echo "deb http://apt.example.org stable main" | sudo tee -a /etc/apt/sources.list', "sudo -S apt-get update < /run/pw",
    "keytool -list -v -keystore android/app/debug.keystore -alias androiddebugkey -storepass android -keypass android",
    "keytool -list -keystore ks.jks -storepass:env STOREPASS", "keytool -importcert -file ca.pem -keystore cacerts -storepass changeit",
    'ssh-keygen -t rsa -b 4096 -N "" -f /tmp/key', "ssh-keygen -p -f ~/.ssh/id_rsa",
    'curl -sSf --head --oauth2-bearer "${TOKEN}" -H "Accept: application/json" https://x', "bcp --help",
    "hydra -l admin -P /usr/share/wordlists/rockyou.txt 10.11.12.13 ftp",
    # the files kubectl reads a secret's keys from (Kubernetes' "Managing Secrets using kubectl")
    "kubectl create secret generic db-user-pass --from-file=username=./username.txt --from-file=password=./password.txt",
    "$SecPassword = Convertto-SecureString -String $password -AsPlainText -Force", "dsmod user %username% -pwd %newPassword%",
    "$credentials = New-Object System.Net.NetworkCredential(\"dummy\", $password, \"dummy\")",
    "dsquery user -samid * | dsmod user -pwdneverexpires yes -mustchpwd no", "$pw = Read-Host -AsSecureString",
    "$Password = Get-Content C:\\pw.txt", 'dsadd user "CN=bob,DC=corp,DC=local" -pwd * -mustchpwd yes',
    "lftp -u bob sftp://files.example.com", "influx -username todd -password $INFLUX_PW", 'sshpass -p "$1" ssh x',
    "smbmap -u guest -p '' -H 10.0.0.5", "mysql -u root -p", "Connect-Db -server db1 -password $pass",
    "New-Thing -password (Get-Credential).Password", 'Connect-Db -password "$dbPass"',
])  # fmt: skip
def test_lookalikes_placeholders_and_variables_stay(line: str) -> None:
    _assert_unchanged([line])


def test_the_rows_without_the_compiled_screen_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from secpipe.transforms.protect import _native

    lines = [line for line, _ in TPS] + [line for line, _, _ in PASSWORDS]
    native = redact_lines(lines)
    monkeypatch.setattr(_native, "screen_available", lambda: False)
    assert redact_lines(lines) == native


FRAGMENTS = [" -H ", " -H\t", "-H ", " -h ", " -Hash ", " -hash\t", " -HASH ", " -nthash ", " -aesKey ", " --pw-nt-hash ",
             " --pw-nt-hash", " --hashes ", " --hashes", " -hashes ", " /ntlm:", " /NTLM:", " /rc4:", " /Rc4:", " /aes256:",
             " /aes128:", " /des:", " /krbtgt:", " /pth:", " /oldntlm:", " /newntlm:", "/ntlm:", " /ntlmx:", " /user:",
             NT, NT.lower(), NT[:20], LM + ":", ":", "0123456789abcdef", "openssl", "openssl.exe", "OpenSSL", "openss",
             " -k ", " -K ", " -k", " -kfile ", " enc ", "winexe", "pth-winexe", "pth-", "pth", " -U ", " --user", " --user=",
             " -u ", " --ftp-password ", " --http-password\t", " --proxy-password ", " --ftp-password=", " --password ",
             " aws_secret_access_key ", "aws_secret_access_key ", " aws_secret_access_key=", " --secret-access-key ",
             " --s3-secret-access-key=", " --aws-secret-access-key\n", " --secret-access", " ", "\t", "\n", "\\", '"', "'", "x",
             "é", "%", "@", "/", " /v ", " /V\t", "DefaultPassword", "defaultpassword", " /d ", " -Name ", " -name\t",
             " -Value ", "echo", " | ", "|", "sudo", " sudo", " -S", " -kS", " -k", " -storepass ", " -keypass\t",
             " -srcstorepass ", " -destkeypass ", "-storepass", "ssh-keygen", " -N ", " -P ", "bcp", "BCP.EXE", "xbcp", "hydra",
             "medusa", " -p ", " -p\t", " --oauth2-bearer ", " --oauth2-bearer=", "--oauth2-bearer", " argc=", "argc=",
             " argc=4", " proctitle=", "proctitle=", " a0=", "4", "smbmap", "enum4linux", "osql", "isql", "winrs",
             "WinRS.exe", " -p:", " -P:", " -password:", " -password ", "-password", "lftp", " -u ", " -u\t", "bob,", ","]


@pytest.mark.parametrize("seed", [32, 132])
def test_the_screen_picks_prefilter_rows_on_the_new_anchors(seed: int) -> None:
    assert_screen_matches_re2(fragment_lines(FRAGMENTS, 20000, seed, [line for line, _ in TPS]))


#: an ASP.NET form's page state as a scanner quotes the HTTP response (sarif-sdk's ContrastSecurity WebGoat.xml.sarif,
#: ConverterTestData), unescaped and as the JSON-escaped raw text holds it
VIEWSTATE = ('<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="/wEPDwUIMjgxNTE4NDdkGAEFHl9fQ29udHJvbHNSZXF1aX'
             'JlUG9zdEJhY2tLZXlfXxYCBRtjdGwwMCRIZWFkTG9naW5TdGF0dXMkY3RsMDEFG2N0bDAwJEhlYWRMb2dpblN0YXR1cyRjdGwwMxb2+yTgj0K'
             'MVId5Ixaa20qa6l+S5YbLTvC6Ovo6LfZP" />')


@pytest.mark.parametrize("line", [VIEWSTATE, VIEWSTATE.replace('"', '\\"')])
def test_aspnet_page_state_in_a_quoted_form_stays(line: str) -> None:
    _assert_unchanged([line])


def test_a_secret_beside_the_page_state_still_goes() -> None:
    line = VIEWSTATE + ' <input name="api_key" value="Zq8vN3xLp0TkWm7RbY2cHd5sJf9gAe4U">'
    messages, _raws, kinds = redact_lines([line])
    assert "/wEPDwUIMjgxNTE4NDdk" in messages[0] and "Zq8vN3xLp0TkWm7RbY2cHd5sJf9gAe4U" not in messages[0]
    assert kinds == ["generic_secret"]


CASES = Path(__file__).resolve().parents[1] / "cases"


@pytest.mark.parametrize(("case", "needle"), [
    # Elastic's system/auth pipeline tests (tests/cases/wire_holdout/SOURCE.md): sshd's "Accepted publickey ... ssh2:
    # ED25519 SHA256:<fingerprint>"; the key's fingerprint is public, as the key is
    ("wire_holdout/elastic-agent-journald-auth.ndjson", "SHA256:"),
    ("wire_holdout/filebeat-filestream-auth.ndjson", "Accepted publickey"),
    # the same tests' passwd lines (tests/cases/holdout/SOURCE.md): "pam_unix(passwd:chauthtok): password changed for
    # user123", PAM's service:module-type, not a password
    ("holdout/elastic-system-auth-accounts.log", "pam_unix(passwd:chauthtok)"),
])  # fmt: skip
def test_real_auth_log_lines_keep_fingerprints_and_pam_types(case: str, needle: str) -> None:
    lines = [line for line in (CASES / case).read_text().splitlines() if needle in line]
    assert lines
    _assert_unchanged(lines)


def test_a_password_after_a_pam_type_and_a_fingerprint_context_still_goes() -> None:
    lines = ["pam_unix(passwd:chauthtok): password changed; password=Hunter2Pw",
             "ssh2: ED25519 SHA256:k1kjhwoH/H3w31MbGOIGd7qxrkSQJnoAN0eYJVHDmmI token Zq8vN3xLp0TkWm7RbY2cHd5sJf9gAe4U"]
    messages, _raws, kinds = redact_lines(lines)
    assert "Hunter2Pw" not in messages[0] and "Zq8vN3xLp0TkWm7RbY2cHd5sJf9gAe4U" not in messages[1]
    assert "pam_unix(passwd:chauthtok)" in messages[0] and "SHA256:k1kjhwoH/H3w31MbGOIGd7qxrkSQJnoAN0eYJVHDmmI" in messages[1]
    assert sorted(kinds) == ["generic_secret", "password"]


@pytest.mark.parametrize("typ", [pa.string(), pa.large_string()])
def test_the_screen_on_sliced_and_large_columns(typ: pa.DataType) -> None:
    """The newer anchors are first looked for over the column's text as one string: a slice's own bytes only (a hit
    before or after it is not its rows'), nulls and both offset widths."""
    from secpipe import _compute as pc
    from secpipe.transforms.protect import _native
    from secpipe.transforms.protect.redact import PREFILTER

    if not _native.screen_available():
        pytest.skip("the C accelerator is not built here")
    filler = '{"eventSource":"s3.amazonaws.com","userAgent":"aws-cli/2.13 Python/3.11 Linux/6.1"}'
    lines = [filler, filler, None, filler, TPS[9][0], filler, TPS[17][0], TPS[20][0]]  # (no GENERIC word in them)
    for start, stop in ((0, 8), (1, 4), (1, 5), (5, 7), (6, 7), (2, 3), (0, 4)):
        col = pa.array(lines, typ).slice(start, stop - start)
        hit, _keys = _native.screen(col, True)
        assert hit.to_pylist() == pc.fill_null(pc.match_substring_regex(col, PREFILTER), False).to_pylist()


def test_the_cmdlet_a_password_comes_from_stays() -> None:
    """PowerView's and many writeups' ``$SecPassword = ConvertTo-SecureString 'PASS' -AsPlainText -Force``: the literal
    goes (cli_password), the cmdlet after ``$SecPassword =`` is no password value."""
    line = "$SecPassword = ConvertTo-SecureString 'Ashare1972' -AsPlainText -force"
    messages, _raws, kinds = redact_lines([line])
    assert messages == ["$SecPassword = ConvertTo-SecureString '[REDACTED:cli_password]' -AsPlainText -force"]
    assert kinds == ["cli_password"]


#: a Linux audit event as auditd writes it (the SYSCALL, EXECVE and PROCTITLE records of one execve, their fields as
#: Red Hat's "Understanding Audit Log Files" documents them; argv quoted, the proctitle hex, NUL-separated): the
#: mapped process.cmd_line is the EXECVE record's arguments, the row's raw text its SYSCALL record
AUDIT = (
    'type=SYSCALL msg=audit(1700000000.123:456): arch=c000003e syscall=59 success=yes exit=0 a0=55d5 a1=55d6 a2=55d7 a3=0'
    ' items=2 ppid=1000 pid=1001 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000'
    ' fsgid=1000 tty=pts0 ses=1 comm="mysql" exe="/usr/bin/mysql" key="exec"\n'
    'type=EXECVE msg=audit(1700000000.123:456): argc=4 a0="mysql" a1="-u" a2="root" a3="-pS3cretPw"\n'
    'type=PROCTITLE msg=audit(1700000000.123:456): proctitle=6D7973716C002D7500726F6F74002D705333637265745077\n')


def test_an_audit_events_command_line_from_its_execve_record_is_screened() -> None:
    from secpipe import formats

    doc = AUDIT.encode()
    decoded = formats.detect(doc).decode(doc, "audit.log")
    [process] = [b for b in decoded.batches if "process" in b.schema.names]
    out = RedactStage("r", {"type": "redact"}).process(process)
    assert out[0].column("process").field("cmd_line").to_pylist() == ["mysql -u root -p[REDACTED:cli_password]"]
    assert [r["data_security"]["detection_pattern"] for r in out[1].to_pylist()] == ["cli_password"]
    raws = [t for b in decoded.batches if "process" not in b.schema.names
            for t in RedactStage("r", {"type": "redact"}).process(b)[0].column("raw_data").to_pylist()]
    assert not any("S3cretPw" in t for t in raws) and not any("705333637265745077" in t for t in raws)  # (its hex)


def _hex(text: str) -> str:
    return text.encode().hex().upper()


@pytest.mark.parametrize(("record", "redacted"), [
    ('type=EXECVE msg=audit(1700000000.123:456): argc=4 a0="mysql" a1="-u" a2="root" a3="-pS3cretPw"',
     'type=EXECVE msg=audit(1700000000.123:456): argc=4 a0="mysql" a1="-u" a2="root" a3="-p[REDACTED:cli_password]"'),
    ('type=EXECVE msg=audit(1700000001.123:457): argc=5 a0="sshpass" a1="-p" a2="Sup3rPw" a3="ssh" a4="root@10.0.0.5"',
     'type=EXECVE msg=audit(1700000001.123:457): argc=5 a0="sshpass" a1="-p" a2="[REDACTED:cli_password]" a3="ssh" '
     'a4="root@10.0.0.5"'),
    # an argument with a space is hex (sh -c "..."): hex again, less the secret
    (f'type=EXECVE msg=audit(1700000002.1:458): argc=3 a0="sh" a1="-c" a2={_hex("curl -u bob:CurlPw9 https://x")}',
     f'type=EXECVE msg=audit(1700000002.1:458): argc=3 a0="sh" a1="-c" a2={_hex("curl -u bob:[REDACTED:cli_password] https://x")}'),
    # the process title: the hex of the NUL-separated argv
    (f"type=PROCTITLE msg=audit(1700000000.123:456): proctitle={_hex(chr(0).join(['mysql', '-u', 'root', '-pS3cretPw']))}",
     "type=PROCTITLE msg=audit(1700000000.123:456): proctitle="
     + _hex(chr(0).join(["mysql", "-u", "root", "-p[REDACTED:cli_password]"]))),
    ('node=web1 type=EXECVE msg=audit(1.1:9): argc=3 a0="git" a1="clone" a2="https://bob:ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/o/r"',
     'node=web1 type=EXECVE msg=audit(1.1:9): argc=3 a0="git" a1="clone" a2="https://bob:[REDACTED:github_token]@github.com/o/r"'),
])  # fmt: skip
def test_audit_execve_and_proctitle_records_lose_the_secret_in_their_own_encoding(record: str, redacted: str) -> None:
    messages, raws, kinds = redact_lines([record])
    assert messages == [redacted] and raws == [redacted] and len(kinds) == 1


@pytest.mark.parametrize("record", [
    # go-libaudit's test records (elastic/go-libaudit), a quoted proctitle, a SYSCALL record's hex syscall arguments
    'type=EXECVE msg=audit(1492752522.985:8972): argc=2 a0="uname" a1="-a"',
    'type=PROCTITLE msg=audit(1.1:1): proctitle="bash"',
    "type=SYSCALL msg=audit(1.1:1): arch=c000003e syscall=59 success=yes exit=0 a0=f43de8 a1=d40488 a2=ed8008 a3=7fff",
    f"type=PROCTITLE msg=audit(1.1:2): proctitle={_hex(chr(0).join(['mysql', '-u', 'root', '-p', 'db']))}",
])  # fmt: skip
def test_audit_records_without_a_secret_stay(record: str) -> None:
    _assert_unchanged([record])


def test_an_opa_bundle_revision_mapped_to_the_policy_stays() -> None:
    """OPA's decision-log example with a legacy bundle ``revision`` (tests/cases/holdout/SOURCE.md): base64 (of
    ``[{"l":"sys/catalog","s":4071}]``), allowed after its key in the raw text, and mapped to ``policy.version`` /
    ``policy.uid`` where no key tells what it is: an identifier, not a generic secret."""
    from secpipe import formats

    doc = (CASES / "holdout/decision-logs-legacy-revision.json").read_bytes()
    [batch] = formats.detect(doc).decode(doc, "decisions.json").batches
    out = RedactStage("r", {"type": "redact"}).process(batch)
    assert len(out) == 1 and out[0].column("policy").to_pylist() == batch.column("policy").to_pylist()
    assert "W3sibCI6InN5cy9jYXRhbG9nIiwicyI6NDA3MX1d" in str(out[0].column("policy").to_pylist())
