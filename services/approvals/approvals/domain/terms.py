"""连聘连任 as approvals counts it when it numbers a term: the platform's one rule (shared/terms.py)."""

from __future__ import annotations

from shared.terms import TermRecord, consecutive_terms_before

__all__ = ["TermRecord", "consecutive_terms_before"]
