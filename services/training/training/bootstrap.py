"""The one place that wires the training service's adapters together, per process, when asked."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.auth import TokenVerifier
from shared.bootstrap import WiredService
from shared.config import Settings, read_environment
from training.adapters.orm import start_mappers
from training.config import TrainingEnvironment
from training.service_layer.unit_of_work import TrainingUnitOfWork


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


@dataclass(kw_only=True)
class TrainingService(WiredService, name="training", unit_of_work=TrainingUnitOfWork):
    """The wired service: engine, sessions, verifier and rules of one process."""

    rules: TrainingRules = field(default_factory=TrainingRules)


def bootstrap(
    settings: Settings | None = None, verifier: TokenVerifier | None = None, rules: TrainingRules | None = None
) -> TrainingService:
    return TrainingService.wired(settings, verifier, mappers=start_mappers, rules=rules or TrainingRules.from_env())
