"""The one place that wires the training service's adapters together, per process, when asked."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.auth import ActiveAccountsOnly, JwksKeys, TokenVerifier, directory_is_disabled
from shared.config import ConfigError, Settings, load_settings
from shared.db import make_engine, make_session_factory
from training.adapters.orm import people, start_mappers
from training.service_layer.unit_of_work import TrainingUnitOfWork

SERVICE = "training"


@dataclass(frozen=True)
class TrainingRules:
    """Settings of the training domain read from the environment.

    TRAINING_DEFAULT_CENTRALIZED_PER_YEAR: the requirement for an appointment event without the policy's
    `training_requirement` at all (0: none; a policy's own `{}` always means none).
    TRAINING_REQUIREMENT_CHECK_DATE: month-day (MM-DD) from which the yearly check publishes unmet events:
    early enough that the CIO can still attend a training before the year ends (notifications' reminder
    follows on its `training_requirement_due`, also before the year's end).
    TRAINING_REQUIREMENT_CHECK_SECONDS: how often the worker runs the check.
    TRAINING_IMPORT_INLINE_BYTES: uploads up to this size are imported during the request.
    """

    default_centralized_per_year: int = 0
    check_on: tuple[int, int] = (10, 1)
    check_interval_seconds: float = 3600.0
    inline_import_bytes: int = 64 * 1024
    import_poll_seconds: float = 1.0

    @classmethod
    def from_env(cls) -> TrainingRules:
        raw = os.environ.get("TRAINING_REQUIREMENT_CHECK_DATE", "10-01")
        try:
            month, day = (int(p) for p in raw.split("-"))
            dt.date(2024, month, day)  # a leap year accepts every real month-day
        except ValueError as exc:
            raise ConfigError(f"TRAINING_REQUIREMENT_CHECK_DATE must be MM-DD, got {raw!r}") from exc
        try:
            return cls(
                default_centralized_per_year=int(os.environ.get("TRAINING_DEFAULT_CENTRALIZED_PER_YEAR", "0")),
                check_on=(month, day),
                check_interval_seconds=float(os.environ.get("TRAINING_REQUIREMENT_CHECK_SECONDS", "3600")),
                inline_import_bytes=int(os.environ.get("TRAINING_IMPORT_INLINE_BYTES", str(64 * 1024))),
                import_poll_seconds=float(os.environ.get("TRAINING_IMPORT_POLL_SECONDS", "1")),
            )
        except ValueError as exc:
            raise ConfigError(f"a TRAINING_* setting is not a number: {exc}") from exc


@dataclass
class TrainingService:
    """The wired service: engine, sessions, verifier and rules of one process."""

    settings: Settings
    rules: TrainingRules = field(default_factory=TrainingRules)
    given_verifier: TokenVerifier | None = None

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def uow(self) -> TrainingUnitOfWork:
        return TrainingUnitOfWork(self.session_factory, source=f"/cio/{SERVICE}")

    @cached_property
    def verifier(self) -> TokenVerifier:
        if self.given_verifier is not None:
            return self.given_verifier
        auth = self.settings.auth
        return ActiveAccountsOnly(
            auth,
            JwksKeys.from_url(auth.jwks_url, auth.jwks_cache_seconds),
            directory_is_disabled(self.session_factory, people),
        )


def bootstrap(
    settings: Settings | None = None, verifier: TokenVerifier | None = None, rules: TrainingRules | None = None
) -> TrainingService:
    start_mappers()
    return TrainingService(
        settings=settings or load_settings(SERVICE),
        rules=rules or TrainingRules.from_env(),
        given_verifier=verifier,
    )
