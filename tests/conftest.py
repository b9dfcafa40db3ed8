"""Test infrastructure: a RabbitMQ vhost and PostgreSQL databases of the tests' own.

With a Docker engine, pytest-docker starts tests/docker-compose.test.yml; without one (this
machine, CI) the local services are used, named by TEST_AMQP_URL and TEST_PG_URL. Either way
the tests never touch the vhost or databases a running `make run` uses.
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

pytest_plugins = ["tests.idp.fixtures"]  # the real identity providers for the SSO tests (oidc_idp, cas_idp)

ROOT = Path(__file__).resolve().parent.parent
TEST_VHOST = "cio-test"


def _docker_engine_available() -> bool:
    if os.environ.get("CIO_TESTS_USE_LOCAL_SERVICES") or not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(ROOT / "tests" / "docker-compose.test.yml")


@pytest.fixture(scope="session")
def infra(request: pytest.FixtureRequest) -> dict[str, str]:
    """Admin URLs of the broker (default vhost) and of PostgreSQL."""
    if _docker_engine_available():
        services = request.getfixturevalue("docker_services")
        ip = request.getfixturevalue("docker_ip")
        amqp_port = services.port_for("rabbitmq", 5672)
        pg_port = services.port_for("postgres", 5432)
        return {
            "amqp": f"amqp://guest:guest@{ip}:{amqp_port}/",
            "pg": f"postgresql://postgres@{ip}:{pg_port}/postgres",
            "docker": "1",
        }
    return {
        "amqp": os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        "pg": os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        "docker": "",
    }


@pytest.fixture(scope="session")
def amqp_url(infra: dict[str, str]) -> Iterator[str]:
    """A vhost of this test session alone, removed at the end: two sessions at once never meet."""
    with fresh_vhost(infra) as url:
        yield url


@contextlib.contextmanager
def fresh_vhost(infra: dict[str, str]) -> Iterator[str]:
    """The AMQP URL of a new vhost, deleted on exit, so two stacks never consume each other's messages."""
    if infra["docker"]:
        # The container's broker belongs to the tests: the default vhost is theirs.
        yield infra["amqp"] + "%2F"
        return
    vhost = f"{TEST_VHOST}-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    try:
        yield infra["amqp"].rstrip("/") + "/" + urllib.parse.quote(vhost, safe="")
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, check=False)


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
def pg_database(infra: dict[str, str]) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"cio_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin(infra["pg"]) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(infra["pg"], name)
    finally:
        with _pg_admin(infra["pg"]) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
