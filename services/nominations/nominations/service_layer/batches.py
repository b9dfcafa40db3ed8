"""报送: a county's batch to the city, and what the receiving body sees of a round's batches."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from nominations.adapters.repository import BatchExists
from nominations.domain.batches import Batch, approved_at_stage, sending_stage
from nominations.service_layer.common import READ_ROLES, domain_errors, path_and_ancestors, round_in_view
from nominations.service_layer.unit_of_work import NominationsUnitOfWork
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.principal import Principal
from shared.scope import path_within


@dataclass
class BatchSent:
    """The batch as sent, and the county's nominations of the round it does not hold (not approved there)."""

    batch: Batch
    left_out: list[dict[str, Any]]


def send_batch(
    uow: NominationsUnitOfWork,
    principal: Principal,
    round_id: uuid.UUID,
    *,
    org_code: str,
    opinion: str,
    now: dt.datetime,
) -> BatchSent:
    """推荐表、汇总表各1份，报送至市教育局: the county's approved forms, their summary table and its opinion, in
    one act, before the county's deadline; once per county and round."""
    with uow, domain_errors():
        round_ = round_in_view(uow, principal, round_id)
        policy = round_.read_policy
        org = uow.directory.org(org_code)
        if org is None or not path_within(org["path"], round_.issuing_org_path):
            raise Unprocessable(errors=[field_error("org_code", "not a unit of this round / 不在本批次范围内")])
        stage, receiving = sending_stage(policy, org["level"])
        if not principal.can(org["path"], stage.role):
            raise Unprocessable(errors=[field_error("org_code", "not a unit you may send for / 无权以该单位报送")])
        ancestors = uow.directory.orgs_by_path(path_and_ancestors(org["path"]))
        above = [o for o in ancestors.values() if o["level"] == receiving.org_level]
        if not above:
            raise Unprocessable(errors=[field_error("org_code", "no body above this unit / 无上级受理单位")])
        found = uow.nominations.of_round_within(round_id, org["path"])
        approved, left_out = [], []
        for nomination in found:
            if approved_at_stage(policy, nomination, uow.nominations.history(nomination.id), stage):
                approved.append(nomination)
            elif nomination.is_live:
                left_out.append(
                    {
                        "nomination_id": str(nomination.id),
                        "school_org_code": nomination.school_org_code,
                        "school_name": nomination.school_name,
                        "status": nomination.status.value,
                    }
                )
        batch = Batch.send(
            round_=round_,
            org=org,
            to_org_path=above[0]["path"],
            approved=approved,
            opinion=opinion,
            actor=principal.subject,
            now=now,
        )
        try:
            uow.batches.add(batch)
        except BatchExists as exc:
            raise Conflict(
                "This unit has already sent its batch of this round / 本单位已报送",
                errors=[field_error("org_code", "already sent / 已报送")],
            ) from exc
        uow.audit(
            "batch.submitted",
            actor=principal.subject,
            target=str(round_.id),
            details={"batch_id": str(batch.id), "org_code": org_code, "nominations": batch.nomination_ids},
        )
        uow.commit()
    return BatchSent(batch, left_out)


@dataclass
class BatchOverview:
    """What the receiving body sees: the batches it can see, and every unit at the sending level with its
    batch or none yet."""

    batches: list[Batch]
    units: list[dict[str, Any]]


def round_batches(uow: NominationsUnitOfWork, principal: Principal, round_id: uuid.UUID) -> BatchOverview:
    with uow:
        round_ = round_in_view(uow, principal, round_id)
        policy = round_.read_policy
        seen = [b for b in uow.batches.of_round(round_id) if principal.can(b.org_path, *READ_ROLES)]
        by_org = {b.org_code: b for b in seen}
        # the levels that send up: a stage with a body above it that is not the nominating unit's own
        levels = list(
            dict.fromkeys(s.org_level for s in policy.stages[:-1] if s.org_level not in policy.nominee_org_levels)
        )
        units = []
        for level in levels:
            for org in uow.directory.orgs_within(round_.issuing_org_path, [level]):
                if not principal.can(org["path"], *READ_ROLES):
                    continue
                batch = by_org.get(org["code"])
                units.append(
                    {
                        "org_code": org["code"],
                        "org_name": org["name"],
                        "org_path": org["path"],
                        "level": level,
                        "deadline": round_.deadline_for(level),
                        "batch_id": batch.id if batch else None,
                        "submitted_at": batch.submitted_at if batch else None,
                    }
                )
    return BatchOverview(seen, units)


def batch_in_view(uow: NominationsUnitOfWork, principal: Principal, round_id: uuid.UUID, batch_id: uuid.UUID) -> Batch:
    batch = uow.batches.get(batch_id)
    if batch is None or batch.round_id != round_id or not principal.can(batch.org_path, *READ_ROLES):
        raise NotFound("No such batch.")
    return batch
