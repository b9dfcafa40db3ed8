"""The nominations worker's timers: rounds past their deadline close, the nominations-by-status gauge."""

from __future__ import annotations

import sqlalchemy as sa

from nominations.adapters import metrics
from nominations.adapters.orm import nominations
from nominations.bootstrap import Nominations
from nominations.config import NominationsEnvironment
from nominations.service_layer.common import now_utc
from nominations.service_layer.rounds import close_due_rounds
from shared.config import read_environment
from shared.worker import PeriodicTask


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


def timers(service: Nominations) -> list[PeriodicTask]:
    interval = read_environment(NominationsEnvironment).round_deadline_interval_seconds
    return [
        PeriodicTask("round-deadlines", interval, lambda: close_due_rounds(service.uow, now_utc())),
        PeriodicTask("nomination-gauges", 60.0, lambda: count_by_status(service)),
    ]
