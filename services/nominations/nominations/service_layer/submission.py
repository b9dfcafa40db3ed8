"""Handing the 推荐表 on: the eligibility check against the round's policy, submission and withdrawal."""

from __future__ import annotations

import datetime as dt
import uuid

from nominations.adapters import metrics
from nominations.domain.model import Nomination
from nominations.domain.policy import Eligibility, Facts
from nominations.service_layer.common import VersionCheck, domain_errors, nomination_in_view, writable
from nominations.service_layer.unit_of_work import NominationsUnitOfWork
from shared.auth import Principal


def _facts(uow: NominationsUnitOfWork, nomination: Nomination, today: dt.date) -> Facts:
    if nomination.candidate_user_id is None:
        return Facts(form=nomination.form)
    return Facts(
        form=nomination.form,
        certificates=tuple(uow.directory.valid_certificates(nomination.candidate_user_id, today)),
        consecutive_terms=uow.directory.consecutive_terms(
            nomination.candidate_user_id, nomination.school_org_code, today
        ),
    )


def check_eligibility(
    uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID, today: dt.date
) -> Eligibility:
    with uow:
        nomination = nomination_in_view(uow, principal, nomination_id)
        round_ = uow.rounds.get(nomination.round_id)
        assert round_ is not None
        return round_.read_policy.evaluate(_facts(uow, nomination, today))


def submit(
    uow: NominationsUnitOfWork,
    principal: Principal,
    nomination_id: uuid.UUID,
    check_version: VersionCheck,
    now: dt.datetime,
) -> Nomination:
    with uow, domain_errors():
        nomination, round_, policy = writable(uow, principal, nomination_id)
        check_version(nomination.version)
        eligibility = policy.evaluate(_facts(uow, nomination, now.date()))
        evidence = {e["kind"] for e in uow.nominations.evidence_list(nomination.id)}
        nomination.submit(policy, round_, eligibility, actor=principal.subject, now=now, evidence=evidence)
        uow.audit(
            "nomination.submitted",
            actor=principal.subject,
            target=str(nomination.id),
            details={"revision": nomination.revision},
        )
        uow.commit()
    metrics.SUBMISSIONS.labels(policy.id, "resubmitted" if nomination.revision > 1 else "submitted").inc()
    return nomination


def withdraw(
    uow: NominationsUnitOfWork,
    principal: Principal,
    nomination_id: uuid.UUID,
    check_version: VersionCheck,
    now: dt.datetime,
) -> Nomination:
    with uow, domain_errors():
        nomination, _round, _policy = writable(uow, principal, nomination_id)
        check_version(nomination.version)
        nomination.withdraw(actor=principal.subject, now=now)
        uow.audit("nomination.withdrawn", actor=principal.subject, target=str(nomination.id))
        uow.commit()
    return nomination
