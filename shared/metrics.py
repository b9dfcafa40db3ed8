"""Prometheus metrics, correct under gunicorn's several worker processes.

With PROMETHEUS_MULTIPROC_DIR set (the gunicorn config sets it), every process writes its
samples to files there and `/metrics` aggregates them; without it, the default registry is used.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests handled, by route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
BUS_PUBLISHED = Counter("bus_messages_published_total", "Events confirmed by the broker.", ["type"])
BUS_UNROUTABLE = Counter(
    "bus_messages_unroutable_total", "Events the broker returned because no queue is bound.", ["type"]
)
BUS_PUBLISH_FAILURES = Counter(
    "bus_publish_failures_total", "Outbox rows whose publish was nacked or timed out.", ["type"]
)
BUS_CONSUMED = Counter(
    "bus_messages_consumed_total",
    "Messages taken from a queue, by outcome (processed, duplicate, retried, parked).",
    ["queue", "outcome"],
)
BUS_RETRIED = Counter("bus_messages_retried_total", "Messages sent to the delayed retry queue.", ["queue"])
BUS_DEAD_LETTERED = Counter("bus_messages_dead_lettered_total", "Messages parked after their last retry.", ["queue"])
BUS_HANDLER_DURATION = Histogram(
    "bus_handler_duration_seconds",
    "Time a handler took, commit included.",
    ["queue"],
    buckets=LATENCY_BUCKETS,
)
OUTBOX_BACKLOG = Gauge(
    "outbox_pending_messages", "Outbox rows not yet confirmed by the broker.", multiprocess_mode="max"
)
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_pending_age_seconds",
    "Age of the oldest outbox row not yet confirmed.",
    multiprocess_mode="max",
)
TIMER_RUNS = Counter("worker_timer_runs_total", "Timer runs by outcome.", ["timer", "outcome"])


def render_latest() -> tuple[bytes, str]:
    """The exposition text for this process, or for all gunicorn workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
