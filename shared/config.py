"""Settings read from the environment, once, when a process asks for them (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the process must not start."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from exc


def _float(name: str, default: float) -> float:
    value = _env(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {value!r}") from exc


def require_secret(name: str, *, dev_default: str | None = None) -> str:
    """A secret from the environment; only development may fall back to a default."""
    value = _env(name)
    if value:
        return value
    if _env("APP_ENV", "development") != "production" and dev_default is not None:
        return dev_default
    raise ConfigError(f"{name} must be set (it is a secret and has no production default)")


@dataclass(frozen=True)
class BusSettings:
    amqp_url: str
    exchange: str = "cio.events"
    prefetch: int = 50
    max_retries: int = 5
    retry_delay_ms: int = 5000
    quorum_queues: bool = False
    relay_batch_size: int = 500
    relay_idle_seconds: float = 0.2
    confirm_timeout_seconds: float = 10.0


@dataclass(frozen=True)
class AuthSettings:
    issuer: str
    audience: str
    jwks_url: str
    leeway_seconds: int = 10
    jwks_cache_seconds: int = 300


@dataclass(frozen=True)
class Settings:
    """Everything a process of one service reads from its environment."""

    service: str
    env: str
    database_url: str
    bus: BusSettings
    auth: AuthSettings
    log_level: str = "INFO"
    worker_metrics_port: int = 9100
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def load_settings(service: str, *, database_url: str | None = None) -> Settings:
    """Read the settings of `service`; `<SERVICE>_DATABASE_URL` wins over `DATABASE_URL`, and an explicit
    `database_url` (a test's own database) over both."""
    env = _env("APP_ENV", "development") or "development"
    prefix = service.upper()
    database_url = database_url or _env(f"{prefix}_DATABASE_URL") or _env("DATABASE_URL")
    if database_url is None:
        raise ConfigError(
            f"{prefix}_DATABASE_URL (or DATABASE_URL) must name the service's PostgreSQL database; "
            "`make run` sets it for every process (an embedded PostgreSQL under var/ unless DATABASE_URL is given)"
        )
    gateway = _env("PUBLIC_BASE_URL", "http://127.0.0.1:8080") or ""
    issuer = _env("JWT_ISSUER", f"{gateway.rstrip('/')}/api/auth") or ""
    jwks_url = _env("JWKS_URL", f"{issuer}/.well-known/jwks.json") or ""
    return Settings(
        service=service,
        env=env,
        database_url=database_url,
        bus=BusSettings(
            amqp_url=_env("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F") or "",
            exchange=_env("BUS_EXCHANGE", "cio.events") or "cio.events",
            prefetch=_int("BUS_PREFETCH", 50),
            max_retries=_int("BUS_MAX_RETRIES", 5),
            retry_delay_ms=_int("BUS_RETRY_DELAY_MS", 5000),
            quorum_queues=_bool("BUS_QUORUM_QUEUES", env == "production"),
            relay_batch_size=_int("OUTBOX_BATCH_SIZE", 500),
            relay_idle_seconds=_float("OUTBOX_IDLE_SECONDS", 0.2),
        ),
        auth=AuthSettings(
            issuer=issuer,
            audience=_env("JWT_AUDIENCE", "cio-platform") or "cio-platform",
            jwks_url=jwks_url,
            leeway_seconds=_int("JWT_LEEWAY_SECONDS", 10),
        ),
        log_level=_env("LOG_LEVEL", "INFO") or "INFO",
        worker_metrics_port=_int("WORKER_METRICS_PORT", 9100),
    )
