"""Handlers of 名单公示: publish a list for a period, receive objections from anyone, resolve them.

The final approval (reviews._decide_in) asks `hold_on` whether a listed person may be appointed yet.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from approvals.adapters.policy_snapshot import parse_policy
from approvals.domain.model import READ_ALL_ROLES, ReviewCase, now
from approvals.domain.publication import Objection, Publication
from approvals.service_layer.handling import audit, collisions, commit, refusals
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared.errors import Forbidden, NotFound, Unprocessable, field_error
from shared.principal import Principal


@dataclass(frozen=True)
class Publish:
    round_id: uuid.UUID
    org_code: str
    title: str
    starts_on: dt.date
    ends_on: dt.date
    note: str | None = None


def publish(uow: ApprovalsUnitOfWork, principal: Principal, cmd: Publish) -> Publication:
    """The body at the top of the round's chain publishes the people awaiting its final approval (those not on
    a list yet) for the period."""
    with uow, collisions():
        org = uow.projections.org(cmd.org_code)
        if org is None or not principal.can(org.path):
            raise Unprocessable(errors=[field_error("org_code", "not a body you may publish for / 无权以该单位公示")])
        round_row = uow.projections.round(cmd.round_id)
        if round_row is None:
            raise Unprocessable(errors=[field_error("round_id", "no such round / 无此批次")])
        least = parse_policy(round_row.policy).publication.min_days
        if least is not None and (cmd.ends_on - cmd.starts_on).days + 1 < least:
            raise Unprocessable(
                errors=[
                    field_error(
                        "ends_on", f"the policy orders a period of at least {least} days / 公示期不少于{least}天"
                    )
                ]
            )
        cases = uow.cases.list_within([org.path], status="in_review", round_id=cmd.round_id, after=None, limit=5000)
        awaiting: list[ReviewCase] = []
        role = None
        for case in cases:
            stage = case.stage(case.current_stage)
            if case.is_final_stage and stage.org_path == org.path and principal.can(org.path, stage.role):
                awaiting.append(case)
                role = stage.role
        listed = uow.publications.listed([c.id for c in awaiting])
        awaiting = [c for c in awaiting if c.id not in listed]
        at = now()
        with refusals():
            publication = Publication(
                round_id=cmd.round_id,
                publisher_org_code=org.code,
                publisher_org_path=org.path,
                publisher_name=org.name,
                publisher_role=role or "",
                title=cmd.title,
                note=cmd.note,
                starts_on=cmd.starts_on,
                ends_on=cmd.ends_on,
                cases=awaiting,
                by=principal.subject,
                at=at,
            )
        uow.publications.add(publication)
        audit(
            uow,
            "publication.published",
            principal.subject,
            publication,
            {
                "round_id": str(cmd.round_id),
                "starts_on": cmd.starts_on.isoformat(),
                "ends_on": cmd.ends_on.isoformat(),
                "cases": [e["case_id"] for e in publication.entries],
            },
        )
        commit(uow)
        return publication


def public_view(publication: Publication, today: dt.date) -> dict[str, Any]:
    """What anyone sees: the list, the period and whether objections are received now; no one's contact data."""
    return {
        "id": publication.id,
        "round_id": publication.round_id,
        "title": publication.title,
        "note": publication.note,
        "publisher_name": publication.publisher_name,
        "starts_on": publication.starts_on,
        "ends_on": publication.ends_on,
        "state": publication.state(today),
        "accepts_objections": publication.state(today) == "open",
        "entries": [
            {"case_id": e["case_id"], "candidate_name": e["candidate_name"], "school_name": e["school_name"]}
            for e in publication.entries
        ],
    }


def read_public(uow: ApprovalsUnitOfWork, publication_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        publication = uow.publications.get(publication_id)
        if publication is None:
            raise NotFound("No such publication.")
        return public_view(publication, now().date())


def list_public(uow: ApprovalsUnitOfWork) -> list[dict[str, Any]]:
    today = now().date()
    with uow:
        return [public_view(p, today) for p in uow.publications.current(today)]


@dataclass(frozen=True)
class Object:
    """异议: anyone's objection during the period, with their contact details."""

    publication_id: uuid.UUID
    case_id: uuid.UUID | None
    content: str
    contact_name: str
    contact_phone: str | None
    contact_email: str | None


def object_to(uow: ApprovalsUnitOfWork, cmd: Object) -> Objection:
    with uow, collisions():
        publication = uow.publications.get(cmd.publication_id)
        if publication is None:
            raise NotFound("No such publication.")
        at = now()
        with refusals():
            objection = Objection(
                publication,
                case_id=cmd.case_id,
                content=cmd.content,
                contact_name=cmd.contact_name,
                contact_phone=cmd.contact_phone,
                contact_email=cmd.contact_email,
                at=at,
            )
        uow.publications.add_objection(objection)
        audit(
            uow,
            "objection.received",
            None,
            publication,
            {"objection_id": str(objection.id), "case_id": str(cmd.case_id) if cmd.case_id else None},
        )
        commit(uow)
        return objection


def _visible(uow: ApprovalsUnitOfWork, principal: Principal, publication_id: uuid.UUID) -> Publication:
    publication = uow.publications.get(publication_id)
    if publication is None or not principal.can(
        publication.publisher_org_path, publication.publisher_role, *READ_ALL_ROLES
    ):
        raise NotFound("No such publication.")
    return publication


@dataclass
class PublicationWithObjections:
    publication: Publication
    objections: list[Objection]


def read_for_bureau(
    uow: ApprovalsUnitOfWork, principal: Principal, publication_id: uuid.UUID
) -> PublicationWithObjections:
    """The list and its objections with the objectors' contact details (personal data: the read is audited)."""
    with uow:
        publication = _visible(uow, principal, publication_id)
        found = uow.publications.objections(publication.id)
        if found:
            audit(
                uow,
                "objection.contacts_read",
                principal.subject,
                publication,
                {"objections": [str(o.id) for o in found]},
            )
            uow.commit()
        return PublicationWithObjections(publication, found)


def list_for_bureau(uow: ApprovalsUnitOfWork, principal: Principal, round_id: uuid.UUID | None) -> list[Publication]:
    with uow:
        return uow.publications.list_within(principal.paths(), round_id)


@dataclass(frozen=True)
class Resolve:
    publication_id: uuid.UUID
    objection_id: uuid.UUID
    outcome: str
    resolution: str


def resolve(uow: ApprovalsUnitOfWork, principal: Principal, cmd: Resolve) -> Objection:
    """The publishing body's finding on an objection: upheld (the person is not appointed) or dismissed."""
    with uow, collisions():
        publication = _visible(uow, principal, cmd.publication_id)
        if not principal.can(publication.publisher_org_path, publication.publisher_role):
            raise Forbidden(f"Only {publication.publisher_role} at {publication.publisher_org_path} resolves this.")
        objection = uow.publications.objection(publication.id, cmd.objection_id, lock=True)
        if objection is None:
            raise NotFound("No such objection.")
        with refusals():
            objection.resolve(cmd.outcome, cmd.resolution, principal.subject, now())
        audit(
            uow,
            "objection.resolved",
            principal.subject,
            publication,
            {"objection_id": str(objection.id), "outcome": cmd.outcome, "resolution": objection.resolution},
        )
        commit(uow)
        return objection
