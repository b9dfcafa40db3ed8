"""The nominations unit of work: repositories over one session (Core queries, plain domain objects)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from nominations.adapters.orm import (
    appointment_projection,
    batches,
    certificate_projection,
    nomination_evidence,
    nomination_history,
    nomination_photos,
    nominations,
    org_projection,
    rounds,
    user_projection,
)
from nominations.domain.batches import Batch
from nominations.domain.model import Nomination, Round, RoundStatus, Status
from nominations.domain.terms import TermRecord, consecutive_terms_before, next_term_start
from shared.audit import AuditTrail
from shared.db import SqlAlchemyUnitOfWork, pending_scope
from shared.scope import within_any


class ConcurrentUpdate(Exception):
    """Someone else saved the record since it was read (optimistic lock)."""


class BatchExists(Exception):
    """The county already sent its batch of this round (unique index: 报送 is one act)."""


class LiveNominationExists(Exception):
    """Another transaction committed a live nomination for the same unit and round first (unique index)."""


LIVE_PER_SCHOOL_INDEX = "uq_nominations_live_per_school"


def _rowcount(result: Any) -> int:
    """Rows an UPDATE touched (a CursorResult's count; the Session API types it as a plain Result)."""
    return int(result.rowcount)


class RoundRepository:
    def __init__(self, uow: NominationsUnitOfWork) -> None:
        self.uow = uow
        self._loaded: dict[uuid.UUID, int] = {}

    def _from_row(self, row: Any) -> Round:
        round_ = Round(
            id=row.id,
            title=row.title,
            policy_id=row.policy_id,
            policy_version=row.policy_version,
            policy=row.policy,
            issuing_org_code=row.issuing_org_code,
            issuing_org_path=row.issuing_org_path,
            opens_at=row.opens_at,
            deadline=row.deadline,
            created_by=row.created_by,
            status=RoundStatus(row.status),
            closed_at=row.closed_at,
            close_reason=row.close_reason,
            version=row.version,
            notice=dict(row.notice or {}),
            level_deadlines={k: dt.datetime.fromisoformat(v) for k, v in (row.level_deadlines or {}).items()},
        )
        self._loaded[round_.id] = round_.version
        self.uow.track(round_)
        return round_

    def get(self, round_id: uuid.UUID, *, for_update: bool = False) -> Round | None:
        query = sa.select(rounds).where(rounds.c.id == round_id)
        if for_update:
            query = query.with_for_update()
        row = self.uow.session.execute(query).one_or_none()
        return self._from_row(row) if row else None

    def due_to_close(self, now: dt.datetime, limit: int = 100) -> list[uuid.UUID]:
        query = (
            sa.select(rounds.c.id)
            .where(rounds.c.status == RoundStatus.OPEN.value, rounds.c.deadline <= now)
            .order_by(rounds.c.deadline)
            .limit(limit)
        )
        return [r[0] for r in self.uow.session.execute(query)]

    def policies(self, round_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        """The policy snapshot of each round (what a list of their nominations is masked by)."""
        if not round_ids:
            return {}
        query = sa.select(rounds.c.id, rounds.c.policy).where(rounds.c.id.in_(set(round_ids)))
        return {r.id: r.policy for r in self.uow.session.execute(query)}

    def visible(self, paths: Sequence[str], *, status: str | None, after: Any, limit: int) -> list[Round]:
        """Rounds issued in the caller's subtree or above it (a school sees its city's round)."""
        ancestors = [p for path in paths for p in _ancestors(path)]
        condition = sa.or_(within_any(rounds.c.issuing_org_path, paths), rounds.c.issuing_org_path.in_(ancestors))
        query = sa.select(rounds).where(condition)
        if status:
            query = query.where(rounds.c.status == status)
        if after:
            query = query.where(
                sa.tuple_(rounds.c.opens_at, rounds.c.id) < (dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1]))
            )
        query = query.order_by(rounds.c.opens_at.desc(), rounds.c.id.desc()).limit(limit)
        return [self._from_row(r) for r in self.uow.session.execute(query)]

    def save(self, round_: Round) -> None:
        values = {
            "title": round_.title,
            "policy_id": round_.policy_id,
            "policy_version": round_.policy_version,
            "policy": round_.policy,
            "issuing_org_code": round_.issuing_org_code,
            "issuing_org_path": round_.issuing_org_path,
            "opens_at": round_.opens_at,
            "deadline": round_.deadline,
            "status": round_.status.value,
            "closed_at": round_.closed_at,
            "close_reason": round_.close_reason,
            "created_by": round_.created_by,
            "version": round_.version,
            "notice": round_.notice or None,
            "level_deadlines": {k: v.isoformat() for k, v in round_.level_deadlines.items()} or None,
        }
        loaded = self._loaded.get(round_.id)
        if loaded is None:
            self.uow.session.execute(rounds.insert().values(id=round_.id, **values))
            self.uow.track(round_)
        else:
            done = self.uow.session.execute(
                rounds.update().where(rounds.c.id == round_.id, rounds.c.version == loaded).values(**values)
            )
            if _rowcount(done) != 1:
                raise ConcurrentUpdate(str(round_.id))
        self._loaded[round_.id] = round_.version


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


class NominationRepository:
    def __init__(self, uow: NominationsUnitOfWork) -> None:
        self.uow = uow
        self._loaded: dict[uuid.UUID, int] = {}

    def _from_row(self, row: Any, track: bool = True) -> Nomination:
        nomination = Nomination(
            id=row.id,
            round_id=row.round_id,
            policy_id=row.policy_id,
            school_org_code=row.school_org_code,
            school_org_path=row.school_org_path,
            school_name=row.school_name,
            created_by=row.created_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            candidate_user_id=row.candidate_user_id,
            candidate=dict(row.candidate or {}),
            form=dict(row.form or {}),
            photo_sha256=row.photo_sha256,
            photo_type=row.photo_type,
            attested_by=row.attested_by,
            attested_name=row.attested_name,
            attested_at=row.attested_at,
            status=Status(row.status),
            revision=row.revision,
            returned_at_stage=row.returned_at_stage,
            submitted_at=row.submitted_at,
            decided_at=row.decided_at,
            certificate_claim=row.certificate_claim,
            version=row.version,
        )
        if track:
            self._loaded[nomination.id] = nomination.version
            self.uow.track(nomination)
        return nomination

    def get(self, nomination_id: uuid.UUID, *, for_update: bool = False) -> Nomination | None:
        query = sa.select(nominations).where(nominations.c.id == nomination_id)
        if for_update:
            query = query.with_for_update()
        row = self.uow.session.execute(query).one_or_none()
        return self._from_row(row) if row else None

    def live_for_school(self, round_id: uuid.UUID, school_org_code: str) -> uuid.UUID | None:
        query = sa.select(nominations.c.id).where(
            nominations.c.round_id == round_id,
            nominations.c.school_org_code == school_org_code,
            nominations.c.status.not_in([Status.REJECTED.value, Status.WITHDRAWN.value]),
        )
        return self.uow.session.execute(query).scalar_one_or_none()

    def latest_of_unit(self, school_org_code: str, *, excluding_round: uuid.UUID) -> Nomination | None:
        """The unit's most recent nomination of another round that was not withdrawn."""
        query = (
            sa.select(nominations)
            .where(
                nominations.c.school_org_code == school_org_code,
                nominations.c.round_id != excluding_round,
                nominations.c.status != Status.WITHDRAWN.value,
            )
            .order_by(nominations.c.created_at.desc())
            .limit(1)
        )
        row = self.uow.session.execute(query).one_or_none()
        return self._from_row(row, track=False) if row else None

    def of_round_within(self, round_id: uuid.UUID, org_path: str) -> list[Nomination]:
        """Every nomination of a round in one subtree (a county's), locked: a batch reads them as one act."""
        query = (
            sa.select(nominations)
            .where(nominations.c.round_id == round_id, within_any(nominations.c.school_org_path, [org_path]))
            .order_by(nominations.c.school_org_path)
            .with_for_update()
        )
        return [self._from_row(r, track=False) for r in self.uow.session.execute(query)]

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
        query = sa.select(nominations).where(within_any(nominations.c.school_org_path, paths))
        if round_id:
            query = query.where(nominations.c.round_id == round_id)
        if status:
            query = query.where(nominations.c.status == status)
        if org_path:
            query = query.where(within_any(nominations.c.school_org_path, [org_path]))
        if after:
            key = (dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1]))
            query = query.where(sa.tuple_(nominations.c.created_at, nominations.c.id) < key)
        query = query.order_by(nominations.c.created_at.desc(), nominations.c.id.desc()).limit(limit)
        return [self._from_row(r, track=False) for r in self.uow.session.execute(query)]

    def stream_for_summary(
        self,
        round_id: uuid.UUID,
        paths: Sequence[str],
        batch: int = 1000,
        only: Sequence[uuid.UUID] | None = None,
    ) -> Iterator[Nomination]:
        """Every live nomination of a round in the subtrees (or `only` those of a county's batch), ordered by
        school, fetched in batches."""
        query = (
            sa.select(nominations)
            .where(
                nominations.c.round_id == round_id,
                within_any(nominations.c.school_org_path, paths),
                nominations.c.status != Status.WITHDRAWN.value,
            )
            .order_by(nominations.c.school_org_path, nominations.c.id)
            .execution_options(yield_per=batch)
        )
        if only is not None:
            query = query.where(nominations.c.id.in_(list(only)))
        for row in self.uow.session.execute(query):
            yield self._from_row(row, track=False)

    def save(self, nomination: Nomination) -> None:
        values = {
            "round_id": nomination.round_id,
            "policy_id": nomination.policy_id,
            "school_org_code": nomination.school_org_code,
            "school_org_path": nomination.school_org_path,
            "school_name": nomination.school_name,
            "candidate_user_id": nomination.candidate_user_id,
            "candidate": nomination.candidate,
            "form": nomination.form,
            "photo_sha256": nomination.photo_sha256,
            "photo_type": nomination.photo_type,
            "attested_by": nomination.attested_by,
            "attested_name": nomination.attested_name,
            "attested_at": nomination.attested_at,
            "status": nomination.status.value,
            "revision": nomination.revision,
            "returned_at_stage": nomination.returned_at_stage,
            "submitted_at": nomination.submitted_at,
            "decided_at": nomination.decided_at,
            "certificate_claim": nomination.certificate_claim,
            "created_by": nomination.created_by,
            "created_at": nomination.created_at,
            "updated_at": nomination.updated_at,
            "version": nomination.version,
        }
        loaded = self._loaded.get(nomination.id)
        session = self.uow.session
        if loaded is None:
            try:
                session.execute(nominations.insert().values(id=nomination.id, **values))
            except sa.exc.IntegrityError as exc:
                # Two creations raced past live_for_school(); the partial unique index lets one win.
                if LIVE_PER_SCHOOL_INDEX in str(exc):
                    raise LiveNominationExists(str(nomination.id)) from exc
                raise
            self.uow.track(nomination)
        else:
            done = session.execute(
                nominations.update()
                .where(nominations.c.id == nomination.id, nominations.c.version == loaded)
                .values(**values)
            )
            if _rowcount(done) != 1:
                raise ConcurrentUpdate(str(nomination.id))
        self._loaded[nomination.id] = nomination.version
        if nomination.changes:
            session.execute(
                nomination_history.insert(),
                [
                    {
                        "nomination_id": nomination.id,
                        "at": c.at,
                        "actor": c.actor,
                        "action": c.action,
                        "details": c.details,
                    }
                    for c in nomination.changes
                ],
            )
            nomination.changes.clear()

    def history(self, nomination_id: uuid.UUID) -> list[dict[str, Any]]:
        query = (
            sa.select(nomination_history)
            .where(nomination_history.c.nomination_id == nomination_id)
            .order_by(nomination_history.c.id)
        )
        return [dict(r._mapping) for r in self.uow.session.execute(query)]

    def put_evidence(
        self, nomination_id: uuid.UUID, kind: str, file: dict[str, Any], actor: str, now: dt.datetime
    ) -> None:
        session = self.uow.session
        e = nomination_evidence.c
        session.execute(nomination_evidence.delete().where(e.nomination_id == nomination_id, e.kind == kind))
        session.execute(
            nomination_evidence.insert().values(
                nomination_id=nomination_id, kind=kind, uploaded_by=actor, uploaded_at=now, **file
            )
        )

    def evidence_list(self, nomination_id: uuid.UUID) -> list[dict[str, Any]]:
        e = nomination_evidence.c
        query = (
            sa.select(e.kind, e.filename, e.content_type, e.sha256, e.size, e.uploaded_by, e.uploaded_at)
            .where(e.nomination_id == nomination_id)
            .order_by(e.kind)
        )
        return [dict(r._mapping) for r in self.uow.session.execute(query)]

    def evidence(self, nomination_id: uuid.UUID, kind: str) -> tuple[str, str, bytes] | None:
        e = nomination_evidence.c
        row = self.uow.session.execute(
            sa.select(e.filename, e.content_type, e.data).where(e.nomination_id == nomination_id, e.kind == kind)
        ).first()
        return (row.filename, row.content_type, bytes(row.data)) if row else None

    def put_photo(
        self, nomination_id: uuid.UUID, content_type: str, sha256: str, data: bytes, now: dt.datetime
    ) -> None:
        session = self.uow.session
        session.execute(nomination_photos.delete().where(nomination_photos.c.nomination_id == nomination_id))
        session.execute(
            nomination_photos.insert().values(
                nomination_id=nomination_id,
                content_type=content_type,
                sha256=sha256,
                size=len(data),
                data=data,
                uploaded_at=now,
            )
        )

    def photo(self, nomination_id: uuid.UUID) -> tuple[str, bytes] | None:
        row = self.uow.session.execute(
            sa.select(nomination_photos.c.content_type, nomination_photos.c.data).where(
                nomination_photos.c.nomination_id == nomination_id
            )
        ).one_or_none()
        return (row[0], bytes(row[1])) if row else None


class Directory:
    """The projection of identity's orgs and users, and of the facts eligibility needs."""

    def __init__(self, uow: NominationsUnitOfWork) -> None:
        self.uow = uow

    def org(self, code: str) -> dict[str, Any] | None:
        row = self.uow.session.execute(sa.select(org_projection).where(org_projection.c.code == code)).one_or_none()
        return dict(row._mapping) if row else None

    def orgs_by_path(self, paths: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not paths:
            return {}
        rows = self.uow.session.execute(sa.select(org_projection).where(org_projection.c.path.in_(list(paths))))
        return {r.path: dict(r._mapping) for r in rows}

    def orgs_within(self, org_path: str, levels: Sequence[str]) -> list[dict[str, Any]]:
        """The orgs of `levels` at `org_path` or under it, by path (a county's schools sit together)."""
        o = org_projection.c
        query = (
            sa.select(org_projection)
            .where(
                sa.or_(o.path == org_path, o.path.startswith(org_path.rstrip("/") + "/", autoescape=True)),
                o.level.in_(list(levels)),
            )
            .order_by(o.path)
        )
        return [dict(r._mapping) for r in self.uow.session.execute(query)]

    def units_with_appointment(self, unit_codes: Sequence[str]) -> set[str]:
        """Which of the units have an active appointment (聘任 in force), from approvals' events."""
        if not unit_codes:
            return set()
        a = appointment_projection.c
        query = sa.select(a.org_code).where(a.org_code.in_(list(unit_codes)), a.status == "active").distinct()
        return {r[0] for r in self.uow.session.execute(query)}

    def user(self, user_id: uuid.UUID) -> dict[str, Any] | None:
        row = self.uow.session.execute(
            sa.select(user_projection).where(user_projection.c.user_id == user_id)
        ).one_or_none()
        return dict(row._mapping) if row else None

    def users_of_org(self, org_code: str, limit: int = 500) -> list[dict[str, Any]]:
        query = (
            sa.select(user_projection)
            .where(user_projection.c.org_code == org_code, user_projection.c.is_active.is_(True))
            .order_by(user_projection.c.display_name)
            .limit(limit)
        )
        return [dict(r._mapping) for r in self.uow.session.execute(query)]

    def users_within(self, org_path: str, limit: int = 500) -> list[dict[str, Any]]:
        """The active users of the org at `org_path` and of every org under it."""
        o, u = org_projection.c, user_projection.c
        query = (
            sa.select(user_projection)
            .join(org_projection, o.code == u.org_code)
            .where(
                sa.or_(o.path == org_path, o.path.startswith(org_path.rstrip("/") + "/", autoescape=True)),
                u.is_active.is_(True),
            )
            .order_by(o.path, u.display_name)
            .limit(limit)
        )
        return [dict(r._mapping) for r in self.uow.session.execute(query)]

    def upsert(self, table: sa.Table, key: str, values: dict[str, Any]) -> None:
        session = self.uow.session
        done = session.execute(table.update().where(table.c[key] == values[key]).values(**values))
        if _rowcount(done) == 0:
            session.execute(table.insert().values(**values))

    def update(self, table: sa.Table, key: str, key_value: Any, values: dict[str, Any]) -> int:
        return _rowcount(self.uow.session.execute(table.update().where(table.c[key] == key_value).values(**values)))

    def certificate_numbers(self, person_user_id: uuid.UUID) -> set[str]:
        """The numbers of the person's certificates in training's records (a claim is confirmed once there)."""
        c = certificate_projection.c
        query = sa.select(c.number).where(c.person_user_id == person_user_id, c.number.is_not(None))
        return {r[0] for r in self.uow.session.execute(query)}

    def valid_certificates(self, person_user_id: uuid.UUID, today: dt.date) -> list[tuple[str, str]]:
        c = certificate_projection.c
        query = sa.select(c.kind, c.level).where(
            c.person_user_id == person_user_id,
            c.revoked_at.is_(None),
            sa.or_(c.expires_on.is_(None), c.expires_on >= today),
        )
        return [(r[0], r[1]) for r in self.uow.session.execute(query)]

    def consecutive_terms(self, person_user_id: uuid.UUID, org_code: str, today: dt.date) -> int:
        """The terms of the person's unbroken run at the org that a term nominated for now would continue
        (连任不超过N届): a gap or a revocation ends a run, so terms served years ago bar no one."""
        a = appointment_projection.c
        rows = self.uow.session.execute(
            sa.select(a.starts_on, a.ends_on, a.status).where(
                a.person_user_id == person_user_id, a.org_code == org_code, a.starts_on.is_not(None)
            )
        )
        history = [TermRecord(r.starts_on, r.ends_on, r.status == "revoked") for r in rows]
        return consecutive_terms_before(history, next_term_start(history, today))


class BatchRepository:
    """报送批次: the counties' batches of a round."""

    def __init__(self, uow: NominationsUnitOfWork) -> None:
        self.uow = uow

    @staticmethod
    def _from_row(row: Any) -> Batch:
        return Batch(
            id=row.id,
            round_id=row.round_id,
            org_code=row.org_code,
            org_path=row.org_path,
            org_name=row.org_name,
            to_role=row.to_role,
            to_org_path=row.to_org_path,
            nominations=list(row.nominations or []),
            opinion=row.opinion,
            submitted_by=row.submitted_by,
            submitted_at=row.submitted_at,
        )

    def add(self, batch: Batch) -> None:
        exists = sa.select(batches.c.id).where(
            batches.c.round_id == batch.round_id, batches.c.org_code == batch.org_code
        )
        if self.uow.session.execute(exists).first() is not None:
            raise BatchExists(batch.org_code)
        try:
            self.uow.session.execute(
                batches.insert().values(
                    id=batch.id,
                    round_id=batch.round_id,
                    org_code=batch.org_code,
                    org_path=batch.org_path,
                    org_name=batch.org_name,
                    to_role=batch.to_role,
                    to_org_path=batch.to_org_path,
                    nominations=batch.nominations,
                    opinion=batch.opinion,
                    submitted_by=batch.submitted_by,
                    submitted_at=batch.submitted_at,
                )
            )
        except sa.exc.IntegrityError as exc:
            # two sends raced past the check above; the unique constraint lets one win
            raise BatchExists(batch.org_code) from exc
        self.uow.track(batch)

    def get(self, batch_id: uuid.UUID) -> Batch | None:
        row = self.uow.session.execute(sa.select(batches).where(batches.c.id == batch_id)).one_or_none()
        return self._from_row(row) if row else None

    def of_round(self, round_id: uuid.UUID) -> list[Batch]:
        query = sa.select(batches).where(batches.c.round_id == round_id).order_by(batches.c.org_path)
        return [self._from_row(r) for r in self.uow.session.execute(query)]


class NominationsUnitOfWork(AuditTrail, SqlAlchemyUnitOfWork):
    rounds: RoundRepository
    nominations: NominationRepository
    batches: BatchRepository
    directory: Directory

    def on_enter(self) -> None:
        self.batches = BatchRepository(self)
        self.rounds = RoundRepository(self)
        self.nominations = NominationRepository(self)
        self.directory = Directory(self)

    def audit_scope(
        self, action: str, actor: str | None, target: str | None, details: dict[str, Any] | None
    ) -> str | None:
        """The org a record is about, for the audit listing's scope: the nominating school, or the round's issuing
        org; None (platform-wide auditors only) for anything else."""
        try:
            record = uuid.UUID(target or "")
        except ValueError:
            return None
        pending = pending_scope(self.session, record, ("school_org_path", "issuing_org_path"))
        if pending is not None:
            return pending
        for aggregate in self.seen:  # loaded in this unit of work already: no query needed
            if getattr(aggregate, "id", None) == record:
                for attribute in ("school_org_path", "issuing_org_path"):
                    value = getattr(aggregate, attribute, None)
                    if isinstance(value, str):
                        return value
        with self.session.no_autoflush:
            school = self.session.execute(sa.select(nominations.c.school_org_path).where(nominations.c.id == record))
            path = school.scalar_one_or_none()
            if path is None:
                issuer = self.session.execute(sa.select(rounds.c.issuing_org_path).where(rounds.c.id == record))
                path = issuer.scalar_one_or_none()
        return path
