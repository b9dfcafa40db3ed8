"""Handlers of the nominations service: each takes its inputs and dependencies, opens one unit of work and
commits once. Domain refusals become problem+json errors here, so views stay thin."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from nominations.adapters import metrics
from nominations.adapters.images import photo_pixels
from nominations.adapters.policies import PolicyCatalog
from nominations.domain.batches import Batch, approved_at_stage, sending_stage
from nominations.domain.form_sheet import FormSheet, build_sheet, stage_decisions
from nominations.domain.masking import mask_value
from nominations.domain.model import (
    Change,
    DomainError,
    Ineligible,
    Nomination,
    Round,
    StateConflict,
    sniff_evidence,
)
from nominations.domain.policy import Eligibility, Facts, Policy, Reason
from nominations.service_layer.unit_of_work import (
    BatchExists,
    ConcurrentUpdate,
    LiveNominationExists,
    NominationsUnitOfWork,
)
from shared.errors import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable, field_error
from shared.pagination import page
from shared.principal import Principal
from shared.scope import path_within

log = logging.getLogger(__name__)

UowFactory = Callable[[], NominationsUnitOfWork]
VersionCheck = Callable[[int], None]

READ_ROLES = (
    "platform_admin",
    "city_reviewer",
    "county_reviewer",
    "school_admin",
    "university_president",
    "university_office_meeting",
    "party_committee",
    "auditor",
)
REVEAL_ROLES = ("platform_admin", "city_reviewer", "county_reviewer", "university_president", "party_committee")


# The directory profile's keys (identity's User.PROFILE_KEYS) a policy's form may prefill as candidate.<key>.
PROFILE_KEYS = (
    "education",
    "ethnicity",
    "teaching_years",
    "administrative_post",
    "professional_title",
    "political_status",
)


def prefilled_profile(profile: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """The directory profile's keys a form prefills; 教龄 counted to `today` from the year teaching began
    (`teaching_since`), so a form filled a year after the profile was published shows one more year."""
    out = {k: v for k, v in profile.items() if k in PROFILE_KEYS}
    since = profile.get("teaching_since")
    if isinstance(since, int) and not isinstance(since, bool):
        out["teaching_years"] = max(0, today.year - since)
    return out


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
    except ConcurrentUpdate as exc:
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


# -- rounds --------------------------------------------------------------------------------------
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
        uow.rounds.save(round_)
        uow.audit("round.opened", actor=principal.subject, target=str(round_.id), details={"policy_id": policy_id})
        uow.commit()
    return round_


def _round_in_view(uow: NominationsUnitOfWork, principal: Principal, round_id: uuid.UUID) -> Round:
    round_ = uow.rounds.get(round_id)
    if round_ is None or not _sees_round(principal, round_):
        raise NotFound("No such round.")
    return round_


def _sees_round(principal: Principal, round_: Round) -> bool:
    # Issued in the caller's subtree, or above the caller (a school sees its city's round).
    return principal.can(round_.issuing_org_path) or any(
        p == round_.issuing_org_path or p.startswith(round_.issuing_org_path.rstrip("/") + "/")
        for p in principal.paths()
    )


def get_round(uow: NominationsUnitOfWork, principal: Principal, round_id: uuid.UUID) -> Round:
    with uow:
        return _round_in_view(uow, principal, round_id)


def close_round(
    uow: NominationsUnitOfWork, principal: Principal, round_id: uuid.UUID, check_version: VersionCheck, now: dt.datetime
) -> Round:
    with uow, domain_errors():
        round_ = _round_in_view(uow, principal, round_id)
        if not principal.can(round_.issuing_org_path, *round_.read_policy.issuer_roles):
            raise NotFound("No such round.")
        check_version(round_.version)
        round_.close(reason="manual", now=now)
        uow.rounds.save(round_)
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
            uow.rounds.save(round_)
            uow.audit("round.closed", actor="system", target=str(round_id), details={"reason": "deadline"})
            uow.commit()
            closed += 1
    return closed


# -- 报送: a county's batch to the city ----------------------------------------------------------------
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
        round_ = _round_in_view(uow, principal, round_id)
        policy = round_.read_policy
        org = uow.directory.org(org_code)
        if org is None or not path_within(org["path"], round_.issuing_org_path):
            raise Unprocessable(errors=[field_error("org_code", "not a unit of this round / 不在本批次范围内")])
        stage, receiving = sending_stage(policy, org["level"])
        if not principal.can(org["path"], stage.role):
            raise Unprocessable(errors=[field_error("org_code", "not a unit you may send for / 无权以该单位报送")])
        ancestors = uow.directory.orgs_by_path(_path_and_ancestors(org["path"]))
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
        round_ = _round_in_view(uow, principal, round_id)
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


def _batch_in_view(uow: NominationsUnitOfWork, principal: Principal, round_id: uuid.UUID, batch_id: uuid.UUID) -> Batch:
    batch = uow.batches.get(batch_id)
    if batch is None or batch.round_id != round_id or not principal.can(batch.org_path, *READ_ROLES):
        raise NotFound("No such batch.")
    return batch


# -- nominations ---------------------------------------------------------------------------------
@dataclass
class NominationView:
    """A nomination with what the caller may see of it."""

    nomination: Nomination
    round: Round
    masked: bool


def _nomination_in_view(
    uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID, *roles: str, for_update: bool = False
) -> Nomination:
    nomination = uow.nominations.get(nomination_id, for_update=for_update)
    if nomination is None:
        raise NotFound("No such nomination.")
    principal.require_within(nomination.school_org_path, *(roles or READ_ROLES), what="nomination")
    return nomination


def _writable(
    uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID
) -> tuple[Nomination, Round, Policy]:
    nomination = _nomination_in_view(uow, principal, nomination_id, for_update=True)
    round_ = uow.rounds.get(nomination.round_id)
    assert round_ is not None
    policy = round_.read_policy
    # Readers in scope who are not the school's nominator must not learn more than a 404 would tell.
    principal.require_within(nomination.school_org_path, *policy.nominator_roles, what="nomination")
    return nomination, round_, policy


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


def create_nomination(
    uow: NominationsUnitOfWork,
    principal: Principal,
    *,
    round_id: uuid.UUID,
    school_org_code: str,
    candidate_user_id: uuid.UUID | None,
    form: dict[str, Any] | None,
    now: dt.datetime,
    start_from: uuid.UUID | None = None,
) -> Nomination:
    with uow, domain_errors():
        round_ = uow.rounds.get(round_id)
        if round_ is None or not _sees_round(principal, round_):
            raise Unprocessable(errors=[field_error("round_id", "no such round / 无此批次")])
        policy = round_.read_policy
        school = uow.directory.org(school_org_code)
        if (
            school is None
            or not principal.can(school["path"], *policy.nominator_roles)
            or school["level"] not in policy.nominee_org_levels
        ):
            raise Unprocessable(
                errors=[field_error("school_org_code", "not a unit you may nominate for / 无权为该单位推荐")]
            )
        if not (school["path"] + "/").startswith(round_.issuing_org_path.rstrip("/") + "/"):
            raise Unprocessable(errors=[field_error("school_org_code", "outside the round's area / 不在本批次范围内")])
        if uow.nominations.live_for_school(round_id, school_org_code) is not None:
            raise _already_nominated()
        nomination = Nomination.start(
            round_=round_,
            school_org_code=school_org_code,
            school_org_path=school["path"],
            school_name=school["name"],
            actor=principal.subject,
            now=now,
        )
        previous = _previous_form(uow, nomination, policy, start_from) if start_from is not None else None
        if candidate_user_id is None and previous is not None and previous.candidate_user_id is not None:
            with contextlib.suppress(Unprocessable):  # the earlier candidate left the unit: the school picks again
                _choose(uow, nomination, policy, previous.candidate_user_id, principal, now)
        if candidate_user_id is not None:
            _choose(uow, nomination, policy, candidate_user_id, principal, now)
        if previous is not None:
            _start_from(nomination, policy, previous, principal, now)
        if form:
            nomination.fill(policy, form, actor=principal.subject, now=now)
        try:
            uow.nominations.save(nomination)
        except LiveNominationExists as exc:
            raise _already_nominated() from exc
        uow.commit()
    return nomination


def _previous_form(
    uow: NominationsUnitOfWork, nomination: Nomination, policy: Policy, start_from: uuid.UUID
) -> Nomination:
    previous = uow.nominations.get(start_from)
    if (
        previous is None
        or previous.school_org_code != nomination.school_org_code
        or previous.round_id == nomination.round_id
    ):
        raise Unprocessable(
            errors=[field_error("start_from", "not this unit's nomination of an earlier round / 非本单位往期推荐表")]
        )
    return previous


def _start_from(
    nomination: Nomination, policy: Policy, previous: Nomination, principal: Principal, now: dt.datetime
) -> None:
    """The earlier form's answers the new policy's form still asks, valid under it; what the directory keeps
    (prefill) is prefilled afresh, never copied."""
    carried = {
        name: value
        for name, value in previous.form.items()
        if (spec := policy.field_named(name)) is not None and spec.prefill is None
    }
    bad = {p.field.split(".")[1] for p in policy.validate_form(carried, complete=False) if p.field.startswith("form.")}
    carried = {k: v for k, v in carried.items() if k not in bad}
    if carried:
        nomination.fill(policy, carried, actor=principal.subject, now=now)
    nomination.changes.append(
        Change(now, principal.subject, "started_from", {"nomination_id": str(previous.id), "fields": sorted(carried)})
    )


def previous_nomination(
    uow: NominationsUnitOfWork, principal: Principal, org_code: str, round_id: uuid.UUID
) -> dict[str, Any]:
    """The unit's latest nomination of another round (not withdrawn), to start the new one from."""
    with uow:
        org = uow.directory.org(org_code)
        if org is None:
            raise NotFound("No such organisation.")
        principal.require_within(org["path"], *READ_ROLES, what="organisation")
        found = uow.nominations.latest_of_unit(org_code, excluding_round=round_id)
        if found is None:
            raise NotFound("No earlier nomination of this unit.")
        round_ = uow.rounds.get(found.round_id)
        return {
            "nomination_id": found.id,
            "round_id": found.round_id,
            "round_title": round_.title if round_ else "",
            "status": found.status.value,
            "candidate_name": found.candidate.get("display_name"),
            "submitted_at": found.submitted_at,
        }


def _already_nominated() -> Conflict:
    return Conflict(
        "This unit already has a nomination in this round / 本单位在该批次已有推荐表",
        errors=[field_error("school_org_code", "already nominated in this round")],
    )


def _choose(
    uow: NominationsUnitOfWork,
    nomination: Nomination,
    policy: Policy,
    user_id: uuid.UUID,
    principal: Principal,
    now: dt.datetime,
) -> None:
    user = uow.directory.user(user_id)
    home = uow.directory.org(user["org_code"]) if user is not None and user["org_code"] else None
    if (
        user is None
        or home is None
        or not user["is_active"]
        or not policy.admits_candidate_of(home["path"], nomination.school_org_path)
    ):
        raise Unprocessable(errors=[field_error("candidate_user_id", "not a user of this unit / 候选人须为本单位人员")])
    directory = {
        "user_id": str(user["user_id"]),
        "username": user["username"],
        "display_name": user["display_name"],
        "gender": user["gender"],
        "birth_date": user["birth_date"].isoformat() if user["birth_date"] else None,
        "phone": user["phone"],
        "email": user["email"],
        # 避免重复采集: 学历, 民族, 教龄, 职务, 职称, 政治面貌 as the directory keeps them
        **prefilled_profile(user.get("profile") or {}, now.date()),
    }
    nomination.choose_candidate(policy, user_id, directory, actor=principal.subject, now=now)


def read_nomination(uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID) -> NominationView:
    with uow:
        nomination = _nomination_in_view(uow, principal, nomination_id)
        round_ = uow.rounds.get(nomination.round_id)
        assert round_ is not None
        policy = round_.read_policy
        full = sees_personal(principal, nomination, policy)
        if full and not principal.can(nomination.school_org_path, *policy.nominator_roles):
            uow.audit("nomination.personal_read", actor=principal.subject, target=str(nomination.id))
            uow.commit()
        return NominationView(nomination, round_, masked=not full)


def update_nomination(
    uow: NominationsUnitOfWork,
    principal: Principal,
    nomination_id: uuid.UUID,
    check_version: VersionCheck,
    *,
    candidate_user_id: uuid.UUID | None,
    form: dict[str, Any] | None,
    now: dt.datetime,
) -> Nomination:
    with uow, domain_errors():
        nomination, _round, policy = _writable(uow, principal, nomination_id)
        check_version(nomination.version)
        if candidate_user_id is not None:
            _choose(uow, nomination, policy, candidate_user_id, principal, now)
        if form:
            nomination.fill(policy, form, actor=principal.subject, now=now)
        uow.nominations.save(nomination)
        uow.commit()
    return nomination


def upload_photo(
    uow: NominationsUnitOfWork,
    principal: Principal,
    nomination_id: uuid.UUID,
    check_version: VersionCheck,
    content: bytes,
    now: dt.datetime,
) -> Nomination:
    with uow, domain_errors():
        nomination, _round, policy = _writable(uow, principal, nomination_id)
        check_version(nomination.version)
        content_type = nomination.attach_photo(
            policy, content, pixels=photo_pixels(content), actor=principal.subject, now=now
        )
        uow.nominations.save(nomination)
        uow.nominations.put_photo(nomination.id, content_type, nomination.photo_sha256 or "", content, now)
        uow.commit()
    return nomination


def upload_evidence(
    uow: NominationsUnitOfWork,
    principal: Principal,
    nomination_id: uuid.UUID,
    check_version: VersionCheck,
    kind: str,
    filename: str,
    content: bytes,
    now: dt.datetime,
) -> Nomination:
    """证明材料 with the form: a PDF or an image, its type read from the content."""
    with uow, domain_errors():
        nomination, _round, policy = _writable(uow, principal, nomination_id)
        check_version(nomination.version)
        content_type = sniff_evidence(content)
        if content_type is None:
            raise DomainError("Evidence must be a PDF, JPEG or PNG file / 证明材料须为PDF或图片", field="file")
        sha256 = hashlib.sha256(content).hexdigest()
        nomination.attach_evidence(policy, kind, size=len(content), sha256=sha256, actor=principal.subject, now=now)
        uow.nominations.save(nomination)
        name = (filename or kind).rsplit("/", 1)[-1][:200]
        file = {"filename": name, "content_type": content_type, "sha256": sha256, "size": len(content), "data": content}
        uow.nominations.put_evidence(nomination.id, kind, file, principal.subject, now)
        uow.commit()
    return nomination


def _evidence_reader(uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID) -> Nomination:
    """The nominating unit and the reviewers of its chain (the roles that see the form unmasked) read the
    evidence; a reviewer's read is audited like the unmasked form."""
    nomination = _nomination_in_view(uow, principal, nomination_id)
    round_ = uow.rounds.get(nomination.round_id)
    assert round_ is not None
    policy = round_.read_policy
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


def claim_certificate(
    uow: NominationsUnitOfWork,
    principal: Principal,
    nomination_id: uuid.UUID,
    check_version: VersionCheck,
    claim: dict[str, Any],
    now: dt.datetime,
) -> Nomination:
    """A certificate not yet in training's records, claimed for the training administrator to confirm
    (`nominations.certificate.claimed`); once confirmed it counts for eligibility like any other."""
    with uow, domain_errors():
        nomination, _round, _policy = _writable(uow, principal, nomination_id)
        check_version(nomination.version)
        if nomination.candidate_user_id is not None and claim["number"] in uow.directory.certificate_numbers(
            nomination.candidate_user_id
        ):
            raise Conflict(
                "Training's records already hold this certificate / 该证书已在培训记录中",
                errors=[field_error("number", "already recorded / 已登记")],
            )
        nomination.claim_certificate(claim, actor=principal.subject, now=now)
        uow.nominations.save(nomination)
        uow.audit("nomination.certificate_claimed", actor=principal.subject, target=str(nomination.id), details=claim)
        uow.commit()
    return nomination


def read_photo(uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID) -> tuple[str, bytes]:
    """The photo is personal data: only roles that see the form unmasked get it (others 403), and a
    reader outside the nominating unit is audited as a reveal, like the unmasked form."""
    with uow:
        nomination = _nomination_in_view(uow, principal, nomination_id)
        round_ = uow.rounds.get(nomination.round_id)
        assert round_ is not None
        policy = round_.read_policy
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
        nomination = _nomination_in_view(uow, principal, nomination_id)
        round_ = uow.rounds.get(nomination.round_id)
        assert round_ is not None
        policy = round_.read_policy
        full = sees_personal(principal, nomination, policy)
        history = uow.nominations.history(nomination_id)
        ancestors = uow.directory.orgs_by_path(_path_and_ancestors(nomination.school_org_path))
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


def _path_and_ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def attest(
    uow: NominationsUnitOfWork,
    principal: Principal,
    nomination_id: uuid.UUID,
    check_version: VersionCheck,
    signer_name: str,
    now: dt.datetime,
) -> Nomination:
    with uow, domain_errors():
        nomination, _round, _policy = _writable(uow, principal, nomination_id)
        check_version(nomination.version)
        nomination.attest(actor=principal.subject, signer_name=signer_name, now=now)
        uow.nominations.save(nomination)
        uow.audit(
            "nomination.attested",
            actor=principal.subject,
            target=str(nomination.id),
            details={"signer_name": signer_name},
        )
        uow.commit()
    return nomination


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
        nomination = _nomination_in_view(uow, principal, nomination_id)
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
        nomination, round_, policy = _writable(uow, principal, nomination_id)
        check_version(nomination.version)
        eligibility = policy.evaluate(_facts(uow, nomination, now.date()))
        evidence = {e["kind"] for e in uow.nominations.evidence_list(nomination.id)}
        nomination.submit(policy, round_, eligibility, actor=principal.subject, now=now, evidence=evidence)
        uow.nominations.save(nomination)
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
        nomination, _round, _policy = _writable(uow, principal, nomination_id)
        check_version(nomination.version)
        nomination.withdraw(actor=principal.subject, now=now)
        uow.nominations.save(nomination)
        uow.audit("nomination.withdrawn", actor=principal.subject, target=str(nomination.id))
        uow.commit()
    return nomination


def history(uow: NominationsUnitOfWork, principal: Principal, nomination_id: uuid.UUID) -> list[dict[str, Any]]:
    with uow:
        _nomination_in_view(uow, principal, nomination_id)
        return uow.nominations.history(nomination_id)


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


def candidates(
    uow: NominationsUnitOfWork, principal: Principal, org_code: str, round_id: uuid.UUID | None = None
) -> list[dict[str, Any]]:
    """The unit's users known from identity events, to pick the candidate from (contact data masked).

    Under a round whose policy takes candidates from the unit's subtree (宜春学院's 职能部门负责人), the
    people of the unit's departments are listed too, each with the org they belong to."""
    with uow:
        org = uow.directory.org(org_code)
        if org is None:
            raise NotFound("No such organisation.")
        principal.require_within(
            org["path"], "school_admin", "university_president", "platform_admin", what="organisation"
        )
        round_ = uow.rounds.get(round_id) if round_id is not None else None
        if round_id is not None and (round_ is None or not _sees_round(principal, round_)):
            raise Unprocessable(errors=[field_error("round_id", "no such round / 无此批次")])
        if round_ is not None and round_.read_policy.candidates_from_subtree:
            users = uow.directory.users_within(org["path"])
        else:
            users = uow.directory.users_of_org(org_code)
    return [
        {
            "user_id": str(u["user_id"]),
            "org_code": u["org_code"],
            "display_name": u["display_name"],
            "gender": u["gender"],
            "phone": mask_value("phone", u["phone"]),
            "email": mask_value("email", u["email"]),
        }
        for u in users
    ]


# -- progress ------------------------------------------------------------------------------------
def round_progress(
    uow: NominationsUnitOfWork,
    principal: Principal,
    round_id: uuid.UUID,
    *,
    limit: int,
    after: str | None = None,
    county_code: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """报送进度 of a round: the units of the policy's nominee levels under the round's issuing org that the caller
    reads. The figures cover all of them (the count per status, `none` for the units that have not started one, and
    the same per body above them, 按县（市、区）汇总); the units themselves come a page at a time, by path, filtered
    by the body above them and by status, since a city has thousands of schools."""
    with uow:
        round_ = _round_in_view(uow, principal, round_id)
        paths = principal.paths(*READ_ROLES)
        units = [
            org
            for org in uow.directory.orgs_within(round_.issuing_org_path, round_.read_policy.nominee_org_levels)
            if any(within(org["path"], p) for p in paths)
        ]
        live = {n.school_org_code: n for n in uow.nominations.stream_for_summary(round_id, paths)}
        parents = uow.directory.orgs_by_path([o["path"].rsplit("/", 1)[0] for o in units if o["parent_code"]])
    counts: dict[str, int] = {}
    by_county: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for org in units:
        parent = parents.get(org["path"].rsplit("/", 1)[0])
        nomination = live.get(org["code"])
        state = nomination.status.value if nomination else None
        counts[state or "none"] = counts.get(state or "none", 0) + 1
        county = by_county.setdefault(
            parent["code"] if parent else "",
            {
                "county_code": parent["code"] if parent else None,
                "county_name": parent["name"] if parent else None,
                "units": 0,
                "counts": {},
            },
        )
        county["units"] += 1
        county["counts"][state or "none"] = county["counts"].get(state or "none", 0) + 1
        if county_code is not None and (parent["code"] if parent else None) != county_code:
            continue
        if status is not None and (state or "none") != status:
            continue
        if after is not None and org["path"] <= after:
            continue
        if len(rows) > limit:
            continue  # the figures above still count every unit; the page has its one extra row already
        rows.append(
            {
                "org_code": org["code"],
                "org_name": org["name"],
                "org_path": org["path"],
                "level": org["level"],
                "county_code": parent["code"] if parent else None,
                "county_name": parent["name"] if parent else None,
                "nomination_id": nomination.id if nomination else None,
                "status": state,
                "candidate_name": nomination.candidate.get("display_name") if nomination else None,
                "returned_at_stage": nomination.returned_at_stage if nomination else None,
                "submitted_at": nomination.submitted_at if nomination else None,
                "updated_at": nomination.updated_at if nomination else None,
            }
        )
    shown = page(rows, limit, lambda u: u["org_path"])
    return {
        "round_id": round_id,
        "units": shown["items"],
        "next_cursor": shown["next_cursor"],
        "counts": counts,
        "by_county": list(by_county.values()),
    }


NOMINEE_LEVELS = ("school", "university")


def coverage(
    uow: NominationsUnitOfWork,
    principal: Principal,
    org_code: str | None,
    *,
    limit: int,
    after: str | None = None,
) -> dict[str, Any]:
    """首席信息官覆盖率: the schools and universities in the caller's scope (or under one org of it), how many have
    a CIO appointed and in office, and the same per body above them (贺兰县's plan: every school by 2025). The
    totals cover every unit; the bodies come a page at a time, by path (a province's grant reaches hundreds)."""
    with uow:
        paths = principal.paths(*READ_ROLES)
        if org_code:
            org = uow.directory.org(org_code)
            if org is None or not principal.can(org["path"], *READ_ROLES):
                raise NotFound("No such organisation.")
            roots = [org["path"]]
        else:
            roots = paths
        units: dict[str, dict[str, Any]] = {}
        for root in roots:
            for unit in uow.directory.orgs_within(root, NOMINEE_LEVELS):
                if any(within(unit["path"], p) for p in paths):
                    units[unit["code"]] = unit
        appointed = uow.directory.units_with_appointment(list(units))
        parents = uow.directory.orgs_by_path(sorted({u["path"].rsplit("/", 1)[0] for u in units.values()}))
    by_parent: dict[str, dict[str, Any]] = {}
    for unit in sorted(units.values(), key=lambda u: u["path"]):
        parent_path = unit["path"].rsplit("/", 1)[0]
        parent = parents.get(parent_path)
        key = parent["code"] if parent else unit["code"]
        row = by_parent.setdefault(
            key,
            {
                "org_code": key,
                "org_name": parent["name"] if parent else unit["name"],
                "units": 0,
                "appointed": 0,
                "path": parent_path if parent else unit["path"],
            },
        )
        row["units"] += 1
        row["appointed"] += unit["code"] in appointed
    bodies = sorted(by_parent.values(), key=lambda r: r["path"])
    shown = page([r for r in bodies if after is None or r["path"] > after][: limit + 1], limit, lambda r: r["path"])
    return {
        "units": len(units),
        "appointed": len(appointed),
        "by_parent": [{k: v for k, v in r.items() if k != "path"} for r in shown["items"]],
        "next_cursor": shown["next_cursor"],
    }


def within(path: str, grant_path: str) -> bool:
    return path == grant_path or path.startswith(grant_path.rstrip("/") + "/")


# -- the summary table ---------------------------------------------------------------------------
STATUS_ZH = {
    "draft": "草稿",
    "submitted": "已提交",
    "under_review": "审核中",
    "returned": "退回修改",
    "resubmitted": "已重新提交",
    "approved": "已批准",
    "rejected": "未通过",
    "withdrawn": "已撤回",
}


@dataclass
class SummaryTable:
    title: str
    header: list[str]
    rows: Iterator[list[str]]


def summary_table(
    uow_factory: UowFactory,
    principal: Principal,
    round_id: uuid.UUID,
    *,
    org_code: str | None,
    reveal: bool,
    batch_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> SummaryTable:
    """汇总表 of a round for the caller's subtree (or one org in it, or the forms of one county's batch);
    personal data masked unless revealed.

    The rows are produced lazily from a server-side cursor; the unit of work stays open until they are read.
    """
    only: list[uuid.UUID] | None = None
    with uow_factory() as uow:
        round_ = _round_in_view(uow, principal, round_id)
        policy = round_.read_policy
        paths = principal.paths(*READ_ROLES)
        if batch_id is not None:
            batch = _batch_in_view(uow, principal, round_id, batch_id)
            only = [uuid.UUID(i) for i in batch.nomination_ids]
            paths = [batch.org_path]
        elif org_code:
            org = uow.directory.org(org_code)
            if org is None or not principal.can(org["path"], *READ_ROLES):
                raise NotFound("No such organisation.")
            paths = [org["path"]]
        if reveal:
            # Full personal data only of the subtrees where the caller holds a role that needs it: a second,
            # read-only grant elsewhere (auditor) must not widen an unmasked export.
            paths = [p for p in paths if principal.can(p, *REVEAL_ROLES)]
            if not paths:
                raise NotFound("No such round.")
            uow.audit(
                "summary.personal_export",
                actor=principal.subject,
                target=str(round_id),
                details={"paths": paths, "reason": reason},
            )
            uow.commit()
    columns = policy.summary_columns
    personal = {
        f"form.{f.name}": (f.type if f.type in ("phone", "email", "date") else "text")
        for f in policy.fields
        if f.personal
    }

    def rows() -> Iterator[list[str]]:
        with uow_factory() as uow:
            counties: dict[str, str] = {}
            for nomination in uow.nominations.stream_for_summary(round_id, paths, only=only):
                county_path = nomination.school_org_path.rsplit("/", 1)[0]
                if "county_name" in {c["key"] for c in columns} and county_path not in counties:
                    found = uow.directory.orgs_by_path([county_path])
                    counties[county_path] = found[county_path]["name"] if county_path in found else ""
                row: list[str] = []
                for column in columns:
                    key = column["key"]
                    value: Any
                    if key.startswith("form."):
                        value = nomination.form.get(key[5:])
                        if key in personal and not reveal:
                            value = mask_value(personal[key], value)
                    elif key == "status":
                        value = STATUS_ZH.get(nomination.status.value, nomination.status.value)
                    elif key == "county_name":
                        value = counties.get(county_path, "")
                    elif key == "school_code":
                        value = nomination.school_org_code
                    elif key == "candidate_name":
                        value = nomination.candidate.get("display_name")
                    elif key == "submitted_at":
                        value = nomination.submitted_at.isoformat() if nomination.submitted_at else ""
                    elif key == "revision":
                        value = nomination.revision
                    else:
                        value = nomination.school_name
                    row.append(
                        ""
                        if value is None
                        else str(value)
                        if not isinstance(value, bool)
                        else ("是" if value else "否")
                    )
                yield row

    return SummaryTable(
        title=f"{policy.document['form']['title_zh']}汇总表", header=[c["label_zh"] for c in columns], rows=rows()
    )
