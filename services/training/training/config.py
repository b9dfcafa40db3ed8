"""training's own environment variables (the common ones are shared.config.Environment)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from shared.config import EnvironmentBase


class TrainingEnvironment(EnvironmentBase):
    """The yearly requirement check and the imports."""

    requirement_check_date: str = Field(
        "10-01", alias="TRAINING_REQUIREMENT_CHECK_DATE", description="MM-DD: the day the year's requirement is checked"
    )
    default_centralized_per_year: int = Field(
        0,
        ge=0,
        alias="TRAINING_DEFAULT_CENTRALIZED_PER_YEAR",
        description="centralized trainings a year where the policy sets none",
    )
    requirement_check_seconds: float = Field(
        3600, gt=0, alias="TRAINING_REQUIREMENT_CHECK_SECONDS", description="how often the worker looks for that day"
    )
    import_inline_bytes: int = Field(
        64 * 1024, ge=0, alias="TRAINING_IMPORT_INLINE_BYTES", description="imports up to this size run in the request"
    )
    import_poll_seconds: float = Field(1, gt=0, alias="TRAINING_IMPORT_POLL_SECONDS", description="import worker poll")

    @field_validator("requirement_check_date")
    @classmethod
    def _month_day(cls, value: str) -> str:
        try:
            month, day = (int(p) for p in value.split("-"))
            dt.date(2024, month, day)  # a leap year accepts every real month-day
        except ValueError:
            raise ValueError(f"must be MM-DD, got {value!r}") from None
        return value

    @property
    def check_on(self) -> tuple[int, int]:
        month, day = (int(p) for p in self.requirement_check_date.split("-"))
        return month, day
