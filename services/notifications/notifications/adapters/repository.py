"""The notifications repositories: messages, deliveries, reminders, preferences and the nominations seen, each over
the unit of work's session. Rows travel as dicts (the service keeps no aggregates with events); PostgreSQL's
`INSERT … ON CONFLICT` makes every write a replay may repeat add nothing the second time."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert

from notifications.adapters.orm import (
    deliveries,
    known_nominations,
    messages,
    preferences,
    reminders,
)
from notifications.domain.model import (
    DEFAULT_DIGEST_TIME,
    DEFAULT_DIGEST_TIMEZONE,
    Channel,
    DeliveryStatus,
    Preferences,
    ReminderPlan,
    parse_digest_time,
)
from shared.db import SqlRepository, insert_from_json, json_rows, where_given
from shared.directory import directory_orgs, directory_users
from shared.scope import escape_like, within_any

_POSTGRESQL = postgresql.dialect()


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


def _newest_first(table: Any, after: Any) -> ColumnElement[bool]:
    """Keyset pagination on (created_at, id) descending: the rows after the cursor's."""
    at, last_id = dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1])
    return or_(table.c.created_at < at, and_(table.c.created_at == at, table.c.id < last_id))


_insert_messages, _message_columns = insert_from_json(messages, skip=["read_at"])
_add_new_messages = _insert_messages.on_conflict_do_nothing(index_elements=["event_id", "recipient_id"]).returning(
    messages.c.id, messages.c.event_id, messages.c.recipient_id
)


class MessageRepository(SqlRepository):
    """The inbox: one message per (event, recipient)."""

    def add_new(self, rows: list[dict[str, Any]]) -> dict[tuple[str, str], uuid.UUID]:
        """Insert the messages; returns (event id, recipient) → message id for those that are new (a replay's are
        not, nor a second row of one event and recipient). One statement whatever the number of rows."""
        inserted = self.session.execute(_add_new_messages, json_rows(_message_columns, rows)).all()
        return {(row.event_id, row.recipient_id): row.id for row in inserted}

    def page(self, user_id: str, *, unread_only: bool, after: Any, limit: int) -> list[dict[str, Any]]:
        query = select(messages).where(messages.c.recipient_id == user_id)
        if unread_only:
            query = query.where(messages.c.read_at.is_(None))
        if after:
            query = query.where(_newest_first(messages, after))
        rows = self.session.execute(query.order_by(messages.c.created_at.desc(), messages.c.id.desc()).limit(limit))
        return [dict(r) for r in rows.mappings()]

    def unread(self, user_id: str) -> int:
        return int(
            self.session.execute(
                select(func.count())
                .select_from(messages)
                .where(messages.c.recipient_id == user_id, messages.c.read_at.is_(None))
            ).scalar_one()
        )

    def get(self, user_id: str, message_id: uuid.UUID) -> dict[str, Any] | None:
        query = select(messages).where(messages.c.id == message_id, messages.c.recipient_id == user_id)
        row = self.session.execute(query).mappings().first()
        return None if row is None else dict(row)

    def mark_read(self, user_id: str, message_id: uuid.UUID | None, at: dt.datetime) -> int:
        """The recipient's unread message (or, with None, all of them) read at `at`; returns how many."""
        condition = (messages.c.recipient_id == user_id) & messages.c.read_at.is_(None)
        if message_id is not None:
            condition = condition & (messages.c.id == message_id)
        return _rowcount(self.session.execute(update(messages).where(condition).values(read_at=at)))


def _deliveries_within(paths: Sequence[str]) -> ColumnElement[bool]:
    """Operators see deliveries about orgs in their subtrees; platform-wide ones (no org) need `/`."""
    return within_any(func.coalesce(deliveries.c.org_path, "/"), paths)


_insert_deliveries, _delivery_columns = insert_from_json(deliveries, skip=["digest_id"])
_add_new_deliveries = _insert_deliveries.on_conflict_do_nothing(index_elements=["event_id", "recipient_id", "channel"])


class DeliveryRepository(SqlRepository):
    """One delivery per (event, recipient, channel); the digest is a delivery too (`digest:<user>:<date>`)."""

    def add_new(self, rows: list[dict[str, Any]]) -> None:
        """Insert the deliveries (all columns but the digest's), those of a replay ignored; one statement."""
        self.session.execute(_add_new_deliveries, json_rows(_delivery_columns, rows))

    def claim_due(
        self, channels: Sequence[str], at: dt.datetime, lease_until: dt.datetime, limit: int
    ) -> list[dict[str, Any]]:
        """The pending deliveries due at `at` on these channels, each one attempt more and out of the others'
        reach until `lease_until` (SKIP LOCKED: workers share the work)."""
        due = [
            dict(r)
            for r in self.session.execute(
                select(deliveries)
                .where(
                    deliveries.c.status == DeliveryStatus.PENDING.value,
                    deliveries.c.next_attempt_at <= at,
                    deliveries.c.channel.in_(list(channels)),
                )
                .order_by(deliveries.c.next_attempt_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).mappings()
        ]
        if due:
            self.session.execute(
                update(deliveries)
                .where(deliveries.c.id.in_([d["id"] for d in due]))
                .values(attempts=deliveries.c.attempts + 1, next_attempt_at=lease_until)
            )
        return due

    def change(self, delivery_id: uuid.UUID, **values: Any) -> None:
        self.session.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))

    def count_dead(self) -> int:
        query = select(func.count()).select_from(deliveries).where(deliveries.c.status == DeliveryStatus.DEAD.value)
        return int(self.session.execute(query).scalar_one())

    def get(self, delivery_id: uuid.UUID, paths: Sequence[str], *, lock: bool = False) -> dict[str, Any] | None:
        """The delivery, if it is about an org within `paths`."""
        query = select(deliveries).where(deliveries.c.id == delivery_id, _deliveries_within(paths))
        row = self.session.execute(query.with_for_update() if lock else query).mappings().first()
        return None if row is None else dict(row)

    def page(
        self, paths: Sequence[str], *, status: str | None, channel: str | None, after: Any, limit: int
    ) -> list[dict[str, Any]]:
        """The delivery log within `paths`, newest first."""
        query = select(deliveries).where(_deliveries_within(paths))
        query = where_given(query, (deliveries.c.status, status), (deliveries.c.channel, channel))
        if after:
            query = query.where(_newest_first(deliveries, after))
        rows = self.session.execute(query.order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc()).limit(limit))
        return [dict(r) for r in rows.mappings()]

    def held_email_due(self, at: dt.datetime, limit: int) -> list[dict[str, Any]]:
        """E-mail held for a digest whose send time has come, with its message, by recipient; locked (SKIP LOCKED)
        so two workers never put one message into two digests."""
        query = (
            select(
                deliveries.c.id,
                deliveries.c.recipient_id,
                deliveries.c.next_attempt_at,
                deliveries.c.event_time,
                deliveries.c.kind,
                messages.c.subject,
                messages.c.body,
                messages.c.created_at,
            )
            .select_from(deliveries.join(messages, messages.c.id == deliveries.c.message_id))
            .where(
                deliveries.c.status == DeliveryStatus.HELD.value,
                deliveries.c.channel == Channel.EMAIL.value,
                deliveries.c.next_attempt_at <= at,
            )
            .order_by(deliveries.c.recipient_id, deliveries.c.created_at, deliveries.c.id)
            .limit(limit)
            .with_for_update(of=deliveries, skip_locked=True)
        )
        return [dict(r) for r in self.session.execute(query).mappings()]

    def postpone(self, delivery_ids: Sequence[uuid.UUID], until: dt.datetime) -> None:
        self.session.execute(
            update(deliveries).where(deliveries.c.id.in_(list(delivery_ids))).values(next_attempt_at=until)
        )

    def add_digest(self, values: dict[str, Any]) -> bool:
        """Write a digest delivery; False when that recipient's digest of that date exists already."""
        inserted = self.session.execute(
            insert(deliveries)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["event_id", "recipient_id", "channel"])
            .returning(deliveries.c.id)
        ).first()
        return inserted is not None

    def digested(self, delivery_ids: Sequence[uuid.UUID], digest_id: uuid.UUID) -> None:
        """The held deliveries went out inside the digest `digest_id`."""
        self.session.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(list(delivery_ids)))
            .values(status=DeliveryStatus.DIGESTED.value, digest_id=digest_id, next_attempt_at=None, sent_at=None)
        )


class ReminderRepository(SqlRepository):
    """Reminders planned from events: sent once when due, unless an event cancelled them first."""

    def add_new(self, plans: Sequence[ReminderPlan], source_event_id: str, now: dt.datetime) -> None:
        """Schedule reminders once each: the same (kind, subject, time) planned again is ignored. One executemany
        for all of them (a city round plans one per school)."""
        if not plans:
            return
        self.session.execute(
            insert(reminders).on_conflict_do_nothing(index_elements=["kind", "subject_key", "due_at"]),
            [
                {
                    "id": uuid.uuid4(),
                    "kind": plan.kind,
                    "subject_key": plan.subject_key,
                    "due_at": plan.due_at,
                    "data": plan.data,
                    "source_event_id": source_event_id,
                    "created_at": now,
                }
                for plan in plans
            ],
        )

    def due(self, at: dt.datetime, limit: int) -> list[dict[str, Any]]:
        """Due, unsent and uncancelled reminders, locked (SKIP LOCKED) until this transaction marks them sent."""
        query = (
            select(reminders)
            .where(reminders.c.sent_at.is_(None), reminders.c.cancelled_at.is_(None), reminders.c.due_at <= at)
            .order_by(reminders.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [dict(r) for r in self.session.execute(query).mappings()]

    def mark_sent(self, reminder_id: uuid.UUID, at: dt.datetime) -> None:
        self.session.execute(update(reminders).where(reminders.c.id == reminder_id).values(sent_at=at))

    def cancel(self, keys: Sequence[str], prefixes: Sequence[str], at: dt.datetime, by: str) -> list[dict[str, Any]]:
        """Cancel the pending reminders about these subjects (exact keys or key prefixes); returns the kind and
        data of each one cancelled."""
        conditions = [reminders.c.subject_key.in_(keys)] if keys else []
        conditions += [reminders.c.subject_key.like(escape_like(p) + "%", escape="\\") for p in prefixes]
        pending = or_(*conditions) & reminders.c.sent_at.is_(None) & reminders.c.cancelled_at.is_(None)
        # One UPDATE … RETURNING: exactly the rows it cancelled, each locked and re-checked as any UPDATE does.
        cancel = update(reminders).where(pending).values(cancelled_at=at, cancelled_by=by)
        return [dict(r) for r in self.session.execute(cancel.returning(reminders.c.kind, reminders.c.data)).mappings()]


def preferences_from_row(row: Mapping[Any, Any]) -> Preferences:
    return Preferences(
        channels={k: tuple(v) for k, v in (row["channels"] or {}).items()},
        robots=dict(row["robots"] or {}),
        version=row["version"],
        digest=row["digest"] or "off",
        digest_time=parse_digest_time(row["digest_time"] or "") or DEFAULT_DIGEST_TIME,
        digest_timezone=row["digest_timezone"] or DEFAULT_DIGEST_TIMEZONE,
    )


class PreferenceRepository(SqlRepository):
    """Each user's channel choices, robots and digest; a user without a row has the defaults."""

    def get(self, user_id: str) -> Preferences:
        row = self.session.execute(select(preferences).where(preferences.c.user_id == user_id)).mappings().first()
        return Preferences() if row is None else preferences_from_row(row)

    def of(self, user_ids: Iterable[str]) -> dict[str, Preferences]:
        """Several recipients' preferences in one query; those without a row are missing."""
        rows = self.session.execute(select(preferences).where(preferences.c.user_id.in_(list(user_ids)))).mappings()
        return {row["user_id"]: preferences_from_row(row) for row in rows}

    def stored_for_update(self, user_id: str) -> dict[str, Any] | None:
        """The stored row, locked until the transaction ends (an update reads, checks the version, writes)."""
        query = select(preferences).where(preferences.c.user_id == user_id).with_for_update()
        row = self.session.execute(query).mappings().first()
        return None if row is None else dict(row)

    def save(self, user_id: str, values: dict[str, Any], *, stored: bool) -> None:
        if stored:
            self.session.execute(update(preferences).where(preferences.c.user_id == user_id).values(**values))
        else:
            self.session.execute(preferences.insert().values(user_id=user_id, **values))


_insert_nominations, _nomination_columns = insert_from_json(known_nominations)
_remember_nominations = _insert_nominations.on_conflict_do_update(
    index_elements=["nomination_id"],
    set_={c.name: _insert_nominations.excluded[c.name] for c in _nomination_columns if c.name != "nomination_id"},
)


class KnownNominations(SqlRepository):
    """A nomination's school and candidate, from its submitted event, for the events that name only its id."""

    def remember(self, seen: Mapping[str, Mapping[str, Any]]) -> None:
        """Upsert each nomination's school and candidate (nomination id → values), in one statement (the ids are
        the mapping's keys, so none comes twice, which an upsert of one statement refuses)."""
        rows = [{"nomination_id": nomination_id, **values} for nomination_id, values in seen.items()]
        self.session.execute(_remember_nominations, json_rows(_nomination_columns, rows))

    def of(self, nomination_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Several nominations' rows in one query; those never seen are missing."""
        query = select(known_nominations).where(known_nominations.c.nomination_id.in_(list(nomination_ids)))
        return {row["nomination_id"]: dict(row) for row in self.session.execute(query).mappings()}

    def get(self, nomination_id: str) -> dict[str, Any] | None:
        query = select(known_nominations).where(known_nominations.c.nomination_id == nomination_id)
        row = self.session.execute(query).mappings().first()
        return None if row is None else dict(row)


class Recipients(SqlRepository):
    """Reads of the identity projection a message needs: names, locale, addresses, the schools of a region."""

    def of(self, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Several recipients' directory rows in one query."""
        query = select(directory_users).where(directory_users.c.user_id.in_(list(user_ids)))
        return {row["user_id"]: dict(row) for row in self.session.execute(query).mappings()}

    def get(self, user_id: str) -> dict[str, Any] | None:
        return self.of([user_id]).get(user_id)

    def schools_within(self, path: str) -> list[dict[str, str]]:
        query = select(directory_orgs.c.code, directory_orgs.c.path).where(
            directory_orgs.c.level == "school", within_any(directory_orgs.c.path, [path])
        )
        return [{"code": r.code, "path": r.path} for r in self.session.execute(query)]
