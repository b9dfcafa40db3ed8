"""The bus against real RabbitMQ and PostgreSQL: no lost or doubled effects (spec §4, "Message bus",
"Envelope", "No lost or doubled effects")."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.orm import Session, sessionmaker

from shared.bus.consumer import EventConsumer
from shared.bus.envelope import CloudEvent
from shared.bus.outbox import add_to_outbox
from shared.bus.relay import OutboxRelay
from shared.bus.tables import OUTBOX_PENDING, OUTBOX_SENT, bus_metadata, inbox, outbox
from shared.bus.topology import QueueSpec
from shared.config import BusSettings
from shared.db import SqlAlchemyUnitOfWork, TransactionAborted, make_engine, make_session_factory, new_metadata
from shared.events import DomainEvent
from shared.logging import get_request_id, reset_request_id, set_request_id
from tests.helpers import wait_until
from tests.integration.conftest import Background, Broker, broker_stopped

pytestmark = pytest.mark.integration

SOURCE = "bustest"

# The state the producing side changes, and the effect the consuming side applies.
test_metadata = new_metadata()
parcels = sa.Table(
    "bustest_parcels",
    test_metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
)
deliveries = sa.Table(
    "bustest_deliveries",
    test_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("parcel_id", sa.String(64)),
    sa.Column("request_id", sa.String(64)),
)


@dataclasses.dataclass
class ParcelShipped(DomainEvent):
    event_type = "bustest.parcel.shipped"
    parcel_id: str

    @property
    def subject(self) -> str | None:
        return self.parcel_id


@pytest.fixture
def session_factory(pg_database: str) -> Iterator[sessionmaker[Session]]:
    """The test's PostgreSQL database with the outbox, the inbox and the test's own tables."""
    engine = make_engine(pg_database)
    bus_metadata.create_all(engine)
    test_metadata.create_all(engine)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


# -- the producing and consuming sides -----------------------------------------------------------


def ship_parcel(session_factory: sessionmaker[Session], parcel_id: str | None = None) -> str:
    """A state change and its event in one unit of work; returns the parcel id."""
    parcel_id = parcel_id or uuid.uuid4().hex
    with SqlAlchemyUnitOfWork(session_factory, source=SOURCE) as uow:
        uow.session.execute(parcels.insert().values(id=parcel_id, status="shipped"))
        uow.publish(ParcelShipped(parcel_id))
        uow.commit()
    return parcel_id


def record_delivery(event: CloudEvent, uow: Any) -> None:
    uow.session.execute(
        deliveries.insert().values(
            event_id=event.id, parcel_id=event.data.get("parcel_id"), request_id=get_request_id()
        )
    )


def relay_once(settings: BusSettings, session_factory: sessionmaker[Session]) -> int:
    relay = OutboxRelay(settings, session_factory)
    try:
        return relay.relay_once()
    finally:
        relay.close()


def consumer_for(
    settings: BusSettings, spec: QueueSpec, session_factory: sessionmaker[Session], handler: Any
) -> EventConsumer:
    return EventConsumer(
        settings,
        spec,
        {ParcelShipped.event_type: handler},
        lambda: SqlAlchemyUnitOfWork(session_factory, source=SOURCE),
    )


def rows(session_factory: sessionmaker[Session], query: Any) -> list[Any]:
    with session_factory() as session:
        return list(session.execute(query).all())


def delivered_parcels(session_factory: sessionmaker[Session]) -> list[str]:
    return [r.parcel_id for r in rows(session_factory, sa.select(deliveries.c.parcel_id))]


def consumed(queue: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value("bus_messages_consumed_total", {"queue": queue, "outcome": outcome})
    return value or 0.0


# -- the tests -----------------------------------------------------------------------------------


def test_event_committed_with_state_change_is_delivered(
    session_factory: sessionmaker[Session], broker: Broker, background: Background
) -> None:
    spec = broker.consuming_queue("parcels", [ParcelShipped.event_type])
    background.start_consumer(consumer_for(broker.settings, spec, session_factory, record_delivery))

    parcel_id = ship_parcel(session_factory)
    [row] = rows(session_factory, sa.select(outbox))
    assert row.status == OUTBOX_PENDING

    assert relay_once(broker.settings, session_factory) == 1

    wait_until(lambda: delivered_parcels(session_factory), timeout=10, message="the delivery effect")
    assert delivered_parcels(session_factory) == [parcel_id]
    [row] = rows(session_factory, sa.select(outbox))
    assert row.status == OUTBOX_SENT
    assert row.sent_at is not None
    assert row.attempts == 1
    [seen] = rows(session_factory, sa.select(inbox))
    assert (seen.consumer, seen.event_id) == (spec.name, row.id)


def test_redelivered_event_applies_once(
    session_factory: sessionmaker[Session], broker: Broker, background: Background
) -> None:
    spec = broker.consuming_queue("parcels", [ParcelShipped.event_type])
    event = CloudEvent(type=ParcelShipped.event_type, source=SOURCE, data={"parcel_id": "p-1"})
    duplicates_before = consumed(spec.name, "duplicate")
    background.start_consumer(consumer_for(broker.settings, spec, session_factory, record_delivery))

    broker.publish(event.type, event.to_json(), message_id=event.id)
    broker.publish(event.type, event.to_json(), message_id=event.id)

    wait_until(
        lambda: consumed(spec.name, "duplicate") == duplicates_before + 1,
        timeout=10,
        message="the second delivery to count as a duplicate",
    )
    assert delivered_parcels(session_factory) == ["p-1"]
    assert [(r.consumer, r.event_id) for r in rows(session_factory, sa.select(inbox))] == [(spec.name, event.id)]
    assert consumed(spec.name, "processed") == 1


def test_failing_handler_ends_in_parking_with_its_error(
    session_factory: sessionmaker[Session], broker: Broker, background: Background
) -> None:
    settings = dataclasses.replace(broker.settings, max_retries=2, retry_delay_ms=200)
    spec = broker.consuming_queue("parcels", [ParcelShipped.event_type], settings)
    calls: list[str] = []

    def always_fails(event: CloudEvent, uow: Any) -> None:
        calls.append(event.id)
        record_delivery(event, uow)  # the effect must roll back with the failure
        raise ValueError("boom")

    background.start_consumer(consumer_for(settings, spec, session_factory, always_fails))
    event = CloudEvent(type=ParcelShipped.event_type, source=SOURCE, data={"parcel_id": "p-1"})
    broker.publish(event.type, event.to_json(), message_id=event.id)

    properties, body = wait_until(lambda: broker.get(spec.parking), timeout=10, message="the parked message")
    assert body == event.to_json()
    assert properties.message_id == event.id
    assert "boom" in properties.headers["x-error"]
    assert properties.headers["x-error"].startswith("ValueError")
    assert properties.headers["x-attempts"] == 3
    assert "x-death" not in properties.headers
    assert broker.count(spec.name) == 0
    assert broker.count(spec.retry) == 0
    assert calls == [event.id] * 3
    assert delivered_parcels(session_factory) == []
    assert rows(session_factory, sa.select(inbox)) == []
    wait_until(lambda: consumed(spec.name, "parked") == 1, timeout=5, message="the parked count")
    assert consumed(spec.name, "retried") == 2


def test_parked_message_keeps_the_routing_key_it_was_published_with(
    session_factory: sessionmaker[Session], broker: Broker, background: Background
) -> None:
    """An operator shovels a parked message back to the exchange with `x-original-routing-key`."""

    def always_fails(event: CloudEvent, uow: Any) -> None:
        raise ValueError("boom")

    spec = broker.consuming_queue("parcels", [ParcelShipped.event_type])
    background.start_consumer(consumer_for(broker.settings, spec, session_factory, always_fails))
    event = CloudEvent(type=ParcelShipped.event_type, source=SOURCE, data={"parcel_id": "p-1"})
    broker.publish(event.type, event.to_json(), message_id=event.id)

    properties, _body = wait_until(lambda: broker.get(spec.parking), timeout=10, message="the parked message")
    assert properties.headers["x-attempts"] == broker.settings.max_retries + 1
    assert properties.headers["x-original-routing-key"] == event.type


def test_handler_that_fails_once_then_succeeds_is_retried(
    session_factory: sessionmaker[Session], broker: Broker, background: Background
) -> None:
    calls: list[float] = []

    def fails_first_time(event: CloudEvent, uow: Any) -> None:
        calls.append(time.monotonic())
        record_delivery(event, uow)
        if len(calls) == 1:
            raise ConnectionError("the mail server is down")

    spec = broker.consuming_queue("parcels", [ParcelShipped.event_type])
    background.start_consumer(consumer_for(broker.settings, spec, session_factory, fails_first_time))
    event = CloudEvent(type=ParcelShipped.event_type, source=SOURCE, data={"parcel_id": "p-1"})
    broker.publish(event.type, event.to_json(), message_id=event.id)

    wait_until(lambda: delivered_parcels(session_factory), timeout=10, message="the retried delivery")
    wait_until(lambda: consumed(spec.name, "processed") == 1, timeout=5, message="the ack")
    assert delivered_parcels(session_factory) == ["p-1"]
    assert len(calls) == 2
    # The retry waited in the retry queue for its TTL rather than coming straight back.
    assert calls[1] - calls[0] >= broker.settings.retry_delay_ms / 1000 * 0.8
    assert len(rows(session_factory, sa.select(inbox))) == 1
    assert consumed(spec.name, "retried") == 1
    assert broker.count(spec.parking) == 0
    assert broker.count(spec.retry) == 0


def test_rolled_back_transaction_publishes_nothing(session_factory: sessionmaker[Session], broker: Broker) -> None:
    tap = broker.tap(ParcelShipped.event_type)

    with SqlAlchemyUnitOfWork(session_factory, source=SOURCE) as uow:
        uow.session.execute(parcels.insert().values(id="never-committed", status="shipped"))
        uow.publish(ParcelShipped("never-committed"))
    with (
        pytest.raises(RuntimeError, match="the label printer jammed"),
        SqlAlchemyUnitOfWork(session_factory, source=SOURCE) as uow,
    ):
        uow.session.execute(parcels.insert().values(id="failed-midway", status="shipped"))
        uow.publish(ParcelShipped("failed-midway"))
        raise RuntimeError("the label printer jammed")

    assert rows(session_factory, sa.select(outbox)) == []
    assert rows(session_factory, sa.select(parcels)) == []
    assert relay_once(broker.settings, session_factory) == 0
    assert broker.get(tap) is None


def test_relay_publishes_rows_written_while_broker_down(
    session_factory: sessionmaker[Session],
    broker: Broker,
    background: Background,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Declared (durable) before the broker stops, so it is there after the restart.
    spec = broker.consuming_queue("parcels", [ParcelShipped.event_type])
    consumer = background.start_consumer(consumer_for(broker.settings, spec, session_factory, record_delivery))
    relay = background.start(OutboxRelay(broker.settings, session_factory))
    before = ship_parcel(session_factory)
    wait_until(lambda: delivered_parcels(session_factory) == [before], timeout=10, message="the first event")

    with broker_stopped(broker):
        wait_until(lambda: not consumer.connected.is_set(), timeout=10, message="the consumer to notice")
        during = [ship_parcel(session_factory) for _ in range(3)]
        wait_until(
            lambda: sum(r.message == "relay cannot reach the broker" for r in caplog.records) >= 2,
            timeout=15,
            message="the relay to fail and try again",
        )
        pending = rows(session_factory, sa.select(outbox.c.id).where(outbox.c.status == OUTBOX_PENDING))
        assert len(pending) == 3
        assert relay.publisher is None

    wait_until(
        lambda: len(delivered_parcels(session_factory)) >= 4,
        timeout=60,
        interval=0.2,
        message="the events committed while the broker was down",
    )
    wait_until(
        lambda: not rows(session_factory, sa.select(outbox.c.id).where(outbox.c.status != OUTBOX_SENT)),
        timeout=10,
        message="every outbox row to be marked sent",
    )
    assert sorted(delivered_parcels(session_factory)) == sorted([before, *during])
    assert len(rows(session_factory, sa.select(inbox))) == 4


def test_a_commit_wakes_the_idle_relay_before_its_next_poll(
    session_factory: sessionmaker[Session], broker: Broker, background: Background
) -> None:
    # A poll every 20 s: the event can only arrive sooner because the commit's NOTIFY woke the relay.
    settings = dataclasses.replace(broker.settings, relay_idle_seconds=20.0)
    spec = broker.consuming_queue("parcels", [ParcelShipped.event_type])
    background.start_consumer(consumer_for(settings, spec, session_factory, record_delivery))
    relay = background.start(OutboxRelay(settings, session_factory))
    wait_until(lambda: relay.wakeup is not None, timeout=10, message="the relay to go idle, listening")
    parcel = ship_parcel(session_factory)
    wait_until(lambda: delivered_parcels(session_factory) == [parcel], timeout=10, message="the woken relay")
    # A rolled-back write leaves no row (and its NOTIFY is dropped with it).
    with SqlAlchemyUnitOfWork(session_factory, source=SOURCE) as uow:
        uow.publish(ParcelShipped("never"))
        add_to_outbox(uow.session, SOURCE, list(uow.collect_events()))
        uow.rollback()
    assert len(rows(session_factory, sa.select(outbox.c.id))) == 1


def test_two_relays_never_publish_a_row_twice(session_factory: sessionmaker[Session], broker: Broker) -> None:
    tap = broker.tap(ParcelShipped.event_type)
    with session_factory() as session, session.begin():
        staged = add_to_outbox(session, SOURCE, [ParcelShipped(f"p-{n}") for n in range(2000)])
    settings = dataclasses.replace(broker.settings, relay_batch_size=100)
    start = threading.Barrier(2)
    published: dict[int, int] = collections.Counter()
    errors: list[BaseException] = []

    def drain_outbox(worker: int) -> None:
        relay = OutboxRelay(settings, session_factory)
        try:
            start.wait(timeout=10)
            while sent := relay.relay_once():
                published[worker] += sent
        except BaseException as exc:
            errors.append(exc)
        finally:
            relay.close()

    threads = [threading.Thread(target=drain_outbox, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert published[0] > 0 and published[1] > 0, f"both relays should have had work: {published}"
    assert published[0] + published[1] == 2000
    assert rows(session_factory, sa.select(outbox.c.id).where(outbox.c.status != OUTBOX_SENT)) == []
    message_ids = broker.drain_message_ids(tap)
    repeated = [mid for mid, n in collections.Counter(message_ids).items() if n > 1]
    assert repeated == []
    assert sorted(message_ids) == sorted(ce.id for ce in staged)


def test_unreadable_message_is_parked_without_retry(
    session_factory: sessionmaker[Session], broker: Broker, background: Background
) -> None:
    calls: list[CloudEvent] = []
    spec = broker.consuming_queue("parcels", [ParcelShipped.event_type])
    background.start_consumer(
        consumer_for(broker.settings, spec, session_factory, lambda event, uow: calls.append(event))
    )

    broker.publish(ParcelShipped.event_type, b"<parcel>not json</parcel>", message_id="garbled-1")

    properties, body = wait_until(lambda: broker.get(spec.parking), timeout=10, message="the parked message")
    assert body == b"<parcel>not json</parcel>"
    assert properties.message_id == "garbled-1"
    assert properties.headers["x-error"].startswith("unreadable envelope: not JSON")
    assert properties.headers["x-attempts"] == 1
    assert calls == []
    wait_until(lambda: consumed(spec.name, "parked") == 1, timeout=5, message="the parked count")
    assert consumed(spec.name, "retried") == 0
    assert broker.count(spec.retry) == 0
    assert broker.count(spec.name) == 0
    assert rows(session_factory, sa.select(inbox)) == []


def test_quorum_queues_selectable(broker: Broker) -> None:
    quorum = broker.consuming_queue(
        "quorum", [ParcelShipped.event_type], dataclasses.replace(broker.settings, quorum_queues=True)
    )
    classic = broker.consuming_queue("classic", [ParcelShipped.event_type])

    listed = broker.rabbitmqctl("-q", "list_queues", "-p", broker.vhost, "--no-table-headers", "name", "type")
    types = dict(line.split() for line in listed.splitlines() if line.strip())
    assert {name: types.get(name) for name in (quorum.name, quorum.retry, quorum.parking)} == {
        quorum.name: "quorum",
        quorum.retry: "quorum",
        quorum.parking: "quorum",
    }
    assert {name: types.get(name) for name in (classic.name, classic.retry, classic.parking)} == {
        classic.name: "classic",
        classic.retry: "classic",
        classic.parking: "classic",
    }


def test_request_id_travels_in_headers_and_envelope(
    session_factory: sessionmaker[Session], broker: Broker, background: Background
) -> None:
    tap = broker.tap(ParcelShipped.event_type)
    spec = broker.consuming_queue("parcels", [ParcelShipped.event_type])
    background.start_consumer(consumer_for(broker.settings, spec, session_factory, record_delivery))
    request_id = f"req-{uuid.uuid4().hex}"

    token = set_request_id(request_id)
    try:
        ship_parcel(session_factory)
    finally:
        reset_request_id(token)
    assert relay_once(broker.settings, session_factory) == 1

    properties, body = wait_until(lambda: broker.get(tap), timeout=10, message="the published message")
    assert properties.headers["x-request-id"] == request_id
    assert json.loads(body)["requestid"] == request_id
    wait_until(lambda: delivered_parcels(session_factory), timeout=10, message="the delivery effect")
    assert [r.request_id for r in rows(session_factory, sa.select(deliveries.c.request_id))] == [request_id]


def test_event_processed_concurrently_by_two_workers_applies_once_and_counts_a_duplicate(
    session_factory: sessionmaker[Session], bus_settings: BusSettings
) -> None:
    spec = QueueSpec("bustest.parcels.shared", (ParcelShipped.event_type,))
    event = CloudEvent(type=ParcelShipped.event_type, source=SOURCE, data={"parcel_id": "p-1"})
    outcomes: list[str] = []
    calls: list[str] = []

    def second_delivery_arrives_meanwhile(event: CloudEvent, uow: Any) -> None:
        record_delivery(event, uow)
        calls.append(event.id)
        if len(calls) == 1:
            # The same event reaches a second worker (a redelivery) while the first is still busy.
            other.start()
            other.join(timeout=1)  # it may finish first, or wait on the first's inbox row

    first = consumer_for(bus_settings, spec, session_factory, second_delivery_arrives_meanwhile)
    second = consumer_for(bus_settings, spec, session_factory, second_delivery_arrives_meanwhile)
    other = threading.Thread(target=lambda: outcomes.append(second.process(event.to_json())))

    try:
        outcomes.append(first.process(event.to_json()))
    finally:
        other.join(timeout=10)
        assert delivered_parcels(session_factory) == ["p-1"]  # never a doubled effect
    assert sorted(outcomes) == ["duplicate", "processed"]
    assert len(rows(session_factory, sa.select(inbox))) == 1


@dataclasses.dataclass
class ParcelInspected(DomainEvent):
    event_type = "bustest.parcel.inspected"
    parcel_id: str


def test_batch_isolates_a_failing_handler(session_factory: sessionmaker[Session]) -> None:
    """Messages applied together share one commit; a failure rolls back only its own effects and events."""

    def inspect(event: CloudEvent, uow: Any) -> None:
        record_delivery(event, uow)
        uow.publish(ParcelInspected(event.data["parcel_id"]))
        if event.data["parcel_id"] == "bad":
            raise ValueError("cannot inspect")

    settings = BusSettings(amqp_url="amqp://unused", exchange="unused")
    consumer = consumer_for(settings, QueueSpec(f"bustest.batch.{uuid.uuid4().hex[:6]}", []), session_factory, inspect)
    events = [CloudEvent(ParcelShipped.event_type, SOURCE, {"parcel_id": p}) for p in ("a", "bad", "c")]
    outcomes = consumer.process_batch([e.to_json() for e in events] + [events[0].to_json(), b"not json"])

    assert outcomes[0] == "processed" and outcomes[2] == "processed" and outcomes[3] == "duplicate"
    assert isinstance(outcomes[1], ValueError)
    assert type(outcomes[4]).__name__ == "EnvelopeError"
    assert sorted(delivered_parcels(session_factory)) == ["a", "c"]
    published = [json.loads(r.body)["data"]["parcel_id"] for r in rows(session_factory, sa.select(outbox.c.body))]
    assert sorted(published) == ["a", "c"]
    claimed = [r.event_id for r in rows(session_factory, sa.select(inbox.c.event_id))]
    assert sorted(claimed) == sorted([events[0].id, events[2].id])
    # The failed one can be applied on its retry.
    assert consumer.process_batch([events[1].to_json()])[0].__class__ is ValueError


def test_a_handler_that_swallows_a_failed_statement_is_retried_and_the_rest_of_its_window_kept(
    session_factory: sessionmaker[Session],
) -> None:
    """PostgreSQL answers COMMIT in an aborted transaction with ROLLBACK and psycopg raises nothing: without the
    check, the window's effects and inbox claims would vanish while every message was acked as processed."""

    def record_twice(event: CloudEvent, uow: Any) -> None:
        record_delivery(event, uow)
        if event.data["parcel_id"] == "swallowed":
            uow.session.execute(parcels.insert().values(id=event.id, status="delivered"))
            # The mistake under test: the primary-key violation of inserting it again is caught, and the
            # transaction stays aborted.
            with contextlib.suppress(sa.exc.IntegrityError):
                uow.session.execute(parcels.insert().values(id=event.id, status="delivered"))

    settings = BusSettings(amqp_url="amqp://unused", exchange="unused")
    spec = QueueSpec(f"bustest.aborted.{uuid.uuid4().hex[:6]}", [])
    consumer = consumer_for(settings, spec, session_factory, record_twice)
    events = [CloudEvent(ParcelShipped.event_type, SOURCE, {"parcel_id": p}) for p in ("a", "swallowed", "c")]

    outcomes = consumer.process_batch([e.to_json() for e in events])

    assert outcomes[0] == "processed" and outcomes[2] == "processed"
    assert isinstance(outcomes[1], TransactionAborted)
    assert sorted(delivered_parcels(session_factory)) == ["a", "c"]
    claimed = [r.event_id for r in rows(session_factory, sa.select(inbox.c.event_id))]
    assert sorted(claimed) == sorted([events[0].id, events[2].id])


def test_a_unit_of_work_refuses_to_commit_a_transaction_postgresql_aborted(
    session_factory: sessionmaker[Session],
) -> None:
    """Nothing is half written, and nothing is reported saved that was not: the commit raises, the row is not there."""
    parcel_id = uuid.uuid4().hex
    with pytest.raises(TransactionAborted), SqlAlchemyUnitOfWork(session_factory, source=SOURCE) as uow:
        uow.session.execute(parcels.insert().values(id=parcel_id, status="shipped"))
        with contextlib.suppress(sa.exc.IntegrityError):
            uow.session.execute(parcels.insert().values(id=parcel_id, status="shipped"))
        uow.commit()
    assert rows(session_factory, sa.select(parcels.c.id).where(parcels.c.id == parcel_id)) == []
    ship_parcel(session_factory, parcel_id)  # the pooled connection is usable again
    assert rows(session_factory, sa.select(parcels.c.id).where(parcels.c.id == parcel_id)) == [(parcel_id,)]
