"""Notifications' fake unit of work: messages, deliveries, reminders, preferences, the nominations seen and the
identity projection as rows in memory, with the uniqueness the tables enforce (a replay adds nothing)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from notifications.adapters.repository import preferences_from_row
from notifications.domain.model import DeliveryStatus, Preferences, ReminderPlan

from shared.scope import path_within
from tests.unit.fakes import FakeUnitOfWork


class FakeMessages:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, dict[str, Any]] = {}

    def add_new(self, rows: list[dict[str, Any]]) -> dict[tuple[str, str], uuid.UUID]:
        new: dict[tuple[str, str], dict[str, Any]] = {}
        known = {(r["event_id"], r["recipient_id"]) for r in self.rows.values()}
        for row in rows:
            if (row["event_id"], row["recipient_id"]) not in known:
                new.setdefault((row["event_id"], row["recipient_id"]), row)
        self.rows.update({r["id"]: {**r, "read_at": None} for r in new.values()})
        return {key: r["id"] for key, r in new.items()}

    def of(self, user_id: str) -> list[dict[str, Any]]:
        return [r for r in self.rows.values() if r["recipient_id"] == user_id]

    def unread(self, user_id: str) -> int:
        return sum(1 for r in self.of(user_id) if r["read_at"] is None)

    def get(self, user_id: str, message_id: uuid.UUID) -> dict[str, Any] | None:
        row = self.rows.get(message_id)
        return dict(row) if row and row["recipient_id"] == user_id else None

    def mark_read(self, user_id: str, message_id: uuid.UUID | None, at: dt.datetime) -> int:
        marked = [r for r in self.of(user_id) if r["read_at"] is None and message_id in (None, r["id"])]
        for row in marked:
            row["read_at"] = at
        return len(marked)


class FakeDeliveries:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, dict[str, Any]] = {}

    def add_new(self, rows: list[dict[str, Any]]) -> None:
        known = {(r["event_id"], r["recipient_id"], r["channel"]) for r in self.rows.values()}
        self.rows.update(
            {r["id"]: dict(r) for r in rows if (r["event_id"], r["recipient_id"], r["channel"]) not in known}
        )

    def get(self, delivery_id: uuid.UUID, paths: Sequence[str], *, lock: bool = False) -> dict[str, Any] | None:
        row = self.rows.get(delivery_id)
        if row is None or not any(path_within(row["org_path"] or "/", p) for p in paths):
            return None
        return dict(row)

    def change(self, delivery_id: uuid.UUID, **values: Any) -> None:
        self.rows[delivery_id].update(values)

    def count_dead(self) -> int:
        return sum(1 for r in self.rows.values() if r["status"] == DeliveryStatus.DEAD.value)


class FakeReminders:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add_new(self, plans: Sequence[ReminderPlan], source_event_id: str, now: dt.datetime) -> None:
        known = {(r["kind"], r["subject_key"], r["due_at"]) for r in self.rows}
        for plan in plans:
            if (plan.kind, plan.subject_key, plan.due_at) not in known:
                self.rows.append(
                    {
                        "id": uuid.uuid4(),
                        "kind": plan.kind,
                        "subject_key": plan.subject_key,
                        "due_at": plan.due_at,
                        "data": plan.data,
                        "source_event_id": source_event_id,
                        "created_at": now,
                        "sent_at": None,
                        "cancelled_at": None,
                        "cancelled_by": None,
                    }
                )

    def due(self, at: dt.datetime, limit: int) -> list[dict[str, Any]]:
        due = [r for r in self.rows if r["sent_at"] is None and r["cancelled_at"] is None and r["due_at"] <= at]
        return sorted(due, key=lambda r: r["due_at"])[:limit]

    def mark_sent(self, reminder_id: uuid.UUID, at: dt.datetime) -> None:
        next(r for r in self.rows if r["id"] == reminder_id)["sent_at"] = at

    def cancel(self, keys: Sequence[str], prefixes: Sequence[str], at: dt.datetime, by: str) -> list[dict[str, Any]]:
        cancelled = [
            r
            for r in self.rows
            if r["sent_at"] is None
            and r["cancelled_at"] is None
            and (r["subject_key"] in keys or any(r["subject_key"].startswith(p) for p in prefixes))
        ]
        for row in cancelled:
            row["cancelled_at"], row["cancelled_by"] = at, by
        return [{"kind": r["kind"], "data": r["data"]} for r in cancelled]


class FakePreferences:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def get(self, user_id: str) -> Preferences:
        row = self.rows.get(user_id)
        return Preferences() if row is None else preferences_from_row(row)

    def of(self, user_ids: Iterable[str]) -> dict[str, Preferences]:
        return {u: self.get(u) for u in user_ids if u in self.rows}

    def stored_for_update(self, user_id: str) -> dict[str, Any] | None:
        row = self.rows.get(user_id)
        return None if row is None else dict(row)

    def save(self, user_id: str, values: dict[str, Any], *, stored: bool) -> None:
        self.rows[user_id] = {**self.rows.get(user_id, {}), **values, "user_id": user_id}


class FakeKnownNominations:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def remember(self, seen: Mapping[str, Mapping[str, Any]]) -> None:
        self.rows.update({n: {"nomination_id": n, **values} for n, values in seen.items()})

    def of(self, nomination_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {n: dict(self.rows[n]) for n in nomination_ids if n in self.rows}

    def get(self, nomination_id: str) -> dict[str, Any] | None:
        return self.rows.get(nomination_id)


class FakeDirectory:
    """The identity projection: users (rows), grants (user, role, org path) and org levels."""

    def __init__(
        self,
        users: Sequence[dict[str, Any]] = (),
        grants: Sequence[tuple[str, str, str]] = (),
        orgs: Sequence[dict[str, str]] = (),
    ) -> None:
        self.users = {u["user_id"]: u for u in users}
        self.grants = list(grants)
        self.orgs = list(orgs)

    def holders(self, role: str, org_path: str) -> set[str]:
        return {u for u, r, p in self.grants if r == role and p == org_path}

    def holders_within(self, role: str, org_path: str) -> set[str]:
        return {u for u, r, p in self.grants if r == role and path_within(p, org_path)}

    def org_level(self, org_path: str) -> str | None:
        return next((o["level"] for o in self.orgs if o["path"] == org_path), None)


class FakeRecipients:
    def __init__(self, directory: FakeDirectory) -> None:
        self.directory = directory

    def of(self, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {u: self.directory.users[u] for u in user_ids if u in self.directory.users}

    def get(self, user_id: str) -> dict[str, Any] | None:
        return self.directory.users.get(user_id)

    def schools_within(self, path: str) -> list[dict[str, str]]:
        return [
            {"code": o["code"], "path": o["path"]}
            for o in self.directory.orgs
            if o["level"] == "school" and path_within(o["path"], path)
        ]


class FakeNotificationsUnitOfWork(FakeUnitOfWork):
    def __init__(self, directory: FakeDirectory | None = None) -> None:
        super().__init__()
        self.directory = directory or FakeDirectory()
        self.recipients = FakeRecipients(self.directory)
        self.messages = FakeMessages()
        self.deliveries = FakeDeliveries()
        self.reminders = FakeReminders()
        self.preferences = FakePreferences()
        self.known_nominations = FakeKnownNominations()
