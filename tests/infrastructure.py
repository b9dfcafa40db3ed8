"""Where the tests' RabbitMQ and PostgreSQL are, and how the tests control that broker.

With a Docker engine (and CIO_TESTS_USE_LOCAL_SERVICES unset), pytest-docker starts tests/docker-compose.test.yml:
both servers in containers, every port the tests use published, and `rabbitmqctl` run inside the broker's
container, so stopping the broker or listing its queues acts on the broker the tests talk to. Without an engine
(this machine, CI) the local services named by TEST_AMQP_URL and TEST_PG_URL, and the local `rabbitmqctl`.
The choice is plain functions of their inputs, so tests/unit checks it without Docker.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

LOCAL_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
# RabbitMQ's Prometheus endpoint (rabbitmq_prometheus), which the observability e2e test scrapes.
BROKER_METRICS_PORT = 15692


@dataclass(frozen=True)
class Infrastructure:
    """The servers of a test session: admin URLs (the broker's default vhost, the `postgres` database)."""

    amqp: str
    pg: str
    broker_metrics: str  # host:port of RabbitMQ's Prometheus endpoint
    rabbitmqctl: tuple[str, ...]  # the command running rabbitmqctl against this broker
    docker: bool


def use_docker(env: Mapping[str, str], docker_binary: str | None, engine_answers: Callable[[], bool]) -> bool:
    """Containers when a Docker engine answers, unless CIO_TESTS_USE_LOCAL_SERVICES asks for the local servers."""
    if env.get("CIO_TESTS_USE_LOCAL_SERVICES") or docker_binary is None:
        return False
    return engine_answers()


def in_containers(ip: str, port_for: Callable[[str, int], int], compose: Sequence[str]) -> Infrastructure:
    """The servers of tests/docker-compose.test.yml on their published ports; `compose` is the command reaching
    that project (`docker compose -f <file> -p <project>`)."""
    return Infrastructure(
        amqp=f"amqp://guest:guest@{ip}:{port_for('rabbitmq', 5672)}/",
        pg=f"postgresql://postgres@{ip}:{port_for('postgres', 5432)}/postgres",
        broker_metrics=f"{ip}:{port_for('rabbitmq', BROKER_METRICS_PORT)}",
        rabbitmqctl=(*compose, "exec", "-T", "rabbitmq", "rabbitmqctl"),
        docker=True,
    )


def local(env: Mapping[str, str]) -> Infrastructure:
    """The servers running on this machine (scripts/prepare-test-machine.sh), or those the environment names."""
    amqp = env.get("TEST_AMQP_URL", LOCAL_AMQP)
    return Infrastructure(
        amqp=amqp,
        pg=env.get("TEST_PG_URL", LOCAL_PG),
        broker_metrics=f"{urllib.parse.urlsplit(amqp).hostname}:{BROKER_METRICS_PORT}",
        rabbitmqctl=("rabbitmqctl",),
        docker=False,
    )


def compose_command(command: str, files: str | Sequence[str], project: str) -> tuple[str, ...]:
    """pytest-docker's `docker compose -f ... -p ...` for its fixtures' values, to run more commands on that
    project."""
    return (
        *command.split(),
        *(a for f in ([files] if isinstance(files, str) else files) for a in ("-f", f)),
        "-p",
        project,
    )
