"""governance's own environment variables (the common ones are shared.config.Environment)."""

from __future__ import annotations

from pydantic import Field

from shared.config import EnvironmentBase


class GovernanceEnvironment(EnvironmentBase):
    """How often the worker refreshes the gauges and runs its checks; the 月调度 deadline; when an emergency plan
    goes stale."""

    gauges_seconds: float = Field(
        60, gt=0, alias="GOVERNANCE_GAUGES_SECONDS", description="how often the worker refreshes the registry gauges"
    )
    # 月调度: the month's report is due on this day of the month; the reminder goes out this many days before it
    report_due_day: int = Field(
        25, ge=1, le=31, alias="GOVERNANCE_REPORT_DUE_DAY", description="day of the month the 月调度 report is due"
    )
    report_reminder_days: int = Field(
        3,
        ge=0,
        le=27,
        alias="GOVERNANCE_REPORT_REMINDER_DAYS",
        description="days before the report deadline the reminder goes out",
    )
    check_seconds: float = Field(
        3600,
        gt=0,
        alias="GOVERNANCE_CHECK_SECONDS",
        description="how often the worker checks missing reports and committee meetings",
    )
    emergency_plan_review_days: int = Field(
        365,
        ge=1,
        alias="GOVERNANCE_EMERGENCY_PLAN_REVIEW_DAYS",
        description="an emergency plan not reviewed for longer is flagged stale",
    )
