"""Config of the ``syslog`` source (the UDP/TCP/TLS listener in :mod:`secpipe.sources.syslog`).

Example::

    sources:
      edge_syslog:
        type: syslog
        listen: "0.0.0.0:6514"
        protocol: tls            # udp | tcp | tls
        tls: {cert: /etc/secpipe/syslog.crt, key: /etc/secpipe/syslog.key, ca: /etc/secpipe/clients-ca.pem}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SyslogTls(BaseModel):
    """Server certificate and key (PEM); ``ca`` makes client certificates mandatory."""

    model_config = ConfigDict(extra="forbid")

    cert: str
    key: str
    ca: str | None = None


class SyslogSourceOptions(BaseModel):
    """A syslog listener; messages are batched per connection/sender into ``Service.accept``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["syslog"] = "syslog"
    listen: str = Field("127.0.0.1:5514", pattern=r"^(\[[0-9A-Fa-f:.]+\]|[^:\s]+):\d{1,5}$")
    protocol: Literal["udp", "tcp", "tls"] = "udp"
    tls: SyslogTls | None = None
    format: str = "syslog"
    max_message_bytes: int = Field(64 * 1024, gt=0, le=16 << 20)
    batch_max_messages: int = Field(1000, gt=0)
    batch_max_bytes: int = Field(1 << 20, gt=0)
    batch_max_seconds: float = Field(0.2, gt=0)

    @model_validator(mode="after")
    def _tls_needs_files(self) -> SyslogSourceOptions:
        if self.protocol == "tls" and self.tls is None:
            msg = "protocol tls needs tls: {cert: <PEM file>, key: <PEM file>}"
            raise ValueError(msg)
        return self
