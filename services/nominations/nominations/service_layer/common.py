"""What every nominations handler shares: the unit-of-work and version-check types, the roles that read, the
turning of domain refusals into problems, and the scope checks that say which round or nomination a caller sees."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from nominations.adapters import metrics
from nominations.domain.masking import mask_value
from nominations.domain.model import DomainError, Ineligible, Nomination, Round, StateConflict
from nominations.domain.policy import Eligibility, Policy, Reason
from nominations.service_layer.unit_of_work import NominationsUnitOfWork
from shared.errors import Conflict, NotFound, PreconditionFailed, Unprocessable, field_error
from shared.principal import ROLES, Principal

UowFactory = Callable[[], NominationsUnitOfWork]
VersionCheck = Callable[[int], None]

# Every role that reads nominations within its subtree: all but those of training, evaluation and the CIO's own.
READ_ROLES = tuple(sorted(ROLES - {"training_admin", "evaluator", "cio", "liaison"}))
REVEAL_ROLES = ("platform_admin", "city_reviewer", "county_reviewer", "university_president", "party_committee")


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@contextlib.contextmanager
def domain_errors() -> Iterator[None]:
    """Turn the domain's refusals into the HTTP problems a caller can act on."""
    try:
        yield
    except Ineligible as exc:
        metrics.count_eligibility_failures(exc.eligibility)
        raise Unprocessable(
            str(exc),
            errors=[
                field_error(f"eligibility.{r.rule}", f"{r.message_zh} / {r.message_en}")
                for r in exc.eligibility.reasons
            ],
            eligibility=eligibility_view(exc.eligibility),
        ) from exc
    except StateConflict as exc:
        raise Conflict(str(exc), errors=[field_error(exc.field, str(exc))] if exc.field else None) from exc
    except DomainError as exc:
        errors = [field_error(p.field, p.message) for p in exc.problems] or [
            field_error(exc.field or "_schema", str(exc))
        ]
        raise Unprocessable(str(exc), errors=errors) from exc
    except StaleDataError as exc:
        raise PreconditionFailed("The record changed since you read it; read it again and retry.") from exc


def eligibility_view(result: Eligibility) -> dict[str, Any]:
    """Reasons block; warnings (原则上 / 一般 departed from, with the school's reason) are what reviewers see
    flagged on the same payload."""

    def reason(r: Reason) -> dict[str, Any]:
        return {
            "rule": r.rule,
            "message_zh": r.message_zh,
            "message_en": r.message_en,
            "details_zh": list(r.details_zh),
            "details_en": list(r.details_en),
            "exception_reason": r.exception_reason,
        }

    return {
        "eligible": result.eligible,
        "checked_rules": list(result.checked_rules),
        "reasons": [reason(r) for r in result.reasons],
        "warnings": [reason(w) for w in result.warnings],
    }


def round_in_view(uow: NominationsUnitOfWork, principal: Principal, round_id: uuid.UUID) -> Round:
    round_ = uow.rounds.get(round_id)
    if round_ is None or not sees_round(principal, round_):
        raise NotFound("No such round.")
    return round_


def sees_round(principal: Principal, round_: Round) -> bool:
    # Issued in the caller's subtree, or above the caller (a school sees its city's round).
    return principal.can(round_.issuing_org_path) or any(
        p == round_.issuing_org_path or p.startswith(round_.issuing_org_path.rstrip("/") + "/")
        for p in principal.paths()
    )


def nomination_in_view(
    uow: NominationsUnitOfWork,
    principal: Principal,
    nomination_id: uuid.UUID,
    *roles: str,
    for_update: bool = False,
    with_round: bool = False,
) -> Nomination:
    nomination = uow.nominations.get(nomination_id, for_update=for_update, with_round=with_round)
    if nomination is None:
        raise NotFound("No such nomination.")
    principal.require_within(nomination.school_org_path, *(roles or READ_ROLES), what="nomination")
    return nomination


def readable(
    uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID, *, for_update: bool = False
) -> tuple[Nomination, Round, Policy]:
    """The nomination in the caller's view, its round, and the policy the round snapshotted."""
    nomination = nomination_in_view(uow, principal, nomination_id, for_update=for_update, with_round=True)
    round_ = uow.rounds.get(nomination.round_id)
    assert round_ is not None  # a nomination's round is never deleted (foreign key)
    return nomination, round_, round_.read_policy


def writable(
    uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID
) -> tuple[Nomination, Round, Policy]:
    nomination, round_, policy = readable(uow, principal, nomination_id, for_update=True)
    # Readers in scope who are not the school's nominator must not learn more than a 404 would tell.
    principal.require_within(nomination.school_org_path, *policy.nominator_roles, what="nomination")
    return nomination, round_, policy


@contextlib.contextmanager
def editing(
    uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID, check_version: VersionCheck
) -> Iterator[tuple[Nomination, Round, Policy]]:
    """One change by the school to its nomination: the row locked, at the version the caller read, the domain's
    refusals turned into problems, committed once when the block ends without an error."""
    with uow, domain_errors():
        nomination, round_, policy = writable(uow, principal, nomination_id)
        check_version(nomination.version)
        yield nomination, round_, policy
        uow.commit()


def sees_personal(principal: Principal, nomination: Nomination, policy: Policy) -> bool:
    roles = {*policy.nominator_roles, *(s.role for s in policy.stages), "platform_admin"}
    return principal.can(nomination.school_org_path, *roles)


def masked_form(policy: Policy, form: dict[str, Any]) -> dict[str, Any]:
    out = dict(form)
    for spec in policy.fields:
        if spec.personal and spec.name in out:
            kind = spec.type if spec.type in ("phone", "email", "date") else "text"
            out[spec.name] = mask_value(kind, out[spec.name])
    return out


def masked_candidate(candidate: dict[str, Any]) -> dict[str, Any]:
    out = dict(candidate)
    for key, kind in (("phone", "phone"), ("email", "email"), ("birth_date", "date")):
        if out.get(key):
            out[key] = mask_value(kind, out[key])
    return out


def path_and_ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def within(path: str, grant_path: str) -> bool:
    return path == grant_path or path.startswith(grant_path.rstrip("/") + "/")
