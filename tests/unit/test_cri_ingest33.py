"""``--format auto`` reads a node's container log file (Kubernetes' CRI logging format) as the lines the pod
wrote (:mod:`secpipe.formats._cri`, :func:`secpipe.sources.files.read_documents`).

The records are real Kubernetes audit events (tests/cases/holdout/elastic-k8s-audit-mixed.log, elastic/integrations'
test data); the CRI headers are written as kubelet's ``parseCRILog`` reads them (``<RFC 3339 time> <stream> <F|P>
<content>``), a long line cut into ``P`` records as containerd cuts one over its buffer.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from secpipe.formats import _cri
from secpipe.sources.files import read_documents

AUDIT = Path(__file__).parents[1] / "cases" / "holdout" / "elastic-k8s-audit-mixed.log"


def _cri_file(lines: list[bytes], cut: int | None = None) -> bytes:
    out = []
    for i, line in enumerate(lines):
        stamp = b"2024-05-07T18:54:%02d.341081180Z stdout " % i
        if cut is not None and i == 1:  # the second line cut into three records
            out += [stamp + b"P " + line[:cut], stamp + b"P " + line[cut : 2 * cut], stamp + b"F " + line[2 * cut :]]
        else:
            out.append(stamp + b"F " + line)
    return b"\n".join(out) + b"\n"


def _rows(path: Path, chunk: int = 8 << 20) -> tuple[str, list[dict], int]:
    rows, dead, name = [], 0, ""
    for doc in read_documents(str(path), "auto", chunk=chunk):
        assert doc.fmt is not None, doc.dead
        name = doc.fmt.name
        dec = doc.fmt.decode(doc.data, doc.source)
        dead += len(dec.dead)
        rows += [r for b in dec.batches for r in b.to_pylist()]
    return name, rows, dead


@pytest.mark.parametrize("chunk", [8 << 20, 700])
def test_container_log_of_audit_events_reads_as_the_events(tmp_path: Path, chunk: int) -> None:
    lines = AUDIT.read_bytes().splitlines()[:3]
    plain, wrapped = tmp_path / "audit.log", tmp_path / "kube-apiserver_kube-system_audit-0123.log"
    plain.write_bytes(b"\n".join(lines) + b"\n")
    wrapped.write_bytes(_cri_file(lines, cut=200))
    name, rows, dead = _rows(wrapped, chunk)
    want_name, want, _ = _rows(plain)
    assert (name, dead, len(rows)) == (want_name, 0, 3) == ("k8s_audit", 0, 3)
    assert [r["metadata"]["uid"] for r in rows] == [r["metadata"]["uid"] for r in want]
    assert [r["api"]["operation"] for r in rows] == [r["api"]["operation"] for r in want]


def test_container_log_no_format_reads_stays_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(_cri_file([b"hello from the app", b"still running"]))
    docs = list(read_documents(str(path), "auto"))
    assert [d.fmt for d in docs] == [None]  # unrecognized, dead-lettered as the file it is (as before)
    assert docs[0].dead is not None and docs[0].dead.raw.startswith(b"2024-05-07T18:54:00.341081180Z stdout F hello")


def test_unwrap_joins_partial_records() -> None:
    data = _cri_file([b"a", b"0123456789", b"b"], cut=4)
    assert _cri.unwrap(data) == b"a\n0123456789\nb\n"
    assert _cri.is_cri(data) and not _cri.is_cri(b"2024-05-07 plain text\n")


def test_tailed_container_log_is_read_as_the_pods_lines(tmp_path: Path) -> None:
    # the file source following /var/log/containers/*.log: chunks as the file grows, a line cut into P records
    # across two polls waits for its last record
    from secpipe.runtime.service import Service
    from secpipe.sources.tail import FileSource
    from secpipe.store.query import run

    lines = [AUDIT.read_bytes().splitlines()[i] for i in (0, 1, 3)]  # (lines 1 and 2 of the file are one event)
    body = _cri_file(lines, cut=200)
    log = tmp_path / "kube-apiserver_kube-system_audit-0123.log"
    first = body.index(b"\n", body.index(b" P ")) + 1  # up to the first P record of line 2, included
    log.write_bytes(body[:first])
    svc = Service(tmp_path / "data")
    try:
        src = FileSource("t", [str(log)], "auto", svc, poll_seconds=0.05)
        src.poll()
        with open(log, "ab") as fh:
            fh.write(body[first:])
        src.poll()
        src.stop()
        svc.flush()
        _cols, rows = run(svc.data_dir, "SELECT metadata.uid FROM api_activity")
    finally:
        svc.close()
    assert len(rows) == 3 and svc.pipeline.totals.events == 3
    assert not (tmp_path / "data" / "dlq").exists() or not any((tmp_path / "data" / "dlq").rglob("*.parquet"))


def test_a_container_log_is_detected_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(Session 34: the format found on the unwrapped head is the one used; it was looked for a second time on
    the same head. A head no format reads unwrapped is looked at as it is, once more: other bytes.)"""
    from secpipe import formats

    seen: list[bytes] = []
    detect = formats.detect

    def counted(head: bytes) -> formats.Format | None:
        seen.append(head)
        return detect(head)

    monkeypatch.setattr(formats, "detect", counted)
    lines = AUDIT.read_bytes().splitlines()[:3]
    wrapped = tmp_path / "kube-apiserver_kube-system_audit-0123.log"
    wrapped.write_bytes(_cri_file(lines, cut=200))
    name, rows, dead = _rows(wrapped)
    assert (name, dead, len(rows)) == ("k8s_audit", 0, 3)
    assert seen == [b"\n".join(lines) + b"\n"]
    seen.clear()
    app = tmp_path / "app.log"
    app.write_bytes(_cri_file([b"hello from the app"]))
    assert [d.fmt for d in read_documents(str(app), "auto")] == [None]
    assert seen == [b"hello from the app\n", app.read_bytes()]


def test_a_tailed_container_log_is_detected_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(Session 34: the tailing file source looked for the format of the head as it is before the unwrapped one's.)"""
    from secpipe import formats
    from secpipe.sources.tail import FileSource

    seen: list[bytes] = []
    detect = formats.detect

    def counted(head: bytes, **kw: bool) -> formats.Format | None:
        seen.append(head)
        return detect(head, **kw)

    monkeypatch.setattr(formats, "detect", counted)
    lines = AUDIT.read_bytes().splitlines()[:3]
    log = tmp_path / "kube-apiserver_kube-system_audit-0123.log"
    log.write_bytes(_cri_file(lines))
    src = FileSource("t", [str(log)], "auto", SimpleNamespace(data_dir=tmp_path), poll_seconds=0.05)
    rec = SimpleNamespace(format=None)
    assert src._format_for(log.read_bytes(), rec) == "cri:k8s_audit"  # type: ignore[arg-type]
    assert seen == [b"\n".join(lines) + b"\n"]
