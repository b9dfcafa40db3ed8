"""The nominations worker: outbox relay, the projection and review consumers, the round-deadline timer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from nominations.adapters import metrics
from nominations.adapters.orm import nominations
from nominations.bootstrap import SERVICE, Nominations
from nominations.config import NominationsEnvironment
from nominations.declaration import SPEC
from nominations.service_layer.common import now_utc
from nominations.service_layer.projections import PROJECTION_HANDLERS, REVIEW_HANDLERS
from nominations.service_layer.rounds import close_due_rounds
from shared.bus.consumer import EventConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.topology import QueueSpec
from shared.config import read_environment
from shared.service import worker_main
from shared.worker import PeriodicTask

PROJECTIONS_QUEUE = QueueSpec(f"{SERVICE}.projections", tuple(PROJECTION_HANDLERS))
REVIEWS_QUEUE = QueueSpec(f"{SERVICE}.reviews", tuple(REVIEW_HANDLERS))


def consumers(service: Nominations) -> list[EventConsumer]:
    return [
        EventConsumer(service.settings.bus, PROJECTIONS_QUEUE, PROJECTION_HANDLERS, service.uow),
        EventConsumer(service.settings.bus, REVIEWS_QUEUE, REVIEW_HANDLERS, service.uow),
    ]


def count_by_status(service: Nominations) -> None:
    """Refresh the nominations-by-round-and-status gauge.

    A (round, status) pair that no nomination holds any more (all of them moved on from `submitted`) is set to
    0, not left at its last count: a gauge that is not refreshed would report them there forever.
    """
    with service.session_factory() as session:
        rows = session.execute(
            sa.select(nominations.c.round_id, nominations.c.status, sa.func.count()).group_by(
                nominations.c.round_id, nominations.c.status
            )
        ).all()
    counts = {(str(round_id), status): count for round_id, status, count in rows}
    for labels in metrics.counted_pairs() - counts.keys():
        metrics.NOMINATIONS_BY_STATUS.labels(*labels).set(0)
    for labels, count in counts.items():
        metrics.NOMINATIONS_BY_STATUS.labels(*labels).set(count)


def components(service: Nominations) -> Sequence[Any]:
    interval = read_environment(NominationsEnvironment).round_deadline_interval_seconds
    return [
        OutboxRelay(service.settings.bus, service.session_factory),
        *consumers(service),
        PeriodicTask("round-deadlines", interval, lambda: close_due_rounds(service.uow, now_utc())),
        PeriodicTask("nomination-gauges", 60.0, lambda: count_by_status(service)),
    ]


def main() -> None:
    worker_main(SPEC)


if __name__ == "__main__":
    main()
