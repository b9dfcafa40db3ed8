"""A training service on a PostgreSQL database of the test's own (copied from a template migrated once),
with the demo org tree and a few people in its projections, and tokens from a test issuer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient
from training.bootstrap import TrainingRules, TrainingService, bootstrap
from training.entrypoints.web import create_app
from training.service_layer.projections import directory_handlers

from shared.bus.envelope import CloudEvent
from shared.config import Settings, load_settings
from shared.migrations import service_dir, upgrade
from tests.conftest import database_url
from tests.infrastructure import Infrastructure
from tests.tokens import TestIssuer

ORGS = [
    ("4108", "焦作市教育局", "city", None, "/4108"),
    ("410802", "解放区教育局", "county", "4108", "/4108/410802"),
    ("4108020001", "解放区第一实验小学", "school", "410802", "/4108/410802/4108020001"),
    ("4108020002", "解放区第二小学", "school", "410802", "/4108/410802/4108020002"),
    ("410821", "修武县教育局", "county", "4108", "/4108/410821"),
    ("4108210001", "修武县城关小学", "school", "410821", "/4108/410821/4108210001"),
]
# username → (user id, display name, org code)
PEOPLE = {
    "wang.xiaoming": (uuid.UUID("00000000-0000-4000-8000-000000000001"), "王晓明", "4108020001"),
    "li.hua": (uuid.UUID("00000000-0000-4000-8000-000000000002"), "李华", "4108020002"),
    "zhao.gang": (uuid.UUID("00000000-0000-4000-8000-000000000003"), "赵刚", "4108210001"),
}
COUNTY_ADMIN = ("training_admin", "/4108/410802")
OTHER_COUNTY_ADMIN = ("training_admin", "/4108/410821")
CITY_ADMIN = ("training_admin", "/4108")


def _settings(url: str, amqp_url: str) -> Settings:
    settings = load_settings("training", database_url=url)
    return replace(
        settings,
        database_url=url,
        bus=replace(settings.bus, amqp_url=amqp_url),
        auth=replace(settings.auth, issuer="http://test/api/auth", jwks_url="unused"),
    )


def directory_events() -> list[CloudEvent]:
    events = [
        CloudEvent(
            "identity.org.upserted",
            "/cio/identity",
            {"code": c, "name": n, "level": lv, "parent_code": p, "path": path},
        )
        for c, n, lv, p, path in ORGS
    ]
    for username, (user_id, name, org) in PEOPLE.items():
        user = {"user_id": str(user_id), "username": username, "display_name": name, "org_code": org, "is_active": True}
        events.append(CloudEvent("identity.user.provisioned", "/cio/identity", {"user": user}))
    return events


def apply_events(service: TrainingService, events: list[CloudEvent]) -> None:
    """Feed events to the projection handlers as the consumer would (one unit of work)."""
    handlers = directory_handlers()
    with service.uow() as uow:
        for event in events:
            handlers[event.type](event, uow)
        uow.commit()


@pytest.fixture(scope="session")
def training_template(infra: Infrastructure, amqp_url: str) -> Iterator[str]:
    name = f"cio_test_training_tmpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(infra.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(infra.pg, name)
    service = bootstrap(_settings(url, amqp_url), verifier=TestIssuer().verifier(), rules=TrainingRules())
    upgrade(service_dir("training"), url)
    apply_events(service, directory_events())
    service.engine.dispose()
    try:
        yield name
    finally:
        with psycopg.connect(infra.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def training_service(
    infra: Infrastructure, training_template: str, amqp_url: str, issuer: TestIssuer
) -> Iterator[TrainingService]:
    name = f"cio_test_training_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(infra.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{training_template}"')
    service = bootstrap(
        _settings(database_url(infra.pg, name), amqp_url),
        verifier=issuer.verifier(),
        rules=TrainingRules(inline_import_bytes=64 * 1024, check_on=(12, 1)),
    )
    try:
        yield service
    finally:
        service.engine.dispose()
        with psycopg.connect(infra.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def client(training_service: TrainingService) -> FlaskClient:
    return create_app(training_service).test_client()


def person(username: str) -> str:
    return str(PEOPLE[username][0])


def create_training(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "2024年首席信息官集中培训",
        "level": "county",
        "kind": "cio",
        "organiser_org_code": "410802",
        "starts_on": "2024-05-06",
        "ends_on": "2024-05-08",
        "hours": 24,
        "centralized": True,
        **overrides,
    }
    response = client.post("/api/trainings", json=body, headers=headers)
    assert response.status_code == 201, response.json
    result = response.json
    assert isinstance(result, dict)
    return result
