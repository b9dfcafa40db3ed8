"""名单公示: the appointing body publishes the list of the people it intends to appoint for a period (公示期),
anyone may object (异议) with their contact details during it, and the body resolves every objection before the
appointments take effect: the final approval, which makes the appointment, waits for the period's end and for
the objections about the person. Pure Python.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import InitVar, dataclass, field
from typing import Any

from approvals.domain import events
from approvals.domain.model import DomainError, ReviewCase, StateConflict
from approvals.domain.policy import PublicationPolicy

PUBLISHED = "published"
RECEIVED, UPHELD, DISMISSED = "received", "upheld", "dismissed"
OUTCOMES = {UPHELD: "异议成立", DISMISSED: "异议不成立"}
MAX_TEXT = 2000
MAX_PERIOD_DAYS = 60


def period_state(starts_on: dt.date, ends_on: dt.date, today: dt.date) -> str:
    """upcoming, open (公示中) or ended."""
    if today < starts_on:
        return "upcoming"
    return "open" if today <= ends_on else "ended"


@dataclass(eq=False, repr=False, kw_only=True)
class Publication:
    """名单公示: one body's list of the people it intends to appoint in a round, public for a period.

    A dataclass (identity equality, no generated repr: a mapped entity), its fields are its persisted state; it is
    published from the `cases` awaiting the body's final approval, `by` someone `at` a time, and what it sets itself
    (`id`, `entries`, the status, who published it when) is set in `__post_init__` (a plain class-level default
    would not survive the mapping, which replaces the class attributes).
    """

    round_id: uuid.UUID
    publisher_org_code: str
    publisher_org_path: str
    publisher_name: str
    publisher_role: str
    title: str
    note: str | None
    starts_on: dt.date
    ends_on: dt.date
    cases: InitVar[Sequence[ReviewCase]]
    by: InitVar[str]
    at: InitVar[dt.datetime]
    id: uuid.UUID = field(init=False, default_factory=uuid.uuid4)
    entries: list[dict[str, Any]] = field(init=False)
    status: str = field(init=False)
    published_by: str = field(init=False)
    published_at: dt.datetime = field(init=False)
    version: int = field(init=False)  # kept by the mapper (optimistic concurrency)
    events: list[Any] = field(init=False)

    def __post_init__(self, cases: Sequence[ReviewCase], by: str, at: dt.datetime) -> None:
        self.title = (self.title or "").strip()
        if not self.title:
            raise DomainError("The list needs a title / 须填写公示标题.", "title")
        if self.starts_on < at.date():
            raise DomainError("The period cannot start in the past / 公示开始日期不得早于今天.", "starts_on")
        if self.ends_on < self.starts_on:
            raise DomainError("The period ends before it starts / 公示结束日期不得早于开始日期.", "ends_on")
        if self.period_days > MAX_PERIOD_DAYS:
            raise DomainError(f"A period is at most {MAX_PERIOD_DAYS} days / 公示期过长.", "ends_on")
        if not cases:
            raise DomainError(
                "No nomination of this round awaits this body's final approval / 暂无待公示的拟聘任人选.", "round_id"
            )
        self.note = (self.note or "").strip() or None
        self.entries = [
            {
                "case_id": str(c.id),
                "nomination_id": str(c.nomination_id),
                "candidate_name": c.candidate_name,
                "school_name": c.school_name,
                "school_org_code": c.school_org_code,
                "school_org_path": c.school_org_path,
            }
            for c in sorted(cases, key=lambda c: c.school_org_path)
        ]
        self.status = PUBLISHED
        self.published_by = by
        self.published_at = at
        self.events = [
            events.PublicationOpened(
                publication_id=str(self.id),
                round_id=str(self.round_id),
                title=self.title,
                publisher_org_path=self.publisher_org_path,
                publisher_role=self.publisher_role,
                starts_on=self.starts_on.isoformat(),
                ends_on=self.ends_on.isoformat(),
                entries=[
                    {k: e[k] for k in ("case_id", "nomination_id", "candidate_name", "school_name", "school_org_path")}
                    for e in self.entries
                ],
            )
        ]

    def state(self, today: dt.date) -> str:
        return period_state(self.starts_on, self.ends_on, today)

    def lists(self, case_id: uuid.UUID) -> bool:
        return any(e["case_id"] == str(case_id) for e in self.entries)

    @property
    def period_days(self) -> int:
        """公示期 in calendar days, both ends included."""
        return (self.ends_on - self.starts_on).days + 1

    def hold_on(self, case_id: uuid.UUID, objections: Sequence[Objection], today: dt.date) -> str | None:
        """Why the final approval of a listed case must wait, or None: the period has not ended, an objection
        about the person (or the whole list) is not resolved yet, or one was upheld."""
        if not self.lists(case_id):
            return None
        if today <= self.ends_on:
            return (
                f"名单公示期至 {self.ends_on.isoformat()}，公示期满后方可聘任 / the publication period has not ended."
            )
        concerning = [o for o in objections if o.case_id is None or o.case_id == case_id]
        if any(o.status == RECEIVED for o in concerning):
            return "公示期间收到的异议尚未处理 / an objection received during the period is not resolved yet."
        if any(o.status == UPHELD and o.case_id == case_id for o in concerning):
            return "异议成立，不能聘任；请退回或不予通过 / an objection was upheld: return or reject the nomination."
        return None


def required_publication_hold(
    policy: PublicationPolicy, publication: Publication | None, case_id: uuid.UUID
) -> str | None:
    """Why a policy that orders 名单公示 before the appointment refuses the final approval of a person not (yet)
    on a list, or on a list shorter than the 公示期 it orders; None when the policy orders none or it was done."""
    if not policy.before_appointment:
        return None
    if publication is None or not publication.lists(case_id):
        return (
            "本政策要求聘任前进行名单公示，请先公示拟聘任人选 / the policy orders the list published before the "
            "appointment: publish it first."
        )
    if policy.min_days is not None and publication.period_days < policy.min_days:
        return (
            f"公示期不少于{policy.min_days}天，本次公示仅{publication.period_days}天 / "
            f"the policy orders a period of at least {policy.min_days} days."
        )
    return None


class Objection:
    """异议: an objection to a published list, from anyone, with the objector's contact details."""

    version: int

    def __init__(
        self,
        publication: Publication,
        *,
        case_id: uuid.UUID | None,
        content: str,
        contact_name: str,
        contact_phone: str | None,
        contact_email: str | None,
        at: dt.datetime,
    ) -> None:
        state = publication.state(at.date())
        if state != "open":
            raise StateConflict(
                f"Objections are received only during the period {publication.starts_on} – {publication.ends_on} "
                "/ 仅在公示期内受理异议.",
                "period",
            )
        if case_id is not None and not publication.lists(case_id):
            raise DomainError("That person is not on this list / 公示名单中无此人.", "case_id")
        content = (content or "").strip()
        if not content:
            raise DomainError("Say what the objection is / 须填写异议内容.", "content")
        if len(content) > MAX_TEXT:
            raise DomainError(f"At most {MAX_TEXT} characters / 异议内容过长.", "content")
        if not (contact_name or "").strip():
            raise DomainError("Give your name / 须填写联系人姓名.", "contact_name")
        if not ((contact_phone or "").strip() or (contact_email or "").strip()):
            raise DomainError("Give a phone number or an e-mail address / 须留联系电话或电子邮箱.", "contact_phone")
        self.id = uuid.uuid4()
        self.publication_id = publication.id
        self.org_path = publication.publisher_org_path
        self.case_id = case_id
        self.content = content
        self.contact_name = contact_name.strip()
        self.contact_phone = (contact_phone or "").strip() or None
        self.contact_email = (contact_email or "").strip() or None
        self.status = RECEIVED
        self.received_at = at
        self.resolution: str | None = None
        self.resolved_by: str | None = None
        self.resolved_at: dt.datetime | None = None
        entry = next((e for e in publication.entries if e["case_id"] == str(case_id)), None)
        # the event carries no contact details: the bureau reads them through its API
        self.events: list[Any] = [
            events.ObjectionReceived(
                objection_id=str(self.id),
                publication_id=str(publication.id),
                title=publication.title,
                case_id=str(case_id) if case_id else None,
                candidate_name=entry["candidate_name"] if entry else None,
                school_name=entry["school_name"] if entry else None,
                publisher_role=publication.publisher_role,
                publisher_org_path=publication.publisher_org_path,
                received_at=at.isoformat(),
            )
        ]

    def resolve(self, outcome: str, resolution: str, by: str, at: dt.datetime) -> None:
        """The bureau's answer: upheld (异议成立: the person is not appointed) or dismissed, with its reasons."""
        if self.status != RECEIVED:
            raise StateConflict(f"The objection was already {self.status} / 该异议已处理.", "status")
        if outcome not in OUTCOMES:
            raise DomainError(f"outcome must be one of {', '.join(OUTCOMES)}.", "outcome")
        resolution = (resolution or "").strip()
        if not resolution:
            raise DomainError("Give the finding / 须填写处理意见.", "resolution")
        self.status = outcome
        self.resolution = resolution
        self.resolved_by = by
        self.resolved_at = at
        self.events.append(
            events.ObjectionResolved(
                objection_id=str(self.id),
                publication_id=str(self.publication_id),
                case_id=str(self.case_id) if self.case_id else None,
                outcome=outcome,
                resolution=resolution,
                resolved_by=by,
                resolved_at=at.isoformat(),
                org_path=self.org_path,
            )
        )
