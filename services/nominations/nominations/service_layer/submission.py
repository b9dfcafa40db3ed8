"""Handing the 推荐表 on: the eligibility check against the round's policy, submission and withdrawal."""

from __future__ import annotations

import datetime as dt
import uuid

from nominations.adapters import metrics
from nominations.domain.model import Nomination
from nominations.domain.policy import Eligibility, Facts, Policy
from nominations.service_layer.common import VersionCheck, editing, readable
from nominations.service_layer.unit_of_work import NominationsUnitOfWork
from shared.principal import Principal


def _facts(uow: NominationsUnitOfWork, nomination: Nomination, policy: Policy, today: dt.date) -> Facts:
    """The facts the policy's rules look at; one they never check is not read (a query fewer per submission)."""
    person = nomination.candidate_user_id
    if person is None:
        return Facts(form=nomination.form)
    return Facts(
        form=nomination.form,
        certificates=tuple(uow.directory.valid_certificates(person, today)) if policy.checks("certificate") else (),
        consecutive_terms=uow.directory.consecutive_terms(person, nomination.school_org_code, today)
        if policy.checks("within_term_limit")
        else 0,
    )


def check_eligibility(
    uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID, today: dt.date
) -> Eligibility:
    with uow:
        nomination, _round, policy = readable(uow, principal, nomination_id)
        return policy.evaluate(_facts(uow, nomination, policy, today))


def submit(
    uow: NominationsUnitOfWork,
    principal: Principal,
    nomination_id: uuid.UUID,
    check_version: VersionCheck,
    now: dt.datetime,
) -> Nomination:
    with editing(uow, principal, nomination_id, check_version) as (nomination, round_, policy):
        eligibility = policy.evaluate(_facts(uow, nomination, policy, now.date()))
        # Uploads matter only when the form requires some (nothing is missing even without any): else not read.
        required = policy.missing_evidence(nomination.form, set())
        evidence = {e["kind"] for e in uow.nominations.evidence_list(nomination.id)} if required else set()
        nomination.submit(policy, round_, eligibility, actor=principal.subject, now=now, evidence=evidence)
        uow.audit(
            "nomination.submitted",
            actor=principal.subject,
            target=str(nomination.id),
            details={"revision": nomination.revision},
        )
    metrics.SUBMISSIONS.labels(policy.id, "resubmitted" if nomination.revision > 1 else "submitted").inc()
    return nomination


def withdraw(
    uow: NominationsUnitOfWork,
    principal: Principal,
    nomination_id: uuid.UUID,
    check_version: VersionCheck,
    now: dt.datetime,
) -> Nomination:
    with editing(uow, principal, nomination_id, check_version) as (nomination, _round, _policy):
        nomination.withdraw(actor=principal.subject, now=now)
        uow.audit("nomination.withdrawn", actor=principal.subject, target=str(nomination.id))
    return nomination
