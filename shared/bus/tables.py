"""Tables every service has in its own database: outbox and inbox here, idempotency keys in shared.http."""

from __future__ import annotations

import sqlalchemy as sa

from shared.db import UtcDateTime, new_metadata

bus_metadata = new_metadata()

OUTBOX_PENDING = "pending"
OUTBOX_SENT = "sent"

outbox = sa.Table(
    "outbox",
    bus_metadata,
    sa.Column("id", sa.String(64), primary_key=True, comment="the CloudEvent id"),
    sa.Column("type", sa.String(200), nullable=False, comment="routing key"),
    sa.Column("body", sa.Text, nullable=False, comment="the CloudEvent as JSON"),
    sa.Column("request_id", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False, default=OUTBOX_PENDING),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("sent_at", UtcDateTime()),
    sa.Index("ix_outbox_pending", "status", "next_attempt_at"),
)

inbox = sa.Table(
    "inbox",
    bus_metadata,
    sa.Column("consumer", sa.String(200), primary_key=True),
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("processed_at", UtcDateTime(), nullable=False),
)
