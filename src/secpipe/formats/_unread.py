"""Scanner and SBOM outputs secpipe does not read, named in the dead letter of input no format claims.

``secpipe ingest --format auto`` dead-letters what no format recognizes as "unrecognized input".
For outputs no format reads (AWS Security Finding Format findings, which Trivy's asff template
writes) and SBOM encodings the sbom format does not read (SPDX tag-value, SPDX 3 JSON-LD), the
reason names what the file is and, where the tool writes one, the output to ingest instead
(``trivy --format json``, SPDX JSON). Each pattern is asked of the first 64 KiB only after every
format declined it, so a wrong name costs no event; the patterns are the tools' own leading keys,
so each names only its tool's files.
"""

from __future__ import annotations

import re

#: (what the file is, what to ingest instead, a pattern of its head)
_KNOWN: tuple[tuple[str, str, re.Pattern[bytes]], ...] = (
    ("an SPDX tag-value document", "use SPDX JSON (the sbom format reads it; an SPDX 2 document holds no security event)",
     re.compile(rb'^\s*(?:#[^\n]*\n\s*)*SPDXVersion:\s*SPDX-')),
    ("an SPDX 3 JSON-LD document", "it has no format here (the sbom format reads SPDX 2.x JSON)",
     re.compile(rb'"@context"\s*:\s*"https://spdx\.org/rdf/3\.')),
    ("AWS Security Finding Format (ASFF) findings", "for Trivy, run `trivy --format json` (the trivy format reads it)",
     re.compile(rb'"SchemaVersion"\s*:\s*"2018-10-08"')),
)  # fmt: skip


def unread(head: bytes) -> str | None:
    """The dead-letter reason of a known output no format reads (None for anything else)."""
    for what, instead, pattern in _KNOWN:
        if pattern.search(head):
            return f"unrecognized input: {what} is not a format secpipe reads: {instead}"
    return None


__all__ = ["unread"]
