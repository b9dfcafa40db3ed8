"""The training worker: relays the outbox, keeps the people/org and appointment projections, runs large
imports and the yearly requirement check."""

from __future__ import annotations

import datetime as dt

from shared import clock
from shared.bus.consumer import EventConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.topology import QueueSpec
from shared.service import worker_main
from shared.worker import Component, PeriodicTask
from training.bootstrap import TrainingService
from training.declaration import SPEC
from training.service_layer import compliance, imports
from training.service_layer.projections import appointment_handlers, directory_handlers

DIRECTORY_QUEUE = QueueSpec("training.directory", sorted(directory_handlers()))
APPOINTMENTS_QUEUE = QueueSpec("training.appointments", sorted(appointment_handlers(1)))


def requirement_check(service: TrainingService, today: dt.date | None = None) -> int:
    """One run of the yearly check; a second run the same year publishes nothing new."""
    return compliance.check_requirements(service.uow(), today or clock.today(), service.rules.check_on)


def components(service: TrainingService) -> list[Component]:
    bus = service.settings.bus
    return [
        OutboxRelay(bus, service.session_factory),
        EventConsumer(bus, DIRECTORY_QUEUE, directory_handlers(), service.uow),
        EventConsumer(
            bus,
            APPOINTMENTS_QUEUE,
            appointment_handlers(service.rules.default_centralized_per_year),
            service.uow,
        ),
        PeriodicTask(
            "training-imports", service.rules.import_poll_seconds, lambda: imports.process_pending(service.uow)
        ),
        PeriodicTask("training-requirement", service.rules.check_interval_seconds, lambda: requirement_check(service)),
    ]


def main() -> None:
    worker_main(SPEC)


if __name__ == "__main__":
    main()
