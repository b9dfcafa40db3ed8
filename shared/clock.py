"""The platform's clock: aware UTC instants, and the calendar date that deadlines and terms are counted in.

One place, so no module asks the server's local zone for "today" (ruff's DTZ rules refuse that elsewhere).
The calendar is UTC's today, as every handler's `at.date()` is; moving the whole platform to Beijing dates is
one change here and in those handlers together, never a mix.
"""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    return now().date()
