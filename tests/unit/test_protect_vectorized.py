"""The vectorized protect paths give exactly what the per-value reference functions give."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
import re
import socket
import string

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from secpipe.security.keys import Keyring, generate_key
from secpipe.transforms.protect._columns import Replacement, encode_distinct, replace_rows, rewrite_raw
from secpipe.transforms.protect.tokenize import Tokenizer


@pytest.fixture
def tok() -> Tokenizer:
    ring = Keyring()
    ring.add(generate_key(), "vec")
    return Tokenizer(ring, 24, 48)


def _prf(t: Tokenizer, family: int, block: bytes) -> bytes:
    """AES-256 of one 16-byte block under the family's key, derived as the tokenize docstring says."""
    key = hmac.new(t.ring.active, f"secpipe-tokenize-ip{family}".encode(), hashlib.sha256).digest()
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def _reference_ip(t: Tokenizer, value: str) -> str:
    """The token by its definition, one value at a time (inet_pton for IPv4, else ``ipaddress``)."""
    try:
        packed = socket.inet_pton(socket.AF_INET, value)
    except OSError:
        packed = None
    if packed is not None:
        mask = (1 << (32 - t.ip_keep_v4)) - 1
        if not mask:
            return value
        rnd = int.from_bytes(_prf(t, 4, packed + bytes(12))[:4], "big") & mask
        return socket.inet_ntop(socket.AF_INET, ((int.from_bytes(packed, "big") & ~mask & 0xFFFFFFFF) | rnd).to_bytes(4, "big"))
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return t.hmac_token(value)
    bits = 32 if ip.version == 4 else 128
    host_bits = bits - (t.ip_keep_v4 if ip.version == 4 else t.ip_keep_v6)
    if host_bits == 0:
        return str(ip)
    mask = (1 << host_bits) - 1
    block = _prf(t, 4, ip.packed + bytes(12))[:4] if ip.version == 4 else _prf(t, 6, ip.packed)
    rnd = int.from_bytes(block, "big") & mask
    return str(ipaddress.ip_address((int(ip) & ~mask & ((1 << bits) - 1)) | rnd))


def _ips(n: int, seed: int = 3) -> list[str]:
    rnd = random.Random(seed)
    out = ["0.0.0.0", "255.255.255.255", "10.0.0.1", "01.2.3.4", "1.2.3", "256.1.1.1", " 10.1.2.3", "::", "::1",
           "::ffff:1.2.3.4", "::1.2.3.4", "64:ff9b::1.2.3.4", "2001:DB8::1", "fe80::1%eth0", "1::", "1:0:0:1::",
           "2001:db8:0:0:1:0:0:1", "0:0:0:0:0:ffff:0:1", "x", ""]
    for _ in range(n):
        out.append(".".join(str(rnd.randrange(256)) for _ in range(4)))
        words = [rnd.choice([0, 0, 0, 1, 0xFFFF, rnd.randrange(1 << 16)]) for _ in range(8)]
        out.append(str(ipaddress.IPv6Address(int.from_bytes(b"".join(w.to_bytes(2, "big") for w in words), "big"))))
        out.append(":".join(f"{w:x}" for w in words))  # uncompressed spelling
    return out


def test_ip_tokens_match_reference(tok: Tokenizer) -> None:
    values = list(dict.fromkeys(_ips(400)))
    expected = [_reference_ip(tok, v) for v in values]
    assert [tok.ip_token(v) for v in values] == expected  # per-value fast paths (inet_pton/inet_ntop)
    assert tok.ip_tokens(pa.array(values)).to_pylist() == expected  # vectorized IPv4
    assert tok.ip_tokens(pa.array([], pa.string())).to_pylist() == []


@pytest.mark.parametrize(("keep4", "keep6"), [(0, 0), (16, 64), (32, 128)])
def test_ip_tokens_keep_bits(keep4: int, keep6: int) -> None:
    ring = Keyring()
    ring.add(generate_key(), "vec")
    t = Tokenizer(ring, keep4, keep6)
    values = list(dict.fromkeys(_ips(50, seed=9)))
    assert t.ip_tokens(pa.array(values)).to_pylist() == [_reference_ip(t, v) for v in values]


def test_hmac_tokens_match_reference(tok: Tokenizer) -> None:
    values = ["alice", "bob", "123456789012", "ünïcödé", "", "a" * 300]
    assert tok.hmac_tokens(pa.array(values)).to_pylist() == [tok.hmac_token(v) for v in values]
    assert tok.tokens(pa.array(values), "reversible").to_pylist() == [tok.reversible_token(v) for v in values]


def _raw_reference(texts: list[str | None], fields: list[tuple[list[str | None], dict[str, str], bool]],
                   min_length: int) -> list[str | None]:
    """Row by row: whole-string fields first, then embedded ones, each with str.replace."""
    order = [f for f in fields if not f[2]] + [f for f in fields if f[2]]
    out = []
    for i, text in enumerate(texts):
        if text is None:
            out.append(None)
            continue
        seen: list[str] = []
        for values, mapping, embedded in order:
            v = values[i]
            if not v or mapping[v] == v:
                continue
            if embedded:
                if v in seen:
                    continue
                seen.append(v)
                text = text.replace(v, mapping[v]) if len(v) >= min_length else text.replace(f'"{v}"', f'"{mapping[v]}"')
            elif len(v) >= min_length:
                text = text.replace(f'"{v}"', f'"{mapping[v]}"')
        out.append(text)
    return out


ENGINES = ["native", "fallback"]


def _engine(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pick the rewrite engine: the compiled one (skip where not built) or DuckDB / per-row Python."""
    from secpipe.transforms.protect import _native

    if name == "native" and not _native.available():
        pytest.skip("the C accelerator is not built here (no C compiler when installing)")
    if name == "fallback":
        monkeypatch.setattr(_native, "available", lambda: False)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n", [7, 2500])  # per-row str.replace and the DuckDB path
def test_rewrite_raw_matches_reference(n: int, engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _engine(engine, monkeypatch)
    rnd = random.Random(n)
    users = ["alice", "bob", "al", "carol", None]
    accts = ["111122223333", "444455556666", None]
    texts, u, a, c, ip = [], [], [], [], []
    for i in range(n):
        uu, aa, cc = rnd.choice(users), rnd.choice(accts), rnd.choice(accts)
        addr = f"10.0.{rnd.randrange(3)}.{rnd.randrange(200)}"
        other = f"10.0.0.{rnd.randrange(200)}"
        texts.append(None if i % 50 == 3 else
                     f'{{"user":"{uu}","arn":"arn:aws:iam::{aa}:user/{uu}","acct":"{cc}","ip":"{addr}",'
                     f'"other":"{other}","msg":"{uu} from {addr} in {aa}","al":"al"}}')
        u.append(uu)
        a.append(aa)
        c.append(cc)
        ip.append(addr)

    def field(values: list[str | None], prefix: str, embedded: bool) -> tuple[Replacement, dict[str, str]]:
        idx, distinct = encode_distinct(pa.array(values, pa.string()))
        mapping = {v: f"{prefix}{k}" if v != "carol" else v for k, v in enumerate(distinct.to_pylist())}
        return Replacement(idx, distinct, pa.array([mapping[v] for v in distinct.to_pylist()]), embedded), mapping

    specs = [(u, "tok:u", True), (a, "tok:a", True), (c, "tok:a", True), (ip, "10.9.9.", False)]
    built = [field(v, p, e) for v, p, e in specs]
    col = pa.array(texts, pa.string())
    got = rewrite_raw([col, col.cast(pa.large_string())], [r for r, _ in built], 4, sparse=(False, True))
    expected = _raw_reference(texts, [(v, m, e) for (v, _, e), (_, m) in zip(specs, built, strict=True)], 4)
    assert got[0].to_pylist() == expected
    assert got[1].type == pa.large_string() and got[1].to_pylist() == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_replace_rows_empty_pattern_keeps_row(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _engine(engine, monkeypatch)
    col = pa.array(["abc", None, "xbx"] * 1000)  # 3000 rows: the DuckDB path; 3 rows: per row
    pat = pa.array(["", "b", "b"] * 1000)
    rep = pa.array(["Z", "Z", "YY"] * 1000)
    for c in (col.slice(0, 3), col):
        n = len(c)
        (out,) = replace_rows([c], [(pat.slice(0, n), rep.slice(0, n))])
        assert out.to_pylist() == ["abc", None, "xYYx"] * (n // 3)


@pytest.mark.parametrize("engine", ENGINES)
def test_replace_rows_growth_nulls_and_slices(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replacements that grow the text 50x (the compiled rewrite retries with larger buffers),
    nulls, empty and sliced inputs give str.replace's result, in the column's own type."""
    _engine(engine, monkeypatch)
    texts = ["a" * 300, None, "xax", "", "ba" * 1000, "aaa"] * 350  # 2094 rows after the slice: DuckDB
    pats = ["a", "a", "", "a", "ba", "aa"] * 350
    reps = ["<" + "z" * 48 + ">", "q", "Q", "R", "", "b"] * 350
    for typ in (pa.string(), pa.large_string()):
        col, pat, rep = pa.array(texts, typ).slice(6), pa.array(pats).slice(6), pa.array(reps).slice(6)
        second = (pa.array(["z"] * len(col)), pa.array(["Z"] * len(col)))
        (out,) = replace_rows([col], [(pat, rep), second])
        expected = [None if t is None else (t.replace(p, r) if p else t).replace("z", "Z")
                    for t, p, r in zip(texts[6:], pats[6:], reps[6:], strict=True)]
        assert out.to_pylist() == expected
        assert out.type == typ or engine == "fallback"  # (rewrite_raw casts the fallback's result back)


def _words_reference(text: str, min_entropy: float, min_len: int) -> bool:
    from secpipe.transforms.protect.redact import entropy

    for w in re.findall(r"[A-Za-z0-9+/]+", text):
        if len(w) >= max(32, min_len - 2) and entropy(w) >= min_entropy - 1e-9 and all(
                len(set(w) & set(cls)) >= 2 for cls in (string.ascii_uppercase, string.ascii_lowercase, string.digits)):
            return True
    return "\\/" in text or "\\u" in text


def test_plausible_words_is_the_generic_superset() -> None:
    from secpipe.transforms.protect.redact import _PY, GENERIC, _generic_sub, plausible_words

    rnd = random.Random(5)
    alphabet = string.ascii_letters + string.digits + "+/"
    texts: list[str | None] = [None, "", "x" * 40, "A1b2" * 10]
    for i in range(600):
        k = rnd.choice([4, 8, 16, 64])  # small alphabets give low entropy
        word = "".join(rnd.choice(alphabet[:k] if i % 3 else alphabet) for _ in range(rnd.randrange(20, 80)))
        sep = rnd.choice([" ", '"', "=", ",", "\\/", "-", "é"])
        texts.append(f'{{"k":"v{sep}{word}{rnd.choice(["", "=", "=="])}{sep}tail"}}')
    got = plausible_words(pa.array(texts), 4.5, 32).to_pylist()
    assert got == [t is not None and _words_reference(t, 4.5, 32) for t in texts]
    for t, g in zip(texts, got, strict=True):
        if t is not None and _generic_sub(_PY[GENERIC.name], t, 4.5, 32)[1]:
            assert g, t  # every row the Python detector redacts is screened in
    assert sum(got) > 50 and not all(got)


def test_aws_key_leak_screen_matches_python() -> None:
    from secpipe.transforms.protect.redact import AWS_KEY_LEAK, KEY_ID_ALLOW, _aws_sub

    key = "AKIAZ7QWERTY12345678"
    texts = [f"{ctx}{key}" for ctx in KEY_ID_ALLOW]
    texts += [f"{ctx[k:]}{key}" for ctx in KEY_ID_ALLOW for k in range(1, len(ctx))]  # partial contexts: leaks
    texts += [f"x{ctx}{key}" for ctx in KEY_ID_ALLOW] + [f'"secret":"{key}"', key, f"a {key} b", f'"AccessKeyId":"{key}"']
    got = pc.fill_null(pc.match_substring_regex(pa.array(texts), AWS_KEY_LEAK), False).to_pylist()
    assert got == [_aws_sub(t)[1] > 0 for t in texts]
    assert got.count(False) == 2 * len(KEY_ID_ALLOW)


@pytest.mark.parametrize("key_len", [0, 16, 32, 64, 65, 200])
def test_hmac_precomputed_pads_match_stdlib(key_len: int) -> None:
    import hmac

    from secpipe.transforms.protect.tokenize import _HmacSha256

    key = bytes(range(256))[:key_len]
    msgs = [b"", b"a", b"ip4:10.0.0.1", bytes(range(256)) * 3]
    mac = _HmacSha256(key)
    assert mac.digests(msgs) == [hmac.digest(key, m, "sha256") for m in msgs]
    assert mac.digest(b"x") == hmac.digest(key, b"x", "sha256")


def test_ipv6_text_matches_inet_ntop() -> None:
    """The numpy RFC 5952 printer and dotted-form test agree with inet_ntop on zero-heavy addresses."""
    import numpy as np

    from secpipe.transforms.protect.tokenize import _dotted6, _format6, _zero_run6

    rnd = random.Random(11)
    rows = [bytes(16), bytes(15) + b"\1", b"\0" * 10 + b"\xff\xff" + b"\1\2\3\4", b"\0" * 12 + b"\1\2\3\4"]
    for _ in range(3000):
        words = [rnd.choice([0, 0, 0, 1, 0xF, 0x10, 0xFFF, 0x1000, 0xFFFF, rnd.randrange(1 << 16)]) for _ in range(8)]
        rows.append(b"".join(w.to_bytes(2, "big") for w in words))
    words = np.frombuffer(b"".join(rows), np.uint8).reshape(-1, 16).view(">u2").astype(np.uint16)
    start, length = _zero_run6(words)
    texts = _format6(words, start, length).to_pylist()
    dotted = _dotted6(words, start, length).tolist()
    for packed, text, dot in zip(rows, texts, dotted, strict=True):
        expected = socket.inet_ntop(socket.AF_INET6, packed)
        assert dot == ("." in expected), expected
        if not dot:
            assert text == expected == str(ipaddress.IPv6Address(packed))
    assert sum(dotted) >= 2


@pytest.mark.parametrize("detectors", [None, ["aws_access_key"], ["generic_secret"], ["jwt", "password"],
                                       ["aws_access_key", "url_password", "generic_secret"]])
def test_redact_suspect_is_the_or_of_the_classes(detectors: list[str] | None) -> None:
    """The fused suspect screen picks exactly the rows where one of the three families may fire."""
    from secpipe.transforms.protect.redact import RedactStage

    rnd = random.Random(21)
    alphabet = string.ascii_letters + string.digits + "+/"
    pieces = ['"accessKeyId":"AKIAZ7QWERTY12345678"', "AKIAZ7QWERTY12345679", "ghp_" + "a1" * 18,
              "https://u:pw@h.example/x", '"password":"hunter22"', "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghij",
              "IQoJb3JpZ2luX2VjE" + "x" * 60, "-----BEGIN PRIVATE KEY-----", "arn:aws:iam::111122223333:user/bob"]
    texts: list[str | None] = [None]
    for _ in range(800):
        parts = rnd.sample(pieces, rnd.randrange(0, 3))
        if rnd.random() < 0.2:
            parts.append("".join(rnd.choice(alphabet) for _ in range(rnd.randrange(28, 60))))
        texts.append('{"k":"' + '","'.join(parts) + '"}')
    col = pa.array(texts)
    expected = pa.array([1 if rnd.random() < 0.5 else 0 for _ in texts], pa.int64())
    stage = RedactStage("r", {} if detectors is None else {"detectors": detectors})
    for exp in (expected, None):
        spec, aws, gen = stage._classify(col, exp)
        either = pc.or_(pc.or_(spec, aws), gen)
        assert stage._suspect(col, exp).to_pylist() == either.to_pylist()
        assert 0 < sum(either.to_pylist()) < len(texts) or detectors == ["generic_secret"]


_FRAGMENTS = ["-----BEGIN", "-----BEGI", "eyJ", "eyJabcdefgh.eyJ", "eyJabcdefg.eyJ", "eyJab_-cdefghi.eyJz", ".eyJ",
              "ghp_", "gho_" + "a1" * 18, "ghs_" + "A" * 35, "ghx_" + "a" * 36, "github_pat_", "github_pa",
              "glpat-", "glagent-", "glsoat", "xoxb-", "xoxz-", "xox", "hooks.slack.com/", "hooks.slack.com",
              "://", "://u:p@", "://:p@", "://u:@", "://a:b:c@", "://a b:c@", "://ab@", "@", ":", "/",
              "password", "PassWd", "paſſword", "PAſSWD", "client_secret", "api_key", "APIKEY", "api-key",
              "access_token", "AccessToken", "auth_token", "secret_key", "secret_access_key", "secretaccess_key",
              "secret_\u212aey", "secret\u212aey", "passw", "=", ":", "\\", "\"", "'", " ", "\t", "\n", ",", "&", ";",
              "AKIA", "ASIA", "ABIA", "ACCA", "AKIAZ7QWERTY12345678", "ASIAZ7QWERTY1234567", "AKIAAKIAZ7QWERTY12345678",
              "AKIAZ7QWERTY12345678ASIAZ7QWERTY12345678", "ACCAZ7QWERTY1234567x", "x", "é", "\u212a", "ſ",
              "glft-", "glf-", "GR1348941", "GR134894", "xapp-", "xapp", "AIza", "AIz", "sk_live_", "rk_test_", "sk_live",
              "sk_tes_", "SK_LIVE_", "Secret_Key", "Authorization", "AUTHORIZATION", "authorizatio", "GOCSPX-", "GOCSPX", "npm_", "npm_" + "a1" * 18, "npm_config_cache", "pypi-AgEIcHlwaS5vcmc", "pypi-AgEI", "dckr_pat_", "dckr_pa", "xoxc-", "xoxd-", "whsec_", "whsec", "?sig=", "&sig=", ";sig=", "sig=", "&si=", "?",
              "://:", "Q~", "8Q~", "ATATT3", "ATATT", "NRAK-", "NRAK", "AGE-SECRET-KEY-1", "AGE-SECRET-KEY-", "discord.com/api/",
              "discordapp.com/api/", "discord.co", "/IncomingWebhook/", "/IncomingWebhoo", ";Pwd", ";pwd ", "PWD", "?token=",
              "&secret", "&token", "X-Auth-Token", "PRIVATE-TOKEN", "Private-Token", "x-access-token", "MYSQL_PWD", "mysql_pwd",
              "api_token", "apiToken", "API-TOKEN", "api_tok", "--token", "--tok", "--password-stdin", "--secret-name",
              "--passwd", "--api-key", "--client-secret", "--client-secre", "---token", "SK", "SK0123456789abcdef",
              "SKABCDEF0123456789abcdef", "curl", "curl.exe", "curl\\\"", "curl'", "curl/", "sshpass", "sshpas", "shpass",
              "mysql", "mysqldump", "mariadb", "mariad", " -p", "-p", "\r", "subscription-key", "Ocp-Apim-Subscription-Key",
              "ſubscription_key", "subscriptionkey", "subscriptio", "pul-", "pul-0123456789abcdef", "PMAK-", "PMAK", "lin_api_",
              "lin_api", "in_api_", "n_api_", "dp.pt.", "dp.st.", "dp.scim.", "dp.audi", "dp.", "ops_eyJ", "ops_ey", "HRKU-AA",
              "HRKU-A", "pscale_tkn_", "pscale_pw_", "pscale_oauth_", "pscale_", "rubygems_", "rubygems", "ubygems_", "ygems_", "12345:AA", "1234:AA", ":AA", ":A",
              "0123456789abcdef" * 2 + "-us1", "0123456789abcdef" * 2, "-us2", "-us", "xkeysib-", "xkeysi", "dt0c01.", "dt0c01",
              "sq0atp-", "sq0csp-", "sq0", "sntryu_", "sntrys_", "sntry", "sk.eyJ", "sk.ey", "sk.", "PsExec", "psexec64",
              "PSEXEC", "psexe", " -p ", "-p\t", "use ", "USE\t", "Use ", "use", "\\\\", "\\", "Z: ", "z:\t", "se \\\\",
              "redis-cli", "redis-cl", "-cli", " -a ", " --pass ", "sqlcmd", "SQLCMD", "qlcmd", " -P", "ldapsearch", "ldapadd",
              "ldap", "dap", " -w ", "smbclient", "rpcclient", "bclient", "cclient", " -U", " --user", "pass:", "pass",
              "--passphrase", "--passphras"]


def _fuzz_texts(n: int, seed: int) -> list[str | None]:
    rnd = random.Random(seed)
    b64 = string.ascii_letters + string.digits + "+/"
    out: list[str | None] = [None, "", "a", "=" * 3]
    for _ in range(n):
        parts = []
        for _ in range(rnd.randrange(1, 8)):
            r = rnd.random()
            if r < 0.55:
                parts.append(rnd.choice(_FRAGMENTS))
            elif r < 0.75:
                parts.append("".join(rnd.choice(b64) for _ in range(rnd.choice([5, 16, 17, 31, 32, 33, 47, 48, 64]))))
            else:
                parts.append(rnd.choice(["=", "==", "===", " ", '"', ",", "\\", "&", "-", "."]))
        out.append("".join(parts))
    return out


def _screen_is_re2(col: pa.Array, most: float) -> None:
    """The compiled screen picks exactly the rows RE2 picks with PREFILTER (between a fifth and
    ``most`` of them) and counts key ids as RE2 counts AWS_KEY (some row holding two or more)."""
    from secpipe.transforms.protect import _native
    from secpipe.transforms.protect.redact import AWS_KEY, PREFILTER

    hit, _ = _native.screen(col, True)
    expected = pc.fill_null(pc.match_substring_regex(col, PREFILTER), False).to_pylist()
    assert hit.to_pylist() == expected
    assert 0.2 < sum(expected) / len(expected) < most
    _, counts = _native.screen(col, False)
    assert counts.to_pylist() == pc.fill_null(pc.count_substring_regex(col, AWS_KEY), 0).to_pylist()
    assert max(counts.to_pylist()) >= 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_native_screen_matches_re2(seed: int) -> None:
    """The compiled secret screen picks exactly the rows RE2 does with PREFILTER and counts key ids as RE2 does."""
    from secpipe.transforms.protect import _native

    if not _native.screen_available():
        pytest.skip("the C accelerator is not built here (no C compiler when installing)")
    texts = _fuzz_texts(6000, seed)
    for typ in (pa.string(), pa.large_string()):
        _screen_is_re2(pa.array(texts, typ).slice(1), 0.9)


@pytest.mark.parametrize("seed", [4, 5])
def test_native_screen_matches_re2_on_long_rows(seed: int) -> None:
    """Rows of hundreds of bytes (the compiled screen's 32-byte vector steps and its tail): the rows RE2 picks, the
    key-id counts RE2 gives, a fragment at every offset of a step (the left pad's length runs through 0..63)."""
    from secpipe.transforms.protect import _native

    if not _native.screen_available():
        pytest.skip("the C accelerator is not built here (no C compiler when installing)")
    rnd = random.Random(seed)
    short = [t for t in _fuzz_texts(12000, seed) if t]
    texts = ["x" * (i % 64) + "".join(rnd.sample(short, rnd.randrange(1, 12))) + "." * rnd.randrange(0, 40)
             for i in range(3000)]
    _screen_is_re2(pa.array(texts), 0.99)


def test_native_empty_and_null_columns() -> None:
    """No rows, only nulls, only empty strings: the compiled paths return the column's own shape."""
    from secpipe.transforms.protect import _native

    if not _native.available() or not _native.screen_available():
        pytest.skip("the C accelerator is not built here (no C compiler when installing)")
    for typ in (pa.string(), pa.large_string()):
        for values in ([], [None, None], ["", ""]):
            col = pa.array(values, typ)
            n = len(values)
            out = _native.replace_rows(col, [(pa.array(["a"] * n), pa.array(["x"] * n))])
            assert out.type == typ and out.to_pylist() == values
            hit, keys = _native.screen(col, True)
            assert hit.to_pylist() == [False] * n and keys.to_pylist() == [0] * n


@pytest.mark.parametrize("seed", [6, 7])
def test_native_replace_rows_matches_str_replace_on_long_rows(seed: int) -> None:
    """The compiled rewrite's vector search (32 candidate positions a step, first and last byte of the
    pattern, then a compare; ``memmem`` for the tail): str.replace's result, pair after pair, with
    each pattern at every offset of a step, at the row's very end, overlapping itself ("aa" in "aaa"),
    from 1 byte to longer than the row, in rows of 0-400 bytes of a small alphabet (many candidates)."""
    from secpipe.transforms.protect import _native

    if not _native.available():
        pytest.skip("the C accelerator is not built here (no C compiler when installing)")
    rnd = random.Random(seed)
    alphabet = "ab1.:\"é"
    texts: list[str | None] = []
    pairs: list[list[tuple[str, str]]] = []
    for i in range(4000):
        pats = []
        for _ in range(3):
            pat = "".join(rnd.choice(alphabet) for _ in range(rnd.choice([1, 2, 3, 5, 12, 33, 40])))
            pats.append((pat, rnd.choice(["", "X", "tok:" + "f" * 24])))
        body = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 300)))
        cut = (i % 64) if body else 0
        text = body[:cut] + pats[0][0] + body[cut:] + rnd.choice(["", pats[1][0], pats[0][0] * 2])
        texts.append(None if i % 97 == 0 else text)
        pairs.append(pats)
    cols = [(pa.array([p[k][0] for p in pairs]), pa.array([p[k][1] for p in pairs])) for k in range(3)]
    out = _native.replace_rows(pa.array(texts), cols)
    expected = []
    for text, pats in zip(texts, pairs, strict=True):
        for p, r in pats if text is not None else ():
            text = text.replace(p, r)
        expected.append(text)
    assert out.to_pylist() == expected
    assert sum(a != b for a, b in zip(texts, expected, strict=True)) > 3000  # most rows rewritten


@pytest.mark.parametrize("seed", [8, 9])
def test_native_screen_generic_modes(seed: int) -> None:
    """The screen's GENERIC modes against RE2 and ``plausible_words``: off, the rows SPECIFIC_RE2 picks; plausible,
    those or the rows GENERIC_RE2 matches that plausible_words keeps (a JSON escape, or a base64 word of the minimum
    length with two upper-case letters, two lower-case, two digits and the entropy); key counts as RE2's AWS_KEY in
    every row the anchors leave (a GENERIC-only row left by the plausible test is counted too)."""
    from secpipe.transforms.protect import _native
    from secpipe.transforms.protect.redact import AWS_KEY, GENERIC_RE2, SPECIFIC_RE2, plausible_words

    if not _native.screen_available():
        pytest.skip("the C accelerator is not built here (no C compiler when installing)")
    rnd = random.Random(seed)
    b64 = string.ascii_letters + string.digits + "+/"
    words = ["AWSLogs/123456789012/CloudTrail/us", "a" * 40, "Ab1" * 14, "".join(rnd.choice(b64) for _ in range(40)),
             "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5", "AKIAZ7QWERTY12345678", "x\\/y", "\\u0041"]
    short = [t for t in _fuzz_texts(3000, seed) if t]
    texts = []
    for i in range(3000):
        parts = rnd.sample(short, rnd.randrange(0, 4)) + [rnd.choice(words) for _ in range(rnd.randrange(0, 3))]
        rnd.shuffle(parts)
        texts.append("x" * (i % 40) + rnd.choice(['"', " ", ","]).join(parts) + rnd.choice(['"', "", "&"]))
    col = pa.array(texts)
    spec = pc.fill_null(pc.match_substring_regex(col, SPECIFIC_RE2), False).to_pylist()
    gen = pc.fill_null(pc.match_substring_regex(col, GENERIC_RE2), False).to_pylist()
    for entropy, least in ((4.5, 32), (3.0, 40), (2.0, 16)):
        kept = [plausible_words(pa.array([t]), entropy, least)[0].as_py() for t in texts]
        hit, keys = _native.screen(col, True, (entropy, least))
        expected = [s or (g and k) for s, g, k in zip(spec, gen, kept, strict=True)]
        assert hit.to_pylist() == expected
        assert 0 < sum(g and not k for g, k in zip(gen, kept, strict=True)) and 0 < sum(g and k for g, k in zip(gen, kept, strict=True))
        counts = pc.fill_null(pc.count_substring_regex(col, AWS_KEY), 0).to_pylist()
        assert [c for c, h in zip(keys.to_pylist(), expected, strict=True) if not h] == [c for c, h in zip(counts, expected, strict=True) if not h]
    hit, _ = _native.screen(col, True, False)
    assert hit.to_pylist() == spec


@pytest.mark.parametrize("detectors", [None, ["generic_secret"], ["aws_access_key", "password"]])
def test_redact_output_same_with_and_without_the_compiled_screen(detectors: list[str] | None,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled screen leaves out rows whose GENERIC match holds no plausible word and answers the specific
    anchors itself: the suspect rows, the redacted batch and the findings are the ones the RE2 screen gives, from fewer
    picked rows (CloudTrail S3 paths, ARNs, random and flat words, keys, a base64 private key, escapes)."""
    from secpipe.transforms.protect import _native
    from secpipe.transforms.protect.redact import RedactStage

    if not _native.screen_available():
        pytest.skip("the C accelerator is not built here (no C compiler when installing)")
    rnd = random.Random(31)
    alphabet = string.ascii_letters + string.digits + "+/"
    pieces = ['"accessKeyId":"AKIAZ7QWERTY12345678"', "AKIAZ7QWERTY12345679", "ghp_" + "a1" * 18, '"password":"hunter22"',
              "AWSLogs/123456789012/CloudTrail/us", "arn:aws:iam::111122223333:user/bob", "a\\/b", "\\u0041",
              "AWSLogs/111111111111/CloudTrail/useast", "a" * 40, "abcdefghijklmnopqrstuvwxyz/abcdefghij",
              "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JR0hBZ0VBTUJNR0J5cUdTTTQ5QWdFR0NDcUdTTTQ5QXdFSEJHMHdhd0lCQVFRZ3VS"]
    texts = []
    for _ in range(600):
        parts = rnd.sample(pieces, rnd.randrange(0, 4))
        if rnd.random() < 0.3:
            parts.append("".join(rnd.choice(alphabet) for _ in range(rnd.randrange(28, 60))))
        texts.append('{"k":"' + '","'.join(parts) + '"}')
    times = pa.array([1_700_000_000_000] * len(texts), pa.timestamp("ms", tz="UTC"))
    meta = pa.StructArray.from_arrays([pa.array([f"u{i}" for i in range(len(texts))])], ["uid"])
    batch = pa.RecordBatch.from_arrays([pa.array(texts), pa.array(texts), times, meta], ["raw_data", "message", "time", "metadata"])
    stage = RedactStage("r", {} if detectors is None else {"detectors": detectors})
    raw = batch.column(0)
    native_suspect, native_picked = stage._suspect(raw, None).to_pylist(), len(stage._picked(raw, None)[0])
    native = stage.process(batch)
    monkeypatch.setattr(_native, "screen_available", lambda: False)
    re2_suspect, re2_picked = stage._suspect(raw, None).to_pylist(), len(stage._picked(raw, None)[0])
    re2 = stage.process(batch)
    assert [b.to_pylist() for b in native] == [b.to_pylist() for b in re2]
    assert native_suspect == re2_suspect
    assert native_picked < re2_picked  # the rows the compiled screen spares the RE2 passes
    assert native[0].column(0).to_pylist() != texts  # something was redacted


def _anchor_spellings() -> list[str]:
    """A text each of redact.PREFILTER's specific anchors and AWS_KEY match, every alternative of each spelled out,
    the keywords in several cases and with RE2's non-ASCII folds of 's' and 'k' (U+017F, U+212A)."""
    b36, hex32 = "a1B2" * 9, "0123456789abcdef" * 2
    out = ["-----BEGIN RSA PRIVATE KEY-----", "eyJhbGciOiJI.eyJzdWIi", "github_pat_11AB", "GR1348941xyz", "xapp-1-A",
           "npm_" + b36, "pypi-AgEIcHlwaS5vcmcCJDk", "dckr_pat_x", "sk-" + "A1" * 10 + "T3BlbkFJ", "ya29.a0Af",
           "SG." + "a-_1" * 5 + "ab" + ".x", "dapi" + hex32, "hf_" + "aB" * 17, "glsa_x", "glc_" + "A1+/" * 8,
           "hooks.slack.com/services/T0", "AIzaSyA", "GOCSPX-abc", "whsec_x", "https://user:pa55@host.example/",
           "AKIAZ7QWERTY12345678", "ASIAZ7QWERTY12345678", "ABIAZ7QWERTY12345678", "ACCAZ7QWERTY12345678"]
    out += [f"gh{c}_{b36}" for c in "pousr"] + [f"hv{c}." + "a_-1" * 6 for c in "sbr"]
    out += [f"gl{g}-x" for g in ("pat", "ptt", "dt", "rt", "oas", "cbt", "soat", "ffct", "ft", "imt", "agent")]
    out += [f"xox{c}-1" for c in "abposrecd"] + [f"sk-{k}-x" for k in ("proj", "svcacct", "admin", "ant")]
    out += [f"shp{k}_x" for k in ("at", "ca", "pa", "ss")] + [f"do{c}_v1_x" for c in "por"]
    out += [f"{a}k_{m}_x" for a in "sr" for m in ("live", "test")] + [f"{c}sig=x" for c in "?&;"]
    out += ["https://:pa55@redis.example:6379", "://:p@", "bP88Q~rcBcYjzzOhg1Hnn76Wm3jGgakZiZ.8vMgR", "Q~" + "~._-" * 8,
            "ATATT3xFfGF0", "NRAK-ABC", "AGE-SECRET-KEY-1QQ", "discord.com/api/webhooks/1", "discordapp.com/api/v10/",
            "/IncomingWebhook/f7fb", ";Pwd=x", ";PWD =x", ";pWd\t=x"] + [f"{c}{k}=x" for c in "?&" for k in ("token", "secret")]
    out += [f"--{f}{sep}x" for f in ("password", "passwd", "token", "secret", "api-key", "client-secret") for sep in " =\t"]
    out += ["SK" + hex32, "SK" + hex32.upper(), "curl -u", "curl.exe\t-u", 'curl" ', "curl\\' ", "curl\n", "sshpass -p",
            "mysql -pX", "mysqldump -u r\t-p1", "mariadb-dump \n-pX", "mysql -h h -p\"x", "pul-" + hex32 + "01234567",
            "PMAK-x", "lin_api_x", "ops_eyJ", "HRKU-AA", "rubygems_"] + [f"dp.{k}.x" for k in ("pt", "ct", "st", "sa", "scim", "audit")]
    out += [f"pscale_{k}_x" for k in ("tkn", "pw", "oauth")]
    out += ["redis-cli -a x", "redis-cli --pass\tx", "sqlcmd -Px", "SqlCmd.exe -S s -P x", "ldapsearch -x -w x",
            "ldapwhoami\t-w x", "smbclient //h/s -Ux%y", "rpcclient -U x", "smbclient --user=x", "pass:x", "--passphrase x"]
    out += ["psexec -p x", "PsExec64.exe \\\\h -u a -p\tb", "PSEXEC\n -p x", "use \\\\srv", "USE\tZ: \\\\srv",
            "Use z:\t\\\\srv"]
    out += ["5439173652:AAx", hex32 + "-us21", "xkeysib-x", "dt0c01.X", "sq0atp-x", "sq0csp-x", "sntryu_x", "sntrys_x",
            "sk.eyJx"]
    out += ["net user x", "NET1\t USER\t", 'net.exe" user ', "Net.EXE\\'\t User ", "net1.exe  user\tx", "net\tuser x", "7z a -px",
            "7za.exe x f -o/tmp -p\"x", '7zr" u f -px', '7z\ta -px', "rar a -hpx", "WinRAR.exe a -p-", "Rar a f -hp\"x", "RAR.EXE\\\" -px",
            "cmdkey /add:h /pass:x", "CMDKEY.exe /PASS:", "CmdKey /generic:h /Pass:x", "schtasks /create /rp x",
            "SCHTASKS.EXE /S h /P\tx", "schtasks\t/rp x", "SchTasks /Create /RP *", "ConvertTo-SecureString", "convertto-securestring",
            "CONVERTTO-SECURESTRING", "plink -pw x", "PSCP.EXE\" a -pw\tx", "psftp -l u -pw x", "htpasswd -b",
            "htpasswd.exe -cb", "htpasswd -nbB", "htpasswd -B -C 10 -b", "sgp_x", "pnu_x", "AKCpx", "CLOJARS_x", "EZAKx",
            "EZTKx", "FLWSECKx", "nxc smb h -p x", "evil-winrm.exe -p\tx", "docker login -u u -p x", "mongo\" -p x",
            "az login -p x", "acme -p x"]
    keywords = ["password", "passwd", "client_secret", "apikey", "api_key", "api-key", "accesstoken", "access_token",
                "authtoken", "auth_token", "refreshtoken", "refresh_token", "secretkey", "secret_key", "secretaccesskey",
                "secret_access_key", "authorization", "access-token", "auth-token", "privatetoken", "private_token",
                "private-token", "mysql_pwd", "apitoken", "api_token", "api-token", "subscriptionkey", "subscription_key",
                "subscription-key", "ocp-apim-subscription-key"]
    for kw in keywords:
        for form in (kw, kw.upper(), kw.title(), kw[:2].upper() + kw[2:], kw[0] + kw[1:].upper(), kw.replace("s", "\u017f"),
                     kw.replace("k", "\u212a"), kw.replace("s", "\u017f").upper()):
            out += [form + ": x", form + '\\":\\"x', form + "=x"]
    for kw in ("vault_token", "vaulttoken", "vault-token", "client_token", "VAULT_TOKEN", "Client_Token"):
        out += [kw + ': "s.abc', kw + "=b.x", kw + '\\": \\"r.x']
    return out


def test_native_screen_finds_every_anchor_at_every_offset() -> None:
    """Every spelling of every anchor (and key id), at each offset of the vector screen's 32-byte steps, between
    JSON-ish filler: the rows RE2 picks with PREFILTER and the key counts RE2 gives (the screen's two- and three-byte
    prefilter must let each through)."""
    from secpipe.transforms.protect import _native
    from secpipe.transforms.protect.redact import AWS_KEY, PREFILTER

    if not _native.screen_available():
        pytest.skip("the C accelerator is not built here (no C compiler when installing)")
    filler = '{"eventSource":"s3.amazonaws.com","requestParameters":{"region":"us-east-1"},"sessionContext":{'
    texts = [filler[: k % 70] + "\"" + spelling + "\" " + filler[k % 13 :] for spelling in _anchor_spellings() for k in range(40)]
    col = pa.array(texts)
    hit, keys = _native.screen(col, True, True)
    expected = pc.fill_null(pc.match_substring_regex(col, PREFILTER), False).to_pylist()
    assert hit.to_pylist() == expected
    assert sum(expected) / len(expected) > 0.97  # the spellings match, not the filler
    _, keys = _native.screen(col, False)
    assert keys.to_pylist() == pc.fill_null(pc.count_substring_regex(col, AWS_KEY), 0).to_pylist()
