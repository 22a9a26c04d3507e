"""Error hierarchy: one root, context-carrying subclasses, transient vs terminal.

Transient errors may succeed on retry (a sink that is down); terminal errors never will
(a record that cannot be parsed) and go to the dead-letter store or stop the command.
"""

from __future__ import annotations


class SecpipeError(Exception):
    """Root of every error secpipe raises on purpose."""


class TransientError(SecpipeError):
    """Retrying later may succeed (network, busy resource)."""


class TerminalError(SecpipeError):
    """Retrying will not help: dead-letter the input or stop."""


class ConfigError(TerminalError):
    """A configuration problem; ``path`` is the dotted key path, the message says the fix."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class DecodeError(TerminalError):
    """A record or body that cannot be decoded; carries the source and offset."""

    def __init__(self, reason: str, *, source: str = "", offset: int = 0) -> None:
        self.reason = reason
        self.source = source
        self.offset = offset
        super().__init__(f"{source}@{offset}: {reason}" if source else reason)


class UnknownFormatError(TerminalError):
    """No decoder is registered under that name, or auto-detection found none."""


class LimitExceeded(TerminalError):
    """An input exceeded a configured limit (body size, decompressed size, depth)."""

    def __init__(self, what: str, limit: int) -> None:
        self.what = what
        self.limit = limit
        super().__init__(f"{what} exceeds the limit of {limit}")


class AuthError(SecpipeError):
    """Missing or invalid credentials."""


class PermissionDenied(SecpipeError):
    """Authenticated, but the role does not allow the action."""
