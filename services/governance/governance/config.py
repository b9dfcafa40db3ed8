"""governance's own environment variables (the common ones are shared.config.Environment)."""

from __future__ import annotations

from pydantic import Field

from shared.config import EnvironmentBase


class GovernanceEnvironment(EnvironmentBase):
    """How often the worker refreshes the registry's gauges."""

    gauges_seconds: float = Field(
        60, gt=0, alias="GOVERNANCE_GAUGES_SECONDS", description="how often the worker refreshes the registry gauges"
    )
