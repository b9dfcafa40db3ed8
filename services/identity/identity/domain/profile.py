"""The directory profile as the forms read it (避免重复采集): 学历, 民族, 教龄, 职务, 职称, 政治面貌.

教龄 is kept as the year teaching began (`teaching_since`): a count of years stored once would be a year short
the next year, and a form prefilled from it would be wrong. It is counted to the day it is read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

TEACHING_SINCE = "teaching_since"


def profile_as_of(profile: dict[str, Any] | None, today: dt.date) -> dict[str, Any]:
    """The stored profile as the forms read it: 教龄 (`teaching_years`) counted to `today` from the year teaching
    began, beside `teaching_since` itself."""
    out = dict(profile or {})
    since = out.get(TEACHING_SINCE)
    if isinstance(since, int) and not isinstance(since, bool):
        out["teaching_years"] = max(0, today.year - since)
    return out
