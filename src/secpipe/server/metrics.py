"""``GET /v1/metrics``: the pipeline's state in the Prometheus text format, for scraping.

Authenticated like every route (permission ``metrics.read``: admin, analyst, viewer and
auditor tokens; give Prometheus its own viewer token, ``authorization: {credentials: ...}``
in the scrape config). Under ``/v1/`` so it never shadows an Elasticsearch index named
``metrics``. Exposition by ``prometheus_client`` (a collector reads the live counters at each
scrape; nothing is kept twice), in the text format 0.0.4 or OpenMetrics as the scraper's
``Accept`` asks.

Series (``secpipe_`` prefix): ``events_total`` (records read), ``stored_total{class}`` (rows
committed per OCSF class), ``dead_letters_total``, ``duplicates_total``, ``inputs_total``
(bodies made durable), ``lake_pending_rows`` (accepted, not yet committed), ``pushed_waiting``
(Falco/GitHub/GitLab payloads acknowledged and not yet mapped: stays near zero, ~50 ms of them),
``lake_commits_total``, ``lake_commit_failures_total``, ``lake_last_commit_timestamp_seconds``,
``compacted_files_total``, ``compaction_failures_total``, ``wal_segments`` and ``wal_bytes``
(unreleased write-ahead log: grows while commits fail), ``syslog_udp_dropped_total{source}``
(UDP syslog datagrams dropped because the store could not take them: the sender cannot
resend; one series per UDP syslog source, from ``ctx.extras["sources"]``),
``kafka_messages_total{source}``, ``kafka_commit_failures_total{source}`` and
``kafka_running{source}`` (per Kafka source: alert on 0), ``start_time_seconds``,
and ``build_info{version}``. Alert on ``rate(secpipe_dead_letters_total[5m])``,
``secpipe_lake_commit_failures_total`` rising, or ``time() -
secpipe_lake_last_commit_timestamp_seconds`` large while ``secpipe_lake_pending_rows > 0``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from secpipe import __version__
from secpipe.server.http import AppContext, authenticate, route
from secpipe.server.workers import in_thread


class _Collector:
    """Reads the service's counters at scrape time."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily

        svc = self.ctx.service
        totals, stats = svc.pipeline.totals, svc.stats

        def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
            return CounterMetricFamily(f"secpipe_{name}", doc, value=value)

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"secpipe_{name}", doc, value=value)

        yield counter("events", "Records read from accepted input.", totals.events)
        stored = CounterMetricFamily("secpipe_stored", "Rows committed to the lake, per OCSF class.", labels=["class"])
        for cls, n in sorted(dict(totals.stored).items()):
            stored.add_metric([cls], n)
        yield stored
        yield counter("dead_letters", "Records and bodies written to the dead-letter store.", totals.dead_letter)
        yield counter("duplicates", "Rows dropped as already stored (same metadata.uid).", totals.duplicates)
        yield counter("inputs", "Bodies made durable in the write-ahead log (dead-lettered ones too).", stats.inputs)
        yield counter("mapping_passes", "Passes mapping the records of requests that arrived together (_bulk, HEC, "
                      "record formats); each pass pays a fixed cost.", stats.mapping_passes)  # fmt: skip
        yield counter("mapped_requests", "Requests mapped by those passes (requests per pass = mapped_requests / "
                      "mapping_passes).", stats.mapped_requests)  # fmt: skip
        yield gauge("lake_pending_rows", "Rows accepted and not yet committed to the lake.", svc.pipeline.lake.pending_rows)
        yield gauge("pushed_waiting", "One-payload-a-POST bodies acknowledged (in the WAL) and not yet mapped.",
                    svc.pushed_waiting)  # fmt: skip
        yield counter("lake_commits", "Successful lake commits.", stats.commits)
        yield counter("lake_commit_failures", "Failed lake commits (the rows stay buffered and are retried).",
                      stats.commit_failures)  # fmt: skip
        yield gauge("lake_last_commit_timestamp_seconds", "Time of the last successful lake commit.", stats.last_commit)
        yield counter("compacted_files", "Small part files merged away by compaction.", stats.compacted_files)
        yield counter("compaction_failures", "Failed compaction runs.", stats.compaction_failures)
        segs = svc.wal.segments()
        sizes = [p.stat().st_size for p in segs if p.exists()]
        yield gauge("wal_segments", "Unreleased write-ahead-log segments.", len(sizes))
        yield gauge("wal_bytes", "Bytes in unreleased write-ahead-log segments.", sum(sizes))
        dropped = CounterMetricFamily(
            "secpipe_syslog_udp_dropped", "Syslog UDP datagrams dropped because the store could not take them "
            "(disk full, store failure); UDP senders cannot resend them.", labels=["source"])  # fmt: skip
        for src in self.ctx.extras.get("sources", []):
            if getattr(src, "udp_dropped", None) is not None and src.cfg.protocol == "udp":
                dropped.add_metric([src.name], src.udp_dropped)
        yield dropped
        yield from _kafka_families(self.ctx.extras.get("sources", []))
        yield gauge("start_time_seconds", "Start time of the service.", stats.started)
        info = InfoMetricFamily("secpipe_build", "secpipe build information.")
        info.add_metric([], {"version": __version__})
        yield info


def _kafka_families(sources: list[Any]) -> Iterator[Any]:
    """The Kafka sources' series: messages stored and committed, offset commits refused, and
    whether the polling thread runs (0: it stopped on a fatal client error; see the log)."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    kafka = [src for src in sources if hasattr(src, "commit_failures")]
    messages = CounterMetricFamily("secpipe_kafka_messages", "Kafka messages stored (or dead-lettered) whose "
                                   "offsets were committed.", labels=["source"])  # fmt: skip
    refused = CounterMetricFamily("secpipe_kafka_commit_failures", "Kafka offset commits refused (a rebalance): "
                                  "those messages are read again and stored once.", labels=["source"])  # fmt: skip
    running = GaugeMetricFamily("secpipe_kafka_running", "1 while a Kafka source polls; 0 once it stopped on a "
                                "fatal client error.", labels=["source"])  # fmt: skip
    for src in kafka:
        messages.add_metric([src.name], src.messages)
        refused.add_metric([src.name], src.commit_failures)
        running.add_metric([src.name], 1.0 if src.running else 0.0)
    yield from (messages, refused, running)


def routes(ctx: AppContext) -> list[Route]:
    """``GET /v1/metrics``."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import choose_encoder

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(ctx))  # type: ignore[arg-type]

    async def metrics(request: Request) -> Response:
        authenticate(ctx, request, "metrics.read")
        # the scraper's Accept picks the format (OpenMetrics for Prometheus >= 2.5), else text 0.0.4
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        body = await in_thread(encode, registry)
        return Response(body, headers={"Content-Type": content_type})

    return [route("GET", "/v1/metrics", "metrics.read", metrics)]
