"""Email channel: SMTP with STARTTLS, multipart/alternative (plain text + HTML).

Options: ``host``, ``port`` (587), ``starttls`` (true; the server certificate is verified
against the system CAs or ``tls.ca_bundle``), ``ssl`` (implicit TLS, port 465),
``username`` with ``password_env`` / ``password_file``, ``from``, ``to`` (list),
``subject_prefix``. Every value put in the HTML part is HTML-escaped. SMTP 4xx answers and
connection failures are transient (retried); 5xx answers are terminal (dead-lettered).
"""

from __future__ import annotations

import html
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from secpipe.errors import ConfigError
from secpipe.respond._render import evidence, facts, summary
from secpipe.respond.base import DeliveryError, DeliveryRejected, Notification, resolve_secret, scrub


def message(n: Notification, sender: str, to: list[str], prefix: str = "[secpipe]") -> EmailMessage:
    """The email for a notification."""
    link, query = evidence(n)
    msg = EmailMessage()
    msg["Subject"] = f"{prefix} {n.title()}".strip()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    lines = [n.title(), ""] + [f"{k}: {v}" for k, v in facts(n)] + [""] + summary(n, 50)
    if query:
        lines += ["", f"Evidence query: {query}"]
    if link:
        lines += [f"Evidence: {link}"]
    msg.set_content("\n".join(lines) + "\n")
    e = html.escape
    rows = "".join(f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts(n))
    items = "".join(f"<li>{e(s)}</li>" for s in summary(n, 50))
    extra = f"<p>Evidence query: <code>{e(query)}</code></p>" if query else ""
    if link:
        extra += f"<p><a href=\"{e(link, quote=True)}\">Open evidence</a></p>"
    msg.add_alternative(f"<html><body><h2>{e(n.title())}</h2><table>{rows}</table><ul>{items}</ul>{extra}</body></html>",
                        subtype="html")
    return msg


class EmailChannel:
    """Sends notifications by SMTP."""

    def __init__(self, receiver: str, options: dict[str, Any], tls: dict[str, Any] | None = None) -> None:
        self.name = f"{receiver}/email"
        self.path = f"receivers.{receiver}.email"
        self.options = options
        for key in ("host", "from", "to"):
            if not options.get(key):
                msg = f"{self.path}.{key}"
                raise ConfigError(msg, "required — give the SMTP host, sender and recipient list")
        self.tls = tls or {}
        if options.get("username"):
            resolve_secret(options, "password", self.path)

    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.tls["ca_bundle"]) if self.tls.get("ca_bundle") else None)
        if self.tls.get("verify") is False:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def send(self, notification: Notification) -> None:
        """Connect, STARTTLS, log in, send; classify failures."""
        o = self.options
        to = list(o["to"]) if isinstance(o["to"], list) else [str(o["to"])]
        msg = message(notification, str(o["from"]), to, str(o.get("subject_prefix", "[secpipe]")))
        timeout = float(o.get("timeout_seconds", 10))
        password = resolve_secret(o, "password", self.path) if o.get("username") else None
        try:
            if o.get("ssl"):
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(o["host"], int(o.get("port", 465)), timeout=timeout,
                                                      context=self._context())
            else:
                smtp = smtplib.SMTP(o["host"], int(o.get("port", 587)), timeout=timeout)
            with smtp:
                if not o.get("ssl") and o.get("starttls", True):
                    smtp.starttls(context=self._context())
                if password is not None:
                    smtp.login(str(o["username"]), password)
                smtp.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            text = f"{self.name}: SMTP {exc.smtp_code} {scrub(str(exc.smtp_error), password)}"
            if 400 <= exc.smtp_code < 500:
                raise DeliveryError(text) from None
            raise DeliveryRejected(text + " — check the sender, recipients and credentials") from None
        except smtplib.SMTPRecipientsRefused as exc:
            msg_0 = f"{self.name}: every recipient refused: {sorted(exc.recipients)}"
            raise DeliveryRejected(msg_0) from None
        except (smtplib.SMTPException, OSError) as exc:
            msg_0 = f"{self.name}: {type(exc).__name__}: {scrub(str(exc), password)}"
            raise DeliveryError(msg_0) from None

    def close(self) -> None:
        """Nothing held between sends (one SMTP session per message)."""
