"""The identity worker: relays the outbox (user, org and grant events) and keeps `cio` grants in step
with appointments."""

from __future__ import annotations

from identity.bootstrap import SERVICE, Identity, bootstrap
from identity.service_layer.appointments import HANDLERS
from shared.bus.consumer import EventConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.topology import QueueSpec
from shared.health import database_check
from shared.logging import configure_logging
from shared.worker import Component, ready_when, run_worker

APPOINTMENTS_QUEUE = QueueSpec("identity.appointments", sorted(HANDLERS))


def components(service: Identity) -> tuple[OutboxRelay, EventConsumer]:
    relay = OutboxRelay(service.settings.bus, service.session_factory)
    consumer = EventConsumer(service.settings.bus, APPOINTMENTS_QUEUE, HANDLERS, service.uow)
    return relay, consumer


def main() -> None:
    service = bootstrap()
    configure_logging(SERVICE, service.settings.log_level)
    relay, consumer = components(service)
    parts: list[Component] = [relay, consumer]
    ready = ready_when([database_check(service.engine)], parts)
    run_worker(parts, metrics_port=service.settings.worker_metrics_port, ready=ready)


if __name__ == "__main__":
    main()
