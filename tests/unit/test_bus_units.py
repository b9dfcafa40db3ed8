"""The bus's pure parts: the envelope, retry counting, relay backoff and staging in the outbox (no broker)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import pika
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.bus.consumer import BatchHandler, EventConsumer, attempts_so_far
from shared.bus.envelope import CloudEvent, EnvelopeError
from shared.bus.outbox import add_to_outbox, to_cloud_event
from shared.bus.publisher import ConfirmingPublisher, OutgoingMessage, forwarded_properties, message_properties
from shared.bus.relay import MAX_BACKOFF_SECONDS, backoff_seconds
from shared.bus.tables import OUTBOX_PENDING, bus_metadata, inbox, outbox
from shared.bus.topology import QueueSpec
from shared.config import BusSettings
from shared.db import SqlAlchemyUnitOfWork, make_engine, make_session_factory
from shared.events import DomainEvent
from shared.logging import reset_request_id, set_request_id


@dataclasses.dataclass
class ParcelShipped(DomainEvent):
    event_type = "bustest.parcel.shipped"
    parcel_id: str
    weight_kg: int

    @property
    def subject(self) -> str | None:
        return self.parcel_id


def _valid_body(**overrides: object) -> bytes:
    body: dict[str, object] = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "bustest",
        "type": "bustest.parcel.shipped",
        "data": {"parcel_id": "p-1"},
    }
    body.update(overrides)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


# -- the envelope --------------------------------------------------------------------------------


def test_envelope_survives_a_round_trip() -> None:
    event = CloudEvent(
        type="bustest.parcel.shipped",
        source="bustest",
        data={"parcel_id": "p-1", "note": "易碎"},
        subject="p-1",
        requestid="req-1",
    )

    wire = json.loads(event.to_json())
    assert wire["specversion"] == "1.0"
    assert wire["datacontenttype"] == "application/json"
    assert CloudEvent.from_json(event.to_json()) == event


def test_envelope_leaves_out_absent_optional_attributes() -> None:
    wire = CloudEvent(type="bustest.parcel.shipped", source="bustest", data={}).to_dict()

    assert "subject" not in wire
    assert "requestid" not in wire


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"not json at all", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (_valid_body(specversion="0.3"), "unsupported specversion"),
        (_valid_body(specversion=None), "unsupported specversion"),
        (_valid_body(id=None), "missing attributes: id"),
        (_valid_body(source=""), "missing attributes: source"),
        (_valid_body(type=None, id=None), "missing attributes: id, type"),
        (_valid_body(data=[1]), "data must be a JSON object"),
    ],
    ids=[
        "bad-json",
        "bad-utf8",
        "not-an-object",
        "wrong-specversion",
        "no-specversion",
        "no-id",
        "empty-source",
        "no-id-no-type",
        "data-not-object",
    ],
)
def test_unreadable_envelope_is_an_envelope_error(body: bytes, complaint: str) -> None:
    with pytest.raises(EnvelopeError, match=complaint):
        CloudEvent.from_json(body)


def test_envelope_error_is_a_value_error() -> None:
    assert issubclass(EnvelopeError, ValueError)


# -- counting attempts from x-death --------------------------------------------------------------


def test_attempts_so_far_counts_rejections_by_this_queue() -> None:
    properties = pika.BasicProperties(
        headers={
            "x-death": [
                {"queue": "billing.parcels.retry", "reason": "expired", "count": 2},
                {"queue": "other.parcels", "reason": "rejected", "count": 7},
                {"queue": "billing.parcels", "reason": "rejected", "count": 2},
            ]
        }
    )

    assert attempts_so_far(properties, "billing.parcels") == 2


@pytest.mark.parametrize(
    "headers",
    [
        None,
        {},
        {"x-death": None},
        {"x-death": [{"queue": "billing.parcels", "reason": "expired", "count": 3}]},
        {"x-death": [{"queue": "other.parcels", "reason": "rejected", "count": 3}]},
    ],
    ids=["no-headers", "empty-headers", "null-x-death", "expired-only", "other-queue"],
)
def test_first_delivery_has_no_attempts_so_far(headers: dict[str, object] | None) -> None:
    assert attempts_so_far(pika.BasicProperties(headers=headers), "billing.parcels") == 0


# -- relay backoff -------------------------------------------------------------------------------


def test_a_forwarded_message_keeps_its_identity_and_takes_the_new_headers() -> None:
    received = message_properties("m-1", "bustest.parcel.shipped", "req-1")
    forwarded = forwarded_properties(received, {"x-error": "boom"})
    assert (forwarded.content_type, forwarded.message_id, forwarded.type) == (
        "application/cloudevents+json",
        "m-1",
        "bustest.parcel.shipped",
    )
    assert forwarded.delivery_mode == pika.DeliveryMode.Persistent.value
    assert forwarded.headers == {"x-error": "boom"}


def test_relay_backoff_doubles_with_each_attempt() -> None:
    assert [backoff_seconds(n) for n in range(0, 6)] == [1.0, 1.0, 2.0, 4.0, 8.0, 16.0]


def test_relay_backoff_is_capped() -> None:
    assert backoff_seconds(9) == 256.0
    assert backoff_seconds(10) == MAX_BACKOFF_SECONDS
    assert backoff_seconds(1000) == MAX_BACKOFF_SECONDS


# -- publisher confirms --------------------------------------------------------------------------


class _ScriptedBroker:
    """A connection (and its channel) whose broker answers a batch with the confirm frames it is given."""

    def __init__(self, confirms: list[pika.spec.Basic.Ack | pika.spec.Basic.Nack]) -> None:
        self.confirms = confirms
        self.published: list[str] = []
        self.timers: list[float] = []
        self.on_confirm: Callable[[Any], None] = lambda _frame: None
        self._impl = self

    def channel(self) -> _ScriptedBroker:
        return self

    def close(self) -> None:
        """The publisher reopens its channel after a failed batch."""

    def confirm_delivery(self, ack_nack_callback: Callable[[Any], None]) -> None:
        self.on_confirm = ack_nack_callback

    def add_on_return_callback(self, _callback: object) -> None:
        """No message of these tests is unroutable."""

    def basic_publish(self, _exchange: str, _key: str, _body: bytes, properties: Any, mandatory: bool) -> None:
        self.published.append(properties.message_id)

    def process_data_events(self, time_limit: float = 0) -> None:
        while self.published and self.confirms:
            self.on_confirm(dataclasses.make_dataclass("Frame", ["method"])(self.confirms.pop(0)))

    def call_later(self, delay: float, _callback: object) -> None:
        self.timers.append(delay)


def test_confirms_settle_the_tags_they_name_and_end_the_wait_with_the_last() -> None:
    broker = _ScriptedBroker(
        [
            pika.spec.Basic.Ack(delivery_tag=2, multiple=True),
            pika.spec.Basic.Nack(delivery_tag=4),
            pika.spec.Basic.Ack(delivery_tag=3),
            pika.spec.Basic.Ack(delivery_tag=5, multiple=True),
        ]
    )
    publisher = ConfirmingPublisher(broker, "ex")  # type: ignore[arg-type]
    messages = [OutgoingMessage(f"m-{n}", "bustest.parcel.shipped", b"{}") for n in range(1, 6)]

    confirmed, failed = publisher.publish_batch(messages)

    assert broker.published == ["m-1", "m-2", "m-3", "m-4", "m-5"]
    assert (confirmed, failed) == ({"m-1", "m-2", "m-3", "m-5"}, {"m-4"})
    assert broker.timers == [0]  # once nothing is in flight, a timer due now ends the wait


def test_a_multiple_confirm_leaves_the_later_tags_in_flight() -> None:
    broker = _ScriptedBroker([pika.spec.Basic.Ack(delivery_tag=2, multiple=True)])
    publisher = ConfirmingPublisher(broker, "ex")  # type: ignore[arg-type]
    messages = [OutgoingMessage(f"m-{n}", "bustest.parcel.shipped", b"{}") for n in range(1, 4)]

    confirmed, failed = publisher.publish_batch(messages, timeout=0.01)

    assert (confirmed, failed) == ({"m-1", "m-2"}, {"m-3"})
    assert broker.timers == []


# -- staging in the outbox -----------------------------------------------------------------------


@pytest.fixture
def session_factory(pg_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(pg_database)
    bus_metadata.create_all(engine)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def test_add_to_outbox_stages_pending_rows(session_factory: sessionmaker[Session]) -> None:
    token = set_request_id("req-42")
    try:
        with session_factory() as session, session.begin():
            staged = add_to_outbox(session, "bustest", [ParcelShipped("p-1", 3), ParcelShipped("p-2", 5)])
    finally:
        reset_request_id(token)

    with session_factory() as session:
        rows = {row.id: row for row in session.execute(select(outbox)).all()}
    assert set(rows) == {ce.id for ce in staged}
    for ce in staged:
        row = rows[ce.id]
        assert row.status == OUTBOX_PENDING
        assert row.attempts == 0
        assert row.type == "bustest.parcel.shipped"
        assert row.request_id == "req-42"
        assert row.sent_at is None
        assert row.next_attempt_at is not None
        assert CloudEvent.from_json(row.body) == ce
    assert sorted(ce.data["parcel_id"] for ce in staged) == ["p-1", "p-2"]
    assert {ce.subject for ce in staged} == {"p-1", "p-2"}
    assert {ce.source for ce in staged} == {"bustest"}


def test_an_import_of_ten_thousand_events_is_staged_whole(session_factory: sessionmaker[Session]) -> None:
    """A certificate import stages one event per row: 10,001 rows are more parameters than one PostgreSQL statement
    takes (65,535), and every one of them is staged, in the one transaction."""
    events = [ParcelShipped(f"p-{i}", i) for i in range(10_001)]
    with session_factory() as session, session.begin():
        staged = add_to_outbox(session, "bustest", events)

    with session_factory() as session:
        ids = set(session.scalars(select(outbox.c.id)))
    assert len(staged) == 10_001
    assert ids == {ce.id for ce in staged}


def test_add_to_outbox_with_no_events_writes_nothing(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, session.begin():
        assert add_to_outbox(session, "bustest", []) == []

    with session_factory() as session:
        assert session.execute(select(outbox)).all() == []


def test_outbox_rows_leave_only_with_the_commit(session_factory: sessionmaker[Session]) -> None:
    with SqlAlchemyUnitOfWork(session_factory, source="bustest") as uow:
        uow.publish(ParcelShipped("p-1", 3))

    with session_factory() as session:
        assert session.execute(select(outbox)).all() == []

    with SqlAlchemyUnitOfWork(session_factory, source="bustest") as uow:
        uow.publish(ParcelShipped("p-1", 3))
        uow.commit()

    with session_factory() as session:
        assert [row.status for row in session.execute(select(outbox)).all()] == [OUTBOX_PENDING]


def test_a_built_cloud_event_goes_to_the_wire_unchanged() -> None:
    event = CloudEvent(type="bustest.parcel.shipped", source="elsewhere", data={"a": 1})

    assert to_cloud_event(event, "bustest") is event


def test_the_inbox_claims_each_event_once_within_and_across_batches(session_factory: sessionmaker[Session]) -> None:
    applied: list[str] = []
    consumer = EventConsumer(
        BusSettings(amqp_url="amqp://unused", exchange="unused"),
        QueueSpec("bustest.claims", []),
        {"bustest.parcel.shipped": lambda event, _uow: applied.append(event.data["parcel_id"])},
        lambda: SqlAlchemyUnitOfWork(session_factory, source="bustest"),
    )
    a, b, c = (CloudEvent("bustest.parcel.shipped", "bustest", {"parcel_id": p}) for p in "abc")
    other = CloudEvent("bustest.parcel.lost", "bustest", {"parcel_id": "d"})

    first = consumer.process_batch([a.to_json(), b.to_json(), a.to_json(), other.to_json()])
    second = consumer.process_batch([b.to_json(), c.to_json()])

    assert first == ["processed", "processed", "duplicate", "ignored"]
    assert second == ["duplicate", "processed"]
    assert applied == ["a", "b", "c"]
    with session_factory() as session:
        claimed = {(row.consumer, row.event_id, row.event_type) for row in session.execute(select(inbox)).all()}
    assert claimed == {("bustest.claims", e.id, e.type) for e in (a, b, c, other)}


def test_a_batch_handler_gets_consecutive_events_together(session_factory: sessionmaker[Session]) -> None:
    runs: list[list[str]] = []
    batched = BatchHandler(lambda events, _uow: runs.append([e.data["parcel_id"] for e in events]))
    consumer = EventConsumer(
        BusSettings(amqp_url="amqp://unused", exchange="unused"),
        QueueSpec("bustest.runs", []),
        {
            "bustest.parcel.shipped": batched,
            "bustest.parcel.returned": batched,
            "bustest.parcel.lost": lambda event, _uow: runs.append(["lost " + event.data["parcel_id"]]),
        },
        lambda: SqlAlchemyUnitOfWork(session_factory, source="bustest"),
    )
    shipped = [CloudEvent("bustest.parcel.shipped", "bustest", {"parcel_id": p}) for p in "ab"]
    returned = CloudEvent("bustest.parcel.returned", "bustest", {"parcel_id": "c"})
    lost = CloudEvent("bustest.parcel.lost", "bustest", {"parcel_id": "d"})
    later = CloudEvent("bustest.parcel.shipped", "bustest", {"parcel_id": "e"})

    outcomes = consumer.process_batch([e.to_json() for e in (*shipped, returned, lost, later)])

    assert outcomes == ["processed"] * 5
    assert runs == [["a", "b", "c"], ["lost d"], ["e"]]


def test_a_failing_run_is_applied_again_one_by_one_and_only_its_culprit_fails(
    session_factory: sessionmaker[Session],
) -> None:
    """The run cannot say which event broke it: the batch is rolled back and applied event by event, so the others
    commit and only the failing message goes to the retry path."""
    runs: list[list[str]] = []

    def ship(events: list[CloudEvent], _uow: Any) -> None:
        runs.append([e.data["parcel_id"] for e in events])
        if any(e.data["parcel_id"] == "b" for e in events):
            raise ValueError("no address")

    consumer = EventConsumer(
        BusSettings(amqp_url="amqp://unused", exchange="unused"),
        QueueSpec("bustest.culprit", []),
        {"bustest.parcel.shipped": BatchHandler(ship)},
        lambda: SqlAlchemyUnitOfWork(session_factory, source="bustest"),
    )
    events = [CloudEvent("bustest.parcel.shipped", "bustest", {"parcel_id": p}) for p in "abc"]

    outcomes = consumer.process_batch([e.to_json() for e in events])

    assert outcomes[0] == "processed" and outcomes[2] == "processed"
    assert isinstance(outcomes[1], ValueError)
    # together; then one by one (b fails, the transaction rolls back); then the rest without b
    assert runs == [["a", "b", "c"], ["a"], ["b"], ["a"], ["c"]]
    with session_factory() as session:
        claimed = {row.event_id for row in session.execute(select(inbox)).all()}
    assert claimed == {events[0].id, events[2].id}
