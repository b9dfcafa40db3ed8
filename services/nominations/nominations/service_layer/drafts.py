"""The school's draft of a 推荐表: starting it (perhaps from an earlier round's form), choosing the candidate,
filling the form, the photo, the evidence, a claimed certificate and the filler's attestation."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import uuid
from typing import Any

from nominations.adapters.images import photo_pixels
from nominations.adapters.repository import LiveNominationExists
from nominations.domain.masking import mask_value
from nominations.domain.model import Change, DomainError, Nomination, sniff_evidence
from nominations.domain.policy import Policy
from nominations.service_layer.common import READ_ROLES, VersionCheck, domain_errors, editing, sees_round
from nominations.service_layer.unit_of_work import NominationsUnitOfWork
from shared.contracts.identity import PROFILE_KEYS
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.principal import Principal


def prefilled_profile(profile: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """The directory profile's keys a form prefills; 教龄 counted to `today` from the year teaching began
    (`teaching_since`), so a form filled a year after the profile was published shows one more year."""
    out = {k: v for k, v in profile.items() if k in PROFILE_KEYS}
    since = profile.get("teaching_since")
    if isinstance(since, int) and not isinstance(since, bool):
        out["teaching_years"] = max(0, today.year - since)
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
        if round_ is None or not sees_round(principal, round_):
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
                _choose(uow, nomination, policy, previous.candidate_user_id, principal, now, school=school)
        if candidate_user_id is not None:
            _choose(uow, nomination, policy, candidate_user_id, principal, now, school=school)
        if previous is not None:
            _start_from(nomination, policy, previous, principal, now)
        if form:
            nomination.fill(policy, form, actor=principal.subject, now=now)
        try:
            uow.nominations.add(nomination)
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
    school: dict[str, Any] | None = None,
) -> None:
    """`school`: the nomination's school as this unit of work just read it from the directory, so a candidate of
    the school itself (the usual case) needs no second read of the same org."""
    user = uow.directory.user(user_id)
    home_code = user["org_code"] if user is not None else None
    if school is not None and home_code == school["code"]:
        home: dict[str, Any] | None = school
    else:
        home = uow.directory.org(home_code) if home_code else None
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
        if round_id is not None and (round_ is None or not sees_round(principal, round_)):
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
    with editing(uow, principal, nomination_id, check_version) as (nomination, _round, policy):
        if candidate_user_id is not None:
            _choose(uow, nomination, policy, candidate_user_id, principal, now)
        if form:
            nomination.fill(policy, form, actor=principal.subject, now=now)
    return nomination


def upload_photo(
    uow: NominationsUnitOfWork,
    principal: Principal,
    nomination_id: uuid.UUID,
    check_version: VersionCheck,
    content: bytes,
    now: dt.datetime,
) -> Nomination:
    with editing(uow, principal, nomination_id, check_version) as (nomination, _round, policy):
        content_type = nomination.attach_photo(
            policy, content, pixels=photo_pixels(content), actor=principal.subject, now=now
        )
        uow.nominations.put_photo(nomination.id, content_type, nomination.photo_sha256 or "", content, now)
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
    with editing(uow, principal, nomination_id, check_version) as (nomination, _round, policy):
        content_type = sniff_evidence(content)
        if content_type is None:
            raise DomainError("Evidence must be a PDF, JPEG or PNG file / 证明材料须为PDF或图片", field="file")
        sha256 = hashlib.sha256(content).hexdigest()
        nomination.attach_evidence(policy, kind, size=len(content), sha256=sha256, actor=principal.subject, now=now)
        name = (filename or kind).rsplit("/", 1)[-1][:200]
        file = {"filename": name, "content_type": content_type, "sha256": sha256, "size": len(content), "data": content}
        uow.nominations.put_evidence(nomination.id, kind, file, principal.subject, now)
    return nomination


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
    with editing(uow, principal, nomination_id, check_version) as (nomination, _round, _policy):
        if nomination.candidate_user_id is not None and claim["number"] in uow.directory.certificate_numbers(
            nomination.candidate_user_id
        ):
            raise Conflict(
                "Training's records already hold this certificate / 该证书已在培训记录中",
                errors=[field_error("number", "already recorded / 已登记")],
            )
        nomination.claim_certificate(claim, actor=principal.subject, now=now)
        uow.audit("nomination.certificate_claimed", actor=principal.subject, target=str(nomination.id), details=claim)
    return nomination


def attest(
    uow: NominationsUnitOfWork,
    principal: Principal,
    nomination_id: uuid.UUID,
    check_version: VersionCheck,
    signer_name: str,
    now: dt.datetime,
) -> Nomination:
    with editing(uow, principal, nomination_id, check_version) as (nomination, _round, _policy):
        nomination.attest(actor=principal.subject, signer_name=signer_name, now=now)
        uow.audit(
            "nomination.attested",
            actor=principal.subject,
            target=str(nomination.id),
            details={"signer_name": signer_name},
        )
    return nomination
