"""``secpipe keys``: generate keys, turn on encryption at rest, rotate master keys, reveal tokens.

``rotate`` re-wraps the data key of every sealed file (lake, dead letters, WAL, state) with
the active master key (the last one in the ring), atomically per file; run it after adding
the new key to ``$SECPIPE_MASTER_KEY``/the key file and before removing the old one. It
rewrites headers only, never the data, and is audited. Run it with the pipeline stopped
(the open WAL segment of a running server is being appended to).
``reveal`` turns a reversible token (``tokr:``) back into its value; it is audited.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from secpipe.cli._common import DataOpt
from secpipe.security import crypto
from secpipe.security.keys import generate_key, load_keyring

keys_app = typer.Typer(help="Keys: generate, encryption at rest (init/status/rotate), reveal tokens.",
                       no_args_is_help=True)


@keys_app.command("generate")
def generate() -> None:
    """Print a new random 256-bit key (base64) for SECPIPE_MASTER_KEY or SECPIPE_TOKENIZE_KEY."""
    typer.echo(generate_key())


@keys_app.command("init")
def init(
    data: Path = DataOpt,
    key_env: str = typer.Option(crypto.DEFAULT_KEY_ENV, "--key-env", help="Env variable holding the master key(s)."),
    key_file: str | None = typer.Option(None, "--key-file", help="File holding the master key ring."),
) -> None:
    """Encrypt everything this data directory writes from now on (AES-256-GCM envelopes)."""
    from secpipe.security import audit
    cipher = crypto.enable(data, key_env, key_file)
    audit.record(data, os.environ.get("USER", "cli"), "config.change", setting="encryption", enabled=True,
                 kid=cipher.ring.active_kid)
    typer.echo(f"encryption at rest enabled for {data} (active master key {cipher.ring.active_kid})")


@keys_app.command("status")
def status(data: Path = DataOpt) -> None:
    """Show whether the data directory is encrypted and which master keys its files use."""
    cipher = crypto.for_data_dir(data)
    counts: dict[str, int] = {}
    for p in crypto.sealed_files(data):
        with open(p, "rb") as fh:
            head = fh.read(1024)
        kid = crypto.parse_header(head, str(p)).kid if crypto.is_sealed(head) else "(plain)"
        counts[kid] = counts.get(kid, 0) + 1
    typer.echo(f"encryption: {'on, active key ' + cipher.ring.active_kid if cipher else 'off'}")
    for kid, n in sorted(counts.items()):
        typer.echo(f"  {kid}: {n} file(s)")


@keys_app.command("rotate")
def rotate(data: Path = DataOpt) -> None:
    """Re-wrap every file's data key with the active master key."""
    from secpipe.security import audit
    from secpipe.store._durable import write_file_atomic
    cipher = crypto.for_data_dir(data)
    if cipher is None:
        typer.echo("error: encryption is not enabled for this data directory — run `secpipe keys init`", err=True)
        raise typer.Exit(2)
    done = skipped = 0
    for p in list(crypto.sealed_files(data)):
        blob = p.read_bytes()
        if not crypto.is_sealed(blob):
            continue
        new = cipher.rewrap(blob, str(p))
        if new is None:
            skipped += 1
            continue
        write_file_atomic(p, new, p.with_name(f".tmp-{p.name}"))
        done += 1
    audit.record(data, os.environ.get("USER", "cli"), "keys.rotate", rewrapped=done, already_current=skipped,
                 kid=cipher.ring.active_kid)
    typer.echo(f"re-wrapped {done} file(s) to key {cipher.ring.active_kid}; {skipped} already current")


@keys_app.command("reveal")
def reveal_cmd(
    token: str = typer.Argument(..., help="A reversible token, tokr:<kid>:..."),
    data: Path = DataOpt,
    key_env: str = typer.Option("SECPIPE_TOKENIZE_KEY", "--key-env", help="Env variable holding tokenization keys."),
    key_file: str | None = typer.Option(None, "--key-file", help="File holding tokenization keys."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit log)."),
) -> None:
    """Reveal a reversible token (needs the tokenization key; audited)."""
    from secpipe.security import audit
    from secpipe.transforms.protect.tokenize import reveal

    ring = load_keyring(key_env, key_file, "tokenize")
    value = reveal(token, ring)
    audit.record(data, os.environ.get("USER", "cli"), "reveal", subject=token,
                 reason=reason, via="cli")
    typer.echo(value)


def register(app: typer.Typer) -> None:
    """Add the command group to the app."""
    app.add_typer(keys_app, name="keys")
