"""Rounds (推荐批次) and nominations (推荐表): their states and the rules of moving between them.

Pure Python; the adapters read and write these objects, the service layer gathers the facts.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import shared.domain
from nominations.domain import events
from nominations.domain.policy import Eligibility, FieldProblem, Policy
from shared.events import DomainEvent


class DomainError(shared.domain.DomainError):
    """A rule refused the change; `problems` lists several."""

    def __init__(self, message: str, field: str | None = None, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(message, field)
        self.problems = problems or []


class StateConflict(DomainError):
    """The record is in a state that does not allow this (e.g. submitting a withdrawn nomination)."""


class Ineligible(DomainError):
    def __init__(self, eligibility: Eligibility) -> None:
        super().__init__("The candidate does not meet the policy's conditions / 候选人不符合任职条件")
        self.eligibility = eligibility


class RoundStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Status(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


EDITABLE = {Status.DRAFT, Status.RETURNED}
IN_FLIGHT = {Status.SUBMITTED, Status.RESUBMITTED, Status.UNDER_REVIEW}
FINAL = {Status.APPROVED, Status.REJECTED, Status.WITHDRAWN}
# At most one live nomination per school and round: these do not count.
DEAD = {Status.REJECTED, Status.WITHDRAWN}


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


# Parsed policy snapshots by (round, policy id, version): a snapshot never changes once the round is open.
_PARSED_POLICIES: dict[tuple[uuid.UUID, str, int], Policy] = {}
_PARSED_POLICIES_MAX = 256


@dataclass
class Change:
    """One line of a nomination's history: who, when, what."""

    at: dt.datetime
    actor: str
    action: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Round:
    """推荐批次: a call for nominations under one policy, for an org subtree, until a deadline."""

    id: uuid.UUID
    title: str
    policy_id: str
    policy_version: int
    policy: dict[str, Any]  # the snapshot: later edits of the policy file never reach a running round
    issuing_org_code: str
    issuing_org_path: str
    opens_at: dt.datetime
    deadline: dt.datetime
    created_by: str
    status: RoundStatus = RoundStatus.OPEN
    # 通知: 文号 (e.g. 焦教文〔2022〕60号), text, contacts [{name, phone}], attachments [{title, url}]
    notice: dict[str, Any] = field(default_factory=dict)
    # An optional deadline per org level of the chain ({"county": …}): the county's 报送 to the city is due then
    level_deadlines: dict[str, dt.datetime] = field(default_factory=dict)
    closed_at: dt.datetime | None = None
    close_reason: str | None = None
    version: int = 1
    events: list[DomainEvent] = field(default_factory=list, repr=False)

    @classmethod
    def open(
        cls,
        *,
        title: str,
        policy: Policy,
        issuing_org_code: str,
        issuing_org_path: str,
        deadline: dt.datetime,
        created_by: str,
        now: dt.datetime,
        notice: dict[str, Any] | None = None,
        level_deadlines: dict[str, dt.datetime] | None = None,
    ) -> Round:
        if deadline <= now:
            raise DomainError("The deadline must be in the future / 截止时间须晚于当前时间", field="deadline")
        level_deadlines = dict(level_deadlines or {})
        chain_levels = {s.org_level for s in policy.stages}
        for level, due in level_deadlines.items():
            if level not in chain_levels:
                raise DomainError(
                    f"{level} is not a level of the policy's approval chain / 该层级不在审核链中",
                    field=f"level_deadlines.{level}",
                )
            if due < deadline:
                # the schools' forms are due first; a level's 报送 cannot be due before them
                raise DomainError(
                    "A level's deadline cannot be before the round's deadline / 报送截止时间不得早于推荐截止时间",
                    field=f"level_deadlines.{level}",
                )
        round_ = cls(
            id=uuid.uuid4(),
            title=title,
            policy_id=policy.id,
            policy_version=policy.version,
            policy=policy.document,
            issuing_org_code=issuing_org_code,
            issuing_org_path=issuing_org_path,
            opens_at=now,
            deadline=deadline,
            created_by=created_by,
            notice=dict(notice or {}),
            level_deadlines=level_deadlines,
        )
        round_.events.append(events.RoundOpened.from_aggregate(round_, round_id=round_.id))
        return round_

    def deadline_for(self, level: str) -> dt.datetime:
        """When `level` must have done its part (a county's 报送): its own deadline, else the round's."""
        return self.level_deadlines.get(level, self.deadline)

    @property
    def read_policy(self) -> Policy:
        """The round's policy snapshot, parsed; parsed once per process (it took ~0.7 ms on every request), and
        only reused while the stored snapshot is still equal to the one parsed."""
        key = (self.id, self.policy_id, self.policy_version)
        cached = _PARSED_POLICIES.get(key)
        if cached is not None and cached.document == self.policy:
            return cached
        policy = Policy.from_document(self.policy)
        if len(_PARSED_POLICIES) >= _PARSED_POLICIES_MAX:
            _PARSED_POLICIES.clear()
        _PARSED_POLICIES[key] = policy
        return policy

    def accepts_submissions(self, now: dt.datetime) -> bool:
        return self.status == RoundStatus.OPEN and now < self.deadline

    def close(self, *, reason: str, now: dt.datetime) -> None:
        if self.status == RoundStatus.CLOSED:
            raise StateConflict("The round is already closed / 批次已截止")
        self.status = RoundStatus.CLOSED
        self.closed_at = now
        self.close_reason = reason
        self.version += 1
        self.events.append(events.RoundClosed(round_id=str(self.id), closed_at=_iso(now), reason=reason))


@dataclass
class Nomination:
    """推荐表: one school's recommendation of its CIO in a round, from draft to decision."""

    id: uuid.UUID
    round_id: uuid.UUID
    policy_id: str
    school_org_code: str
    school_org_path: str
    school_name: str
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    candidate_user_id: uuid.UUID | None = None
    candidate: dict[str, Any] = field(default_factory=dict)  # prefilled from the directory projection
    form: dict[str, Any] = field(default_factory=dict)
    photo_sha256: str | None = None
    photo_type: str | None = None
    attested_by: str | None = None
    attested_name: str | None = None
    attested_at: dt.datetime | None = None
    status: Status = Status.DRAFT
    revision: int = 0
    returned_at_stage: int | None = None
    submitted_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    certificate_claim: dict[str, Any] | None = None  # 合格证 claimed on the form, for training to confirm
    version: int = 1
    events: list[DomainEvent] = field(default_factory=list, repr=False)
    changes: list[Change] = field(default_factory=list, repr=False)

    @classmethod
    def start(
        cls,
        *,
        round_: Round,
        school_org_code: str,
        school_org_path: str,
        school_name: str,
        actor: str,
        now: dt.datetime,
    ) -> Nomination:
        if not round_.accepts_submissions(now):
            raise StateConflict("The round is closed / 推荐批次已截止", field="round_id")
        nomination = cls(
            id=uuid.uuid4(),
            round_id=round_.id,
            policy_id=round_.policy_id,
            school_org_code=school_org_code,
            school_org_path=school_org_path,
            school_name=school_name,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        nomination.changes.append(Change(now, actor, "created", {"round_id": str(round_.id)}))
        return nomination

    @property
    def is_live(self) -> bool:
        return self.status not in DEAD

    def _touch(self, actor: str, action: str, now: dt.datetime, details: dict[str, Any] | None = None) -> None:
        self.version += 1
        self.updated_at = now
        self.changes.append(Change(now, actor, action, details or {}))

    def _require_editable(self) -> None:
        if self.status not in EDITABLE:
            raise StateConflict(f"A {self.status.value} nomination cannot be edited / 当前状态不可修改")

    def _clear_attestation(self) -> None:
        # The signature vouches for the content as it was; new content needs a new signature.
        self.attested_by = self.attested_name = None
        self.attested_at = None

    def choose_candidate(
        self, policy: Policy, user_id: uuid.UUID, directory: dict[str, Any], *, actor: str, now: dt.datetime
    ) -> None:
        """Pick the candidate among the school's users; the form's prefilled fields take their values."""
        self._require_editable()
        self.candidate_user_id = user_id
        self.candidate = dict(directory)
        form = dict(self.form)  # a new value, never edited in place: the mapper saves what is assigned
        for spec in policy.fields:
            value = self._prefill_value(spec.prefill)
            if spec.prefill and value not in (None, ""):
                if spec.choices and value not in spec.choices:
                    continue  # the directory's wording is not one of the form's choices: the school picks one
                form[spec.name] = value
        self.form = form
        self._clear_attestation()
        self._touch(actor, "candidate_chosen", now, {"candidate_user_id": str(user_id)})

    def _prefill_value(self, source: str | None) -> Any:
        if source is None:
            return None
        scope, _, key = source.partition(".")
        return self.school_name if scope == "school" else self.candidate.get(key)

    def fill(self, policy: Policy, values: dict[str, Any], *, actor: str, now: dt.datetime) -> None:
        """Merge `values` into the form; prefilled values from the directory are not typed again."""
        self._require_editable()
        problems: list[FieldProblem] = []
        for spec in policy.fields:
            if spec.name in values and spec.prefill:
                known = self._prefill_value(spec.prefill)
                if spec.choices and known not in spec.choices:
                    continue  # not prefilled (see choose_candidate): the school chooses
                if known not in (None, "") and values[spec.name] != known:
                    problems.append(
                        FieldProblem(
                            f"form.{spec.name}", "filled from the directory, not editable / 由系统带出，不可修改"
                        )
                    )
        merged = {**self.form, **values}
        merged = {k: v for k, v in merged.items() if v is not None}
        problems += policy.validate_form(merged, complete=False)
        if problems:
            raise DomainError("Some fields are invalid / 部分字段不正确", problems=problems)
        changed = sorted(k for k in values if self.form.get(k) != values[k])
        self.form = merged
        self._clear_attestation()
        self._touch(actor, "form_filled", now, {"fields": changed})

    def attach_photo(self, policy: Policy, content: bytes, *, pixels: int | None, actor: str, now: dt.datetime) -> str:
        """`pixels` is width × height read from the image's header, None when it cannot be read."""
        self._require_editable()
        content_type = sniff_image(content)
        photo = policy.photo
        if content_type is None or content_type not in photo["content_types"]:
            raise DomainError("The photo must be a JPEG or PNG image / 照片须为JPEG或PNG格式", field="photo")
        if len(content) > photo["max_bytes"]:
            raise DomainError(f"The photo is larger than {photo['max_bytes']} bytes / 照片过大", field="photo")
        if pixels is None:
            raise DomainError("The photo cannot be read as an image / 照片无法读取", field="photo")
        if pixels > MAX_PHOTO_PIXELS:
            raise DomainError(
                f"The photo has more than {MAX_PHOTO_PIXELS // 1_000_000} megapixels / 照片像素过多", field="photo"
            )
        self.photo_sha256 = hashlib.sha256(content).hexdigest()
        self.photo_type = content_type
        self._clear_attestation()
        self._touch(actor, "photo_attached", now, {"sha256": self.photo_sha256, "bytes": len(content)})
        return content_type

    def attest(self, *, actor: str, signer_name: str, now: dt.datetime) -> None:
        """填写人签字: the person who filled the form vouches for it."""
        self._require_editable()
        if not signer_name.strip():
            raise DomainError("The signer's name is required / 须填写签字人姓名", field="signer_name")
        self.attested_by = actor
        self.attested_name = signer_name.strip()
        self.attested_at = now
        self._touch(actor, "attested", now, {"signer_name": self.attested_name})

    def attach_evidence(
        self, policy: Policy, kind: str, *, size: int, sha256: str, actor: str, now: dt.datetime
    ) -> None:
        """证明材料 of a kind the form takes (班子研究授权会议纪要, 培训合格证扫描件); replaces the last one."""
        self._require_editable()
        if kind not in {e["kind"] for e in policy.evidence}:
            raise DomainError("The form takes no evidence of this kind / 推荐表无此类证明材料", field="kind")
        if size > MAX_EVIDENCE_BYTES:
            raise DomainError(f"At most {MAX_EVIDENCE_BYTES // 1_000_000} MB / 文件过大", field="file")
        self._clear_attestation()
        self._touch(actor, "evidence_attached", now, {"kind": kind, "sha256": sha256, "bytes": size})

    def claim_certificate(self, claim: dict[str, Any], *, actor: str, now: dt.datetime) -> None:
        """A certificate not yet in training's records, claimed on the form for the training administrator to
        confirm ({number, kind, level, issuer, issued_on})."""
        self._require_editable()
        if self.candidate_user_id is None:
            raise DomainError("Choose the candidate first / 须先选择候选人", field="candidate_user_id")
        self.certificate_claim = {**claim, "claim_id": str(uuid.uuid4()), "claimed_at": _iso(now)}
        self._clear_attestation()
        self._touch(actor, "certificate_claimed", now, {"number": claim["number"]})
        self.events.append(
            events.CertificateClaimed(
                claim_id=self.certificate_claim["claim_id"],
                nomination_id=str(self.id),
                round_id=str(self.round_id),
                person_user_id=str(self.candidate_user_id),
                person_name=self.candidate.get("display_name") or self.form.get("name") or "",
                school_org_code=self.school_org_code,
                school_org_path=self.school_org_path,
                number=claim["number"],
                kind=claim["kind"],
                level=claim["level"],
                issuer=claim["issuer"],
                issued_on=claim["issued_on"],
                claimed_by=actor,
                claimed_at=_iso(now),
            )
        )

    def reject_certificate_claim(self, claim_id: str, reason: str, *, actor: str, now: dt.datetime) -> bool:
        """The training administrator could not confirm the claimed 合格证: the claim shows rejected, with the
        reason, until the school claims another (a newer claim replaces this one, so its rejection is ignored).

        Not an edit of the form: any status records it, the school's signature stays."""
        claim = self.certificate_claim
        if not claim or claim.get("claim_id") != claim_id or claim.get("status") == "rejected":
            return False
        self.certificate_claim = {**claim, "status": "rejected", "rejection_reason": reason, "rejected_at": _iso(now)}
        self._touch(actor, "certificate_claim_rejected", now, {"number": claim.get("number"), "reason": reason})
        return True

    def submit(
        self,
        policy: Policy,
        round_: Round,
        eligibility: Eligibility,
        *,
        actor: str,
        now: dt.datetime,
        evidence: set[str] | None = None,
    ) -> None:
        """Submit (or resubmit after a return); a first submission must be before the round's deadline.
        `evidence`: the kinds of 证明材料 uploaded."""
        if self.status not in EDITABLE:
            raise StateConflict(f"A {self.status.value} nomination cannot be submitted / 当前状态不可提交")
        if self.status == Status.DRAFT and not round_.accepts_submissions(now):
            raise StateConflict("The round's deadline has passed / 已过推荐截止时间", field="deadline")
        problems: list[FieldProblem] = []
        if self.candidate_user_id is None:
            problems.append(FieldProblem("candidate_user_id", "choose the candidate / 须选择候选人"))
        problems += policy.validate_form(self.form, complete=True)
        if policy.photo["required"] and not self.photo_sha256:
            problems.append(FieldProblem("photo", "the photo is required / 须上传照片"))
        problems += policy.missing_evidence(self.form, evidence or set())
        if self.attested_at is None:
            problems.append(FieldProblem("attestation", "the form must be attested / 填写人须签字确认"))
        if problems:
            raise DomainError("The form is not complete / 推荐表未填写完整", problems=problems)
        if not eligibility.eligible:
            raise Ineligible(eligibility)
        resubmission = self.status == Status.RETURNED
        self.revision += 1
        self.status = Status.RESUBMITTED if resubmission else Status.SUBMITTED
        self.submitted_at = now
        self._touch(actor, "resubmitted" if resubmission else "submitted", now, {"revision": self.revision})
        submitted = events.NominationResubmitted if resubmission else events.NominationSubmitted
        self.events.append(
            submitted.from_aggregate(
                self,
                nomination_id=self.id,
                candidate_user_id=str(self.candidate_user_id),
                candidate_name=self.candidate.get("display_name") or self.form.get("name") or "",
                submitted_by=actor,
                submitted_at=now,
                eligibility={
                    "eligible": True,
                    "checked_rules": list(eligibility.checked_rules),
                    # 原则上 / 一般 rules the form departs from, with the school's reason: flagged to the reviewers
                    "warnings": [
                        {"rule": w.rule, "message_zh": w.message_zh, "exception_reason": w.exception_reason}
                        for w in eligibility.warnings
                    ],
                },
            )
        )

    def withdraw(self, *, actor: str, now: dt.datetime) -> None:
        if self.status in FINAL:
            raise StateConflict(f"A {self.status.value} nomination cannot be withdrawn / 当前状态不可撤回")
        self.status = Status.WITHDRAWN
        self._touch(actor, "withdrawn", now)
        self.events.append(
            events.NominationWithdrawn.from_aggregate(self, nomination_id=self.id, withdrawn_by=actor, withdrawn_at=now)
        )

    def apply_review(
        self, *, outcome: str, stage_index: int | None, actor: str, details: dict[str, Any], now: dt.datetime
    ) -> bool:
        """Follow the approvals service's decision; returns False when it no longer applies (stale or final)."""
        if self.status in FINAL or self.status == Status.DRAFT:
            return False
        if outcome == "in_review":
            if self.status not in IN_FLIGHT:
                return False
            self.status = Status.UNDER_REVIEW
        elif outcome == "returned":
            if self.status not in IN_FLIGHT:
                return False
            self.status = Status.RETURNED
            self.returned_at_stage = stage_index
            self._clear_attestation()
        elif outcome in ("approved", "rejected"):
            if self.status not in IN_FLIGHT:
                return False
            self.status = Status.APPROVED if outcome == "approved" else Status.REJECTED
            self.decided_at = now
        else:
            return False
        self._touch(actor, f"review_{outcome}", now, details)
        return True


# A platform ceiling, not a policy rule: a small compressed PNG can hold 8000×8000 pixels, which cost the
# PDF renderer about 490 MB to decode. An ID photo needs well under a megapixel; 16 MP admits a phone shot.
MAX_PHOTO_PIXELS = 16_000_000
# A platform ceiling on one uploaded piece of evidence (minutes, a scan).
MAX_EVIDENCE_BYTES = 10_000_000


def sniff_evidence(content: bytes) -> str | None:
    """A piece of evidence is a PDF or an image, by its magic bytes."""
    return "application/pdf" if content.startswith(b"%PDF-") else sniff_image(content)


def sniff_image(content: bytes) -> str | None:
    """The image type by its magic bytes, never by the name or the header the client sent."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None
