"""Whether a data directory is encrypted, answered without importing :mod:`secpipe.security.crypto`.

The lake, the dead-letter store and compaction open a data directory's cipher at every start;
importing crypto (its key ring, AES helpers and their modules: ~4 ms) is needed only where the
directory is encrypted, which its settings file says. :func:`cipher_for` gives exactly what
``crypto.for_data_dir`` gives: None when the settings file does not exist (the first thing it
checks), else its answer (any other error from the check raised as it raises it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secpipe.security.crypto import Cipher


def settings_path(data_dir: Path | str) -> Path:
    """Where a data directory records that it is encrypted."""
    return Path(data_dir) / "state" / "encryption.json"


def cipher_for(data_dir: Path | str) -> Cipher | None:
    """``crypto.for_data_dir(data_dir)``; crypto is imported only when the settings file exists."""
    try:
        settings_path(data_dir).stat()
    except FileNotFoundError:
        return None
    from secpipe.security import crypto

    return crypto.for_data_dir(data_dir)
