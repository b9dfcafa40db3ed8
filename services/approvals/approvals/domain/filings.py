"""变更报备: 贺兰县 「任期中若有变更，需要重新向主管教育行政部门报备」 as a record with a life of its own.

A filing names what changed (the person, the post, contact data); the bureau that appointed
acknowledges (备案) or rejects it. A CIO who leaves the school in the directory raises a filing the
school owes (`due`), which the school's next filing of that kind answers. Pure Python.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from approvals.domain import events
from approvals.domain.model import Appointment, DomainError, StateConflict

PERSON, POST, CONTACT = "person", "post", "contact"
KINDS = {PERSON: "人员变更", POST: "职务变更", CONTACT: "联系方式变更"}
DUE, FILED, ACKNOWLEDGED, REJECTED = "due", "filed", "acknowledged", "rejected"
ACKNOWLEDGE, REJECT = "acknowledge", "reject"


class ChangeFiling:
    """One filing of a change during the term, from the school (or owed by it) to the appointing bureau."""

    id: int  # given by the database when the filing is first flushed
    version: int  # kept by the mapper (optimistic concurrency)

    def __init__(self, appointment: Appointment, kind: str, at: dt.datetime) -> None:
        if kind not in KINDS:
            raise DomainError(f"kind must be one of {', '.join(KINDS)} (what changed).", "kind")
        self.appointment_id = appointment.id
        self.org_path = appointment.org_path
        self.kind = kind
        self.status = DUE
        self.change = ""
        self.details: dict[str, Any] | None = None
        self.new_person_user_id: str | None = None
        self.new_person_name: str | None = None
        self.effective_on: dt.date | None = None
        self.filed_by = ""
        self.filed_at = at
        self.decided_by: str | None = None
        self.decided_at: dt.datetime | None = None
        self.opinion: str | None = None
        self.document_number: str | None = None
        self.successor_appointment_id: uuid.UUID | None = None
        self.events: list[Any] = []

    @classmethod
    def owed(cls, appointment: Appointment, why: str, at: dt.datetime) -> ChangeFiling:
        """The directory says the CIO left the school: the school owes the bureau a filing of the change."""
        filing = cls(appointment, PERSON, at)
        filing.change = why
        filing.filed_by = "system:directory"
        filing.events.append(
            events.FilingDue.from_aggregate(appointment, appointment_id=appointment.id, kind=PERSON, reason=why)
        )
        return filing

    def file(
        self,
        appointment: Appointment,
        *,
        change: str,
        details: dict[str, Any] | None,
        new_person_user_id: str | None,
        new_person_name: str | None,
        effective_on: dt.date | None,
        by: str,
        at: dt.datetime,
    ) -> None:
        """The school files the change (a new filing, or the one it owed)."""
        if self.status != DUE:
            raise StateConflict(f"This filing is already {self.status}.", "status")
        if appointment.status != "active":
            raise StateConflict(f"The appointment is {appointment.status}, not active.", "status")
        if not change.strip():
            raise DomainError("Say what changed.", "change")
        if self.kind == PERSON and not (new_person_user_id and new_person_name and new_person_name.strip()):
            raise DomainError("A change of person names the new CIO (user id and name).", "new_person_user_id")
        if self.kind == PERSON and new_person_user_id == appointment.person_user_id:
            raise DomainError("The new CIO is the one already appointed.", "new_person_user_id")
        self.status = FILED
        self.change = change.strip()
        self.details = details
        self.new_person_user_id = new_person_user_id if self.kind == PERSON else None
        self.new_person_name = new_person_name.strip() if self.kind == PERSON and new_person_name else None
        self.effective_on = effective_on
        self.filed_by = by
        self.filed_at = at
        appointment.file_change(self.change, self._details_for_event(), by, at)

    def _details_for_event(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, **(self.details or {})}
        if self.new_person_user_id:
            out["new_person_user_id"] = self.new_person_user_id
            out["new_person_name"] = self.new_person_name
        if self.effective_on:
            out["effective_on"] = self.effective_on.isoformat()
        return out

    def decide(
        self,
        appointment: Appointment,
        decision: str,
        *,
        opinion: str | None,
        document_number: str | None,
        by: str,
        at: dt.datetime,
    ) -> None:
        """The bureau acknowledges (备案) or rejects the filing; a rejection says why. Acknowledging a change of
        person needs the document (发文字号) that appoints the new CIO; the service layer makes that appointment."""
        if self.status != FILED:
            raise StateConflict(f"Only a filed change is decided; this one is {self.status}.", "status")
        if decision not in (ACKNOWLEDGE, REJECT):
            raise DomainError(f"decision must be {ACKNOWLEDGE} or {REJECT}.", "decision")
        if decision == REJECT and not (opinion and opinion.strip()):
            raise DomainError("A rejection states the reason (意见).", "opinion")
        if decision == ACKNOWLEDGE and self.kind == PERSON:
            if not (document_number and document_number.strip()):
                raise DomainError(
                    "Acknowledging a new CIO issues their appointment: give its 发文字号.", "document_number"
                )
            if appointment.status != "active":
                raise StateConflict(f"The appointment is {appointment.status}, not active.", "status")
        self.status = ACKNOWLEDGED if decision == ACKNOWLEDGE else REJECTED
        self.opinion = opinion.strip() if opinion and opinion.strip() else None
        self.document_number = document_number.strip() if document_number else None
        self.decided_by = by
        self.decided_at = at
        # the filing holds its appointment's id and org path, the opinion, who decided and when
        self.events.append(events.FilingDecided.from_aggregate(self, org_code=appointment.org_code, decision=decision))

    @property
    def changes_person(self) -> bool:
        return self.kind == PERSON and self.status == ACKNOWLEDGED
