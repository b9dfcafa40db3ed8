"""A service's worker is built from its declaration: one consumer per subscription, the outbox relay only for a
service that publishes, its timers; and every service's declaration follows the house's names. Starts nothing:
the components are built, never run."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import MetaData

from deploy.service_catalog import service_names
from shared.bus.consumer import EventConsumer
from shared.bus.relay import OutboxRelay
from shared.config import BusSettings
from shared.service import Ports, ServiceSpec, Subscription, worker_components
from shared.worker import PeriodicTask

BUS = BusSettings(amqp_url="amqp://guest:guest@broker.invalid:5672/%2F")


def on_parcel(event: Any, uow: Any) -> None:
    """A handler the test never calls."""


HANDLERS = {"depot.parcel.shipped": on_parcel, "depot.parcel.lost": on_parcel}


def timers(service: Any) -> list[PeriodicTask]:
    return [PeriodicTask("depot-sweep", 60.0, lambda: None)]


def depot(publishes: bool, **overrides: Any) -> ServiceSpec:
    return ServiceSpec(
        name="depot",
        metadata=MetaData(),
        ports=Ports(web=8190, worker=9190),
        routes=("/api/parcels",),
        publishes=publishes,
        **overrides,
    )


def wired() -> SimpleNamespace:
    return SimpleNamespace(settings=SimpleNamespace(bus=BUS), session_factory=lambda: None, uow=lambda: None)


def test_a_publishing_service_runs_the_relay_then_its_consumers_then_its_timers() -> None:
    spec = depot(
        True,
        subscriptions=(Subscription("depot.parcels", f"{__name__}:HANDLERS"),),
        timers=f"{__name__}:timers",
    )
    relay, consumer, timer = worker_components(spec, wired())
    assert isinstance(relay, OutboxRelay)
    assert isinstance(consumer, EventConsumer) and consumer.spec.name == "depot.parcels"
    assert list(consumer.spec.bindings) == ["depot.parcel.lost", "depot.parcel.shipped"]
    assert consumer.handlers == HANDLERS
    assert isinstance(timer, PeriodicTask) and timer.name == "depot-sweep"


def test_a_service_that_publishes_nothing_runs_no_relay() -> None:
    spec = depot(False, subscriptions=(Subscription("depot.parcels", f"{__name__}:HANDLERS"),))
    assert [type(part) for part in worker_components(spec, wired())] == [EventConsumer]


def test_handlers_may_depend_on_the_wired_service_and_bindings_may_be_patterns() -> None:
    service = wired()
    subscription = Subscription(
        "depot.directory", lambda s: {"identity.role.granted": on_parcel} if s is service else {}, ("identity.role.*",)
    )
    consumer = subscription.consumer(service, queue="depot.directory.test")
    assert consumer.spec.name == "depot.directory.test" and list(consumer.spec.bindings) == ["identity.role.*"]
    assert list(consumer.handlers) == ["identity.role.granted"]


def test_the_wiring_and_blueprints_follow_the_convention_unless_named() -> None:
    assert depot(False).bootstrap == "depot.bootstrap:bootstrap"
    assert depot(False).blueprints == "depot.entrypoints.web.resources:BLUEPRINTS"
    assert depot(False, bootstrap="depot.wiring:wire").bootstrap == "depot.wiring:wire"


@pytest.mark.parametrize("name", service_names())
def test_every_declaration_names_its_queues_after_its_service(name: str) -> None:
    spec = importlib.import_module(f"{name}.declaration").SPEC
    assert spec.name == name
    assert spec.queue_names and all(queue.startswith(f"{name}.") for queue in spec.queue_names)
    assert len(set(spec.queue_names)) == len(spec.queue_names)
    assert all(route.startswith(("/api/", "/sso/")) for route in spec.routes)
    assert f"/api/audit/{name}" in spec.routes


def test_notifications_publishes_nothing_so_its_worker_has_no_relay() -> None:
    from notifications.declaration import SPEC

    assert not SPEC.publishes
    assert all(
        importlib.import_module(f"{n}.declaration").SPEC.publishes for n in service_names() if n != "notifications"
    )
