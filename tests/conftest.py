"""Test infrastructure: a RabbitMQ vhost and PostgreSQL databases of the tests' own.

With a Docker engine, pytest-docker starts tests/docker-compose.test.yml; without one (this
machine, CI) the local services are used, named by TEST_AMQP_URL and TEST_PG_URL (tests/infrastructure.py
chooses). Either way the tests never touch the vhost or databases a running `make run` uses.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pika
import psycopg
import pytest

from tests.infrastructure import Infrastructure, compose_command, in_containers, local, use_docker

pytest_plugins = ["tests.idp.fixtures"]  # the real identity providers for the SSO tests (oidc_idp, cas_idp)

ROOT = Path(__file__).resolve().parent.parent
TEST_VHOST = "cio-test"


def _docker_engine_answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(ROOT / "tests" / "docker-compose.test.yml")


@pytest.fixture(scope="session")
def infra(request: pytest.FixtureRequest) -> Infrastructure:
    """The broker and PostgreSQL of this session: containers with a Docker engine, the local servers without."""
    if use_docker(os.environ, shutil.which("docker"), _docker_engine_answers):
        services = request.getfixturevalue("docker_services")  # started here, healthy (`up --wait`)
        compose = compose_command(
            request.getfixturevalue("docker_compose_command"),
            request.getfixturevalue("docker_compose_file"),
            request.getfixturevalue("docker_compose_project_name"),
        )
        return in_containers(request.getfixturevalue("docker_ip"), services.port_for, compose)
    return local(os.environ)


def rabbitmqctl(infra: Infrastructure, *args: str, timeout: float = 120) -> str:
    """rabbitmqctl on the session's broker (inside its container, or the local one)."""
    done = subprocess.run([*infra.rabbitmqctl, *args], capture_output=True, text=True, timeout=timeout, check=True)
    return done.stdout


@pytest.fixture(scope="session")
def amqp_url(infra: Infrastructure) -> Iterator[str]:
    """A vhost of this test session alone, removed at the end: two sessions at once never meet."""
    with fresh_vhost(infra) as url:
        yield url


@contextlib.contextmanager
def fresh_vhost(infra: Infrastructure) -> Iterator[str]:
    """The AMQP URL of a new vhost, deleted on exit, so two stacks never consume each other's messages."""
    vhost = f"{TEST_VHOST}-{uuid.uuid4().hex[:8]}"
    rabbitmqctl(infra, "-q", "add_vhost", vhost)
    rabbitmqctl(infra, "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield infra.amqp.rstrip("/") + "/" + urllib.parse.quote(vhost, safe="")
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            rabbitmqctl(infra, "-q", "delete_vhost", vhost)


@pytest.fixture
def amqp_channel(amqp_url: str) -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        yield connection.channel()
    finally:
        if connection.is_open:
            connection.close()


def database_url(admin_url: str, name: str) -> str:
    """The SQLAlchemy URL of database `name` on the server of `admin_url`."""
    parsed = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit(parsed._replace(scheme="postgresql+psycopg", path="/" + name))


def _pg_admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


@pytest.fixture
def pg_database(infra: Infrastructure) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"cio_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin(infra.pg) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(infra.pg, name)
    finally:
        with _pg_admin(infra.pg) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
