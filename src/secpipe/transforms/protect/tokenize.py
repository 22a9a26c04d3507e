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
``_columns``), and — so the original never reaches the lake — inside ``raw_data`` and
``unmapped`` of the same event: every JSON string equal to the event's original value is
replaced by its token, and for fields with at most ``substring_max_distinct`` distinct
values in the batch (user names, account ids) also every occurrence inside longer strings
such as ARNs and messages (values of ``min_raw_length`` characters or more); see
``_columns.rewrite_raw``. A value embedded in other free text (an IP inside a URL or a
message) is not rewritten: redact or drop ``raw_data`` for such sources.

Cost: each distinct value of a batch is tokenized once (dictionary encode + take); the
HMAC is the only per-value Python work (base64url, IPv4 bit arithmetic and formatting are
vectorized with numpy / pyarrow), and the raw text is rewritten in one vectorized pass.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import socket
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from secpipe.errors import SecpipeError
from secpipe.security.keys import Keyring, load_keyring
from secpipe.transforms.protect._columns import (
    Replacement,
    encode_distinct,
    get_path,
    rewrite_raw_columns,
    set_path,
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


_ALL6 = (1 << 128) - 1
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


def _unsplit(n: int, rows_a: pa.Array, a: pa.Array, rows_b: pa.Array, b: pa.Array) -> pa.Array:
    """Interleave ``a`` (at positions ``rows_a``) and ``b`` (at ``rows_b``) back into one array of ``n``."""
    inverse = np.empty(n, dtype=np.int64)
    inverse[np.concatenate([rows_a.to_numpy(), rows_b.to_numpy()]).astype(np.int64)] = np.arange(n, dtype=np.int64)
    return pa.concat_arrays([a, b]).take(pa.array(inverse))


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
        """:meth:`_ip6_fast` of each value, with one AES call for all of them."""
        host_bits = 128 - self.ip_keep_v6
        out: list[str | None] = [None] * len(values)
        if host_bits == 0:
            return out
        where: list[int] = []
        packed: list[bytes] = []
        for i, v in enumerate(values):
            try:
                p = socket.inet_pton(socket.AF_INET6, v)
            except OSError:
                continue
            if "." not in socket.inet_ntop(socket.AF_INET6, p):  # RFC 5952, as ipaddress prints it unless dotted
                where.append(i)
                packed.append(p)
        mask = (1 << host_bits) - 1
        prf = self._prf6.blocks(b"".join(packed))
        for j, (i, p) in enumerate(zip(where, packed, strict=True)):
            rnd = int.from_bytes(prf[16 * j : 16 * j + 16], "big") & mask
            text = socket.inet_ntop(socket.AF_INET6, ((int.from_bytes(p, "big") & ~mask & _ALL6) | rnd).to_bytes(16, "big"))
            out[i] = None if "." in text else text
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
        is4 = pc.fill_null(pc.match_substring_regex(values, _DOTTED_V4), False)
        mask = (1 << (32 - self.ip_keep_v4)) - 1
        if not mask or not pc.any(is4).as_py():
            return pa.array([self.ip_token(v) for v in values.to_pylist()], pa.string())
        rows4 = pc.indices_nonzero(is4)
        rest = pc.indices_nonzero(pc.invert(is4))
        v4 = values.take(rows4)
        octets = pc.split_pattern(v4, ".").flatten().cast(pa.uint32()).to_numpy().reshape(-1, 4)
        addr = (octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3]
        blocks = np.zeros((len(octets), 16), np.uint8)
        blocks[:, :4] = octets
        prf = np.frombuffer(self._prf4.blocks(blocks.tobytes()), np.uint8).reshape(-1, 16)
        rnd = np.ascontiguousarray(prf[:, :4]).view(">u4").ravel().astype(np.uint32)
        new = (addr & np.uint32(~mask & 0xFFFFFFFF)) | (rnd & np.uint32(mask))
        parts = [pa.array((new >> np.uint32(s)) & np.uint32(0xFF)).cast(pa.string()) for s in (24, 16, 8, 0)]
        t4 = pc.binary_join_element_wise(*parts, ".")
        others = values.take(rest).to_pylist()
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
            arr = get_path(batch, path)
            if arr is None or arr.null_count == len(arr) or not (pa.types.is_string(arr.type) or pa.types.is_integer(arr.type)):
                continue
            indices, distinct = encode_distinct(arr)
            out = self.tokenizer.tokens(distinct, mode)
            batch = set_path(batch, path, out.take(indices))
            repl.append(Replacement(indices, distinct, out, len(distinct) <= self.substring_max_distinct))
        if self.raw and repl:
            batch = rewrite_raw_columns(batch, RAW_COLUMNS, repl, self.min_raw_length)
        return [batch]


def make_tokenize(name: str, options: dict[str, Any], data_dir: Any = None) -> TokenizeStage:
    """STAGES factory for ``type: tokenize``."""
    return TokenizeStage(name, options)
