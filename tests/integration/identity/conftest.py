"""An identity service on a PostgreSQL database of the test's own, migrated and seeded with the demo tree."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from identity.adapters import keys
from identity.bootstrap import Identity, bootstrap
from identity.entrypoints.web import create_app
from identity.service_layer import demo

from shared.config import Settings, load_settings
from shared.migrations import service_dir, upgrade
from tests.conftest import database_url
from tests.infrastructure import Infrastructure

DEMO_PASSWORD = "demo-password-for-tests"


def _settings(database_url: str, amqp_url: str) -> Settings:
    settings = load_settings("identity", database_url=database_url)
    return replace(
        settings,
        database_url=database_url,
        bus=replace(settings.bus, amqp_url=amqp_url),
        auth=replace(settings.auth, issuer="http://test/api/auth", jwks_url="unused"),
    )


@pytest.fixture(scope="session")
def identity_template(infra: Infrastructure, amqp_url: str) -> Iterator[str]:
    """A database migrated and seeded once; each test gets a copy (seeding hashes 14 passwords with argon2)."""
    name = f"cio_test_identity_tmpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(infra.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(infra.pg, name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEMO_PASSWORD", DEMO_PASSWORD)
        service = bootstrap(_settings(url, amqp_url))
        upgrade(service_dir("identity"), url)
        with service.session_factory() as session, session.begin():
            keys.ensure_keys(session, service.signing_secret)
        demo.seed(service.uow, orgs_csv=None, out=io.StringIO())
        service.engine.dispose()
    try:
        yield name
    finally:
        with psycopg.connect(infra.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def identity_service(infra: Infrastructure, identity_template: str, amqp_url: str) -> Iterator[Identity]:
    name = f"cio_test_identity_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(infra.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{identity_template}"')
    service = bootstrap(_settings(database_url(infra.pg, name), amqp_url))
    try:
        yield service
    finally:
        service.engine.dispose()
        with psycopg.connect(infra.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app(identity_service: Identity) -> Flask:
    return create_app(identity_service)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    response = client.post(
        "/api/auth/token", data={"grant_type": "password", "username": username, "password": password}
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert isinstance(body, dict)
    return body


def bearer(client: FlaskClient, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {login(client, username)['access_token']}"}
