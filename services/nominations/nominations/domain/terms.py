"""连聘连任 in the eligibility check: the platform's one rule (shared/terms.py), read from nominations' projection of
approvals' appointment events, and when a term nominated for now would start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from shared.terms import ONE_DAY, TermRecord, consecutive_terms_before

__all__ = ["TermRecord", "consecutive_terms_before", "next_term_start"]


def next_term_start(history: Iterable[TermRecord], today: dt.date) -> dt.date:
    """When a term the person is nominated for now would start at the earliest: today, or after the last
    term already on record (a renewed term may begin in the future, an open-ended one runs on)."""
    ends = [(r.last_day or r.starts_on) + ONE_DAY for r in history if not r.revoked]
    return max([today, *ends])
