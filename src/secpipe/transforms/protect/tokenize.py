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
  on those prefixes still match; host bits come from the HMAC. Not reversible; two hosts of
  one /24 may collide (256 slots). A value that is not an IP gets an ``hmac`` token.

Where: the configured leaves of the OCSF columns (nested structs are rebuilt, see
``_columns``), and — so the original never reaches the lake — inside ``raw_data`` and
``unmapped`` of the same event: every JSON string equal to the event's original value is
replaced by its token (vectorized split/compare/join at quotes, any cardinality), and for
fields with at most ``substring_max_distinct`` distinct values in the batch (user names,
account ids) also every occurrence inside longer strings such as ARNs and messages
(values of ``min_raw_length`` characters or more). A value embedded in other free text (an IP inside a URL or a message) is not
rewritten: redact or drop ``raw_data`` for such sources.

Cost: every distinct value of a batch is tokenized once (dictionary encode + take).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import socket
from functools import lru_cache
from typing import Any

import pyarrow as pa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from secpipe.errors import SecpipeError
from secpipe.security.keys import Keyring, load_keyring
from secpipe.transforms.protect._columns import Replacement, get_path, map_distinct, rewrite_raw, set_path
from secpipe.transforms.protect.options import Mode, TokenizeOptions

RAW_COLUMNS = ("raw_data", "unmapped")


class RevealError(SecpipeError):
    """A token that cannot be revealed (not reversible, unknown key, or tampered)."""


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _unb32(text: str) -> bytes:
    t = text.upper()
    return base64.b32decode(t + "=" * (-len(t) % 8))


class Tokenizer:
    """Token functions for one key ring (the active key makes new tokens)."""

    def __init__(self, ring: Keyring, ip_keep_v4: int = 24, ip_keep_v6: int = 48) -> None:
        self.ring = ring
        self.kid = ring.active_kid
        key = ring.active
        self._mac_key = hmac.new(key, b"secpipe-tokenize-hmac", hashlib.sha256).digest()
        self._siv = AESSIV(self._siv_key(key))
        self.ip_keep_v4 = ip_keep_v4
        self.ip_keep_v6 = ip_keep_v6
        self.hmac_token = lru_cache(maxsize=65536)(self._hmac_token)
        self.reversible_token = lru_cache(maxsize=65536)(self._reversible_token)
        self.ip_token = lru_cache(maxsize=65536)(self._ip_token)

    @staticmethod
    def _siv_key(key: bytes) -> bytes:
        return hashlib.sha512(b"secpipe-tokenize-siv\0" + key).digest()  # 64 bytes: AES-256-SIV

    def _digest(self, value: str) -> bytes:
        return hmac.digest(self._mac_key, value.encode(), "sha256")

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
            rnd = int.from_bytes(self._digest(f"ip4:{value}")[:4], "big") & mask
            return socket.inet_ntop(socket.AF_INET, ((n & ~mask & 0xFFFFFFFF) | rnd).to_bytes(4, "big"))
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
        rnd = int.from_bytes(self._digest(f"ip{ip.version}:{ip}"), "big") & mask
        return str(ipaddress.ip_address((int(ip) & ~mask & ((1 << bits) - 1)) | rnd))

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
        raw_cols = {c: batch.column(c) for c in RAW_COLUMNS if self.raw and batch.schema.get_field_index(c) >= 0}
        repl: list[Replacement] = []
        for path, mode in self.fields.items():
            arr = get_path(batch, path)
            if arr is None or arr.null_count == len(arr) or not (pa.types.is_string(arr.type) or pa.types.is_integer(arr.type)):
                continue
            fn = {"hmac": self.tokenizer.hmac_token, "reversible": self.tokenizer.reversible_token,
                  "ip": self.tokenizer.ip_token}[mode]
            mapped, indices, distinct, out = map_distinct(arr, fn)
            batch = set_path(batch, path, mapped)
            repl.append(Replacement(indices, distinct, out, len(distinct) <= self.substring_max_distinct))
        for c, col in raw_cols.items():
            batch = batch.set_column(batch.schema.get_field_index(c), batch.schema.field(c),
                                     rewrite_raw(col, repl, self.min_raw_length))
        return [batch]


def make_tokenize(name: str, options: dict[str, Any], data_dir: Any = None) -> TokenizeStage:
    """STAGES factory for ``type: tokenize``."""
    return TokenizeStage(name, options)
