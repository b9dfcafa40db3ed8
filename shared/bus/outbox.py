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
        # One round trip: the rows go in through a data-modifying CTE (always run to completion) and the same
        # statement queues the NOTIFY, which PostgreSQL delivers at commit.
        inserted = outbox.insert().values(rows).returning(outbox.c.id).cte("staged")
        first = select(inserted.c.id).limit(1).subquery("first_staged")
        session.execute(select(func.pg_notify(OUTBOX_CHANNEL, "")).select_from(first))
    return staged
