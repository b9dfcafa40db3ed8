"""An identity service on a PostgreSQL database of the test's own, migrated and seeded with the demo tree."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity.adapters import keys
from identity.bootstrap import Identity, bootstrap
from identity.entrypoints.web import create_app
from identity.service_layer import demo
from shared.config import load_settings
from shared.migrations import service_dir, upgrade

DEMO_PASSWORD = "demo-password-for-tests"


@pytest.fixture
def identity_service(pg_database: str, amqp_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Identity]:
    monkeypatch.setenv("DEMO_PASSWORD", DEMO_PASSWORD)
    settings = load_settings("identity")
    settings = replace(
        settings,
        database_url=pg_database,
        bus=replace(settings.bus, amqp_url=amqp_url),
        auth=replace(settings.auth, issuer="http://test/api/auth", jwks_url="unused"),
    )
    service = bootstrap(settings)
    upgrade(service_dir("identity"), pg_database)
    with service.session_factory() as session, session.begin():
        keys.ensure_keys(session, service.signing_secret)
    demo.seed(service.uow, orgs_csv=None, out=io.StringIO())
    yield service
    service.engine.dispose()


@pytest.fixture
def app(identity_service: Identity) -> Flask:
    return create_app(identity_service)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    response = client.post("/api/auth/token", data={"grant_type": "password", "username": username, "password": password})
    assert response.status_code == 200, response.json
    body = response.json
    assert isinstance(body, dict)
    return body


def bearer(client: FlaskClient, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {login(client, username)['access_token']}"}
