"""State files on a real full disk (tmpfs): a refused change is refused everywhere.

Findings (each failed before its fix): revoking a token while the disk was full raised, but the
token was already gone from the running server's memory: a retry answered "no such token"
(so the admin believed it revoked) while ``tokens.json`` still held it, and the revoked token
was valid again after the next restart. Turning encryption on while the disk was full left
an empty ``state/encryption.json``: every later command on that data directory failed with
a JSON parse error (a traceback), even after space came back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secpipe.errors import AuthError
from secpipe.security import crypto
from secpipe.security.keys import generate_key
from secpipe.server.auth import TokenStore
from tests.faults_disk import fill, small_disk


def test_token_revoke_on_a_full_disk_is_not_half_done(tmp_path: Path) -> None:
    with small_disk(tmp_path, "1m") as mnt:
        data = mnt / "data"
        store = TokenStore(data)
        tokens = [store.create(f"t{i}", "ingest") for i in range(3)]
        tid = tokens[0].split("_", 2)[1]
        filler = fill(mnt)
        with pytest.raises(OSError):
            store.revoke(tid)  # the new tokens.json needs a page the disk does not have
        assert store.verify(tokens[0]).name == "t0"  # not revoked: the admin was told it failed
        assert not list((data / "state").glob("*.tmp")), "a refused save leaves no temp file taking space"
        filler.free()
        assert store.revoke(tid) is True  # the retry does it
        restarted = TokenStore(data)
        with pytest.raises(AuthError):
            restarted.verify(tokens[0])
        assert restarted.verify(tokens[1]).name == "t1"


def test_enabling_encryption_on_a_full_disk_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECPIPE_MASTER_KEY", generate_key())
    crypto.reset_cache()
    with small_disk(tmp_path, "1m") as mnt:
        data = mnt / "data"
        (data / "state").mkdir(parents=True)
        filler = fill(mnt)
        with pytest.raises(OSError):
            crypto.enable(data)
        assert crypto.for_data_dir(data) is None  # still plain, and readable: no half-written settings
        assert not list((data / "state").iterdir())
        filler.free()
        assert crypto.enable(data) is not None and crypto.for_data_dir(data) is not None
    crypto.reset_cache()
