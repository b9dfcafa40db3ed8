"""The idempotent consumer: inbox row and handler effects in one transaction, ack only after commit."""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import pika
import sqlalchemy as sa
from pika.adapters.blocking_connection import BlockingChannel
from sqlalchemy.dialects import postgresql

from shared.bus.envelope import CloudEvent, EnvelopeError
from shared.bus.publisher import connect, forwarded_properties
from shared.bus.tables import inbox
from shared.bus.topology import QueueSpec, declare_queue
from shared.config import BusSettings
from shared.db import TransactionAborted, transaction_aborted
from shared.logging import reset_request_id, set_request_id
from shared.metrics import BUS_CONSUMED, BUS_DEAD_LETTERED, BUS_HANDLER_DURATION, BUS_RETRIED

log = logging.getLogger(__name__)

# The inbox rows of a batch in one statement of one shape whatever the batch size: the ids and types go in as two
# arrays, unnested side by side. With four parameters a row (SQL text and parameters rendered anew for each batch),
# the claim took a sixth of the consumer's samples in a py-spy profile of bench/bus.py, about half that now.
_claimed = (
    sa.func.unnest(
        sa.bindparam("event_ids", type_=postgresql.ARRAY(sa.String)),
        sa.bindparam("event_types", type_=postgresql.ARRAY(sa.String)),
    )
    .table_valued("event_id", "event_type")
    .render_derived()
)
CLAIM = (
    postgresql.insert(inbox)
    .from_select(
        ["consumer", "event_id", "event_type", "processed_at"],
        sa.select(
            sa.bindparam("consumer", type_=inbox.c.consumer.type),
            _claimed.c.event_id,
            _claimed.c.event_type,
            sa.bindparam("processed_at", type_=inbox.c.processed_at.type),
        ),
    )
    .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
    .returning(inbox.c.event_id)
)


class ConsumerUnitOfWork(Protocol):
    session: Any

    def __enter__(self) -> Any: ...
    def __exit__(self, *args: object) -> None: ...
    def commit(self) -> None: ...


Handler = Callable[[CloudEvent, Any], None]


class BatchHandler:
    """A handler that can also apply a run of consecutive deliveries at once: `many(events, uow)` must leave what
    applying them one by one, in order, would, in a few statements for the run instead of a few per event.

    Called with one event it is an ordinary handler. When `many` raises, the consumer cannot tell which event of
    the run failed: it applies the batch again one event at a time, so the failing message alone goes to the retry
    path. No request id is set around a run (its events have one each)."""

    def __init__(self, many: Callable[[list[CloudEvent], Any], None]) -> None:
        self.many = many

    def __call__(self, event: CloudEvent, uow: Any) -> None:
        self.many([event], uow)


class _RunFailed(Exception):
    """A run of a BatchHandler raised: the batch is rolled back and applied again event by event."""


class _HandlerFailed(Exception):
    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


def _raise_if_aborted(uow: Any) -> None:
    """A handler that caught a failed statement's error left the window's transaction aborted: the commit would
    refuse it (`shared.db`), but only here is it known which message did it, so only that one is retried."""
    if transaction_aborted(uow.session.connection()):
        raise TransactionAborted("the handler caught a failed statement's error; its transaction is aborted")


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
        self._buffer: list[tuple[Any, pika.BasicProperties, bytes]] = []

    # -- applying messages ---------------------------------------------------------------------
    def process(self, body: bytes) -> str:
        """Apply one message body; returns the outcome, raises what the handler raised."""
        outcome = self.process_batch([body])[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def process_batch(self, bodies: list[bytes]) -> list[str | BaseException]:
        """Apply several messages in one transaction: one inbox insert and one commit (one fsync) for the lot.

        Consecutive events of one BatchHandler are handed to it together. When a handler fails, the transaction
        is rolled back, that message gets its exception as outcome (it goes to the retry path) and the rest of
        the batch is applied again without it; when a run of a BatchHandler fails, the batch is rolled back and
        applied again one event at a time, to find the failing message. Outcomes are in the order of `bodies`: an
        outcome string, or the exception (an EnvelopeError for a body that is not a CloudEvent).
        """
        outcomes: list[str | BaseException] = []
        events: dict[int, CloudEvent] = {}
        for index, body in enumerate(bodies):
            try:
                events[index] = CloudEvent.from_json(body)
                outcomes.append("pending")
            except EnvelopeError as exc:
                outcomes.append(exc)
        together = True
        while events:
            try:
                outcomes_now = self._apply_all(events, together=together)
            except _RunFailed as failure:
                log.info("run failed, applying one by one", exc_info=failure, extra={"queue": self.name})
                together = False
                continue
            except _HandlerFailed as failure:
                log.warning(
                    "handler failed",
                    exc_info=failure.error,
                    extra={"queue": self.name, "event_id": events[failure.index].id},
                )
                outcomes[failure.index] = failure.error
                del events[failure.index]
                continue
            except Exception as exc:  # the claim or the commit: nothing of the batch was applied
                log.exception("batch failed", extra={"queue": self.name, "size": len(events)})
                for index in events:
                    outcomes[index] = exc
                break
            for index, outcome in outcomes_now.items():
                outcomes[index] = outcome
            break
        return outcomes

    def _apply_all(self, events: dict[int, CloudEvent], *, together: bool) -> dict[int, str]:
        outcomes: dict[int, str] = {}
        with self.uow_factory() as uow:
            claimed = self._claim_all(uow, list(events.values()))
            runs: list[tuple[Handler, list[tuple[int, CloudEvent]]]] = []
            for index, event in events.items():
                if event.id not in claimed:
                    outcomes[index] = "duplicate"
                    continue
                claimed.discard(event.id)  # a second copy in the same batch is a duplicate
                handler = self.handlers.get(event.type)
                if handler is None:
                    outcomes[index] = "ignored"
                    continue
                if together and isinstance(handler, BatchHandler) and runs and runs[-1][0] is handler:
                    runs[-1][1].append((index, event))
                else:
                    runs.append((handler, [(index, event)]))
            for handler, run in runs:
                self._apply_run(handler, run, uow)
                outcomes.update(dict.fromkeys((index for index, _ in run), "processed"))
            uow.commit()
        return outcomes

    @staticmethod
    def _apply_run(handler: Handler, run: list[tuple[int, CloudEvent]], uow: Any) -> None:
        if len(run) > 1 and isinstance(handler, BatchHandler):
            try:
                handler.many([event for _, event in run], uow)
                _raise_if_aborted(uow)
            except Exception as exc:
                raise _RunFailed(str(exc)) from exc
            return
        [(index, event)] = run
        token = set_request_id(event.requestid)
        try:
            handler(event, uow)
            _raise_if_aborted(uow)
        except Exception as exc:
            raise _HandlerFailed(index, exc) from exc
        finally:
            reset_request_id(token)

    def _claim_all(self, uow: Any, events: list[CloudEvent]) -> set[str]:
        types = {e.id: e.type for e in events}  # a second copy in the batch is one row
        result = uow.session.execute(
            CLAIM,
            {
                "consumer": self.name,
                "event_ids": list(types),
                "event_types": list(types.values()),
                "processed_at": dt.datetime.now(dt.UTC),
            },
        )
        return {r[0] for r in result}

    def _settle(
        self,
        channel: BlockingChannel,
        method: Any,
        properties: pika.BasicProperties,
        body: bytes,
        outcome: str | BaseException,
    ) -> None:
        """Ack what was applied; reject a failure to the retry queue, or park it after the last retry."""
        if isinstance(outcome, EnvelopeError):
            self._park(channel, method, properties, body, f"unreadable envelope: {outcome}", attempts=1)
        elif isinstance(outcome, BaseException):
            attempts = attempts_so_far(properties, self.spec.name) + 1
            if attempts > self.settings.max_retries:
                self._park(channel, method, properties, body, f"{type(outcome).__name__}: {outcome}", attempts)
            else:
                BUS_RETRIED.labels(self.name).inc()
                BUS_CONSUMED.labels(self.name, "retried").inc()
                channel.basic_nack(method.delivery_tag, requeue=False)
        else:
            BUS_CONSUMED.labels(self.name, outcome).inc()
            channel.basic_ack(method.delivery_tag)

    def _on_message(
        self, _channel: BlockingChannel, method: Any, properties: pika.BasicProperties, body: bytes
    ) -> None:
        # Deliveries are collected while pika pumps the socket and applied together afterwards.
        self._buffer.append((method, properties, body))

    def _drain(self, channel: BlockingChannel) -> None:
        while self._buffer:
            batch, self._buffer = self._buffer[: self.settings.prefetch], self._buffer[self.settings.prefetch :]
            started = time.perf_counter()
            outcomes = self.process_batch([body for _, _, body in batch])
            elapsed = time.perf_counter() - started
            duration = BUS_HANDLER_DURATION.labels(self.name)  # the labelled child once a batch, not once a message
            for _ in batch:
                duration.observe(elapsed / len(batch))
            if all(isinstance(outcome, str) for outcome in outcomes):
                # The whole batch committed: one ack for all of it (every earlier delivery is settled already).
                for outcome, count in collections.Counter(outcomes).items():
                    BUS_CONSUMED.labels(self.name, outcome).inc(count)
                channel.basic_ack(batch[-1][0].delivery_tag, multiple=True)
                continue
            for (method, properties, body), outcome in zip(batch, outcomes, strict=True):
                self._settle(channel, method, properties, body, outcome)

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
        # A message `cio-bus replay` sent back came in under the queue's own name: the key it was first published
        # with is the one its earlier parking recorded.
        first_key = headers.get("x-original-routing-key")
        headers.update(
            {
                "x-error": error[:2000],
                "x-attempts": attempts,
                "x-original-routing-key": first_key
                or original_routing_key(properties, self.spec.name)
                or method.routing_key,
                "x-parked-at": dt.datetime.now(dt.UTC).isoformat(),
            }
        )
        # The confirm channel returns only once the broker holds the parked copy.
        parked = forwarded_properties(properties, headers)
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
                    self._buffer = []
                    channel.basic_consume(self.spec.name, self._on_message, auto_ack=False)
                    self.connected.set()
                    backoff = 0.5
                    while not stop.is_set():
                        connection.process_data_events(time_limit=0.2 if not self._buffer else 0)
                        self._drain(channel)
                finally:
                    self.connected.clear()
                    if connection.is_open:
                        connection.close()
            except (pika.exceptions.AMQPError, OSError) as exc:
                log.warning("consumer lost the broker", extra={"queue": self.name, "error": str(exc)})
                stop.wait(backoff)
                backoff = min(backoff * 2, 15.0)
