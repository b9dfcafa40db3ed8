"""The outbox relay: publishes committed outbox rows with confirms and marks them sent.

Several relays may run against one PostgreSQL database: each takes its batch with
`FOR UPDATE SKIP LOCKED`, so no row is published by two at once. A row the broker did
not confirm is tried again later with exponential backoff; while the broker is
unreachable nothing is lost, the rows wait in the table. The relay LISTENs for the
NOTIFY that every outbox write commits with, so an event leaves as soon as its
transaction commits; the poll every `relay_idle_seconds` remains as the fallback
(a lost listening connection, rows whose retry time has come).
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pika
import psycopg
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from shared.bus.outbox import OUTBOX_CHANNEL
from shared.bus.publisher import ConfirmingPublisher, OutgoingMessage, connect
from shared.bus.tables import OUTBOX_PENDING, OUTBOX_SENT, outbox
from shared.bus.topology import declare_exchange
from shared.config import BusSettings
from shared.metrics import BUS_PUBLISH_FAILURES, BUS_PUBLISHED, OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
SENT_RETENTION = dt.timedelta(days=7)
GAUGE_INTERVAL_SECONDS = 5.0


def backoff_seconds(attempts: int) -> float:
    return float(min(MAX_BACKOFF_SECONDS, 2 ** max(0, attempts - 1)))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class OutboxWakeup:
    """A connection LISTENing on the outbox channel; `wait` returns early when a write commits."""

    def __init__(self, conninfo: str) -> None:
        # A connection of its own, outside the pool: it sits in LISTEN for the life of the relay.
        self.connection: psycopg.Connection[Any] = psycopg.connect(conninfo, autocommit=True)
        self.connection.execute(f"LISTEN {OUTBOX_CHANNEL}")

    @classmethod
    def for_database(cls, session_factory: Callable[[], Session]) -> OutboxWakeup:
        """A listener on the relay's own database."""
        with session_factory() as session:
            url = session.get_bind().engine.url
        return cls(url.set(drivername="postgresql").render_as_string(hide_password=False))

    def wait(self, timeout: float) -> bool:
        """True when woken by a commit; False after `timeout` seconds of quiet."""
        woken = any(True for _ in self.connection.notifies(timeout=timeout, stop_after=1))
        # A burst of commits leaves several notifications queued: one batch serves them all, so drop the rest.
        for _ in self.connection.notifies(timeout=0):
            woken = True
        return woken

    def close(self) -> None:
        if not self.connection.closed:
            self.connection.close()


class OutboxRelay:
    name = "outbox-relay"

    def __init__(self, settings: BusSettings, session_factory: Callable[[], Session]) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.publisher: ConfirmingPublisher | None = None
        self.connected = threading.Event()
        self._last_gauges = 0.0
        self._last_cleanup = 0.0
        self.wakeup: OutboxWakeup | None = None

    def _ensure_publisher(self) -> ConfirmingPublisher:
        if self.publisher is None or not self.publisher.connection.is_open:
            connection = connect(self.settings.amqp_url, "outbox-relay")
            declare_exchange(connection.channel(), self.settings)
            self.publisher = ConfirmingPublisher(connection, self.settings.exchange)
            self.connected.set()
        return self.publisher

    def close(self) -> None:
        self.connected.clear()
        if self.publisher is not None and self.publisher.connection.is_open:
            self.publisher.connection.close()
        self.publisher = None

    def relay_once(self) -> int:
        """Publish one batch of due rows; returns how many were confirmed."""
        now = dt.datetime.now(dt.UTC)
        with self.session_factory() as session, session.begin():
            rows = session.execute(
                select(outbox.c.id, outbox.c.type, outbox.c.body, outbox.c.request_id, outbox.c.attempts)
                .where(outbox.c.status == OUTBOX_PENDING, outbox.c.next_attempt_at <= now)
                .order_by(outbox.c.created_at)
                .limit(self.settings.relay_batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            publisher = self._ensure_publisher()
            messages = [OutgoingMessage(r.id, r.type, r.body.encode(), r.request_id) for r in rows]
            confirmed, failed = publisher.publish_batch(messages, timeout=self.settings.confirm_timeout_seconds)
            if confirmed:
                session.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(confirmed))
                    .values(status=OUTBOX_SENT, sent_at=now, attempts=outbox.c.attempts + 1)
                )
            by_id = {r.id: r for r in rows}
            for message_id in failed:
                row = by_id[message_id]
                BUS_PUBLISH_FAILURES.labels(row.type).inc()
                session.execute(
                    update(outbox)
                    .where(outbox.c.id == message_id)
                    .values(
                        attempts=row.attempts + 1,
                        last_error="not confirmed by the broker",
                        next_attempt_at=now + dt.timedelta(seconds=backoff_seconds(row.attempts + 1)),
                    )
                )
            published = collections.Counter(message.type for message in messages if message.id in confirmed)
            for event_type, count in published.items():
                BUS_PUBLISHED.labels(event_type).inc(count)
            return len(confirmed)

    def housekeeping(self) -> None:
        """Update the backlog gauges and forget rows sent long ago, a few times a minute at most."""
        now_monotonic = time.monotonic()
        if now_monotonic - self._last_gauges < GAUGE_INTERVAL_SECONDS:
            return
        self._last_gauges = now_monotonic
        now = dt.datetime.now(dt.UTC)
        with self.session_factory() as session, session.begin():
            count, oldest = session.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.status == OUTBOX_PENDING)
            ).one()
            OUTBOX_BACKLOG.set(count)
            OUTBOX_OLDEST_AGE.set((now - _aware(oldest)).total_seconds() if oldest else 0)
            if now_monotonic - self._last_cleanup > 3600:
                self._last_cleanup = now_monotonic
                session.execute(
                    delete(outbox).where(outbox.c.status == OUTBOX_SENT, outbox.c.sent_at < now - SENT_RETENTION)
                )

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                # Connect even when idle (readiness reports it) and pump heartbeats on the open connection.
                self._ensure_publisher().connection.process_data_events(time_limit=0)
                sent = self.relay_once()
                self.housekeeping()
                backoff = 0.5
                if sent < self.settings.relay_batch_size:
                    self._idle(stop)
            except (pika.exceptions.AMQPError, OSError) as exc:
                log.warning("relay cannot reach the broker", extra={"error": str(exc)})
                self.close()
                stop.wait(backoff)
                backoff = min(backoff * 2, 15.0)
            except Exception:
                log.exception("relay iteration failed")
                stop.wait(backoff)
                backoff = min(backoff * 2, 15.0)
        self.close()
        self._close_wakeup()

    def _idle(self, stop: threading.Event) -> None:
        """Until a commit wakes us or `relay_idle_seconds` pass."""
        try:
            if self.wakeup is None:
                self.wakeup = OutboxWakeup.for_database(self.session_factory)
            deadline = time.monotonic() + self.settings.relay_idle_seconds
            # In slices of at most a second, so a stop is seen soon even with a long poll interval.
            while not stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
                if self.wakeup.wait(min(remaining, 1.0)):
                    return
            return
        except psycopg.Error as exc:
            log.warning("outbox wake-up connection lost; polling", extra={"error": str(exc)})
            self._close_wakeup()
        stop.wait(self.settings.relay_idle_seconds)

    def _close_wakeup(self) -> None:
        if self.wakeup is not None:
            self.wakeup.close()
            self.wakeup = None
