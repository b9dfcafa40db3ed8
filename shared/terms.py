"""连聘连任: how many consecutive terms a person has served at an org, read from the appointment history.

宜春学院 「任期3年，可连聘连任，连任不超过2届」 limits a run of terms, not a lifetime: a new round's
appointment continues the run when it starts where the last term stopped, and a gap (or a revocation,
the sanction) ends it. Pure: the service layer passes the records in. One rule for the two services that apply it
(they never import each other): approvals when it numbers a term (approvals/domain/terms.py), nominations in the
eligibility check, from its projection of approvals' appointment events (nominations/domain/terms.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class TermRecord:
    """One appointment of the person at the org: its first day, its last day (None: still running with no
    end, or open-ended) and whether it was revoked (取消任命)."""

    starts_on: dt.date
    last_day: dt.date | None
    revoked: bool = False


def consecutive_terms_before(history: Iterable[TermRecord], starts_on: dt.date) -> int:
    """The terms of the unbroken run that reaches the day before `starts_on` (0 if there is none).

    Walking back from the latest term that began before `starts_on`: each counts while it lasts up to
    (at least) the day before the next one starts; a day uncovered between them is a gap and ends the
    run, and so does a revoked term.
    """
    earlier = sorted((r for r in history if r.starts_on < starts_on), key=lambda r: r.starts_on, reverse=True)
    run, next_start = 0, starts_on
    for record in earlier:
        if record.revoked:
            break
        if record.last_day is not None and record.last_day + ONE_DAY < next_start:
            break
        run += 1
        next_start = record.starts_on
    return run
