"""Settings read from the environment, once, when a process asks for them (never at import time).

Every variable is declared once, in a pydantic-settings class (`Environment` here for what every process reads, one
`<Service>Environment` in each service's `config.py` for its own): its type, default and meaning. A wrong value
stops the process with a ConfigError naming the variable, and the README's configuration table is generated from
the classes (`python -m scripts.configuration_table`). The process then passes on plain frozen dataclasses
(`Settings`, `BusSettings`, `AuthSettings`) that tests build and replace directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the process must not start."""


class EnvironmentBase(BaseSettings):
    """Variables by their exact names (the field's alias); an empty value counts as unset, others are ignored."""

    model_config = SettingsConfigDict(
        case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True, populate_by_name=True
    )


class Environment(EnvironmentBase):
    """What every process of every service reads."""

    app_env: str = Field("development", alias="APP_ENV", description="`production` refuses development defaults")
    database_url: str | None = Field(
        None,
        alias="DATABASE_URL",
        description="PostgreSQL server for every service's `cio_<service>` database (`<SERVICE>_DATABASE_URL` "
        "names one service's database and wins); unset: `make run` starts an embedded PostgreSQL under var/",
    )
    amqp_url: str = Field("amqp://guest:guest@127.0.0.1:5672/%2F", alias="AMQP_URL", description="RabbitMQ")
    bus_exchange: str = Field("cio.events", alias="BUS_EXCHANGE", description="the topic exchange of the events")
    bus_prefetch: int = Field(50, ge=1, alias="BUS_PREFETCH", description="deliveries a consumer holds unacked")
    bus_max_retries: int = Field(5, ge=0, alias="BUS_MAX_RETRIES", description="redeliveries before parking")
    bus_retry_delay_ms: int = Field(5000, ge=0, alias="BUS_RETRY_DELAY_MS", description="delay of a retry")
    bus_quorum_queues: bool | None = Field(
        None, alias="BUS_QUORUM_QUEUES", description="quorum queues (default: on in production)"
    )
    outbox_batch_size: int = Field(500, ge=1, alias="OUTBOX_BATCH_SIZE", description="rows a relay publishes at once")
    outbox_idle_seconds: float = Field(0.2, gt=0, alias="OUTBOX_IDLE_SECONDS", description="relay's poll when idle")
    public_base_url: str = Field(
        "http://127.0.0.1:8080", alias="PUBLIC_BASE_URL", description="the gateway's address as users reach it"
    )
    jwt_issuer: str | None = Field(None, alias="JWT_ISSUER", description="default: PUBLIC_BASE_URL + /api/auth")
    jwks_url: str | None = Field(None, alias="JWKS_URL", description="default: the issuer's /.well-known/jwks.json")
    jwt_audience: str = Field("cio-platform", alias="JWT_AUDIENCE", description="the tokens' audience")
    jwt_leeway_seconds: int = Field(10, ge=0, alias="JWT_LEEWAY_SECONDS", description="clock skew allowed")
    log_level: str = Field("INFO", alias="LOG_LEVEL", description="DEBUG, INFO, WARNING or ERROR")
    worker_metrics_port: int = Field(9100, ge=1, le=65535, alias="WORKER_METRICS_PORT", description="worker /metrics")


E = TypeVar("E", bound=EnvironmentBase)


def read_environment(cls: type[E]) -> E:
    """The environment as `cls` declares it; a wrong value is a ConfigError naming each variable (never its value,
    which may hold a password)."""
    try:
        return cls()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(problems) from None


def require_secret(name: str, *, dev_default: str | None = None) -> str:
    """A secret from the environment; only development may fall back to a default."""
    value = os.environ.get(name)
    if value:
        return value
    if read_environment(Environment).app_env != "production" and dev_default is not None:
        return dev_default
    raise ConfigError(f"{name} must be set (it is a secret and has no production default)")


def configuration_table(*classes: type[EnvironmentBase]) -> str:
    """A Markdown table of the variables `classes` declare: name, default, meaning (the README's)."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for cls in classes:
        for name, info in cls.model_fields.items():
            default: Any = info.get_default(call_default_factory=True)
            shown = "" if default is None else f"`{str(default).lower() if isinstance(default, bool) else default}`"
            rows.append(f"| `{info.alias or name}` | {shown} | {info.description or ''} |")
    return "\n".join(rows) + "\n"


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
    environment = read_environment(Environment)
    prefix = service.upper()
    database_url = database_url or os.environ.get(f"{prefix}_DATABASE_URL") or environment.database_url
    if not database_url:
        raise ConfigError(
            f"{prefix}_DATABASE_URL (or DATABASE_URL) must name the service's PostgreSQL database; "
            "`make run` sets it for every process (an embedded PostgreSQL under var/ unless DATABASE_URL is given)"
        )
    issuer = environment.jwt_issuer or f"{environment.public_base_url.rstrip('/')}/api/auth"
    production = environment.app_env == "production"
    return Settings(
        service=service,
        env=environment.app_env,
        database_url=database_url,
        bus=BusSettings(
            amqp_url=environment.amqp_url,
            exchange=environment.bus_exchange,
            prefetch=environment.bus_prefetch,
            max_retries=environment.bus_max_retries,
            retry_delay_ms=environment.bus_retry_delay_ms,
            quorum_queues=production if environment.bus_quorum_queues is None else environment.bus_quorum_queues,
            relay_batch_size=environment.outbox_batch_size,
            relay_idle_seconds=environment.outbox_idle_seconds,
        ),
        auth=AuthSettings(
            issuer=issuer,
            audience=environment.jwt_audience,
            jwks_url=environment.jwks_url or f"{issuer}/.well-known/jwks.json",
            leeway_seconds=environment.jwt_leeway_seconds,
        ),
        log_level=environment.log_level,
        worker_metrics_port=environment.worker_metrics_port,
    )
