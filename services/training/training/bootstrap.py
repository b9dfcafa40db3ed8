"""The one place that wires the training service's adapters together, per process, when asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.auth import ActiveAccountsOnly, JwksKeys, TokenVerifier, directory_is_disabled
from shared.config import Settings, load_settings, read_environment
from shared.db import make_engine, make_session_factory
from shared.directory import directory_users
from training.adapters.orm import start_mappers
from training.config import TrainingEnvironment
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
        environment = read_environment(TrainingEnvironment)
        return cls(
            default_centralized_per_year=environment.default_centralized_per_year,
            check_on=environment.check_on,
            check_interval_seconds=environment.requirement_check_seconds,
            inline_import_bytes=environment.import_inline_bytes,
            import_poll_seconds=environment.import_poll_seconds,
        )


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
            directory_is_disabled(self.session_factory, directory_users),
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
