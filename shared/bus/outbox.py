"""Writing events to the outbox inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
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
        session.execute(
            outbox.insert(),
            [
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
            ],
        )
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": OUTBOX_CHANNEL})
    return staged
