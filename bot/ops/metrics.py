"""Prometheus metrics: counters where things happen, gauges read from the database.

Two kinds, because gunicorn runs several processes (web processes answer
``/metrics``; event processes answer the homeowners and call LINE):

* **Counters and the latency histogram** count what happens in *some* process
  (an event stored by a web process, an answer sent by an event process, a LINE
  call). They use prometheus-client's multiprocess mode: under ``make serve``,
  ``gunicorn.conf.py`` sets ``PROMETHEUS_MULTIPROC_DIR`` before any process
  imports prometheus-client, every process writes its values to a small file
  there, and ``/metrics`` adds them up (:class:`MultiProcessCollector`). Without
  that variable (``python app.py``, tests) they are ordinary in-process metrics.
  They cannot come from the database: the inbox and outbox are purged for
  privacy, so counts read there would go down.
* **Gauges** (queue depth, the oldest waiting event, hot leads waiting,
  follow-ups overdue, the outbox's state) are *read from the database at scrape
  time* (:class:`DatabaseCollector`): they are the state of one file that every
  process shares, so there is nothing to add up and nothing to keep in sync.

Label values never carry personal data: channels, LINE call names, HTTP statuses.
"""
from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

EVENTS_RECEIVED = Counter("ninbai_events_received", "Events stored in the inbox (new, not redeliveries)",
                          ["channel"])
ANSWER_LATENCY = Histogram(
    "ninbai_answer_latency_seconds",
    "From an event's arrival to its answer out (LINE accepted it; web: stored). Its _count is the events answered.",
    ["channel"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0),
)
LINE_CALLS = Counter("ninbai_line_calls", "Calls to the LINE API by call and outcome (HTTP status, or 'error')",
                     ["call", "status"])
OUTBOX_RETRIES = Counter("ninbai_outbox_retries", "LINE sends put back for a later try, by the status LINE gave",
                         ["status"])
OUTBOX_FAILURES = Counter("ninbai_outbox_failures", "LINE sends given up, by the status LINE gave", ["status"])


def received(events: list[dict[str, Any]], new_ids: list[int]) -> None:
    if new_ids:
        channel = events[0].get("channel", "?") if events else "?"
        EVENTS_RECEIVED.labels(channel).inc(len(new_ids))


def answered(row: dict[str, Any]) -> None:
    ANSWER_LATENCY.labels(row.get("channel") or "?").observe(max(0.0, time.time() - (row.get("received_at") or time.time())))


def line_call(name: str, status: int | None) -> None:
    LINE_CALLS.labels(name, str(status) if status else "error").inc()


class DatabaseCollector:
    """Gauges computed from the database when Prometheus scrapes."""

    def __init__(self, storage: Any):
        self.storage = storage

    def collect(self):
        rows = self.storage.rows
        now = time.time()
        yield self._by_status("ninbai_queue_depth", "Events not answered yet, by status", "inbox",
                              ("pending", "processing", "delivering"))
        oldest = rows("select min(received_at) as t from inbox"
                      " where status in ('pending', 'processing', 'delivering')")[0]["t"]
        yield GaugeMetricFamily("ninbai_oldest_unanswered_seconds", "Age of the oldest event not answered yet",
                                value=max(0.0, now - oldest) if oldest else 0.0)
        yield self._by_status("ninbai_outbox_sends", "LINE sends waiting or given up, by status", "outbox",
                              ("pending", "sending", "failed"))
        hot = rows("select count(*) as n from conversations where status = 'waiting' and urgency = 'hot'")[0]["n"]
        yield GaugeMetricFamily("ninbai_hot_leads_waiting", "Hot conversations waiting for a person", value=hot)
        yield GaugeMetricFamily("ninbai_followups_overdue", "Follow-ups past their due time, not done",
                                value=followups_overdue(self.storage))

    def _by_status(self, name: str, documentation: str, table: str, statuses: tuple[str, ...]) -> GaugeMetricFamily:
        """A gauge of the rows of ``table`` in each of ``statuses`` (0 for a status with none)."""
        gauge = GaugeMetricFamily(name, documentation, labels=["status"])
        counts = {r["status"]: r["n"] for r in self.storage.rows(
            f"select status, count(*) as n from {table} where status in ({','.join('?' * len(statuses))})"
            " group by status", statuses)}
        for status in statuses:
            gauge.add_metric([status], counts.get(status, 0))
        return gauge


def followups_overdue(storage: Any) -> int:
    """Open follow-ups past their due time (the console's ``followups``: ``due_at`` UTC ISO)."""
    return storage.rows("select count(*) as n from followups"
                        " where done_at is null and unixepoch(due_at) < unixepoch('now')")[0]["n"]


def exposition(storage: Any) -> bytes:
    """The text of /metrics: this process's (or every process's) counters, then the database's gauges."""
    from prometheus_client import REGISTRY, generate_latest

    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=path)
        counters = generate_latest(registry)
    else:
        counters = generate_latest(REGISTRY)
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(DatabaseCollector(storage))
    return counters + generate_latest(gauges)
