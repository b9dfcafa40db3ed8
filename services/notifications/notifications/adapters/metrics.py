"""Prometheus metrics of the notifications service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_CREATED = Counter("notifications_messages_total", "Inbox messages created, by kind.", ["kind"])
DELIVERIES = Counter(
    "notifications_deliveries_total",
    "Delivery attempts by channel and outcome (sent, failed, dead, skipped).",
    ["channel", "outcome"],
)
DELIVERY_LATENCY = Histogram(
    "notifications_delivery_latency_seconds",
    "From the event's time to the message delivered on a channel.",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
)
DEAD_DELIVERIES = Gauge(
    "notifications_dead_deliveries", "Deliveries that gave up and wait for an operator.", multiprocess_mode="max"
)
REMINDERS_SENT = Counter("notifications_reminders_sent_total", "Reminders sent, by kind.", ["kind"])
REMINDERS_CANCELLED = Counter("notifications_reminders_cancelled_total", "Reminders cancelled, by kind.", ["kind"])
DIGESTS = Counter("notifications_digests_total", "Daily digest e-mails made (one per user and local date).")
