"""Kafka source: topics consumed in a consumer group into the same pipeline as every source.

Config: ``sources: {x: {type: kafka, brokers: ..., topics: [...], group_id: ..., format:
auto|<name>, topic_formats: {topic: name}, client: {<librdkafka property>: ...}}}``
(:mod:`secpipe.sources.kafka_options`; ``client`` passes SASL/TLS settings to librdkafka as
they are). Client: confluent-kafka (librdkafka).

Guarantees (at least once, nothing lost):
- One thread polls up to ``batch_max_messages`` messages (waiting at most
  ``batch_max_seconds``), decodes them in one pass (:func:`~secpipe.sources.kafka_batch.decode_messages`)
  and hands them to :meth:`Service.accept_many`, which returns once the poll's WAL record is
  written and fsynced. Only then are the offsets after them committed, synchronously. Auto-commit is off.
- A restart (or a rebalance that gives the partition to another member) resumes at the
  committed offsets: after a clean stop nothing is read twice. After a crash between the WAL
  fsync and the commit the last poll is delivered again; its events have the same
  ``metadata.uid`` (a hash of the record), so the lake keeps one copy.
- Storing that fails (disk full: :class:`OSError`, :class:`TransientError`) commits nothing
  and is retried on the same messages until it succeeds or the source stops; a stop then
  leaves them uncommitted, to be read again on the next start.
- A message that cannot be read is dead-lettered (reason, ``kafka:<topic>/<partition>@<offset>``,
  the Kafka offset, its bytes) and committed with the others: the partition goes on. Should
  decoding a poll raise (a bug), its messages are dead-lettered with the error, not retried forever.
- Syslog lines repeated verbatim in other messages stay distinct events (the source's line
  stream, as a tailed file's: its counts are in memory, and the poll's WAL record keeps them).
- Each event keeps its message in ``metadata.loggers`` (topic, ``<topic>-<partition>@<offset>``,
  timestamp) and its key and headers in ``metadata.tags`` (``kafka.key``, ``kafka.header.<name>``).

``stop()`` finishes the batch in hand, commits it, and closes the consumer (leaving the group).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from secpipe import formats
from secpipe.errors import SecpipeError, TransientError
from secpipe.formats.base import DeadLetter, Decoded
from secpipe.sources.files import FileRepeats
from secpipe.sources.kafka_batch import Message, decode_messages

log = logging.getLogger("secpipe.sources.kafka")


class KafkaSourceError(SecpipeError):
    """The Kafka source cannot run (no client library, a fatal client error)."""


def _client() -> Any:
    try:
        import confluent_kafka
    except ImportError as exc:
        msg = "the kafka source needs confluent-kafka — pip install confluent-kafka"
        raise KafkaSourceError(msg) from exc
    return confluent_kafka


def consumer_config(options: Any) -> dict[str, Any]:
    """librdkafka properties of a source's options: ``client`` plus what the source owns; the
    client's log lines (a broker down, a refused login: retried by the client) go to this
    module's logger, not straight to stderr."""
    return {**options.client, "bootstrap.servers": options.brokers, "group.id": options.group_id,
            "enable.auto.commit": False, "auto.offset.reset": options.start, "logger": log}  # fmt: skip


class KafkaSource:
    """One configured Kafka source (see module docstring). ``consumer``: a factory of the
    consumer (confluent_kafka.Consumer by default; tests pass another)."""

    def __init__(self, name: str, options: Any, service: Any, *, consumer: Callable[[dict[str, Any]], Any] | None = None,
                 retry: bool = True) -> None:
        for fmt in {options.format, *options.topic_formats.values()} - {"auto"}:
            formats.get(fmt)  # an unknown format fails at start, with the list of known ones
        self.name = name
        self.options = options
        self.service = service
        self._make = consumer or _client().Consumer
        self._consumer: Any = None
        self._repeats = FileRepeats(1 << 14)  # syslog lines repeated verbatim: distinct events
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.retry = retry  # False: a refused store raises at once (a one-shot `secpipe ingest --kafka`)
        self.messages = 0  # messages stored (or dead-lettered) and committed
        self.commit_failures = 0  # offset commits refused (a rebalance: read again, stored once)
        self.drained: set[tuple[str, int]] = set()  # partitions at their end (client property enable.partition.eof)
        self.assigned = False  # whether :meth:`at_end` ever saw a partition assigned
        self.error: BaseException | None = None  # what ended the polling thread, if anything did

    def format_of(self, topic: str) -> str:
        """The format of a topic's messages (``auto``: detected per message)."""
        return self.options.topic_formats.get(topic, self.options.format)

    def open(self) -> None:
        """Create the consumer and subscribe (the group is joined by the first poll)."""
        self._consumer = self._make(consumer_config(self.options))
        self._consumer.subscribe(list(self.options.topics))

    def close(self) -> None:
        """Leave the group (what is not committed is read again by the partition's next owner)."""
        self._consumer.close()

    def at_end(self) -> bool:
        """Whether partitions are assigned and every one was read to its end (needs
        ``enable.partition.eof``)."""
        assigned = {(tp.topic, tp.partition) for tp in self._consumer.assignment()}
        self.assigned = self.assigned or bool(assigned)
        return bool(assigned) and assigned <= self.drained

    def start(self) -> None:
        """Join the group and poll in a background thread."""
        self.open()
        self._thread = threading.Thread(target=self._run, name=f"secpipe-kafka-{self.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.poll_once()
        except BaseException as exc:
            self.error = exc
            log.exception("kafka source %s stopped", self.name)
        finally:
            self.close()

    @property
    def running(self) -> bool:
        """Whether the polling thread runs (False once it stopped on a fatal error, or stopped)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Finish and commit the batch in hand, leave the group."""
        self._stop.set()
        if self._thread:
            self._thread.join()

    def poll_once(self) -> int:
        """Poll one batch, make it durable, commit its offsets; returns the messages handled."""
        got = self._consumer.consume(num_messages=self.options.batch_max_messages,
                                     timeout=self.options.batch_max_seconds)  # fmt: skip
        batch: list[Message] = []
        for m in got:  # in order: a partition's end comes after its last message
            if not self._client_error(m):
                self.drained.discard((m.topic(), m.partition()))
                batch.append(Message(m.topic(), m.partition(), m.offset(), m.value(), m.key(), _timestamp(m), m.headers()))
        if not batch:
            return 0
        self.store(batch)
        self._commit(batch)
        self.messages += len(batch)
        return len(batch)

    def store(self, batch: Sequence[Message]) -> None:
        """Decode and make ``batch`` durable, retrying a refused store until it succeeds or the
        source stops (then raises: nothing is committed)."""
        with self.service.cpu:
            try:
                decoded, wal = decode_messages(batch, self.format_of, self._repeats)
            except Exception as exc:  # a decoder bug: the poll dead-lettered whole, the partitions go on
                log.exception("kafka source %s: decoding %d message(s) failed; dead-lettered", self.name, len(batch))
                decoded, wal = _undecoded(batch, exc), []
        wait = 0.5
        while True:
            try:
                self.service.accept_many(wal, decoded)
                return
            except (OSError, TransientError) as exc:  # disk full: the offsets do not move
                if not self.retry:
                    raise
                log.error("kafka source %s: %d message(s) could not be stored, retrying: %s", self.name, len(batch), exc)
                if self._stop.wait(wait):
                    raise
                wait = min(wait * 2, 10.0)

    def _commit(self, batch: Sequence[Message]) -> None:
        """Commit the offset after the last message of each partition in ``batch`` (synchronous)."""
        tp = _client().TopicPartition
        last: dict[tuple[str, int], int] = {}
        for m in batch:
            last[(m.topic, m.partition)] = max(m.offset, last.get((m.topic, m.partition), -1))
        try:
            self._consumer.commit(offsets=[tp(t, p, o + 1) for (t, p), o in last.items()], asynchronous=False)
        except _client().KafkaException as exc:  # a rebalance took the partition: its next owner reads it again
            self.commit_failures += 1
            log.warning("kafka source %s: offset commit failed (%s); the batch may be read again, and the "
                        "lake keeps one copy of its events", self.name, exc)  # fmt: skip

    def _client_error(self, msg: Any) -> bool:
        """True for a message that is a client event, not data (logged; a fatal one raises)."""
        err = msg.error()
        if err is None:
            return False
        if err.fatal():
            msg = f"kafka source {self.name}: fatal client error: {err}"
            raise KafkaSourceError(msg)
        if err.code() == _client().KafkaError._PARTITION_EOF:
            self.drained.add((msg.topic(), msg.partition()))
        else:
            log.warning("kafka source %s: %s", self.name, err)
        return True


def _undecoded(batch: Sequence[Message], exc: Exception) -> Decoded:
    """Every message of a poll whose decoding raised, dead-lettered with the error."""
    why = f"decoder error: {type(exc).__name__}: {exc}"
    dead = [DeadLetter(why, m.source, m.offset, m.value, "kafka") for m in batch if m.value]
    return Decoded(dead=dead, events=len(dead))


def _timestamp(msg: Any) -> int | None:
    kind, ts = msg.timestamp()
    return ts if kind != 0 else None  # 0: TIMESTAMP_NOT_AVAILABLE


def from_options(name: str, options: Any, service: Any) -> KafkaSource:
    """Build a source from validated :class:`~secpipe.sources.kafka_options.KafkaSourceOptions`."""
    return KafkaSource(name, options, service)
