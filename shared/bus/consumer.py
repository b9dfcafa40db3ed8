"""The idempotent consumer: inbox row and handler effects in one transaction, ack only after commit."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import pika
from pika.adapters.blocking_connection import BlockingChannel
from sqlalchemy.dialects import postgresql, sqlite

from shared.bus.envelope import CloudEvent, EnvelopeError
from shared.bus.publisher import connect
from shared.bus.tables import inbox
from shared.bus.topology import QueueSpec, declare_queue
from shared.config import BusSettings
from shared.logging import reset_request_id, set_request_id
from shared.metrics import BUS_CONSUMED, BUS_DEAD_LETTERED, BUS_HANDLER_DURATION, BUS_RETRIED

log = logging.getLogger(__name__)


class ConsumerUnitOfWork(Protocol):
    session: Any

    def __enter__(self) -> Any: ...
    def __exit__(self, *args: object) -> None: ...
    def commit(self) -> None: ...


Handler = Callable[[CloudEvent, Any], None]


def _insert_for(session: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite both do)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def original_routing_key(properties: pika.BasicProperties, queue: str) -> str | None:
    """The key the event was published with; after a retry the delivery's own key is the queue name."""
    for death in (properties.headers or {}).get("x-death", []) or []:
        if death.get("queue") == queue and death.get("routing-keys"):
            return str(death["routing-keys"][0])
    return None


def attempts_so_far(properties: pika.BasicProperties, queue: str) -> int:
    """How many times this queue rejected the message before, from the broker's `x-death` header."""
    for death in (properties.headers or {}).get("x-death", []) or []:
        if death.get("queue") == queue and death.get("reason") == "rejected":
            return int(death.get("count", 0))
    return 0


class EventConsumer:
    """Consumes one queue; `handlers` maps an event type to the function that applies it.

    Each delivery runs in its own unit of work: the inbox row `(consumer, event id)` is
    written with the handler's effects, so a redelivered event changes nothing. The message
    is acked after commit; a failing handler is rejected to the delayed retry queue, and
    parked with its error after `max_retries`.
    """

    def __init__(
        self,
        settings: BusSettings,
        spec: QueueSpec,
        handlers: Mapping[str, Handler],
        uow_factory: Callable[[], ConsumerUnitOfWork],
    ) -> None:
        self.settings = settings
        self.spec = spec
        self.handlers = dict(handlers)
        self.uow_factory = uow_factory
        self.name = spec.name
        self.connected = threading.Event()

    # -- one message ---------------------------------------------------------------------------
    def process(self, body: bytes) -> str:
        """Apply one message body; returns the outcome. Raises if the handler failed."""
        event = CloudEvent.from_json(body)
        handler = self.handlers.get(event.type)
        token = set_request_id(event.requestid)
        try:
            with self.uow_factory() as uow:
                # Claim the event first: a concurrent delivery of the same id waits on this row and
                # then finds it taken, so the handler never runs twice for one event.
                claimed = uow.session.execute(
                    _insert_for(uow.session)(inbox)
                    .values(
                        consumer=self.name,
                        event_id=event.id,
                        event_type=event.type,
                        processed_at=dt.datetime.now(dt.UTC),
                    )
                    .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
                    .returning(inbox.c.event_id)
                ).first()
                if claimed is None:
                    return "duplicate"
                if handler is not None:
                    handler(event, uow)
                uow.commit()
            return "processed" if handler is not None else "ignored"
        finally:
            reset_request_id(token)

    def _on_message(self, channel: BlockingChannel, method: Any, properties: pika.BasicProperties, body: bytes) -> None:
        started = time.perf_counter()
        try:
            outcome = self.process(body)
        except EnvelopeError as exc:
            self._park(channel, method, properties, body, f"unreadable envelope: {exc}", attempts=1)
            return
        except Exception as exc:
            attempts = attempts_so_far(properties, self.spec.name) + 1
            log.exception("handler failed", extra={"queue": self.name, "attempt": attempts})
            if attempts > self.settings.max_retries:
                self._park(channel, method, properties, body, f"{type(exc).__name__}: {exc}", attempts)
            else:
                BUS_RETRIED.labels(self.name).inc()
                BUS_CONSUMED.labels(self.name, "retried").inc()
                channel.basic_nack(method.delivery_tag, requeue=False)
            return
        finally:
            BUS_HANDLER_DURATION.labels(self.name).observe(time.perf_counter() - started)
        BUS_CONSUMED.labels(self.name, outcome).inc()
        channel.basic_ack(method.delivery_tag)

    def _park(
        self,
        channel: BlockingChannel,
        method: Any,
        properties: pika.BasicProperties,
        body: bytes,
        error: str,
        attempts: int,
    ) -> None:
        headers = dict(properties.headers or {})
        headers.pop("x-death", None)
        headers.update(
            {
                "x-error": error[:2000],
                "x-attempts": attempts,
                "x-original-routing-key": original_routing_key(properties, self.spec.name) or method.routing_key,
                "x-parked-at": dt.datetime.now(dt.UTC).isoformat(),
            }
        )
        parked = pika.BasicProperties(
            content_type=properties.content_type,
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=properties.message_id,
            type=properties.type,
            headers=headers,
        )
        # The confirm channel returns only once the broker holds the parked copy.
        self._park_channel.basic_publish("", self.spec.parking, body, parked, mandatory=True)
        BUS_DEAD_LETTERED.labels(self.name).inc()
        BUS_CONSUMED.labels(self.name, "parked").inc()
        log.error("message parked", extra={"queue": self.name, "error": error, "attempts": attempts})
        channel.basic_ack(method.delivery_tag)

    # -- the loop ------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set, reconnecting with backoff when the broker goes away."""
        backoff = 0.5
        while not stop.is_set():
            try:
                connection = connect(self.settings.amqp_url, f"consumer:{self.name}")
                try:
                    channel = connection.channel()
                    declare_queue(channel, self.settings, self.spec)
                    self._park_channel = connection.channel()
                    self._park_channel.confirm_delivery()
                    channel.basic_qos(prefetch_count=self.settings.prefetch)
                    channel.basic_consume(self.spec.name, self._on_message, auto_ack=False)
                    self.connected.set()
                    backoff = 0.5
                    while not stop.is_set():
                        connection.process_data_events(time_limit=0.2)
                finally:
                    self.connected.clear()
                    if connection.is_open:
                        connection.close()
            except (pika.exceptions.AMQPError, OSError) as exc:
                log.warning("consumer lost the broker", extra={"queue": self.name, "error": str(exc)})
                stop.wait(backoff)
                backoff = min(backoff * 2, 15.0)
