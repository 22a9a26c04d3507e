"""Round 31: command-line passwords and a key that reached the lake, and prompts taken for passwords.

Each as its tool documents it (the values made up):

- 1Password account secret keys, ``A3-XXXXXX-XXXXXX-XXXXX-XXXXX-XXXXX-XXXXX`` (1Password's "About your Secret Key";
  gitleaks' ``1password-secret-key``, which also reads the older accounts' 11-character second group);
- Oracle SQL*Plus's logon ``sqlplus [options] username[/password][@connect_identifier] [AS SYSDBA]`` (SQL*Plus User's
  Guide, "SQLPLUS Program Syntax"); ``/``, ``/nolog`` and a user without ``/password`` prompt or log on otherwise;
- Impacket's example scripts' target ``[[domain/]username[:password]@]<targetName or address>`` (its README; a
  password may hold ``@``: ``parse_target`` takes the host after the last one) and ``domain/username[:password]``
  (getTGT.py, GetUserSPNs.py), as ``NAME.py`` or Kali's ``impacket-NAME``, and their ``-hashes LMHASH:NTHASH``
  (pass-the-hash: the NT hash is the credential); ``-k -no-pass`` and a user alone stay;
- FreeRDP's ``/p:<password>`` (the xfreerdp manual's example: ``xfreerdp /u:CONTOSO\\JohnDoe /p:Pwd123!
  /v:rdp.contoso.com``; xfreerdp3, wfreerdp.exe, sdl-freerdp); ``net use ... /p:yes`` (``/persistent``) stays;
- Info-ZIP's ``zip -P password`` / ``unzip -P password`` (zip(1): "-P password ... THIS IS INSECURE!"); ``zip -e``
  prompts, gzip has no such option;
- ``net use \\\\HOST\\SHARE /user:DOMAIN\\NAME PASS``: the password after the switches, as Windows reads it;
- curl's ``--user 'USER:PASS WITH SPACES'``, OpenSSL's ``-passin 'pass:PASS WITH SPACES'`` (or ``pass:"..."``) and
  Samba's ``-U 'DOMAIN\\USER%PASS WITH SPACES'`` quoted whole: the whole password, where its first word alone (or
  nothing) went; rdesktop's ``-p PASS``.
Prompts: the MySQL / MariaDB clients' ``--password`` with no attached value ("If you omit the password value following
the --password or -p option on the command line, the client prompts for one": the next word is the database) and the
PostgreSQL clients' ``--password`` (``-W``: "Force psql to prompt for a password") named the database a password.
The compiled first screen picks the same rows as RE2 for each (where the extension is built from this source).
"""

from __future__ import annotations

import pytest

from tests.unit.holdout_support import assert_screen_matches_re2, fragment_lines, redact_lines

NT = "8846f7eaee8fb117ad06bdd830b7586c"
TPS = [
    ("sqlplus hr/Hr_Pass1@localhost/XEPDB1 @report.sql", "Hr_Pass1"),
    ("sqlplus -S scott/T1ger_99@orcl", "T1ger_99"),
    ('sqlplus "sys/Sys_Pw1 as sysdba"', "Sys_Pw1"),
    ("SQLPLUS.EXE system/Manager123@//dbhost:1521/ORCLPDB1", "Manager123"),
    ("sqlplus 'hr/\"p@ss w0rd\"@db'", "p@ss w0rd"),
    ("python3 /opt/impacket/examples/psexec.py -dc-ip 10.0.0.1 CORP/administrator:P@ss!word@10.0.0.5 cmd.exe",
     "P@ss!word"),
    ("secretsdump.py 'corp.local/admin:S3cr3t!@dc01.corp.local'", "S3cr3t!"),
    ("impacket-smbexec corp/bob:Summer2024@192.168.1.10", "Summer2024"),
    ("wmiexec.py administrator:Adm1nPw@10.0.0.9 whoami", "Adm1nPw"),
    ("getTGT.py corp.local/svc_sql:Sql2024! -dc-ip 10.0.0.1", "Sql2024!"),
    (f"wmiexec.py -hashes aad3b435b51404eeaad3b435b51404ee:{NT} CORP/Administrator@10.0.0.5", NT),
    (f"impacket-psexec -hashes :{NT} administrator@10.0.0.5", NT),
    ("xfreerdp /u:CONTOSO\\JohnDoe /p:Pwd123! /v:rdp.contoso.com", "Pwd123!"),
    ("xfreerdp3 /v:10.0.0.7 /u:admin /p:'Rdp Pass 3' +clipboard", "Rdp Pass 3"),
    ('"C:\\Tools\\wfreerdp.exe" /u:bob /p:"Sp ace1" /v:host', "Sp ace1"),
    ("zip -P ZipPass99 secret.zip file.txt", "ZipPass99"),
    ("zip -r -P 'Zip Pass' out.zip /data", "Zip Pass"),
    ("unzip -P Unz1pPw secret.zip -d /tmp/x", "Unz1pPw"),
    ("net use \\\\10.1.1.1\\c$ /user:CORP\\admin P@ssw0rd", "P@ssw0rd"),
    ("net use Z: \\\\fileserver\\share /persistent:no /user:bob Pa55w0rd!", "Pa55w0rd!"),
    ("curl --user 'admin:Curl Pass 9' https://api.example.com", "Curl Pass 9"),
    ('curl -u "deploy:p4ss word" -X POST https://ci.example.com/hook', "p4ss word"),
    # OpenSSL's pass: argument quoted after pass: or whole (openssl-passphrase-options(1)), Samba's -U 'DOMAIN\\USER%PASS'
    # (smbclient(1)), rdesktop's -p PASS (rdesktop(1): "-p <password>", "-p -" reads it from standard input)
    ('openssl pkcs12 -export -passout pass:"Exp0rt Pw" -in a.pem -out b.p12', "Exp0rt Pw"),
    ("openssl pkcs12 -in b.p12 -passin 'pass:Imp0rt Pw' -nodes", "Imp0rt Pw"),
    ("smbclient //srv/share -U 'CORP\\bob%Smb Pw1'", "Smb Pw1"),
    ("rdesktop -u administrator -p Rd3skPw 10.0.0.5", "Rd3skPw"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "secret"), TPS)
def test_command_line_passwords_are_redacted(line: str, secret: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert secret not in messages[0] and secret not in raws[0]
    assert kinds == ["cli_password"] and "[REDACTED:cli_password]" in messages[0]


@pytest.mark.parametrize("line", [
    "1Password Secret Key: A3-ASWWYB-798JRY-LJVD4-23DC2-86TVM-H43EB",
    '{"secret_key":"A3-XM7K2D-Q9F4HG2LW7P-TB8NC-V3K6J-R2Y9D-H5M4W"}',
])  # fmt: skip
def test_onepassword_secret_keys_are_redacted(line: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert kinds == ["onepassword_secret_key"] and "A3-" not in messages[0] and messages[0] == raws[0]


@pytest.mark.parametrize("line", [
    # SQL*Plus logging on without a password
    "sqlplus / as sysdba", "sqlplus /nolog", "sqlplus -S hr @script.sql", "sqlplus -v",
    # Impacket without a password: Kerberos, a prompt, another tool's user@host
    "psexec.py -k -no-pass CORP/administrator@dc01", "GetUserSPNs.py -request -dc-ip 10.0.0.1 corp.local/jdoe",
    "ssh admin@10.0.0.5", "python3 setup.py install", "pytest tests/test_net.py::test_x", "git clone git@github.com:o/r.git",
    "wmiexec.py -hashes $HASHES CORP/a@b",
    # FreeRDP's other options, net use's /persistent, zip's prompt, gzip
    "xfreerdp /v:host /u:bob /cert:ignore", "xfreerdp /v:h /u:bob /p:$RDP_PW", "net use \\\\srv\\share /p:yes",
    "zip -e secret.zip file", "gzip -P x", "zip -r out.zip dir", "unzip -l a.zip",
    # net use: a prompt and a null session
    "net use \\\\srv\\share /user:bob *", 'net use \\\\10.0.0.1\\IPC$ "" /user:""',
    # the MySQL and PostgreSQL clients' prompts: the word after --password is a database
    "mysql --password db_prod", "mysql -u root --password mydb", "mysqldump -u root --password --all-databases",
    "mariadb -h db -u app --password appdb", "psql --password mydb", "pg_dump -U x --password -d mydb",
    "A3-ASWWYB", "A3-XXXXXX-XXXXXX-XXXXX",
    # OpenSSL's other password sources, rdesktop's password from standard input
    "openssl rsa -in k.pem -passin env:KEY_PW", "openssl rsa -in k.pem -passin file:/run/secrets/pw", "rdesktop -p - h",
])  # fmt: skip
def test_lookalikes_and_prompts_stay(line: str) -> None:
    messages, raws, kinds = redact_lines([line])
    assert messages == [line] and raws == [line] and kinds == []


@pytest.mark.parametrize(("line", "secret", "kind"), [
    ("mysql -u root --password=RealPass9 mydb", "RealPass9", "password"),  # attached: the password
    ("docker login --password S3cr3tDock registry.example.com", "S3cr3tDock", "password"),
    ("mysql -u root -pRealPass9 mydb", "RealPass9", "cli_password"),
])  # fmt: skip
def test_password_values_still_go(line: str, secret: str, kind: str) -> None:
    messages, _raws, kinds = redact_lines([line])
    assert secret not in messages[0] and kinds == [kind]


FRAGMENTS = ["A3-", "A3", "A3-ASWWYB-", "ASWWYB", "ASWWY", "-", "798JRY", "sqlplus", "SQLPLUS", "SqlPlus", "sqlplu",
             "qlplus", "sql", "sqlcmd", " -hashes ", " -hashes\t", "-hashes", " -hashe", " -P ", " -P", "-P ", " -p ",
             "zip", "ZIP", "unzip", "UNZIP.EXE", "gzip", "7zip", "funzip", "zip.exe", "un", ".exe", "freerdp", "xfreerdp",
             "xfreerdp3", "wfreerdp.exe", "FreeRDP", "freerd", "3", " /p:", "/p:", " /P:", " /p", "/pass:", ".py",
             ".pyc", "psexec", "psexec.py", "secretsdump", "GetUserSPNs", "getTGT", "net", "reg", "xpsexec", "_psexec",
             "impacket-", "impacket-psexec", "impacket-3", "mpacket-", "impacket", "i", "m", " ", "\t", "\n", "\r", "\\",
             '"', "'", "/", "x", "é", "@", ":", "CORP/admin:Pw@host", "rdesktop", "rdesktop.exe", "desktop", " -p ", " -p -"]


@pytest.mark.parametrize("seed", [31, 131])
def test_native_screen_matches_re2_on_the_new_anchors(seed: int) -> None:
    assert_screen_matches_re2(fragment_lines(FRAGMENTS, 20000, seed, [line for line, _ in TPS]))
