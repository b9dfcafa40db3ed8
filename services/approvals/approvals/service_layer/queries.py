"""Reads for the API, each scoped to the caller: a record outside their subtree does not exist for them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from approvals.domain.letters import AppointmentLetter, letter_of
from approvals.domain.model import READ_ALL_ROLES, Appointment, ReviewCase, ReviewTask
from approvals.service_layer.handling import in_scope, page_window, query_filters
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared import clock, tabular
from shared.errors import NotFound
from shared.pagination import page
from shared.principal import Principal


def list_tasks(uow: ApprovalsUnitOfWork, principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
    """The reviewer's inbox: tasks of the roles the caller holds, at orgs within those grants."""
    status = args.get("status", "open")
    with uow:
        found = uow.tasks.inbox(
            principal,
            status=None if status == "all" else status,
            **query_filters(args, "role", "stage_name", "org_code", "school_org_path", "round_id", "overdue"),
            **page_window(args),
        )
        _mark_awaiting_batch(uow, found)
    return page(found, args["limit"], lambda t: [t.due_at.isoformat(), str(t.id)])


def _mark_awaiting_batch(uow: ApprovalsUnitOfWork, tasks: list[ReviewTask]) -> None:
    """`awaiting_batch` on each task: an open task the county's 报送 has not reached yet, so the city's reviewer
    sees why it cannot be decided (the decision would be 409 `batch`)."""
    waiting = [t for t in tasks if t.status == "open" and t.awaits_batch_from is not None]
    received = uow.batch_receipts.received([t.nomination_id for t in waiting])
    for task in tasks:
        task.awaiting_batch = task in waiting and task.nomination_id not in received


def _task_visible(principal: Principal, task: ReviewTask) -> bool:
    return principal.can(task.org_path, task.role, *READ_ALL_ROLES)


def get_task(uow: ApprovalsUnitOfWork, principal: Principal, task_id: uuid.UUID) -> ReviewTask:
    with uow:
        task = uow.tasks.get(task_id)
        if task is None or not _task_visible(principal, task):
            raise NotFound("No such task.")
        _mark_awaiting_batch(uow, [task])
        return task


def list_cases(uow: ApprovalsUnitOfWork, principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
    with uow:
        found = uow.cases.list_within(
            principal.paths(), **query_filters(args, "status", "round_id"), **page_window(args)
        )
        _mark_awaiting_batch(uow, [t for case in found for t in case.tasks])
    return page(found, args["limit"], lambda c: [c.opened_at.isoformat(), str(c.id)])


def _case_visible(principal: Principal, case: ReviewCase) -> bool:
    """The school's own people, bureaus above it, and the reviewers of any of its stages."""
    if principal.can(case.school_org_path):
        return True
    return any(principal.can(s["org_path"], s["role"]) for s in case.stages)


def _visible_case(uow: ApprovalsUnitOfWork, principal: Principal, case_id: uuid.UUID) -> ReviewCase:
    case = uow.cases.get(case_id)
    if case is None or not _case_visible(principal, case):
        raise NotFound("No such case.")
    return case


def get_case(uow: ApprovalsUnitOfWork, principal: Principal, case_id: uuid.UUID) -> ReviewCase:
    with uow:
        case = _visible_case(uow, principal, case_id)
        _mark_awaiting_batch(uow, case.tasks)
        return case


def case_history(uow: ApprovalsUnitOfWork, principal: Principal, case_id: uuid.UUID) -> list[Any]:
    """The case's audit trail: opened, every decision (with seal and delegation), resubmission, cancellation."""
    with uow:
        return uow.history("case", [str(_visible_case(uow, principal, case_id).id)])


def list_appointments(uow: ApprovalsUnitOfWork, principal: Principal, args: dict[str, Any]) -> dict[str, Any]:
    with uow:
        found = uow.appointments.list_within(
            principal.paths(),
            **query_filters(args, "org_path", "status", "ends_before", "round_id"),
            **page_window(args),
        )
    return page(found, args["limit"], lambda a: [a.org_path, str(a.id)])


def get_appointment(uow: ApprovalsUnitOfWork, principal: Principal, appointment_id: uuid.UUID) -> Appointment:
    with uow:
        return in_scope(uow.appointments.get(appointment_id), principal, "appointment")


def appointment_letter(uow: ApprovalsUnitOfWork, principal: Principal, appointment_id: uuid.UUID) -> AppointmentLetter:
    """聘任文件 / 聘书 of an appointment the caller sees: the unit's and the appointing body's names from the org
    projection (the code, when an org is not known here)."""
    with uow:
        appointment = in_scope(uow.appointments.get(appointment_id), principal, "appointment")
        issuer_code = appointment.appointing_org_path.rstrip("/").rsplit("/", 1)[-1]
        school = uow.projections.org(appointment.org_code)
        issuer = uow.projections.org(issuer_code)
        return letter_of(
            appointment,
            school_name=school.name if school else appointment.org_code,
            issuer_name=issuer.name if issuer else issuer_code,
        )


def appointment_history(uow: ApprovalsUnitOfWork, principal: Principal, appointment_id: uuid.UUID) -> list[Any]:
    with uow:
        appointment = in_scope(uow.appointments.get(appointment_id), principal, "appointment")
        return uow.history("appointment", [str(appointment.id)])


def appointment_filings(uow: ApprovalsUnitOfWork, principal: Principal, appointment_id: uuid.UUID) -> list[Any]:
    with uow:
        appointment = in_scope(uow.appointments.get(appointment_id), principal, "appointment")
        return uow.appointments.filings(appointment.id)


def delegations(uow: ApprovalsUnitOfWork, principal: Principal) -> list[Any]:
    """The delegations the caller gave or received, revoked and past ones included (see `revoked_at`)."""
    with uow:
        return uow.delegations.list_for(principal.subject)


def appointments_within(
    uow: ApprovalsUnitOfWork, paths: list[str], *, status: str | None = None, round_id: uuid.UUID | None = None
) -> list[Appointment]:
    """Every appointment in these subtrees (of the status, of the round), unpaged: for a list or a campaign."""
    return uow.appointments.list_within(
        paths, org_path=None, status=status, ends_before=None, round_id=round_id, after=None, limit=None
    )


PUBLISHED_COLUMNS = ["序号", "单位", "单位代码", "姓名", "任期", "任期开始", "任期结束", "发文字号"]


def published_rows(uow: ApprovalsUnitOfWork, principal: Principal, round_id: uuid.UUID) -> list[list[Any]]:
    """名单公示: the round's appointments in the caller's scope, ordered by org."""
    with uow:
        found = appointments_within(uow, principal.paths(), round_id=round_id)
        rows = []
        for n, a in enumerate((a for a in found if a.status != "revoked"), start=1):
            org = uow.projections.org(a.org_code)
            rows.append(
                [
                    n,
                    org.name if org else a.org_code,
                    a.org_code,
                    a.person_name,
                    a.term_number,
                    a.starts_on.isoformat(),
                    a.ends_on.isoformat() if a.ends_on else None,  # no term: until revoked
                    a.document_number,
                ]
            )
        return rows


def render_csv(rows: list[list[Any]]) -> bytes:
    """名单公示 as CSV, through the shared writer (formula-like text escaped)."""
    return b"".join(tabular.csv_stream(PUBLISHED_COLUMNS, rows))


def render_xlsx(rows: list[list[Any]], title: str) -> bytes:
    """名单公示 as XLSX, through the shared writer (formula-like text escaped)."""
    return b"".join(tabular.xlsx_stream(title or "名单公示", PUBLISHED_COLUMNS, rows))


def today() -> dt.date:
    return clock.today()
