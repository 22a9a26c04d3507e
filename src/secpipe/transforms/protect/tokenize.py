"""Tokenization: sensitive identifiers become keyed, stable tokens before anything is stored.

Modes, per configured OCSF field path (``fields: {actor.user.name: hmac, src_endpoint.ip: ip}``
or a list, which uses ``mode``):

- ``hmac`` (default): ``tok:<kid>:<base64url of HMAC-SHA256(key, value)[:20]>`` (27 chars). Deterministic
  and stable across runs and processes for one key, so joins, group-bys and detections on
  the tokenized field still work; the key id names the key, so keys can rotate.
- ``reversible``: ``tokr:<kid>:<base32 of AES-SIV(key, value)>``. Deterministic
  authenticated encryption: equal values give equal tokens, and only :func:`reveal` with the
  key ring turns a token back (the API/CLI restrict that to the ``reveal`` permission and
  audit every call).
- ``ip``: format-preserving. The result is still a valid IP address of the same family that
  keeps the first ``ip_keep_v4`` (default 24) / ``ip_keep_v6`` (default 48) bits, so CIDR rules
  on those prefixes still match; host bits come from a keyed pseudorandom function of the
  whole address: AES-256 of the address as one 16-byte block (IPv4: 4 address bytes, then
  zeros; IPv6: the 16 bytes), with one key per family derived from the tokenize key. One
  block per value, so ECB mode leaks nothing here, and a batch's distinct addresses are
  encrypted in one call. Not reversible; two hosts of one /24 may collide (256 slots). A
  value that is not an IP gets an ``hmac`` token.

Where: the configured leaves of the OCSF columns (nested structs are rebuilt, see
``_columns``; a leaf inside a list is named with ``[]``, ``src_endpoint.intermediate_ips[]``,
``actor.user.groups[].name``, and each of its values is tokenized, the first 32 of an event also in
its raw text), and — so the original never reaches the lake — inside ``raw_data`` and
``unmapped`` of the same event: every JSON string equal to the event's original value is
replaced by its token, and for fields with at most ``substring_max_distinct`` distinct
values in the batch (user names, account ids) also every occurrence inside longer strings
such as ARNs and messages (values of ``min_raw_length`` characters or more); see
``_columns.rewrite_raw``. A value embedded in other free text (an IP inside a URL or a
message) is not rewritten: redact or drop ``raw_data`` for such sources.

Cost: each distinct value of a batch is tokenized once (dictionary encode + take); the
HMAC and IPv6 parsing (``inet_pton`` mapped over the values) are the only per-value work
(base64url, IP bit arithmetic and IPv4/IPv6 text are vectorized with numpy / pyarrow), and
the raw text is rewritten in one vectorized pass.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import socket
from functools import lru_cache, partial
from typing import Any

import numpy as np
import pyarrow as pa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from secpipe import _compute as pc
from secpipe._arrays import from_numpy
from secpipe.errors import SecpipeError
from secpipe.security.keys import Keyring, load_keyring
from secpipe.transforms.protect import _native
from secpipe.transforms.protect._columns import (
    Replacement,
    encode_distinct,
    field_values,
    list_replacements,
    put_values,
    rewrite_raw_columns,
)
from secpipe.transforms.protect.options import Mode, TokenizeOptions

RAW_COLUMNS = ("raw_data", "unmapped")


class RevealError(SecpipeError):
    """A token that cannot be revealed (not reversible, unknown key, or tampered)."""


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _unb32(text: str) -> bytes:
    t = text.upper()
    return base64.b32decode(t + "=" * (-len(t) % 8))


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: exactly the dotted IPv4 texts ``inet_pton(AF_INET)`` accepts (4 octets <= 255, no leading zeros).
_DOTTED_V4 = rf"^(?:{_OCTET}\.){{3}}{_OCTET}$"
_B64URL = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", np.uint8)


def _b64url(rows: np.ndarray) -> np.ndarray:
    """Base64url (no padding) of each row of an (n, 3k) uint8 matrix -> (n, 4k) ASCII bytes."""
    g = rows.reshape(len(rows), -1, 3).astype(np.uint32)
    word = (g[:, :, 0] << 16) | (g[:, :, 1] << 8) | g[:, :, 2]
    six = np.stack([(word >> s) & 63 for s in (18, 12, 6, 0)], axis=-1)
    return _B64URL[six].reshape(len(rows), -1)


def _unsplit(n: int, rows_a: np.ndarray, a: pa.Array, rows_b: np.ndarray, b: pa.Array) -> pa.Array:
    """Interleave ``a`` (at positions ``rows_a``) and ``b`` (at ``rows_b``) back into one array of ``n``."""
    inverse = np.empty(n, dtype=np.int64)
    inverse[np.concatenate([rows_a, rows_b]).astype(np.int64)] = np.arange(n, dtype=np.int64)
    return pa.concat_arrays([a, b]).take(from_numpy(inverse))


def _dotted4(values: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions of the dotted IPv4 texts ``inet_pton(AF_INET)`` accepts among non-null ``values``, positions of
    the others, the former's addresses as uint32): parsed by the compiled extension where it is built (one pass, no
    string per value), else with :data:`_DOTTED_V4` and a split into octets."""
    if _native.ip4_available():
        addr, ok = _native.ip4_parse(values)
        rows4 = np.flatnonzero(ok)
        return rows4, np.flatnonzero(~ok), addr[rows4]
    is4 = pc.fill_null(pc.match_substring_regex(values, _DOTTED_V4), False).to_numpy(zero_copy_only=False)
    rows4 = np.flatnonzero(is4)
    octets = pc.split_pattern(values.take(from_numpy(rows4)), ".").flatten().cast(pa.uint32()).to_numpy()
    octets = octets.reshape(-1, 4).astype(np.uint32)
    return rows4, np.flatnonzero(~is4), (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]


def _format4(addr: np.ndarray) -> pa.Array:
    """The dotted text of each uint32 address, as ``inet_ntop(AF_INET)`` prints it (compiled where built, else four
    casts and a join)."""
    if _native.ip4_available():
        return _native.ip4_format(addr)
    parts = [pa.array((addr >> np.uint32(s)) & np.uint32(0xFF)).cast(pa.string()) for s in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*parts, ".")


class _HmacSha256:
    """HMAC-SHA256 with the key's inner and outer pad states hashed once (RFC 2104).

    Same digests as ``hmac.digest(key, msg, "sha256")`` at less than half the per-call cost:
    each message costs two ``copy`` + ``update`` of precomputed SHA-256 states.
    """

    def __init__(self, key: bytes) -> None:
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def digest(self, msg: bytes) -> bytes:
        """HMAC-SHA256 of one message."""
        h = self._inner.copy()
        h.update(msg)
        o = self._outer.copy()
        o.update(h.digest())
        return o.digest()

    def digests(self, msgs: list[bytes]) -> list[bytes]:
        """HMAC-SHA256 of each message."""
        inner, outer = self._inner, self._outer
        out = []
        for m in msgs:
            h = inner.copy()
            h.update(m)
            o = outer.copy()
            o.update(h.digest())
            out.append(o.digest())
        return out


class _AesPrf:
    """AES-256 as a keyed pseudorandom function of 16-byte blocks (many blocks in one call)."""

    def __init__(self, key: bytes) -> None:
        self._cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - one independent block per value

    def blocks(self, data: bytes) -> bytes:
        """The PRF of each 16-byte block of ``data``, concatenated."""
        enc = self._cipher.encryptor()
        return enc.update(data) + enc.finalize()


_ZERO12 = bytes(12)
#: per ``ip_keep_v6``: the 16-byte mask of the kept (network) bits, big-endian.
_KEEP6_MASKS = [np.frombuffer((((1 << 128) - 1) ^ ((1 << (128 - k)) - 1)).to_bytes(16, "big"), np.uint8)
                for k in range(129)]
_IP6_CHARS = r"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$"  # all inet_pton(AF_INET6) can accept
_pton6 = partial(socket.inet_pton, socket.AF_INET6)
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


def _pton6_one(value: str) -> bytes | None:
    try:
        return _pton6(value)
    except OSError:
        return None


def _pton6_all(values: list[str]) -> tuple[list[int], list[bytes]]:
    """(positions, packed addresses) of the values ``inet_pton`` parses as IPv6.

    Values made only of hex digits, ``:`` and ``.`` (with a ``:``; nothing else parses)
    go through one mapped ``inet_pton``; if one of them is malformed, those are parsed one
    at a time.
    """
    cand = np.flatnonzero(pc.match_substring_regex(pa.array(values, pa.string()), _IP6_CHARS).to_numpy(False)).tolist()
    texts = [values[i] for i in cand]
    try:
        parsed: list[bytes | None] = list(map(_pton6, texts))
    except OSError:
        parsed = list(map(_pton6_one, texts))
    keep = [k for k, p in enumerate(parsed) if p is not None]
    return [cand[k] for k in keep], [parsed[k] for k in keep]  # type: ignore[misc]


def _zero_run6(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of (n, 8) words: (start, length) of the first longest run of zero words.

    Runs shorter than 2 do not count (start -1, length 0): what RFC 5952, ``inet_ntop`` and
    ``ipaddress`` compress to ``::``.
    """
    n = len(words)
    cur = np.zeros(n, np.int64)
    best = np.zeros(n, np.int64)
    start = np.full(n, -1, np.int64)
    for j in range(8):  # over the 8 word positions, vectorized over the rows
        cur = np.where(words[:, j] == 0, cur + 1, 0)
        better = cur > best
        best = np.where(better, cur, best)
        start = np.where(better, j - cur + 1, start)
    short = best < 2
    return np.where(short, -1, start), np.where(short, 0, best)


def _dotted6(words: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Rows ``inet_ntop`` prints with a dotted IPv4 tail (glibc: a zero run of 6, or 5 then ffff, at the start)."""
    return (start == 0) & ((length == 6) | ((length == 5) & (words[:, 5] == 0xFFFF)))


def _format6(words: np.ndarray, start: np.ndarray, length: np.ndarray) -> pa.Array:
    """RFC 5952 text of each row of (n, 8) words (as ``inet_ntop`` prints undotted addresses).

    Each word is a slot of 5 characters (separator + up to 4 hex digits without leading
    zeros); the slots of the compressed run are dropped except its first, which holds
    ``::``; the used cells of all rows, in order, are the string data.
    """
    n = len(words)
    j = np.arange(8)
    first, end = start[:, None], (start + length)[:, None]
    in_run = (j >= first) & (j < end)
    nib = np.stack([(words >> s) & 0xF for s in (12, 8, 4, 0)], axis=-1)
    ndig = 1 + (words >= 0x10) + (words >= 0x100) + (words >= 0x1000)
    cells = np.empty((n, 8, 5), np.uint8)
    cells[:, :, 0] = ord(":")
    cells[:, :, 1:] = _HEX[nib]
    used = np.zeros((n, 8, 5), bool)
    used[:, :, 0] = (j > 0) & (j != end) & ~in_run
    used[:, :, 1:] = (np.arange(4) >= (4 - ndig)[..., None]) & ~in_run[..., None]
    lead = j == first  # the run's first slot: "::"
    cells[:, :, 1] = np.where(lead, ord(":"), cells[:, :, 1])
    used[:, :, 0] |= lead
    used[:, :, 1] |= lead
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(used.sum(axis=(1, 2)), out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(cells[used].tobytes())])


class Tokenizer:
    """Token functions for one key ring (the active key makes new tokens)."""

    def __init__(self, ring: Keyring, ip_keep_v4: int = 24, ip_keep_v6: int = 48) -> None:
        self.ring = ring
        self.kid = ring.active_kid
        key = ring.active
        self._mac_key = hmac.new(key, b"secpipe-tokenize-hmac", hashlib.sha256).digest()
        self._mac = _HmacSha256(self._mac_key)
        self._siv = AESSIV(self._siv_key(key))
        self._prf4 = _AesPrf(hmac.new(key, b"secpipe-tokenize-ip4", hashlib.sha256).digest())
        self._prf6 = _AesPrf(hmac.new(key, b"secpipe-tokenize-ip6", hashlib.sha256).digest())
        self.ip_keep_v4 = ip_keep_v4
        self.ip_keep_v6 = ip_keep_v6
        self.hmac_token = lru_cache(maxsize=65536)(self._hmac_token)
        self.reversible_token = lru_cache(maxsize=65536)(self._reversible_token)
        self.ip_token = lru_cache(maxsize=65536)(self._ip_token)

    @staticmethod
    def _siv_key(key: bytes) -> bytes:
        return hashlib.sha512(b"secpipe-tokenize-siv\0" + key).digest()  # 64 bytes: AES-256-SIV

    def _digest(self, value: str) -> bytes:
        return self._mac.digest(value.encode())

    def _hmac_token(self, value: str) -> str:
        return f"tok:{self.kid}:{base64.urlsafe_b64encode(self._digest(value)[:20]).rstrip(b'=').decode()}"

    def _reversible_token(self, value: str) -> str:
        return f"tokr:{self.kid}:{_b32(self._siv.encrypt(value.encode(), [self.kid.encode()]))}"

    def _ip_token(self, value: str) -> str:
        try:  # fast path for dotted IPv4 (inet_pton is strict: no leading zeros, 4 parts)
            packed = socket.inet_pton(socket.AF_INET, value)
        except OSError:
            packed = None
        if packed is not None:
            keep = self.ip_keep_v4
            mask = (1 << (32 - keep)) - 1
            if not mask:
                return value
            n = int.from_bytes(packed, "big")
            rnd = int.from_bytes(self._prf4.blocks(packed + _ZERO12)[:4], "big") & mask
            return socket.inet_ntop(socket.AF_INET, ((n & ~mask & 0xFFFFFFFF) | rnd).to_bytes(4, "big"))
        v6 = self._ip6_fast(value)
        if v6 is not None:
            return v6
        try:
            ip = ipaddress.ip_address(value.strip())
        except ValueError:
            return self.hmac_token(value)
        bits = 32 if ip.version == 4 else 128
        keep = self.ip_keep_v4 if ip.version == 4 else self.ip_keep_v6
        host_bits = bits - keep
        if host_bits == 0:
            return str(ip)
        mask = (1 << host_bits) - 1
        block = self._prf4.blocks(ip.packed + _ZERO12)[:4] if ip.version == 4 else self._prf6.blocks(ip.packed)
        rnd = int.from_bytes(block, "big") & mask
        return str(ipaddress.ip_address((int(ip) & ~mask & ((1 << bits) - 1)) | rnd))

    def _ip6_fast(self, value: str) -> str | None:
        """IPv6 token via inet_pton/inet_ntop; None where that text form could differ from ``ipaddress``'s."""
        return self._ip6_many([value])[0]

    def _ip6_many(self, values: list[str]) -> list[str | None]:
        """:meth:`_ip6_fast` of each value, with one AES call for all of them.

        Parsing stays ``inet_pton`` (mapped over the values); host bits, the ``::`` run and
        the text are computed with numpy over the (n, 8) address words. Addresses whose
        input or token ``inet_ntop`` would print dotted get None (``ipaddress`` prints them).
        """
        host_bits = 128 - self.ip_keep_v6
        out: list[str | None] = [None] * len(values)
        if host_bits == 0 or not values:
            return out
        where, packed = _pton6_all(values)
        if not where:
            return out
        addr = np.frombuffer(b"".join(packed), np.uint8).reshape(-1, 16)
        prf = np.frombuffer(self._prf6.blocks(addr.tobytes()), np.uint8).reshape(-1, 16)
        mask = _KEEP6_MASKS[self.ip_keep_v6]
        old = addr.view(">u2").astype(np.uint16)
        new = ((addr & mask) | (prf & ~mask)).view(">u2").astype(np.uint16)
        run_old, run_new = _zero_run6(old), _zero_run6(new)
        ok = ~_dotted6(old, *run_old) & ~_dotted6(new, *run_new)
        texts = _format6(new, *run_new).to_pylist()
        for i, text, good in zip(where, texts, ok.tolist(), strict=True):
            if good:
                out[i] = text
        return out

    # -- vectorized: one call per batch over the distinct values of a column ------------
    def tokens(self, values: pa.Array, mode: Mode) -> pa.Array:
        """The tokens of distinct non-null string ``values`` (same order), as ``token`` gives them."""
        if mode == "hmac":
            return self.hmac_tokens(values)
        if mode == "ip":
            return self.ip_tokens(values)
        return pa.array([self.reversible_token(v) for v in values.to_pylist()], pa.string())

    def hmac_tokens(self, values: pa.Array) -> pa.Array:
        """``hmac_token`` of each value: HMAC per value, base64url and prefix vectorized."""
        if not len(values):
            return pa.array([], pa.string())
        digests = b"".join([d[:20] + b"\0" for d in self._mac.digests(values.cast(pa.binary()).to_pylist())])
        body = _b64url(np.frombuffer(digests, np.uint8).reshape(-1, 21))[:, :27]  # 20 bytes -> 27 chars
        n = len(values)
        offsets = np.arange(0, 27 * (n + 1), 27, dtype=np.int32)
        arr = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(body.tobytes())])
        return pc.binary_join_element_wise(f"tok:{self.kid}:", arr, "")

    def ip_tokens(self, values: pa.Array) -> pa.Array:
        """``ip_token`` of each value: dotted IPv4 (what inet_pton accepts) vectorized, the rest per value."""
        mask = (1 << (32 - self.ip_keep_v4)) - 1
        if not mask:
            return pa.array([self.ip_token(v) for v in values.to_pylist()], pa.string())
        rows4, rest, addr = _dotted4(values)
        if not len(rows4):
            return pa.array([self.ip_token(v) for v in values.to_pylist()], pa.string())
        blocks = np.zeros((len(addr), 16), np.uint8)
        blocks[:, :4] = addr.astype(">u4").view(np.uint8).reshape(-1, 4)
        prf = np.frombuffer(self._prf4.blocks(blocks.tobytes()), np.uint8).reshape(-1, 16)
        rnd = np.ascontiguousarray(prf[:, :4]).view(">u4").ravel().astype(np.uint32)
        t4 = _format4((addr & np.uint32(~mask & 0xFFFFFFFF)) | (rnd & np.uint32(mask)))
        others = values.take(from_numpy(rest)).to_pylist()
        t_rest = pa.array([t or self.ip_token(v) for t, v in zip(self._ip6_many(others), others, strict=True)], pa.string())
        return _unsplit(len(values), rows4, t4, rest, t_rest)

    def token(self, value: str, mode: Mode) -> str:
        """The token of one value in one mode."""
        if mode == "reversible":
            return self.reversible_token(value)
        if mode == "ip":
            return self.ip_token(value)
        return self.hmac_token(value)


def reveal(token: str, ring: Keyring) -> str:
    """The original value of a ``tokr:`` token; RevealError for anything else or a forgery."""
    parts = token.strip().split(":")
    if len(parts) != 3 or parts[0] != "tokr":
        msg = "only reversible tokens (tokr:<kid>:...) can be revealed; tok: and IP tokens are one-way"
        raise RevealError(msg)
    kid, body = parts[1], parts[2]
    if kid not in ring.keys:
        msg = f"token was made with key {kid!r}, which is not in the key ring — add that key to reveal it"
        raise RevealError(msg)
    try:
        plain = AESSIV(Tokenizer._siv_key(ring.keys[kid])).decrypt(_unb32(body), [kid.encode()])
    except (InvalidTag, ValueError) as exc:
        msg = "token does not decrypt with its key: it was altered or is not a secpipe token"
        raise RevealError(msg) from exc
    return plain.decode()


class TokenizeStage:
    """Vectorized tokenization of configured OCSF fields and their raw occurrences."""

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        opts = TokenizeOptions.model_validate(options)
        self.name = name
        ring = load_keyring(opts.key_env, opts.key_file, f"transforms.{name}")
        self.tokenizer = Tokenizer(ring, opts.ip_keep_v4, opts.ip_keep_v6)
        fields = opts.fields if isinstance(opts.fields, dict) else dict.fromkeys(opts.fields, opts.mode)
        self.fields: dict[str, Mode] = fields
        self.raw = opts.raw
        self.min_raw_length = opts.min_raw_length
        self.substring_max_distinct = opts.substring_max_distinct

    def process(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Tokenize one batch; returns it (no derived batches)."""
        repl: list[Replacement] = []
        for path, mode in self.fields.items():
            got = field_values(batch, path)
            if got is None:
                continue
            arr, rows = got
            if arr.null_count == len(arr) or not (pa.types.is_string(arr.type) or pa.types.is_integer(arr.type)):
                continue
            indices, distinct = encode_distinct(arr)
            out = self.tokenizer.tokens(distinct, mode)
            batch = put_values(batch, path, out.take(indices))
            embedded = len(distinct) <= self.substring_max_distinct
            repl.extend([Replacement(indices, distinct, out, embedded)] if rows is None
                        else list_replacements(indices, rows, batch.num_rows, distinct, out, embedded))
        if self.raw and repl:
            batch = rewrite_raw_columns(batch, RAW_COLUMNS, repl, self.min_raw_length)
        return [batch]


def make_tokenize(name: str, options: dict[str, Any], data_dir: Any = None) -> TokenizeStage:
    """STAGES factory for ``type: tokenize``."""
    return TokenizeStage(name, options)
