"""A node's container log files: Kubernetes' CRI logging format.

The container runtime (containerd, CRI-O) writes each line a container prints to
``/var/log/containers/<pod>_<namespace>_<container>-<id>.log`` behind a header of its own, ``<RFC 3339
time> <stdout|stderr> <F|P> `` (kubelet ``pkg/kubelet/kuberuntime/logs``' ``parseCRILog``: the tag
``F`` a full line, ``P`` a part of a longer one). A node's log collector picks the pods' output up
there: Falco's alerts, OPA's decision logs, Gatekeeper's lines. The header is the runtime's
transport metadata (the records carry their own time), so formats blank it out (spaces: every record
keeps its offset in the file) before splitting the records.
"""

from __future__ import annotations

import re

_HEAD = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d) (?:stdout|stderr) [FP] ",
                   re.MULTILINE)


def blank_headers(data: bytes) -> bytes:
    """``data`` with the CRI header of each line replaced by spaces; ``data`` itself when its first
    lines hold none (one search of the head: a document of another shape pays a byte test)."""
    first = data[:4096].lstrip(b" \t\r\n\xef\xbb\xbf")[:1]  # (the head only: no copy of a large document)
    if not first.isdigit() or _HEAD.search(data, 0, 4096) is None:
        return data
    return _HEAD.sub(lambda m: b" " * (m.end() - m.start()), data)


__all__ = ["blank_headers"]
