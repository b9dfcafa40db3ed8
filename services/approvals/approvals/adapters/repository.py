"""The approvals repositories: each takes the unit of work's session and keeps what it loaded or added as `seen`,
so the unit of work writes those aggregates' events to the outbox on commit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, delete, false, func, or_, select, update

from approvals.adapters.orm import (
    appointment_filings,
    appointments,
    batch_receipts,
    delegations,
    evaluations,
    objections,
    publication_entries,
    publications,
    rectification_attachments,
    rectifications,
    review_cases,
    review_tasks,
)
from approvals.domain.evaluation import ORDERED, Evaluation, Rectification
from approvals.domain.filings import DUE, ChangeFiling
from approvals.domain.model import ACTIVE, OPEN, READ_ALL_ROLES, REVOKED, Appointment, ReviewCase, ReviewTask
from approvals.domain.publication import Objection, Publication
from approvals.domain.terms import TermRecord
from shared.db import SqlRepository, where_given
from shared.directory import directory_grants
from shared.principal import Principal
from shared.scope import path_within, within_any


def task_scope(principal: Principal) -> ColumnElement[bool]:
    """Tasks the caller may see: those of a role they hold, at an org within that role's grants."""
    clauses: list[ColumnElement[bool]] = []
    for role in sorted(principal.roles):
        paths = principal.paths(role)
        if role in READ_ALL_ROLES:
            clauses.append(within_any(review_tasks.c.org_path, paths))
        else:
            clauses.append(and_(review_tasks.c.role == role, within_any(review_tasks.c.org_path, paths)))
    return or_(*clauses) if clauses else false()


class BatchReceipts(SqlRepository):
    """报送: which nominations their county has sent up to the city (from `nominations.batch.submitted`)."""

    def record(self, values: dict[str, Any]) -> None:
        """One receipt per nomination; the same batch told again changes nothing."""
        session = self.session
        known = session.execute(
            select(batch_receipts.c.nomination_id).where(batch_receipts.c.nomination_id == values["nomination_id"])
        ).first()
        if known is None:
            session.execute(batch_receipts.insert().values(**values))

    def received(self, nomination_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `nomination_ids` that are in a sent batch."""
        if not nomination_ids:
            return set()
        query = select(batch_receipts.c.nomination_id).where(batch_receipts.c.nomination_id.in_(list(nomination_ids)))
        return set(self.session.execute(query).scalars())


class CaseRepository(SqlRepository[ReviewCase]):
    def _case(self, where: ColumnElement[bool], lock: bool) -> ReviewCase | None:
        query = select(ReviewCase).where(where)
        if lock:
            # Serialises two reviewers deciding the same case: the second reads the first's result.
            query = query.with_for_update()
        case = self.session.execute(query).scalar_one_or_none()
        if case is not None:
            self._saw(case)
            for task in case.tasks:
                self._saw(task)
        return case

    def get(self, case_id: uuid.UUID, lock: bool = False) -> ReviewCase | None:
        return self._case(review_cases.c.id == case_id, lock)

    def by_nomination(self, nomination_id: uuid.UUID, lock: bool = False) -> ReviewCase | None:
        return self._case(review_cases.c.nomination_id == nomination_id, lock)

    def list_within(
        self, paths: Sequence[str], *, status: str | None, round_id: uuid.UUID | None, after: Any, limit: int
    ) -> list[ReviewCase]:
        query = (
            select(ReviewCase)
            .where(within_any(review_cases.c.school_org_path, paths))
            .order_by(review_cases.c.opened_at, review_cases.c.id)
        )
        query = where_given(query, (review_cases.c.status, status), (review_cases.c.round_id, round_id))
        if after:
            at, last = dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1])
            query = query.where(
                or_(review_cases.c.opened_at > at, and_(review_cases.c.opened_at == at, review_cases.c.id > last))
            )
        return self._read(query.limit(limit))


class TaskRepository(SqlRepository[ReviewTask]):
    def case_id_of(self, task_id: uuid.UUID) -> uuid.UUID | None:
        return self.session.execute(
            select(review_tasks.c.case_id).where(review_tasks.c.id == task_id)
        ).scalar_one_or_none()

    def get(self, task_id: uuid.UUID) -> ReviewTask | None:
        return self.session.get(ReviewTask, task_id)

    def inbox(
        self,
        principal: Principal,
        *,
        status: str | None,
        role: str | None,
        stage_name: str | None,
        org_code: str | None,
        school_org_path: str | None,
        round_id: uuid.UUID | None,
        overdue: bool | None,
        after: Any,
        limit: int,
    ) -> list[ReviewTask]:
        t = review_tasks.c
        query = select(ReviewTask).where(task_scope(principal)).order_by(t.due_at, t.id)
        query = where_given(
            query,
            (t.status, status),
            (t.role, role),
            (t.stage_name, stage_name),
            (t.org_code, org_code),
            (t.round_id, round_id),
        )
        if school_org_path:
            query = query.where(within_any(t.school_org_path, [school_org_path]))
        if overdue is True:
            query = query.where(t.overdue_at.is_not(None))
        elif overdue is False:
            query = query.where(t.overdue_at.is_(None))
        if after:
            at, last = dt.datetime.fromisoformat(after[0]), uuid.UUID(after[1])
            query = query.where(or_(t.due_at > at, and_(t.due_at == at, t.id > last)))
        return self._read(query.limit(limit))

    def overdue_candidates(self, at: dt.datetime, limit: int) -> list[ReviewTask]:
        t = review_tasks.c
        query = (
            select(ReviewTask)
            .where(t.status == OPEN, t.overdue_at.is_(None), t.due_at <= at)
            .order_by(t.due_at)
            .limit(limit)
        )
        query = query.with_for_update(skip_locked=True)
        return self._all(query)


class AppointmentRepository(SqlRepository[Appointment]):
    def get(self, appointment_id: uuid.UUID, lock: bool = False) -> Appointment | None:
        return self._one(select(Appointment).where(appointments.c.id == appointment_id), lock)

    def lock_org(self, org_code: str) -> None:
        """Serialise whatever may create an org's active appointment (final approvals, renewals) until
        this transaction ends, so the second one reads the first one's result instead of colliding."""
        self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(f"approvals.appointments:{org_code}", 0)))
        )

    def active_for_org(self, org_code: str) -> Appointment | None:
        # Seen: a successor may end it (换届), and its events must leave with the commit.
        return self._one(
            select(Appointment).where(appointments.c.org_code == org_code, appointments.c.status == ACTIVE)
        )

    def active_of_person(self, person_user_id: str) -> list[Appointment]:
        a = appointments.c
        return self._all(
            select(Appointment).where(a.person_user_id == person_user_id, a.status == ACTIVE).with_for_update()
        )

    def terms_of(self, person_user_id: str, org_code: str) -> list[TermRecord]:
        """The person's appointments at the org, as the term-limit rule reads them (连任不超过N届)."""
        a = appointments.c
        rows = self.session.execute(
            select(a.starts_on, a.ends_on, a.ended_on, a.status).where(
                a.person_user_id == person_user_id, a.org_code == org_code
            )
        )
        return [
            TermRecord(starts_on=r.starts_on, last_day=r.ended_on or r.ends_on, revoked=r.status == REVOKED)
            for r in rows
        ]

    def list_within(
        self,
        paths: Sequence[str],
        *,
        org_path: str | None,
        status: str | None,
        ends_before: dt.date | None,
        round_id: uuid.UUID | None,
        after: Any,
        limit: int | None,
    ) -> list[Appointment]:
        a = appointments.c
        query = select(Appointment).where(within_any(a.org_path, paths)).order_by(a.org_path, a.id)
        if org_path:
            query = query.where(within_any(a.org_path, [org_path]))
        query = where_given(query, (a.status, status), (a.round_id, round_id))
        if ends_before:
            query = query.where(a.ends_on < ends_before)
        if after:
            query = query.where(or_(a.org_path > after[0], and_(a.org_path == after[0], a.id > uuid.UUID(after[1]))))
        if limit is not None:
            query = query.limit(limit)
        return self._read(query)

    def due_to_end(self, today: dt.date, limit: int) -> list[Appointment]:
        query = (
            select(Appointment)
            .where(appointments.c.status == ACTIVE, appointments.c.ends_on < today)
            .order_by(appointments.c.ends_on)
            .limit(limit)
        )
        query = query.with_for_update(skip_locked=True)
        return self._all(query)

    def add_filing(self, filing: ChangeFiling) -> None:
        self.session.add(filing)
        self._saw(filing)

    def filing(self, appointment_id: uuid.UUID, filing_id: int, lock: bool = False) -> ChangeFiling | None:
        c = appointment_filings.c
        return self._one(select(ChangeFiling).where(c.id == filing_id, c.appointment_id == appointment_id), lock)

    def owed_filing(self, appointment_id: uuid.UUID, kind: str) -> ChangeFiling | None:
        """The filing of this kind the school still owes for the appointment (raised by the directory)."""
        c = appointment_filings.c
        query = select(ChangeFiling).where(c.appointment_id == appointment_id, c.kind == kind, c.status == DUE)
        return self._one(query.order_by(c.id).limit(1), lock=True)

    def filings(self, appointment_id: uuid.UUID) -> list[Any]:
        return list(
            self.session.execute(
                select(appointment_filings)
                .where(appointment_filings.c.appointment_id == appointment_id)
                .order_by(appointment_filings.c.id)
            ).all()
        )


class DelegationRepository(SqlRepository):
    def add(self, values: dict[str, Any]) -> None:
        self.session.execute(delegations.insert().values(**values))

    @staticmethod
    def _in_force(on: dt.date) -> ColumnElement[bool]:
        """Within its dates, not revoked, and its delegator still holds the role there: the authority
        passed on is the delegator's, so it ends with their grant."""
        d, g = delegations.c, directory_grants.c
        delegator_holds = (
            select(g.grant_id)
            .where(g.user_id == d.delegator_user_id, g.role == d.role, g.org_path == d.org_path)
            .exists()
        )
        return and_(d.revoked_at.is_(None), d.starts_on <= on, d.ends_on >= on, delegator_holds)

    def in_force(self, delegator: str, delegate: str, role: str, org_path: str, on: dt.date) -> bool:
        """Whether `delegator` has delegated their `role` tasks at `org_path` (or above) to `delegate` on `on`."""
        d = delegations.c
        query = select(d.org_path).where(
            d.delegator_user_id == delegator, d.delegate_user_id == delegate, d.role == role, self._in_force(on)
        )
        # A revocation committing first is seen here (it holds the row FOR UPDATE): a decision
        # never claims a delegation revoked before it was recorded.
        query = query.with_for_update(read=True, of=delegations)
        return any(path_within(org_path, row.org_path) for row in self.session.execute(query))

    def get(self, delegation_id: uuid.UUID, lock: bool = False) -> Any | None:
        query = select(delegations).where(delegations.c.id == delegation_id)
        if lock:
            query = query.with_for_update()
        return self.session.execute(query).first()

    def revoke(self, delegation_id: uuid.UUID, at: dt.datetime) -> bool:
        """False when it was revoked already (the row is left as it was)."""
        d = delegations.c
        done = self.session.execute(
            update(delegations).where(d.id == delegation_id, d.revoked_at.is_(None)).values(revoked_at=at)
        )
        return cast(CursorResult[Any], done).rowcount == 1

    def list_for(self, user_id: str) -> list[Any]:
        d = delegations.c
        return list(
            self.session.execute(
                select(delegations)
                .where(or_(d.delegator_user_id == user_id, d.delegate_user_id == user_id))
                .order_by(d.created_at, d.id)
            ).all()
        )


class EvaluationRepository(SqlRepository[Evaluation]):
    def get(self, evaluation_id: uuid.UUID, lock: bool = False) -> Evaluation | None:
        return self._one(select(Evaluation).where(evaluations.c.id == evaluation_id), lock)

    def periods_of(self, appointment_id: uuid.UUID, kind: str) -> list[int]:
        e = evaluations.c
        return list(
            self.session.execute(select(e.period).where(e.appointment_id == appointment_id, e.kind == kind)).scalars()
        )

    def school_periods(self, org_codes: Sequence[str], kind: str) -> dict[str, list[int]]:
        """The periods each school was assessed for (school assessments: no appointment)."""
        e = evaluations.c
        found: dict[str, list[int]] = {}
        if not org_codes:
            return found
        rows = self.session.execute(
            select(e.org_code, e.period).where(
                e.appointment_id.is_(None), e.org_code.in_(list(org_codes)), e.kind == kind
            )
        )
        for code, period in rows:
            found.setdefault(code, []).append(period)
        return found

    def of_school_period(self, org_codes: Sequence[str], kind: str, period: int) -> list[Evaluation]:
        """The school assessments of `kind` for `period` of these schools (a school campaign's overview)."""
        if not org_codes:
            return []
        e = evaluations.c
        query = select(Evaluation).where(
            e.appointment_id.is_(None), e.org_code.in_(list(org_codes)), e.kind == kind, e.period == period
        )
        return self._read(query)

    def of_period(self, appointment_ids: Sequence[uuid.UUID], kind: str, period: int) -> list[Evaluation]:
        """The evaluations of `kind` for `period` of these appointments (a campaign's overview)."""
        if not appointment_ids:
            return []
        e = evaluations.c
        query = select(Evaluation).where(
            e.appointment_id.in_(list(appointment_ids)), e.kind == kind, e.period == period
        )
        return self._read(query)

    def list_within(
        self,
        paths: Sequence[str],
        *,
        person_user_id: str | None,
        filters: dict[str, Any],
        after: Any,
        limit: int,
    ) -> list[Evaluation]:
        """In the caller's subtrees (or the caller's own, as the CIO evaluated), newest period first."""
        e = evaluations.c
        visible = within_any(e.org_path, paths)
        if person_user_id:
            visible = or_(visible, e.person_user_id == person_user_id)
        query = select(Evaluation).where(visible).order_by(e.period.desc(), e.org_path, e.id)
        if filters.get("org_path"):
            query = query.where(within_any(e.org_path, [filters["org_path"]]))
        for key in ("kind", "period", "status", "grade", "appointment_id", "subject"):
            if filters.get(key) is not None:
                query = query.where(e[key] == filters[key])
        if after:
            period, path, last = int(after[0]), after[1], uuid.UUID(after[2])
            query = query.where(
                or_(
                    e.period < period,
                    and_(e.period == period, e.org_path > path),
                    and_(e.period == period, e.org_path == path, e.id > last),
                )
            )
        return self._read(query.limit(limit))


class RectificationRepository(SqlRepository[Rectification]):
    def get(self, rectification_id: uuid.UUID, lock: bool = False) -> Rectification | None:
        return self._one(select(Rectification).where(rectifications.c.id == rectification_id), lock)

    def of_evaluation(self, evaluation_id: uuid.UUID) -> Rectification | None:
        return self.session.execute(
            select(Rectification).where(rectifications.c.evaluation_id == evaluation_id)
        ).scalar_one_or_none()

    def list_within(
        self, paths: Sequence[str], *, filters: dict[str, Any], after: Any, limit: int
    ) -> list[Rectification]:
        r = rectifications.c
        query = select(Rectification).where(within_any(r.org_path, paths)).order_by(r.due_on, r.id)
        if filters.get("org_path"):
            query = query.where(within_any(r.org_path, [filters["org_path"]]))
        if filters.get("status"):
            query = query.where(r.status == filters["status"])
        if filters.get("overdue") is True:
            query = query.where(r.overdue_at.is_not(None))
        elif filters.get("overdue") is False:
            query = query.where(r.overdue_at.is_(None))
        if after:
            due, last = dt.date.fromisoformat(after[0]), uuid.UUID(after[1])
            query = query.where(or_(r.due_on > due, and_(r.due_on == due, r.id > last)))
        return self._read(query.limit(limit))

    def replace_attachments(
        self, rectification_id: uuid.UUID, files: Sequence[dict[str, Any]], at: dt.datetime
    ) -> None:
        """The report's attachments: a new report replaces the last one's."""
        session = self.session
        session.execute(
            delete(rectification_attachments).where(rectification_attachments.c.rectification_id == rectification_id)
        )
        if files:
            session.execute(
                rectification_attachments.insert(),
                [{**f, "id": uuid.uuid4(), "rectification_id": rectification_id, "uploaded_at": at} for f in files],
            )

    def attachments(self, rectification_id: uuid.UUID) -> list[Any]:
        a = rectification_attachments.c
        query = (
            select(a.id, a.filename, a.content_type, a.size, a.sha256, a.uploaded_at)
            .where(a.rectification_id == rectification_id)
            .order_by(a.uploaded_at, a.filename)
        )
        return list(self.session.execute(query).all())

    def attachment(self, rectification_id: uuid.UUID, attachment_id: uuid.UUID) -> Any | None:
        a = rectification_attachments.c
        query = select(a.filename, a.content_type, a.data).where(
            a.rectification_id == rectification_id, a.id == attachment_id
        )
        return self.session.execute(query).first()

    def overdue_candidates(self, today: dt.date, limit: int) -> list[Rectification]:
        r = rectifications.c
        query = (
            select(Rectification)
            .where(r.status == ORDERED, r.overdue_at.is_(None), r.due_on < today)
            .order_by(r.due_on)
            .limit(limit)
        )
        query = query.with_for_update(skip_locked=True)
        return self._all(query)


class PublicationRepository(SqlRepository[Publication]):
    """名单公示 and its objections."""

    def add(self, publication: Publication) -> None:
        """The list and its entries (one row per case on it)."""
        super().add(publication)
        self.session.flush()
        self.session.execute(
            publication_entries.insert(),
            [{"publication_id": publication.id, "case_id": uuid.UUID(e["case_id"])} for e in publication.entries],
        )

    def get(self, publication_id: uuid.UUID, lock: bool = False) -> Publication | None:
        return self._one(select(Publication).where(publications.c.id == publication_id), lock)

    def listed(self, case_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """The cases already on a list (a person is published once)."""
        if not case_ids:
            return set()
        query = select(publication_entries.c.case_id).where(publication_entries.c.case_id.in_(list(case_ids)))
        return set(self.session.execute(query).scalars())

    def of_case(self, case_id: uuid.UUID) -> Publication | None:
        query = (
            select(Publication)
            .join(publication_entries, publication_entries.c.publication_id == publications.c.id)
            .where(publication_entries.c.case_id == case_id)
        )
        return self.session.execute(query).scalar_one_or_none()

    def list_within(self, paths: Sequence[str], round_id: uuid.UUID | None) -> list[Publication]:
        query = select(Publication).where(within_any(publications.c.publisher_org_path, paths))
        if round_id is not None:
            query = query.where(publications.c.round_id == round_id)
        query = query.order_by(publications.c.published_at.desc(), publications.c.id).limit(200)
        return self._read(query)

    def current(self, today: dt.date, limit: int = 100) -> list[Publication]:
        """Lists whose period has not ended: what the public page shows."""
        query = (
            select(Publication)
            .where(publications.c.ends_on >= today)
            .order_by(publications.c.starts_on, publications.c.id)
            .limit(limit)
        )
        return self._read(query)

    def add_objection(self, objection: Objection) -> None:
        self.session.add(objection)
        self._saw(objection)

    def objections(self, publication_id: uuid.UUID) -> list[Objection]:
        query = (
            select(Objection)
            .where(objections.c.publication_id == publication_id)
            .order_by(objections.c.received_at, objections.c.id)
        )
        return self._read(query)

    def objection(self, publication_id: uuid.UUID, objection_id: uuid.UUID, lock: bool = False) -> Objection | None:
        o = objections.c
        return self._one(select(Objection).where(o.id == objection_id, o.publication_id == publication_id), lock)
