"""Session 29: the tokenize stage's dotted IPv4 addresses parsed and printed by the compiled extension.

``ip`` mode tokens keep an IPv4 address's /24 and are printed as ``inet_ntop`` prints them; which texts are IPv4
addresses is what ``inet_pton(AF_INET)`` accepts (POSIX: four decimal parts, glibc: no leading zeros). The compiled
parser and printer must give exactly those, and the stage the same tokens with and without them.
"""

from __future__ import annotations

import random
import socket

import numpy as np
import pyarrow as pa
import pytest

from secpipe.security.keys import generate_key
from secpipe.transforms.protect import _native, tokenize
from secpipe.transforms.protect.tokenize import TokenizeStage

EDGES = ["0.0.0.0", "255.255.255.255", "1.2.3.4", "01.2.3.4", "1.2.3.04", "0.0.0.00", "256.1.1.1", "1.2.3.256",
         "999.1.1.1", "1.2.3", "1.2.3.4.", ".1.2.3", "1..2.3", "1.2.3.4.5", "", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n",
         "a.b.c.d", "1.2.3.-1", "1,2,3,4", "\u0661.2.3.4", "::1", "::ffff:1.2.3.4", "192.168.001.1", "100.200.0.99",
         "0x7f.0.0.1", "1.2.3.4/24", "10.0.0.1:443"]


def _cases(seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = list(EDGES)
    for _ in range(5000):
        parts = [rnd.choice([str(rnd.randint(0, 300)), f"0{rnd.randint(0, 9)}", str(rnd.randint(0, 255)), ""])
                 for _ in range(rnd.choice([3, 4, 4, 4, 5]))]
        out.append(rnd.choice([".", ".", ".", ":"]).join(parts))
    return out


def _pton(text: str) -> int | None:
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except OSError:
        return None


@pytest.mark.parametrize("seed", [1, 2])
def test_compiled_ipv4_parse_is_inet_pton(seed: int) -> None:
    if not _native.available():
        pytest.skip("the compiled protect extension is not built here")
    texts = _cases(seed)
    addr, ok = _native.ip4_parse(pa.array(texts, pa.string()))
    want = [_pton(t) for t in texts]
    assert ok.tolist() == [w is not None for w in want]
    assert [int(a) for a, o in zip(addr.tolist(), ok.tolist(), strict=True) if o] == [w for w in want if w is not None]


def test_compiled_ipv4_print_is_inet_ntop() -> None:
    if not _native.available():
        pytest.skip("the compiled protect extension is not built here")
    rnd = random.Random(3)
    addr = np.array([0, 0xFFFFFFFF, 0x0A000001, 0x64C80063] + [rnd.getrandbits(32) for _ in range(20000)], np.uint32)
    assert _native.ip4_format(addr).to_pylist() == [socket.inet_ntop(socket.AF_INET, int(a).to_bytes(4, "big"))
                                                    for a in addr.tolist()]


def test_ip_tokens_same_with_and_without_the_compiled_ipv4(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECPIPE_TOKENIZE_KEY", generate_key())
    stage = TokenizeStage("tok", {"fields": {"src_endpoint.ip": "ip"}})
    values = pa.array(sorted(set(_cases(4)) | {"2001:db8::1", "fe80::1%eth0", "::ffff:10.1.2.3"}), pa.string())
    native = stage.tokenizer.ip_tokens(values).to_pylist()
    monkeypatch.setattr(_native, "ip4_available", lambda: False)
    assert stage.tokenizer.ip_tokens(values).to_pylist() == native
    assert native == [stage.tokenizer._ip_token(v) for v in values.to_pylist()]
    rows4, rest, _ = tokenize._dotted4(values)
    assert len(rows4) + len(rest) == len(values)


def test_compiled_key_leak_is_the_re2_test() -> None:
    """``_not_after(KEY_ID_ALLOW) + AWS_KEY`` (RE2, any position, overlapping ones too) and the compiled scan agree:
    key ids after each allowed context, after near misses of them, overlapping, cut short, at the text's start."""
    if not _native.available():
        pytest.skip("the compiled protect extension is not built here")
    from secpipe import _compute as pc
    from secpipe.transforms.protect.redact import AWS_KEY_LEAK, KEY_ID_ALLOW

    rnd = random.Random(7)
    ids = ["AKIA" + "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(16)) for _ in range(4)]
    ids += [ids[0][:19], ids[1] + "X", "ASIA" + ids[2][4:], "AKIAAKIA" + ids[3][8:] + "ZZZZ", "ACCA" + ids[0][4:]]
    before = (*KEY_ID_ALLOW, '"x":"', "", " ", '"accessKeyId" :"', '"AccessKeyId":"', "AKIA", '"accessKeyId":"AKIA')
    texts: list[str | None] = ["".join(rnd.choice(before) + rnd.choice(ids) for _ in range(rnd.randint(0, 4)))
                               for _ in range(5000)]
    texts += [None, "", "AKIA1234567890ABCDEF", "xAKIA1234567890ABCDE"]
    col = pa.array(texts, pa.string())
    want = pc.fill_null(pc.match_substring_regex(col, AWS_KEY_LEAK), False)
    assert _native.key_leaks(col, KEY_ID_ALLOW).to_pylist() == want.to_pylist()
