"""approvals' own environment variables (the common ones are shared.config.Environment)."""

from __future__ import annotations

from pydantic import Field

from shared.config import EnvironmentBase


class ApprovalsEnvironment(EnvironmentBase):
    """The worker's timers."""

    overdue_interval: float = Field(
        60, gt=0, alias="APPROVALS_OVERDUE_INTERVAL", description="seconds between marking overdue review tasks"
    )
    term_end_interval: float = Field(
        300, gt=0, alias="APPROVALS_TERM_END_INTERVAL", description="seconds between ending appointments due"
    )
    rectification_interval: float = Field(
        300, gt=0, alias="APPROVALS_RECTIFICATION_INTERVAL", description="seconds between flagging overdue 整改"
    )
