"""nominations' own environment variables (the common ones are shared.config.Environment)."""

from __future__ import annotations

from pydantic import Field

from shared.config import EnvironmentBase


class NominationsEnvironment(EnvironmentBase):
    """The worker's timers."""

    round_deadline_interval_seconds: float = Field(
        30, gt=0, alias="ROUND_DEADLINE_INTERVAL_SECONDS", description="how often rounds past their deadline close"
    )
