"""The training worker's timers: large imports run in the background, the yearly requirement check."""

from __future__ import annotations

import datetime as dt

from shared import clock
from shared.worker import PeriodicTask
from training.bootstrap import TrainingService
from training.service_layer import compliance, imports


def requirement_check(service: TrainingService, today: dt.date | None = None) -> int:
    """One run of the yearly check; a second run the same year publishes nothing new."""
    return compliance.check_requirements(service.uow(), today or clock.today(), service.rules.check_on)


def timers(service: TrainingService) -> list[PeriodicTask]:
    return [
        PeriodicTask(
            "training-imports", service.rules.import_poll_seconds, lambda: imports.process_pending(service.uow)
        ),
        PeriodicTask("training-requirement", service.rules.check_interval_seconds, lambda: requirement_check(service)),
    ]
