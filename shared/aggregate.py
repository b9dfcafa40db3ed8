"""An aggregate that tells of its changes by events, and the one way it records such an event: the event's subject is
the aggregate's id and every other field it has an attribute for is read from it, so an aggregate names only what the
event cannot read from it. Pure Python, like `shared.domain`: domain modules may import it."""

from __future__ import annotations

from typing import Any

from shared.contracts.base import EventContract


class EventSource:
    """Mixed into a domain aggregate that has an `id` and the list of its pending `events` (the unit of work sends
    them to the outbox with the commit)."""

    id: Any
    events: list[Any]

    def tell(self, event_type: type[EventContract], **overrides: Any) -> None:
        """Record the event of `event_type` about this aggregate: its subject (`subject_field`, e.g. `task_id`) is
        this aggregate's id, the fields this aggregate has an attribute for are read from it (`from_aggregate`), and
        `overrides` give the rest."""
        if event_type.subject_field is None:
            raise TypeError(f"{event_type.__name__} names no subject field to carry the aggregate's id")
        self.events.append(event_type.from_aggregate(self, **{event_type.subject_field: self.id, **overrides}))
