"""推荐批次: opening, reading, listing and closing rounds (by hand, and by the deadline timer)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from nominations.adapters.policies import PolicyCatalog
from nominations.domain.model import Round
from nominations.service_layer.common import UowFactory, VersionCheck, domain_errors, round_in_view
from nominations.service_layer.unit_of_work import NominationsUnitOfWork
from shared.errors import NotFound, Unprocessable, field_error
from shared.principal import Principal


def open_round(
    uow: NominationsUnitOfWork,
    catalog: PolicyCatalog,
    principal: Principal,
    *,
    title: str,
    policy_id: str,
    issuing_org_code: str,
    deadline: dt.datetime,
    now: dt.datetime,
    notice: dict[str, Any] | None = None,
    level_deadlines: dict[str, dt.datetime] | None = None,
) -> Round:
    policy = catalog.get(policy_id)
    if policy is None:
        raise Unprocessable(errors=[field_error("policy_id", "unknown policy / 无此政策")])
    with uow, domain_errors():
        org = uow.directory.org(issuing_org_code)
        if org is None or not principal.can(org["path"], *policy.issuer_roles):
            raise Unprocessable(
                errors=[
                    field_error(
                        "issuing_org_code", "not an organisation you may open a round for / 无权在该机构发起批次"
                    )
                ]
            )
        round_ = Round.open(
            title=title,
            policy=policy,
            issuing_org_code=issuing_org_code,
            issuing_org_path=org["path"],
            deadline=deadline,
            created_by=principal.subject,
            now=now,
            notice=notice,
            level_deadlines=level_deadlines,
        )
        uow.rounds.add(round_)
        uow.audit("round.opened", actor=principal.subject, target=str(round_.id), details={"policy_id": policy_id})
        uow.commit()
    return round_


def get_round(uow: NominationsUnitOfWork, principal: Principal, round_id: uuid.UUID) -> Round:
    with uow:
        return round_in_view(uow, principal, round_id)


def list_rounds(
    uow: NominationsUnitOfWork, principal: Principal, *, status: str | None, after: Any, limit: int
) -> list[Round]:
    """The rounds issued in the caller's subtrees or above them (a school sees its city's round), newest first."""
    with uow:
        return uow.rounds.visible(principal.paths(), status=status, after=after, limit=limit)


def close_round(
    uow: NominationsUnitOfWork, principal: Principal, round_id: uuid.UUID, check_version: VersionCheck, now: dt.datetime
) -> Round:
    with uow, domain_errors():
        round_ = round_in_view(uow, principal, round_id)
        if not principal.can(round_.issuing_org_path, *round_.read_policy.issuer_roles):
            raise NotFound("No such round.")
        check_version(round_.version)
        round_.close(reason="manual", now=now)
        uow.audit("round.closed", actor=principal.subject, target=str(round_.id), details={"reason": "manual"})
        uow.commit()
    return round_


def close_due_rounds(uow_factory: UowFactory, now: dt.datetime) -> int:
    """The deadline timer: close every open round past its deadline, each in its own transaction.

    Idempotent: the row is locked and its status checked, so two workers never close one round twice.
    """
    with uow_factory() as uow:
        due = uow.rounds.due_to_close(now)
    closed = 0
    for round_id in due:
        with uow_factory() as uow:
            round_ = uow.rounds.get(round_id, for_update=True)
            if round_ is None or round_.status != "open":
                continue
            round_.close(reason="deadline", now=now)
            uow.audit("round.closed", actor="system", target=str(round_id), details={"reason": "deadline"})
            uow.commit()
            closed += 1
    return closed
