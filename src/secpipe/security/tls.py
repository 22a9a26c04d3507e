"""TLS for every listener and every outbound connection.

Listeners (the HTTP server of `secpipe up`, the syslog TCP listener, ...) take a
:class:`TlsConfig`: ``cert`` and ``key`` (PEM), optionally ``client_ca`` for mutual TLS (a
client must then present a certificate signed by that CA; ``require_client_cert: false``
makes it optional). :func:`server_context` builds the ``ssl.SSLContext`` for raw sockets,
:func:`uvicorn_options` the same settings for uvicorn. TLS 1.2 is the minimum.

Outbound connections (alert channels, forwarders, Kafka) use :func:`client_context`: it
verifies the server certificate and host name by default, against ``ca_bundle`` when given
(else the system store), and can present a client certificate. Turning verification off
needs ``verify=False`` explicitly and is logged as a warning. httpx takes the context as
``httpx.Client(verify=client_context(...))``.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from secpipe.errors import ConfigError

log = logging.getLogger("secpipe.tls")


class TlsConfig(BaseModel):
    """``tls:`` of a listener."""

    model_config = ConfigDict(extra="forbid")

    cert: str
    key: str
    client_ca: str | None = None
    require_client_cert: bool = True


def _file(path: str | None, where: str, what: str) -> str | None:
    if path is None:
        return None
    if not Path(path).is_file():
        raise ConfigError(where, f"{what} not found: {path} — give a PEM file path")
    return path


def server_context(tls: TlsConfig, where: str = "tls") -> ssl.SSLContext:
    """An SSLContext for a listener (mutual TLS when ``client_ca`` is set)."""
    cert = _file(tls.cert, f"{where}.cert", "certificate")
    key = _file(tls.key, f"{where}.key", "private key")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)  # type: ignore[arg-type]
    except ssl.SSLError as exc:
        raise ConfigError(where, f"certificate and key do not load ({exc.reason}) — check they are PEM and match") from exc
    if tls.client_ca:
        ctx.load_verify_locations(_file(tls.client_ca, f"{where}.client_ca", "client CA"))
        ctx.verify_mode = ssl.CERT_REQUIRED if tls.require_client_cert else ssl.CERT_OPTIONAL
    return ctx


def uvicorn_options(tls: TlsConfig | None, where: str = "server.tls") -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config`` (empty without TLS)."""
    if tls is None:
        return {}
    server_context(tls, where)  # validate now, with a config-path error
    opts: dict[str, Any] = {"ssl_certfile": tls.cert, "ssl_keyfile": tls.key}
    if tls.client_ca:
        opts["ssl_ca_certs"] = tls.client_ca
        opts["ssl_cert_reqs"] = ssl.CERT_REQUIRED if tls.require_client_cert else ssl.CERT_OPTIONAL
    return opts


def client_context(ca_bundle: str | None = None, *, verify: bool = True, client_cert: str | None = None,
                   client_key: str | None = None, where: str = "tls") -> ssl.SSLContext:
    """An SSLContext for outbound connections: verifies by default (system store or ``ca_bundle``)."""
    if not verify:
        log.warning("%s: TLS verification is OFF — the peer is not authenticated", where)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    ctx = ssl.create_default_context(cafile=_file(ca_bundle, f"{where}.ca_bundle", "CA bundle"))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if client_cert:
        ctx.load_cert_chain(_file(client_cert, f"{where}.client_cert", "client certificate"),  # type: ignore[arg-type]
                            _file(client_key, f"{where}.client_key", "client key"))
    return ctx
