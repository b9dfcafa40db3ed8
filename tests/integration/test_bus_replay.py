"""`cio-bus replay` against the real broker, on the test session's own vhost: parked messages are listed first,
moved back through their retry path only with `--apply`, and the consumer applies them once the cause is fixed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shared.bus.envelope import CloudEvent
from tests.helpers import wait_until
from tests.integration.conftest import Background, Broker
from tests.integration.test_bus import (  # noqa: F401 (session_factory is a fixture)
    SOURCE,
    ParcelShipped,
    consumer_for,
    delivered_parcels,
    record_delivery,
    session_factory,
)

pytestmark = pytest.mark.integration

CIO_BUS = str(Path(sys.executable).with_name("cio-bus"))


def cio_bus(broker: Broker, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, as an operator runs it."""
    return subprocess.run(
        [CIO_BUS, "--amqp-url", broker.settings.amqp_url, "replay", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_replay_lists_then_moves_the_messages_parked_since_a_time_back_to_their_consumer(
    session_factory: sessionmaker[Session],  # noqa: F811
    broker: Broker,
    background: Background,
) -> None:
    settings = dataclasses.replace(broker.settings, max_retries=1, retry_delay_ms=200)
    spec = broker.consuming_queue("parcels", [ParcelShipped.event_type], settings)
    mail_server_down = True

    def delivers(event: CloudEvent, uow: Any) -> None:
        if mail_server_down:
            raise ConnectionError("the mail server is down")
        record_delivery(event, uow)

    background.start_consumer(consumer_for(settings, spec, session_factory, delivers))
    old = CloudEvent(type=ParcelShipped.event_type, source=SOURCE, data={"parcel_id": "p-old"})
    broker.publish(old.type, old.to_json(), message_id=old.id)
    wait_until(lambda: broker.count(spec.parking) == 1, timeout=10, message="the first parked message")
    time.sleep(0.01)  # the two parkings fall on either side of `since`
    since = dt.datetime.now(dt.UTC)
    new = CloudEvent(type=ParcelShipped.event_type, source=SOURCE, data={"parcel_id": "p-new"})
    broker.publish(new.type, new.to_json(), message_id=new.id)
    wait_until(lambda: broker.count(spec.parking) == 2, timeout=10, message="the second parked message")

    listing = cio_bus(broker, "--queue", spec.name, "--since", since.isoformat())
    assert listing.returncode == 0, listing.stderr
    assert new.id in listing.stdout and old.id not in listing.stdout
    assert "ConnectionError: the mail server is down" in listing.stdout
    assert "1 parked messages would move to" in listing.stdout and "1 older ones stay parked" in listing.stdout
    assert broker.count(spec.parking) == 2  # the dry run moved nothing, lost nothing
    assert delivered_parcels(session_factory) == []

    mail_server_down = False
    moved = cio_bus(broker, "--queue", spec.name, "--since", since.isoformat(), "--apply")
    assert moved.returncode == 0, moved.stderr
    assert f"1 parked messages moved to {spec.retry}" in moved.stdout
    wait_until(lambda: delivered_parcels(session_factory) == ["p-new"], timeout=10, message="the replayed delivery")
    assert broker.count(spec.parking) == 1
    properties, _ = broker.get(spec.parking) or (None, None)
    assert properties is not None and properties.message_id == old.id


def test_a_replayed_message_that_fails_again_is_parked_under_its_first_routing_key(
    session_factory: sessionmaker[Session],  # noqa: F811
    broker: Broker,
    background: Background,
) -> None:
    settings = dataclasses.replace(broker.settings, max_retries=1, retry_delay_ms=200)
    spec = broker.consuming_queue("parcels", [ParcelShipped.event_type], settings)

    def always_fails(event: CloudEvent, uow: Any) -> None:
        raise ValueError("still broken")

    background.start_consumer(consumer_for(settings, spec, session_factory, always_fails))
    since = dt.datetime.now(dt.UTC)
    event = CloudEvent(type=ParcelShipped.event_type, source=SOURCE, data={"parcel_id": "p-1"})
    broker.publish(event.type, event.to_json(), message_id=event.id)
    wait_until(lambda: broker.count(spec.parking) == 1, timeout=10, message="the parked message")

    assert cio_bus(broker, "--queue", spec.name, "--since", since.isoformat(), "--apply").returncode == 0
    # It went round its retry path again, with a fresh budget, and was parked again.
    wait_until(
        lambda: broker.count(spec.parking) == 1 and broker.count(spec.retry) == 0,
        timeout=10,
        message="the second parking",
    )
    properties, _ = wait_until(lambda: broker.get(spec.parking), timeout=10, message="the parked again message")
    assert properties.headers["x-original-routing-key"] == event.type
    assert properties.headers["x-attempts"] == settings.max_retries + 1
    assert "x-replayed-at" in properties.headers


def test_replay_names_a_queue_that_does_not_exist(broker: Broker) -> None:
    missing = cio_bus(broker, "--queue", "nobody.listens", "--since", "2026-12-04T00:00:00Z")
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr and "nobody.listens.parking" in missing.stderr


def test_replay_refuses_a_time_without_an_offset(broker: Broker) -> None:
    naive = cio_bus(broker, "--queue", "identity.appointments", "--since", "2026-12-04T08:00:00")
    assert naive.returncode == 2 and "has no UTC offset" in naive.stderr
