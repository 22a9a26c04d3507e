"""``secpipe ingest --kafka BROKERS --topic T``: read topics to their end into the lake, once.

The kafka source of `secpipe up` (:class:`~secpipe.sources.kafka.KafkaSource`) run in the
foreground against the lake directly (no WAL: a poll is durable once the lake has committed
it, and only then are its offsets committed). It ends when every partition assigned to it was
read to its end (``enable.partition.eof``), or when nothing came for ``--idle`` seconds. A
second run of the same ``--group`` reads only what came since; a run stopped half-way (or a
storing failure: exit 1) leaves the rest uncommitted for the next one, and events stored twice
collapse in the lake (same ``metadata.uid``).

Exit statuses and the ``--json`` summary are those of a file ingest (:mod:`secpipe.cli.ingest_run`),
the summary with ``messages`` and ``topics`` instead of ``files`` and ``bytes``; no partition
assigned within ``--idle`` seconds (the brokers do not answer, or no such topic) is exit 2.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any

from secpipe.cli._base import echo_err, may_end_fast
from secpipe.cli.ingest_run import (
    EXIT_DEAD_LETTER,
    EXIT_OK,
    EXIT_STORE_FAILED,
    EXIT_USAGE,
    _json_line,
    pipeline_setup,
)


class _LakeStore:
    """What :class:`KafkaSource` stores through: a poll submitted and committed to the lake."""

    def __init__(self, pipe: Any) -> None:
        self.pipe = pipe
        self.cpu = contextlib.nullcontext()

    def accept_many(self, records: list[Any], decoded: Any) -> None:
        self.pipe.submit(decoded)
        self.pipe.flush()


def run_kafka(brokers: str, topics: list[str], group: str, fmt: str = "auto", data: Path | None = None,
              as_json: bool = False, config: Path | None = None, dead_exit: int = EXIT_DEAD_LETTER,
              idle: float = 10.0) -> int:
    """Consume ``topics`` (``NAME`` or ``NAME=FORMAT``; ``fmt`` for the others) to their end into
    the lake and print a summary; returns the exit status."""
    from secpipe.runtime.pipeline import Pipeline
    from secpipe.sources.kafka import KafkaSource
    from secpipe.sources.kafka_options import KafkaSourceOptions

    data, stages, max_rows, raw_data = pipeline_setup(config, data)
    named = dict(t.split("=", 1) for t in topics if "=" in t)  # --topic NAME=FORMAT
    topics = [t.split("=", 1)[0] for t in topics]
    options = KafkaSourceOptions(brokers=brokers, topics=topics, group_id=group, format=fmt, topic_formats=named,
                                 client={"enable.partition.eof": True})  # fmt: skip
    pipe = Pipeline(data, stages, max_rows=max_rows, raw_data=raw_data)
    source = KafkaSource("ingest", options, _LakeStore(pipe), retry=False)
    t0 = time.perf_counter()
    failed: OSError | None = None
    source.open()
    try:
        last = time.monotonic()
        while not source.at_end():
            if source.poll_once():
                last = time.monotonic()
            elif time.monotonic() - last > idle:
                break
    except OSError as exc:  # disk full, I/O error: the poll's offsets were not committed
        failed = exc
    finally:
        source.close()
    if not source.assigned and failed is None:
        echo_err(f"error: no partition of {', '.join(topics)} was assigned from {brokers} within {idle:g} s "
                 "— check --kafka (the brokers) and --topic, or give a longer --idle")  # fmt: skip
        return EXIT_USAGE
    secs = time.perf_counter() - t0
    t = pipe.totals
    exit_code = EXIT_STORE_FAILED if failed is not None else dead_exit if t.dead_letter else EXIT_OK
    summary: dict[str, Any] = {
        "events": t.events, "stored": dict(sorted(t.stored.items())), "dead_letter": t.dead_letter,
        "duplicates": t.duplicates, "messages": source.messages, "topics": topics, "seconds": round(secs, 3),
        "exit_code": exit_code,
    }  # fmt: skip
    if failed is not None:
        summary["error"] = (f"cannot store into {data}: {failed.strerror or failed} — free space (or fix the I/O "
                            "error) and run the same command again: the offsets after the last stored poll are "
                            "committed, the rest is read again")  # fmt: skip
        echo_err(f"error: {summary['error']}")
    if not stages:
        may_end_fast()
    if as_json:
        sys.stdout.write(_json_line(summary))
    elif failed is None:
        echo_err(f"secpipe ingest --kafka: {source.messages:,} message(s) from {', '.join(topics)} · events "
                 f"{t.events:,} · stored {sum(t.stored.values()):,} {dict(sorted(t.stored.items()))} · duplicates "
                 f"{t.duplicates:,} · dead-lettered {t.dead_letter:,} · {secs:.2f}s")  # fmt: skip
    return exit_code
