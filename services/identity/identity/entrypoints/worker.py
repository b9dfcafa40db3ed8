"""The identity worker: relays the outbox (user, org and grant events), keeps `cio` grants in step with
appointments, and tidies single sign-on state (spent login states, long-ended sessions)."""

from __future__ import annotations

from identity.bootstrap import SERVICE, Identity, bootstrap
from identity.service_layer import sso
from identity.service_layer.appointments import HANDLERS
from shared.bus.consumer import EventConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.topology import QueueSpec
from shared.health import database_check
from shared.logging import configure_logging
from shared.worker import Component, PeriodicTask, ready_when, run_worker

SSO_HOUSEKEEPING_SECONDS = 300

APPOINTMENTS_QUEUE = QueueSpec("identity.appointments", sorted(HANDLERS))


def components(service: Identity) -> tuple[OutboxRelay, EventConsumer]:
    relay = OutboxRelay(service.settings.bus, service.session_factory)
    consumer = EventConsumer(service.settings.bus, APPOINTMENTS_QUEUE, HANDLERS, service.uow)
    return relay, consumer


def main() -> None:
    service = bootstrap()
    configure_logging(SERVICE, service.settings.log_level)
    relay, consumer = components(service)
    housekeeping = PeriodicTask("sso-housekeeping", SSO_HOUSEKEEPING_SECONDS, lambda: sso.housekeeping(service.uow()))
    parts: list[Component] = [relay, consumer, housekeeping]
    ready = ready_when([database_check(service.engine)], parts)
    run_worker(parts, metrics_port=service.settings.worker_metrics_port, ready=ready)


if __name__ == "__main__":
    main()
