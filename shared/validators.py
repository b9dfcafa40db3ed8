"""Checks of free text that every service shares, each linear in its input and bounded in length.

The e-mail regular expressions they replace backtracked quadratically: 40 KB of `a.a.a.…` held a worker for
seconds (issue 14).
"""

from __future__ import annotations

EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path


def is_email(value: str) -> bool:
    """local@domain.tld, checked in one pass over at most 254 characters."""
    if len(value) > EMAIL_MAX_LENGTH or any(c.isspace() for c in value):
        return False
    local, at, domain = value.partition("@")
    if not at or not local or "@" in domain:
        return False
    name, dot, tld = domain.rpartition(".")
    return bool(dot and name and tld)
