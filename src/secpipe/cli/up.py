"""``secpipe up``: run the pipeline server in the foreground.

Without ``--config`` it runs the embedded default: HTTP ingest on 127.0.0.1:8088, the lake
under ``--data``. On first start it creates an ingest token and an admin token, prints them
once, and stores only their hashes. SIGINT/SIGTERM stop it cleanly: the server stops
accepting, in-flight requests finish, the lake is committed and the WAL closed.

Before it creates anything it checks that it can run: the data directory is not in use by
another ``secpipe up`` (an exclusive ``flock`` on ``DATA/.up.lock``, held while it runs and
released by the kernel when it exits, crash included) and the listen address is free; either
failure is an ``error:`` line saying what to do, exit status 2, and no tokens are created.

The server, its config models and uvicorn are imported when the command runs, not when it is
registered (``secpipe --help`` registers every command).
"""

from __future__ import annotations

import fcntl
import gc
import logging
import os
import signal
import socket
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from secpipe.cli._common import CliError, DataOrConfigOpt, data_for

if TYPE_CHECKING:
    import uvicorn


def _graceful_server(config: uvicorn.Config) -> uvicorn.Server:
    """A uvicorn server that stops gracefully on SIGINT/SIGTERM and then lets us commit.

    uvicorn re-raises the captured signal after its own shutdown, which would kill the process
    before the lake is committed; here the signal only asks it to stop.
    """
    import uvicorn

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            else:
                self.should_exit = True

    return _Server(config)


def split_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) -> (host, port)."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        msg = f"--listen {listen!r}: give HOST:PORT, e.g. 127.0.0.1:8088"
        raise typer.BadParameter(msg)
    return host.strip("[]"), int(port)


def claim_data_dir(data_dir: Path) -> int:
    """Take the exclusive run lock of ``data_dir``; return its fd (keep it open while running)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / ".up.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        msg = f"another `secpipe up` is running on {data_dir} — stop it first, or give this one another --data"
        raise CliError(msg) from None
    return fd


def check_listen(host: str, port: int) -> None:
    """Raise :class:`CliError` when ``host:port`` cannot be bound (in use, no such address)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, addr = infos[0]
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(addr)
    except OSError as exc:
        msg = f"cannot listen on {host}:{port}: {exc.strerror or exc} — stop what uses it or give --listen HOST:PORT"
        raise CliError(msg) from None


def up(
    config: Path | None = typer.Option(None, "--config", "-c", help="Pipeline config (YAML)."),
    data: Path | None = DataOrConfigOpt,
    listen: str | None = typer.Option(None, "--listen", help="HOST:PORT for HTTP (default 127.0.0.1:8088)."),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="PEM certificate: serve HTTPS (with --tls-key)."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="PEM private key of --tls-cert."),
    tls_client_ca: Path | None = typer.Option(None, "--tls-client-ca", help="CA of client certificates (mutual TLS)."),
) -> None:
    """Run the pipeline server in the foreground."""
    import uvicorn
    from rich.console import Console

    from secpipe.config.models import PipelineConfig, load_config
    from secpipe.runtime.service import Service
    from secpipe.runtime.topology import build_stages
    from secpipe.security.tls import TlsConfig, uvicorn_options
    from secpipe.server.app import create_app
    from secpipe.server.auth import TokenStore
    from secpipe.server.http import AppContext, Limits
    from secpipe.server.protocol import guarded_protocol
    from secpipe.sources import start_sources, stop_sources
    from secpipe.store.retention import RetentionScheduler
    from secpipe.transforms.protect.redact import install_log_redaction

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    cfg = load_config(config) if config else PipelineConfig()
    if tls_cert or tls_key:
        if not (tls_cert and tls_key):
            msg = "--tls-cert and --tls-key go together"
            raise typer.BadParameter(msg)
        cfg.server.tls = TlsConfig(cert=str(tls_cert), key=str(tls_key),
                                   client_ca=str(tls_client_ca) if tls_client_ca else None)
    data_dir = data_for(data, cfg)
    host, port = split_listen(listen or cfg.server.listen)
    tls_opts = uvicorn_options(cfg.server.tls)  # a missing or bad certificate fails before anything is created
    check_listen(host, port)
    lock_fd = claim_data_dir(data_dir)
    con = Console(stderr=True, soft_wrap=True)  # a line per message: never wrapped mid-address
    tokens = TokenStore(data_dir)
    if not tokens.list():
        ingest_tok = tokens.create("default-ingest", "ingest")
        admin_tok = tokens.create("default-admin", "admin")
        con.print("[bold]First start: tokens created. They are shown only now; secpipe keeps only their hashes.")
        typer.echo(f"ingest token: {ingest_tok}")
        typer.echo(f"admin token:  {admin_tok}")
    lake = cfg.lake_options()
    service = Service(data_dir, build_stages(cfg, data_dir), max_rows=lake.max_rows, max_seconds=lake.max_seconds,
                      compact_seconds=lake.compact_seconds, raw_data=lake.raw_data)
    if service.replayed:
        con.print(f"replayed {service.replayed} WAL record(s) from an unclean stop")
    limits = Limits(cfg.server.max_body_bytes, cfg.server.max_decompressed_bytes, cfg.server.max_json_depth,
                    cfg.server.max_string_bytes, cfg.server.rate_per_token, cfg.server.rate_burst)
    retention = RetentionScheduler(data_dir, cfg.security)
    ctx = AppContext(service=service, tokens=tokens, limits=limits, extras={"config": cfg})
    app = create_app(ctx)
    service.start()
    try:
        sources = start_sources(cfg, service)
    except BaseException:
        service.close()
        raise
    ctx.extras["sources"] = sources  # their counters are in GET /v1/metrics
    retention.start()
    scheme = "https" if tls_opts else "http"
    con.print(f"secpipe listening on {scheme}://{host}:{port} — data in {data_dir} (Ctrl-C to stop)")
    server = _graceful_server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                       timeout_keep_alive=int(cfg.server.request_timeout_seconds), loop="uvloop",
                       http=guarded_protocol(cfg.server.request_timeout_seconds), **tls_opts)
    )  # fmt: skip
    gc.collect()
    gc.freeze()  # what start-up built (config, rules, modules) lives as long as the process: no collection walks it again
    try:
        server.run()
    finally:
        retention.stop()
        stop_sources(sources)
        service.close()
        os.close(lock_fd)
        con.print("secpipe stopped; everything accepted is committed")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("up")(up)
