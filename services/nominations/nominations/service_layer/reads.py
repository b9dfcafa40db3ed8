"""Reading nominations as the caller may see them: one (masked or revealed, reveals audited), a page of them,
their history, evidence, photo and the printable 推荐表."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from nominations.domain.form_sheet import FormSheet, build_sheet, stage_decisions
from nominations.domain.model import Nomination, Round
from nominations.domain.policy import Policy
from nominations.service_layer.common import (
    READ_ROLES,
    masked_form,
    nomination_in_view,
    path_and_ancestors,
    readable,
    sees_personal,
)
from nominations.service_layer.unit_of_work import NominationsUnitOfWork
from shared.errors import Forbidden, NotFound
from shared.principal import Principal


@dataclass
class NominationView:
    """A nomination with what the caller may see of it."""

    nomination: Nomination
    round: Round
    masked: bool


def read_nomination(uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID) -> NominationView:
    with uow:
        nomination, round_, policy = readable(uow, principal, nomination_id)
        full = sees_personal(principal, nomination, policy)
        if full and not principal.can(nomination.school_org_path, *policy.nominator_roles):
            uow.audit("nomination.personal_read", actor=principal.subject, target=str(nomination.id))
            uow.commit()
        return NominationView(nomination, round_, masked=not full)


def list_nominations(
    uow: NominationsUnitOfWork,
    principal: Principal,
    *,
    round_id: uuid.UUID | None,
    status: str | None,
    org_code: str | None,
    after: Any,
    limit: int,
) -> tuple[list[Nomination], dict[uuid.UUID, Policy]]:
    """A page of nominations in the caller's subtree, and the policy each one's round snapshotted (lists mask
    personal fields by the round's policy, never by a policy file edited since the round opened)."""
    with uow:
        org_path = None
        if org_code:
            org = uow.directory.org(org_code)
            if org is None:
                return [], {}
            org_path = org["path"]
        found = uow.nominations.list_within(
            principal.paths(*READ_ROLES), round_id=round_id, status=status, org_path=org_path, after=after, limit=limit
        )
        snapshots = uow.rounds.policies([n.round_id for n in found])
    return found, {round_id: Policy.from_document(document) for round_id, document in snapshots.items()}


def history(uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID) -> list[dict[str, Any]]:
    with uow:
        nomination_in_view(uow, principal, nomination_id)
        return uow.nominations.history(nomination_id)


def _evidence_reader(uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID) -> Nomination:
    """The nominating unit and the reviewers of its chain (the roles that see the form unmasked) read the
    evidence; a reviewer's read is audited like the unmasked form."""
    nomination, _round, policy = readable(uow, principal, nomination_id)
    if not sees_personal(principal, nomination, policy):
        raise Forbidden("Your role sees this nomination masked; its evidence is not shown to it.")
    if not principal.can(nomination.school_org_path, *policy.nominator_roles):
        uow.audit("nomination.evidence_read", actor=principal.subject, target=str(nomination.id))
        uow.commit()
    return nomination


@dataclass
class EvidenceView:
    items: list[dict[str, Any]]
    certificate_claim: dict[str, Any] | None


def list_evidence(uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID) -> EvidenceView:
    """The uploaded evidence and the claimed certificate: `confirmed` once training's records hold its number,
    `rejected` (with `rejection_reason`) when the training administrator refused it, else `pending`."""
    with uow:
        nomination = _evidence_reader(uow, principal, nomination_id)
        items = uow.nominations.evidence_list(nomination.id)
        claim = dict(nomination.certificate_claim) if nomination.certificate_claim else None
        if claim is not None and nomination.candidate_user_id is not None:
            known = uow.directory.certificate_numbers(nomination.candidate_user_id)
            if claim["number"] in known:
                claim["status"] = "confirmed"
            elif claim.get("status") != "rejected":  # a rejection keeps its reason until a new claim
                claim["status"] = "pending"
    return EvidenceView(items, claim)


def read_evidence(
    uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID, kind: str
) -> tuple[str, str, bytes]:
    with uow:
        nomination = _evidence_reader(uow, principal, nomination_id)
        found = uow.nominations.evidence(nomination.id, kind)
    if found is None:
        raise NotFound("No such evidence.")
    return found


def read_photo(uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID) -> tuple[str, bytes]:
    """The photo is personal data: only roles that see the form unmasked get it (others 403), and a
    reader outside the nominating unit is audited as a reveal, like the unmasked form."""
    with uow:
        nomination, _round, policy = readable(uow, principal, nomination_id)
        if not sees_personal(principal, nomination, policy):
            raise Forbidden("The photo is personal data; your role sees this nomination masked.")
        photo = uow.nominations.photo(nomination_id)
        if photo is None:
            raise NotFound("No photo yet.")
        if not principal.can(nomination.school_org_path, *policy.nominator_roles):
            uow.audit("nomination.photo_read", actor=principal.subject, target=str(nomination.id))
            uow.commit()
    return photo


def printable_form(
    uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID
) -> tuple[FormSheet, tuple[str, bytes] | None]:
    """The 推荐表 sheet as the caller may see it (personal fields masked as in the detail view), and the photo.

    Opinions and seals come from the nomination's history of the approvals service's decisions.
    """
    with uow:
        nomination, _round, policy = readable(uow, principal, nomination_id)
        full = sees_personal(principal, nomination, policy)
        history = uow.nominations.history(nomination_id)
        ancestors = uow.directory.orgs_by_path(path_and_ancestors(nomination.school_org_path))
        # The photo is personal data: a masked sheet carries none.
        photo = uow.nominations.photo(nomination_id) if full and nomination.photo_sha256 else None
        if full and not principal.can(nomination.school_org_path, *policy.nominator_roles):
            uow.audit("nomination.form_printed", actor=principal.subject, target=str(nomination.id))
            uow.commit()
    filled = nomination.attested_at or nomination.submitted_at or nomination.updated_at
    sheet = build_sheet(
        policy,
        form=nomination.form if full else masked_form(policy, nomination.form),
        filled_on=filled.date(),
        signer=nomination.attested_name,
        decisions=stage_decisions(policy, history),
        seal_names={org["level"]: org["name"] for org in ancestors.values()},
        masked=not full,
    )
    return sheet, photo
