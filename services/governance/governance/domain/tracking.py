"""Items tracked to done inside a record: a scheduling meeting's action items, a security check's findings.

Each is a JSON object in a list on its record, with an id, the day it is due and, once closed, the day it was; the
list is replaced whole on a change so that the change is seen and stored.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from governance.domain.model import DomainError, StateConflict


def new_item_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class TrackedItems:
    """One kind of item: what it is called (`No such <what>.`), the input naming it, the key holding the day it was
    closed, and the refusals for closing it twice (`already`) or before the record that set it (`too_early`)."""

    what: str
    field: str
    closed: str
    already: str
    too_early: str

    def close(
        self, items: Iterable[dict[str, Any]], item_id: str, on: dt.date, since: dt.date
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """A copy of `items` with the named one closed `on` (not before `since`), and that item, for the caller to
        complete before it stores the list."""
        copied = [dict(i) for i in items]
        item = next((i for i in copied if i["id"] == item_id), None)
        if item is None:
            raise DomainError(f"No such {self.what}.", self.field)
        if item[self.closed] is not None:
            raise StateConflict(self.already, self.field)
        if on < since:
            raise DomainError(self.too_early, self.closed)
        item[self.closed] = on.isoformat()
        return copied, item

    def open(self, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return [i for i in items if i[self.closed] is None]

    def overdue(self, items: Iterable[dict[str, Any]], today: dt.date) -> list[dict[str, Any]]:
        return [i for i in self.open(items) if dt.date.fromisoformat(i["due_on"]) < today]
