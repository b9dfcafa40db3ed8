"""The parts of a round's policy snapshot that approvals acts on: the chain, the term, evaluation, training.

The snapshot is taken when the round opens (nominations owns the policy documents), so a later edit of a
policy never changes a running case. Every service reads it with the one reader, shared.policy, whose value objects
these are; the date arithmetic of terms is approvals' own.
"""

from __future__ import annotations

import datetime as dt

from shared.policy import (
    ESCALATE_NEXT_STAGE,
    RESUBMIT_FIRST,
    RESUBMIT_MODES,
    RESUBMIT_RETURNING,
    SUBJECT_CIO,
    SUBJECT_SCHOOL,
    SUBJECTS,
    WHEN_MISSING_MODES,
    WHEN_MISSING_SKIP,
    WHEN_MISSING_WAIT,
    Cadence,
    Escalation,
    EvaluationPolicy,
    Indicator,
    Policy,
    PublicationPolicy,
    StagePolicy,
    TermPolicy,
)

__all__ = [
    "ESCALATE_NEXT_STAGE",
    "RESUBMIT_FIRST",
    "RESUBMIT_MODES",
    "RESUBMIT_RETURNING",
    "SUBJECTS",
    "SUBJECT_CIO",
    "SUBJECT_SCHOOL",
    "WHEN_MISSING_MODES",
    "WHEN_MISSING_SKIP",
    "WHEN_MISSING_WAIT",
    "Cadence",
    "Escalation",
    "EvaluationPolicy",
    "Indicator",
    "Policy",
    "PublicationPolicy",
    "StagePolicy",
    "TermPolicy",
    "add_years",
    "term_dates",
]


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def term_dates(starts_on: dt.date, years: int | None) -> tuple[dt.date, dt.date | None]:
    """A term of N years ends the day before the same date N years on (2024-09-01 → 2027-08-31);
    without a term length there is no end date (the appointment lasts until revoked)."""
    if years is None:
        return starts_on, None
    return starts_on, add_years(starts_on, years) - dt.timedelta(days=1)
