"""Repositories of the nominations service over one SQLAlchemy session: rounds, nominations and batches as mapped
domain objects (adapters/orm.py), and the directory projection the handlers read facts from.

A repository remembers the aggregates it handed out for change or was given (`seen`), so the unit of work can
collect their events for the outbox; lists and streams only read, and are not remembered.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from nominations.adapters.orm import (
    appointment_projection,
    batches,
    certificate_projection,
    nomination_evidence,
    nomination_history,
    nomination_photos,
    nominations,
    rounds,
)
from nominations.domain.batches import Batch
from nominations.domain.model import Nomination, Round, RoundStatus, Status
from nominations.domain.terms import TermRecord, consecutive_terms_before, next_term_start
from shared.db import SqlRepository
from shared.directory import directory_orgs, directory_users
from shared.scope import within_any


class BatchExists(Exception):
    """The county already sent its batch of this round (unique index: 报送 is one act)."""


class LiveNominationExists(Exception):
    """Another transaction committed a live nomination for the same unit and round first (unique index)."""


LIVE_PER_SCHOOL_INDEX = "uq_nominations_live_per_school"


def _rowcount(result: Any) -> int:
    """Rows an UPDATE touched (a CursorResult's count; the Session API types it as a plain Result)."""
    return int(result.rowcount)


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


class _Repository(SqlRepository[Any]):
    def _seen(self, aggregate: Any) -> None:
        if not any(known is aggregate for known in self.seen):
            self._saw(aggregate)

    def _one(self, query: Any, lock: bool = False) -> Any:
        """The one aggregate `query` finds, seen; `lock` locks its row and reads it as it is now (not as an earlier
        read in this session left it in the identity map)."""
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        found = self.session.scalars(query).one_or_none()
        if found is not None:
            self._seen(found)
        return found


class RoundRepository(_Repository):
    """推荐批次."""

    def add(self, round_: Round) -> None:
        self.session.add(round_)
        self._seen(round_)

    def get(self, round_id: uuid.UUID, *, for_update: bool = False) -> Round | None:
        """The round; one this unit of work already read (a nomination read `with_round`) without a second SELECT,
        unless it is to be locked."""
        if not for_update:
            known = self.session.identity_map.get(self.session.identity_key(Round, round_id))
            if isinstance(known, Round):
                self._seen(known)
                return known
        found: Round | None = self._one(sa.select(Round).where(rounds.c.id == round_id), for_update)
        return found

    def due_to_close(self, now: dt.datetime, limit: int = 100) -> list[uuid.UUID]:
        query = (
            sa.select(rounds.c.id)
            .where(rounds.c.status == RoundStatus.OPEN, rounds.c.deadline <= now)
            .order_by(rounds.c.deadline)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def policies(self, round_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        """The policy snapshot of each round (what a list of their nominations is masked by)."""
        if not round_ids:
            return {}
        query = sa.select(rounds.c.id, rounds.c.policy).where(rounds.c.id.in_(set(round_ids)))
        return {r.id: r.policy for r in self.session.execute(query)}

    def visible(self, paths: Sequence[str], *, status: str | None, after: Any, limit: int) -> list[Round]:
        """Rounds issued in the caller's subtree or above it (a school sees its city's round)."""
        issuer = rounds.c.issuing_org_path
        ancestors = [p for path in paths for p in _ancestors(path)]
        query = sa.select(Round).where(sa.or_(within_any(issuer, paths), issuer.in_(ancestors)))
        if status:
            query = query.where(rounds.c.status == status)
        if after:
            key = (dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1]))
            query = query.where(sa.tuple_(rounds.c.opens_at, rounds.c.id) < key)
        query = query.order_by(rounds.c.opens_at.desc(), rounds.c.id.desc()).limit(limit)
        return list(self.session.scalars(query))


class NominationRepository(_Repository):
    """推荐表, with their history (mapped), photo and evidence (blobs, read and written only when asked for)."""

    def add(self, nomination: Nomination) -> None:
        """Insert now, so that two creations racing past live_for_school() meet the partial unique index here."""
        self.session.add(nomination)
        try:
            self.session.flush()
        except sa.exc.IntegrityError as exc:
            if LIVE_PER_SCHOOL_INDEX in str(exc):
                raise LiveNominationExists(str(nomination.id)) from exc
            raise
        self._seen(nomination)

    def get(self, nomination_id: uuid.UUID, *, for_update: bool = False, with_round: bool = False) -> Nomination | None:
        """The nomination; `for_update` locks its row (not its round's). `with_round` reads its round in the same
        statement, for the caller's `uow.rounds.get` next (one round trip instead of two)."""
        if not with_round:
            found: Nomination | None = self._one(
                sa.select(Nomination).where(nominations.c.id == nomination_id), for_update
            )
            return found
        query = sa.select(Nomination, Round).join(Round, rounds.c.id == nominations.c.round_id)
        query = query.where(nominations.c.id == nomination_id)
        if for_update:
            query = query.with_for_update(of=nominations).execution_options(populate_existing=True)
        row = self.session.execute(query).one_or_none()
        if row is None:
            return None
        nomination, round_ = row
        # Seen, and so held: the session's identity map keeps only what someone references.
        self._seen(nomination)
        self._seen(round_)
        return nomination

    def live_for_school(self, round_id: uuid.UUID, school_org_code: str) -> uuid.UUID | None:
        n = nominations.c
        query = sa.select(n.id).where(
            n.round_id == round_id,
            n.school_org_code == school_org_code,
            n.status.not_in([Status.REJECTED, Status.WITHDRAWN]),
        )
        found: uuid.UUID | None = self.session.scalars(query).one_or_none()
        return found

    def latest_of_unit(self, school_org_code: str, *, excluding_round: uuid.UUID) -> Nomination | None:
        """The unit's most recent nomination of another round that was not withdrawn."""
        n = nominations.c
        query = (
            sa.select(Nomination)
            .where(n.school_org_code == school_org_code, n.round_id != excluding_round, n.status != Status.WITHDRAWN)
            .order_by(n.created_at.desc())
            .limit(1)
        )
        return self.session.scalars(query).one_or_none()

    def of_round_within(self, round_id: uuid.UUID, org_path: str) -> list[Nomination]:
        """Every nomination of a round in one subtree (a county's), locked: a batch reads them as one act."""
        n = nominations.c
        query = (
            sa.select(Nomination)
            .where(n.round_id == round_id, within_any(n.school_org_path, [org_path]))
            .order_by(n.school_org_path)
            .with_for_update()
        )
        return list(self.session.scalars(query))

    def list_within(
        self,
        paths: Sequence[str],
        *,
        round_id: uuid.UUID | None,
        status: str | None,
        org_path: str | None,
        after: Any,
        limit: int,
    ) -> list[Nomination]:
        """Newest first, keyset-paginated on (created_at, id) so deep pages cost what the first does."""
        n = nominations.c
        query = sa.select(Nomination).where(within_any(n.school_org_path, paths))
        if round_id:
            query = query.where(n.round_id == round_id)
        if status:
            query = query.where(n.status == status)
        if org_path:
            query = query.where(within_any(n.school_org_path, [org_path]))
        if after:
            key = (dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1]))
            query = query.where(sa.tuple_(n.created_at, n.id) < key)
        query = query.order_by(n.created_at.desc(), n.id.desc()).limit(limit)
        return list(self.session.scalars(query))

    def stream_for_summary(
        self,
        round_id: uuid.UUID,
        paths: Sequence[str],
        batch: int = 1000,
        only: Sequence[uuid.UUID] | None = None,
    ) -> Iterator[Nomination]:
        """Every live nomination of a round in the subtrees (or `only` those of a county's batch), ordered by
        school, fetched in batches."""
        n = nominations.c
        query = (
            sa.select(Nomination)
            .where(n.round_id == round_id, within_any(n.school_org_path, paths), n.status != Status.WITHDRAWN)
            .order_by(n.school_org_path, n.id)
            .execution_options(yield_per=batch)
        )
        if only is not None:
            query = query.where(n.id.in_(list(only)))
        yield from self.session.scalars(query)

    def history(self, nomination_id: uuid.UUID) -> list[dict[str, Any]]:
        """The nomination's history as rows (what the history view and the stage decisions read), oldest first."""
        query = (
            sa.select(nomination_history)
            .where(nomination_history.c.nomination_id == nomination_id)
            .order_by(nomination_history.c.id)
        )
        return [dict(r._mapping) for r in self.session.execute(query)]

    def put_evidence(
        self, nomination_id: uuid.UUID, kind: str, file: dict[str, Any], actor: str, now: dt.datetime
    ) -> None:
        """The file of this kind, in place of any earlier one (one statement: an upsert on the primary key)."""
        values = {"uploaded_by": actor, "uploaded_at": now, **file}
        self.session.execute(
            postgresql.insert(nomination_evidence)
            .values(nomination_id=nomination_id, kind=kind, **values)
            .on_conflict_do_update(
                index_elements=[nomination_evidence.c.nomination_id, nomination_evidence.c.kind], set_=values
            )
        )

    def evidence_list(self, nomination_id: uuid.UUID) -> list[dict[str, Any]]:
        e = nomination_evidence.c
        query = (
            sa.select(e.kind, e.filename, e.content_type, e.sha256, e.size, e.uploaded_by, e.uploaded_at)
            .where(e.nomination_id == nomination_id)
            .order_by(e.kind)
        )
        return [dict(r._mapping) for r in self.session.execute(query)]

    def evidence(self, nomination_id: uuid.UUID, kind: str) -> tuple[str, str, bytes] | None:
        e = nomination_evidence.c
        row = self.session.execute(
            sa.select(e.filename, e.content_type, e.data).where(e.nomination_id == nomination_id, e.kind == kind)
        ).first()
        return (row.filename, row.content_type, bytes(row.data)) if row else None

    def put_photo(
        self, nomination_id: uuid.UUID, content_type: str, sha256: str, data: bytes, now: dt.datetime
    ) -> None:
        """The photo, in place of any earlier one (one statement: an upsert on the primary key)."""
        values = {"content_type": content_type, "sha256": sha256, "size": len(data), "data": data, "uploaded_at": now}
        self.session.execute(
            postgresql.insert(nomination_photos)
            .values(nomination_id=nomination_id, **values)
            .on_conflict_do_update(index_elements=[nomination_photos.c.nomination_id], set_=values)
        )

    def photo(self, nomination_id: uuid.UUID) -> tuple[str, bytes] | None:
        row = self.session.execute(
            sa.select(nomination_photos.c.content_type, nomination_photos.c.data).where(
                nomination_photos.c.nomination_id == nomination_id
            )
        ).one_or_none()
        return (row[0], bytes(row[1])) if row else None


class BatchRepository(_Repository):
    """报送批次: the counties' batches of a round."""

    def add(self, batch: Batch) -> None:
        """Insert now: 报送 is one act per county and round, and a second one is refused here, not at commit."""
        exists = sa.select(batches.c.id).where(
            batches.c.round_id == batch.round_id, batches.c.org_code == batch.org_code
        )
        if self.session.execute(exists).first() is not None:
            raise BatchExists(batch.org_code)
        self.session.add(batch)
        try:
            self.session.flush()
        except sa.exc.IntegrityError as exc:
            # two sends raced past the check above; the unique constraint lets one win
            raise BatchExists(batch.org_code) from exc
        self._seen(batch)

    def get(self, batch_id: uuid.UUID) -> Batch | None:
        return self.session.get(Batch, batch_id)

    def of_round(self, round_id: uuid.UUID) -> list[Batch]:
        query = sa.select(Batch).where(batches.c.round_id == round_id).order_by(batches.c.org_path)
        return list(self.session.scalars(query))


class Directory:
    """The projection of identity's orgs and users, and of the facts eligibility needs."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def org(self, code: str) -> dict[str, Any] | None:
        row = self.session.execute(sa.select(directory_orgs).where(directory_orgs.c.code == code)).one_or_none()
        return dict(row._mapping) if row else None

    def orgs_by_path(self, paths: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not paths:
            return {}
        rows = self.session.execute(sa.select(directory_orgs).where(directory_orgs.c.path.in_(list(paths))))
        return {r.path: dict(r._mapping) for r in rows}

    def orgs_within(self, org_path: str, levels: Sequence[str]) -> list[dict[str, Any]]:
        """The orgs of `levels` at `org_path` or under it, by path (a county's schools sit together)."""
        o = directory_orgs.c
        query = (
            sa.select(directory_orgs)
            .where(
                sa.or_(o.path == org_path, o.path.startswith(org_path.rstrip("/") + "/", autoescape=True)),
                o.level.in_(list(levels)),
            )
            .order_by(o.path)
        )
        return [dict(r._mapping) for r in self.session.execute(query)]

    def units_with_appointment(self, unit_codes: Sequence[str]) -> set[str]:
        """Which of the units have an active appointment (聘任 in force), from approvals' events."""
        if not unit_codes:
            return set()
        a = appointment_projection.c
        query = sa.select(a.org_code).where(a.org_code.in_(list(unit_codes)), a.status == "active").distinct()
        return {r[0] for r in self.session.execute(query)}

    def user(self, user_id: uuid.UUID) -> dict[str, Any] | None:
        """The directory's row of the user; its `user_id` is identity's id as text (the shared directory's key)."""
        query = sa.select(directory_users).where(directory_users.c.user_id == str(user_id))
        row = self.session.execute(query).one_or_none()
        return dict(row._mapping) if row else None

    def users_of_org(self, org_code: str, limit: int = 500) -> list[dict[str, Any]]:
        u = directory_users.c
        query = (
            sa.select(directory_users)
            .where(u.org_code == org_code, u.is_active.is_(True))
            .order_by(u.display_name)
            .limit(limit)
        )
        return [dict(r._mapping) for r in self.session.execute(query)]

    def users_within(self, org_path: str, limit: int = 500) -> list[dict[str, Any]]:
        """The active users of the org at `org_path` and of every org under it."""
        o, u = directory_orgs.c, directory_users.c
        query = (
            sa.select(directory_users)
            .join(directory_orgs, o.code == u.org_code)
            .where(
                sa.or_(o.path == org_path, o.path.startswith(org_path.rstrip("/") + "/", autoescape=True)),
                u.is_active.is_(True),
            )
            .order_by(o.path, u.display_name)
            .limit(limit)
        )
        return [dict(r._mapping) for r in self.session.execute(query)]

    def upsert(self, table: sa.Table, key: str, values: dict[str, Any]) -> None:
        done = self.session.execute(table.update().where(table.c[key] == values[key]).values(**values))
        if _rowcount(done) == 0:
            self.session.execute(table.insert().values(**values))

    def update(self, table: sa.Table, key: str, key_value: Any, values: dict[str, Any]) -> int:
        return _rowcount(self.session.execute(table.update().where(table.c[key] == key_value).values(**values)))

    def certificate_numbers(self, person_user_id: uuid.UUID) -> set[str]:
        """The numbers of the person's certificates in training's records (a claim is confirmed once there)."""
        c = certificate_projection.c
        query = sa.select(c.number).where(c.person_user_id == person_user_id, c.number.is_not(None))
        return {r[0] for r in self.session.execute(query)}

    def valid_certificates(self, person_user_id: uuid.UUID, today: dt.date) -> list[tuple[str, str]]:
        c = certificate_projection.c
        query = sa.select(c.kind, c.level).where(
            c.person_user_id == person_user_id,
            c.revoked_at.is_(None),
            sa.or_(c.expires_on.is_(None), c.expires_on >= today),
        )
        return [(r[0], r[1]) for r in self.session.execute(query)]

    def consecutive_terms(self, person_user_id: uuid.UUID, org_code: str, today: dt.date) -> int:
        """The terms of the person's unbroken run at the org that a term nominated for now would continue
        (连任不超过N届): a gap or a revocation ends a run, so terms served years ago bar no one."""
        a = appointment_projection.c
        rows = self.session.execute(
            sa.select(a.starts_on, a.ends_on, a.status).where(
                a.person_user_id == person_user_id, a.org_code == org_code, a.starts_on.is_not(None)
            )
        )
        history = [TermRecord(r.starts_on, r.ends_on, r.status == "revoked") for r in rows]
        return consecutive_terms_before(history, next_term_start(history, today))
