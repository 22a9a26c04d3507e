"""Sniffs that :func:`secpipe.formats.detect` asks without importing their format's module.

A format whose sniff lives here (``formats._SNIFFERS``) is imported only when its score wins:
the sbom format, the only one that can outscore a CloudTrail head, is asked of every file
``secpipe ingest --format auto`` reads, and importing its module (decoders, the component and
findings helpers) cost ~7.5 ms of every such start. The format class's ``sniff`` calls the same
function, so both give the same score for every head.
"""

from __future__ import annotations

import re

from secpipe.formats import _fast

#: every SBOM header pattern holds one of these
SBOM_NEEDLES = (b'"CycloneDX"', b'"SPDX', b"context.json", b"openvex.dev/ns")
#: the root element of a CycloneDX XML document (its namespace names the spec version)
_CDX_XML = re.compile(rb'<bom\b[^>]*\bxmlns\s*=\s*"http://cyclonedx\.org/schema/bom/')
#: an SPDX 3 JSON-LD document's @context (alone or first of a list): an SPDX 3.x context URL
#: (https://spdx.org/rdf/3.0.1/spdx-context.jsonld; spdx.github.io/spdx-spec/v3.0/..., and the
#: serialization prototype's spdx-3.0-context.json-ld in the SPDX project's own early examples)
SPDX3_CONTEXT = re.compile(rb'"@context"\s*:\s*\[?\s*"https?://[^"]*spdx[^"]*3\.\d[^"]*context\.json-?ld"')
#: an OpenVEX document's @context (alone or first of a list)
OPENVEX_CONTEXT = re.compile(rb'"@context"\s*:\s*\[?\s*"https?://openvex\.dev/ns')


def sbom(head: bytes) -> int:
    """Recognize the CycloneDX or SPDX 2.x header keys (either may sit far down in a key-sorted file),
    a CycloneDX XML document's root element, or an SPDX 3 JSON-LD or OpenVEX document's @context."""
    first = head.lstrip()[:1]
    if first != b"{":
        return 92 if first == b"<" and _CDX_XML.search(head[:4096]) else 0
    # Plain substring scans first (a regex search of a 64 KiB head costs several times more):
    # every pattern below holds '"CycloneDX"', '"SPDX' or an SPDX 3 or OpenVEX context URL, so most heads stop here, in one
    # native SIMD search a needle (~4 us a 64 KiB CloudTrail head, against ~35 us for each `in`:
    # every file `secpipe ingest --format auto` reads is asked)
    if not _fast.contains_any(head, SBOM_NEEDLES):
        return 0
    if b'"CycloneDX"' in head and re.search(rb'"bomFormat"\s*:\s*"CycloneDX"', head):
        if b'"aquasecurity.github.io/' in head:  # a trivy-operator SbomReport: the BOM is its report's (trivy)
            return 0
        return 97 if b'"specVersion"' in head else 92
    if b'"@context"' in head[:4096]:  # JSON-LD: its @context first (as the sbom format's decode looks for it)
        if b"context.json" in head and SPDX3_CONTEXT.search(head):
            return 95  # SPDX 3 JSON-LD
        if b"openvex.dev/ns" in head and OPENVEX_CONTEXT.search(head):
            return 95  # OpenVEX
    if b'"SPDX' not in head:
        return 0
    spdx = re.search(rb'"spdxVersion"\s*:\s*"SPDX-2\.', head) is not None
    doc = re.search(rb'"SPDXID"\s*:\s*"SPDXRef-DOCUMENT"', head) is not None
    if spdx and b'"SPDXID"' in head:
        return 97
    return 92 if spdx else 90 if doc else 0
