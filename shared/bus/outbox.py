"""Writing events to the outbox inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.bus.envelope import CloudEvent
from shared.bus.tables import OUTBOX_PENDING, outbox
from shared.logging import get_request_id

# PostgreSQL delivers a NOTIFY only when its transaction commits (and drops it on rollback): the relay,
# LISTENing on this channel, wakes the moment committed rows exist instead of at its next poll.
OUTBOX_CHANNEL = "cio_outbox"


def to_cloud_event(event: Any, source: str) -> CloudEvent:
    """Wrap a domain event (or an already built CloudEvent) for the wire."""
    if isinstance(event, CloudEvent):
        return event
    return CloudEvent(
        type=event.event_type,
        source=source,
        subject=event.subject,
        data=event.payload(),
        requestid=get_request_id(),
    )


# 8 parameters a row: 1,000 rows stay far below PostgreSQL's 65,535 parameters per statement.
OUTBOX_ROWS_PER_STATEMENT = 1000


def add_to_outbox(session: Session, source: str, events: Iterable[Any]) -> list[CloudEvent]:
    """Stage events in the session's transaction; they leave only if it commits."""
    now = dt.datetime.now(dt.UTC)
    staged = [to_cloud_event(event, source) for event in events]
    if staged:
        rows = [
            {
                "id": ce.id,
                "type": ce.type,
                "body": ce.to_json().decode(),
                "request_id": ce.requestid,
                "status": OUTBOX_PENDING,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
            for ce in staged
        ]
        # The usual unit of work stages a few events: one round trip, the rows going in through a data-modifying
        # CTE (always run to completion) in the statement that queues the NOTIFY (delivered at commit). A big batch
        # (an import of 10,000 certificates) goes in chunks, since a statement takes at most 65,535 parameters;
        # the first chunk's statement carries the NOTIFY, the rest are plain inserts in the same transaction.
        head, tail = rows[:OUTBOX_ROWS_PER_STATEMENT], rows[OUTBOX_ROWS_PER_STATEMENT:]
        inserted = outbox.insert().values(head).returning(outbox.c.id).cte("staged")
        first = select(inserted.c.id).limit(1).subquery("first_staged")
        session.execute(select(func.pg_notify(OUTBOX_CHANNEL, "")).select_from(first))
        for start in range(0, len(tail), OUTBOX_ROWS_PER_STATEMENT):
            session.execute(outbox.insert().values(tail[start : start + OUTBOX_ROWS_PER_STATEMENT]))
    return staged
