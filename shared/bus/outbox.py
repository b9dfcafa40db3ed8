"""Writing events to the outbox inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.bus.envelope import CloudEvent
from shared.bus.tables import OUTBOX_PENDING, outbox
from shared.db import insert_from_json, json_rows
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


def _staging() -> tuple[Any, list[Any]]:
    """One statement for any number of events: the rows go in through a data-modifying CTE (always run to
    completion) in the statement that queues the NOTIFY (delivered at commit), so staging costs one round trip.
    The rows travel as one JSON array (`shared.db.insert_from_json`), so the statement is compiled once per process
    whatever their number; a multi-row VALUES list had no cache key and was compiled on every commit."""
    insert_rows, columns = insert_from_json(outbox, skip=["last_error", "sent_at"])
    inserted = insert_rows.returning(outbox.c.id).cte("staged")
    first = select(inserted.c.id).limit(1).subquery("first_staged")
    return select(func.pg_notify(OUTBOX_CHANNEL, "")).select_from(first), columns


_STAGE, _STAGED_COLUMNS = _staging()


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
        session.execute(_STAGE, json_rows(_STAGED_COLUMNS, rows))
    return staged
