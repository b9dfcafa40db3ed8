"""cosmicpython's fake unit of work, shared by every service's handler tests: in-memory repositories (a service's
fake subclasses this and builds them in `__init__`, so they outlive one `with` block like a database), a
`committed` flag, the events the commit collected, the audit records written. Nothing here starts anything."""

from __future__ import annotations

from typing import Any

from shared.db import AbstractUnitOfWork, HasEvents, Repository


class FakeUnitOfWork(AbstractUnitOfWork):
    def __init__(self) -> None:
        self.committed = False
        self.events: list[Any] = []
        self.audited: list[tuple[str, dict[str, Any]]] = []

    def _commit(self, events: list[Any]) -> None:
        self.committed = True
        self.events.extend(events)

    def rollback(self) -> None:
        """Nothing to undo in memory: a test that needs it asserts `committed` is False."""

    def audit(self, action: str, **fields: Any) -> None:
        self.audited.append((action, fields))

    def event_types(self) -> list[str]:
        return [event.event_type for event in self.events]

    def audited_actions(self) -> list[str]:
        return [action for action, _ in self.audited]


class FakeRepository(Repository):
    """Aggregates by key; what a handler gets or adds is seen, as in the SQL repositories."""

    def __init__(self, *aggregates: HasEvents, key: str = "id") -> None:
        super().__init__()
        self.key = key
        self.items: dict[Any, Any] = {getattr(a, key): a for a in aggregates}

    def add(self, aggregate: Any) -> None:
        self.items[getattr(aggregate, self.key)] = self._saw(aggregate)

    def get(self, key: Any, lock: bool = False) -> Any | None:
        found = self.items.get(key)
        return None if found is None else self._saw(found)
