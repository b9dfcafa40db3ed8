"""Handlers of Yichun's 网络安全和信息化委员会 (members, meetings, the semester check) and its 信息化联络员 coverage,
and the projections they read: the university's policy keys
(from `nominations.round.opened`) and identity's role grants.

第十四条/第十七条: 「CIO应担任副主任委员…每学期至少召开1次…由CIO召集，形成会议纪要」; 第十六条: 「各部门和教学院指定1名
负责人作为本部门信息化联络员」. `committee_meetings_per_semester` and `liaison_per_department` (the policy's evaluation
section) say how many; a university whose policy is not known yet requires none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from governance.adapters import metrics
from governance.domain import events
from governance.domain.committee import (
    Committee,
    CommitteeMeeting,
    LiaisonCoverage,
    Member,
    Semester,
    SemesterStanding,
    liaison_coverage,
    standings,
)
from governance.domain.model import OrgNode, now
from governance.service_layer.records import Permission, require
from governance.service_layer.refusals import refusals
from governance.service_layer.unit_of_work import GovernanceUnitOfWork
from shared.contracts import consumes
from shared.contracts.nominations import RoundOpened
from shared.errors import Conflict, NotFound, field_error
from shared.principal import Principal

# 校长 (主任委员), 党委 and the CIO constitute the committee; the CIO convenes it (由CIO召集)
KEEPER_ROLES = ("university_president", "party_committee", "cio", "platform_admin")
CONVENER_ROLES = ("cio", "university_president", "platform_admin")
READER_ROLES = (*KEEPER_ROLES, "university_office_meeting", "liaison", "auditor")
LIAISON_ROLE = "liaison"
CONSTITUTE = Permission(KEEPER_ROLES, "The university's leadership constitutes its committee.")
CONVENE = Permission(CONVENER_ROLES, "由CIO召集: the CIO records the committee's meetings.")


def _university(uow: GovernanceUnitOfWork, principal: Principal, org_code: str) -> OrgNode:
    org = uow.orgs.get(org_code)
    if org is None or org.level != "university":
        raise NotFound("No such university.")
    principal.require_within(org.path, *READER_ROLES, what="university")
    return org


def _required(uow: GovernanceUnitOfWork, org: OrgNode, key: str) -> int:
    policy = uow.policies.policy_of(org.path)
    return int(policy[key]) if policy else 0


# -- the committee -----------------------------------------------------------------------------------
def put_committee(
    uow: GovernanceUnitOfWork,
    principal: Principal,
    org_code: str,
    name: str,
    members: Sequence[Member],
    check_version: Any,
) -> tuple[Committee, bool]:
    with uow, refusals("committee"):
        org = _university(uow, principal, org_code)
        require(principal, org.path, CONSTITUTE)
        committee = uow.committees.get(org.code)
        created = committee is None
        if committee is None:
            committee = Committee(org=org, name=name, members=members, by=principal.subject, at=now())
            uow.committees.add(committee)
        else:
            check_version(committee.version)
            committee.constitute(name=name, members=members, by=principal.subject, at=now())
        uow.audit(
            "committee.constituted",
            actor=principal.subject,
            target=org.code,
            org_path=org.path,
            details={"members": len(members)},
        )
        uow.commit()
    return committee, created


@dataclass(frozen=True)
class CommitteeView:
    org: OrgNode
    committee: Committee | None
    required: int
    semesters: list[SemesterStanding]
    flags: dict[str, dict[str, Any]]
    meetings: list[CommitteeMeeting]


def view(uow: GovernanceUnitOfWork, principal: Principal, org_code: str, today: dt.date) -> CommitteeView:
    """The committee, its meetings and each recent semester's standing (flagged when it ended short)."""
    with uow:
        org = _university(uow, principal, org_code)
        required = _required(uow, org, "committee_meetings_per_semester")
        meetings = uow.committees.meetings(org.code)
        return CommitteeView(
            org=org,
            committee=uow.committees.get(org.code),
            required=required,
            semesters=standings(meetings, required, today),
            flags=uow.committees.flags(org.code),
            meetings=meetings,
        )


@dataclass(frozen=True)
class MeetingRecord:
    held_on: dt.date
    convened_by: str
    attendees: Sequence[str]
    minutes: str
    decisions: Sequence[str]


def record_meeting(
    uow: GovernanceUnitOfWork, principal: Principal, org_code: str, record: MeetingRecord
) -> CommitteeMeeting:
    """A meeting with its minutes; one that brings a flagged semester up to the policy's number clears the flag."""
    moment = now()
    with uow, refusals("committee"):
        org = _university(uow, principal, org_code)
        require(principal, org.path, CONVENE)
        if uow.committees.get(org.code) is None:
            raise Conflict(
                "Constitute the committee before recording its meetings.",
                errors=[field_error("org_code", "no committee yet")],
            )
        meeting = CommitteeMeeting(org=org, by=principal.subject, at=moment, **record.__dict__)
        uow.committees.add_meeting(meeting)
        held = 1 + sum(
            1 for m in uow.committees.meetings(org.code) if m.semester == meeting.semester and m is not meeting
        )
        cleared = uow.committees.clear_flag(org.code, meeting.semester, held, moment)
        uow.publish(events.CommitteeMeetingRecorded.from_aggregate(meeting, meeting_id=meeting.id, cleared=cleared))
        uow.audit(
            "committee.meeting_recorded",
            actor=principal.subject,
            target=str(meeting.id),
            org_path=org.path,
            details={"semester": meeting.semester, "cleared": cleared},
        )
        uow.commit()
    metrics.COMMITTEE_MEETINGS.inc()
    return meeting


def check_committees(uow: GovernanceUnitOfWork, today: dt.date) -> int:
    """The worker's timer: the semester that ended last, for each university whose policy asks for meetings; one
    short of them is flagged once and `governance.committee.meeting_missed` tells its CIO. Returns how many now."""
    ended = Semester.of(today).previous()
    flagged = 0
    moment = now()
    with uow:
        for policy in uow.policies.policies():
            required = int(policy["committee_meetings_per_semester"])
            org = uow.orgs.get(policy["org_code"])
            if required <= 0 or org is None or org.level != "university":
                continue
            held = sum(1 for m in uow.committees.meetings(org.code) if m.semester == ended.key)
            if held >= required or not uow.committees.flag(org, ended.key, required, held, moment):
                continue
            uow.publish(
                events.CommitteeMeetingMissed(
                    org_code=org.code, org_path=org.path, semester=ended.key, required=required, held=held
                )
            )
            flagged += 1
        if flagged:
            uow.audit(
                "committee.semesters_flagged",
                actor="system:governance",
                target=ended.key,
                org_path=None,
                details={"count": flagged},
            )
        uow.commit()
    metrics.COMMITTEE_SEMESTERS_FLAGGED.inc(flagged)
    return flagged


# -- liaisons ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LiaisonView:
    org: OrgNode
    required: int
    departments: list[LiaisonCoverage]

    @property
    def lacking(self) -> list[LiaisonCoverage]:
        return [d for d in self.departments if d.lacking]


def liaisons(uow: GovernanceUnitOfWork, principal: Principal, org_code: str) -> LiaisonView:
    """Each department and college of the university with its 信息化联络员 (the `liaison` grant at its org)."""
    with uow:
        org = _university(uow, principal, org_code)
        required = _required(uow, org, "liaison_per_department")
        departments = uow.orgs.children(org.path, "department")
        holders = uow.orgs.holders(LIAISON_ROLE, org.path)
    return LiaisonView(org, required, liaison_coverage(departments, holders, required))


# -- projections -------------------------------------------------------------------------------------
@consumes(RoundOpened)
def on_round_opened(event: RoundOpened, uow: GovernanceUnitOfWork) -> None:
    """The policy keys of the round's policy, for the org that issued it (a university opens its own rounds)."""
    evaluation = event.policy.get("evaluation") or {}
    meetings = evaluation.get("committee_meetings_per_semester")
    liaison = evaluation.get("liaison_per_department")
    if meetings is None and liaison is None:
        return
    uow.policies.set_policy(
        {
            "org_path": event.issuing_org_path,
            "org_code": event.issuing_org_code,
            "policy_id": event.policy_id,
            "policy_version": event.policy_version,
            "committee_meetings_per_semester": int(meetings or 0),
            "liaison_per_department": int(liaison or 0),
            "updated_at": now(),
        }
    )
