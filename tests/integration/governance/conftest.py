"""A governance service on a PostgreSQL database of the test's own (copied from a template migrated once), with the
demo org tree in its projection, and tokens from a test issuer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient
from governance.bootstrap import GovernanceService, bootstrap
from governance.entrypoints.web import create_app
from governance.entrypoints.worker import DIRECTORY_HANDLERS, REVIEW_HANDLERS

from shared.bus.envelope import CloudEvent
from shared.config import Settings, load_settings
from shared.migrations import service_dir, upgrade
from tests.conftest import database_url
from tests.tokens import TestIssuer

ORGS = [
    ("1503", "乌海市教育局", "city", None, "/1503"),
    ("150302", "海勃湾区教育局", "county", "1503", "/1503/150302"),
    ("1503020001", "海勃湾区第一中学", "school", "150302", "/1503/150302/1503020001"),
    ("150303", "海南区教育局", "county", "1503", "/1503/150303"),
    ("1503030001", "海南区第一小学", "school", "150303", "/1503/150303/1503030001"),
    ("1503000001", "乌海市第一中学", "school", "1503", "/1503/1503000001"),
    ("4108", "焦作市教育局", "city", None, "/4108"),
    ("410802", "解放区教育局", "county", "4108", "/4108/410802"),
]
CITY = ("city_reviewer", "/1503")
DISTRICT = ("county_reviewer", "/1503/150302")
OTHER_DISTRICT = ("county_reviewer", "/1503/150303")
SCHOOL = ("school_admin", "/1503/150302/1503020001")
OTHER_CITY = ("city_reviewer", "/4108")


def _settings(url: str, amqp_url: str) -> Settings:
    settings = load_settings("governance", database_url=url)
    return replace(
        settings,
        database_url=url,
        bus=replace(settings.bus, amqp_url=amqp_url),
        auth=replace(settings.auth, issuer="http://test/api/auth", jwks_url="unused"),
    )


def org_events() -> list[CloudEvent]:
    return [
        CloudEvent(
            "identity.org.upserted",
            "/cio/identity",
            {"code": c, "name": n, "level": lv, "parent_code": p, "path": path},
        )
        for c, n, lv, p, path in ORGS
    ]


def apply_events(service: GovernanceService, events: list[CloudEvent]) -> None:
    """Feed events to the handlers as the consumer would (one unit of work each)."""
    handlers = {**DIRECTORY_HANDLERS, **REVIEW_HANDLERS}
    for event in events:
        with service.uow() as uow:
            handlers[event.type](event, uow)
            uow.commit()


@pytest.fixture(scope="session")
def governance_template(infra: dict[str, str], amqp_url: str) -> Iterator[str]:
    name = f"cio_test_governance_tmpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(infra["pg"], autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(infra["pg"], name)
    service = bootstrap(_settings(url, amqp_url), verifier=TestIssuer().verifier())
    upgrade(service_dir("governance"), url)
    apply_events(service, org_events())
    service.engine.dispose()
    try:
        yield name
    finally:
        with psycopg.connect(infra["pg"], autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def governance_service(
    infra: dict[str, str], governance_template: str, amqp_url: str, issuer: TestIssuer
) -> Iterator[GovernanceService]:
    name = f"cio_test_governance_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(infra["pg"], autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{governance_template}"')
    service = bootstrap(_settings(database_url(infra["pg"], name), amqp_url), verifier=issuer.verifier())
    try:
        yield service
    finally:
        service.engine.dispose()
        with psycopg.connect(infra["pg"], autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def client(governance_service: GovernanceService) -> FlaskClient:
    return create_app(governance_service).test_client()


def add_catalogue_entry(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {
        "org_code": "1503",
        "code": "unified-identity",
        "kind": "function",
        "name": "统一身份认证",
        "keywords": ["单点登录", "统一认证"],
        **overrides,
    }
    response = client.post("/api/platform-catalogue", json=body, headers=headers)
    assert response.status_code == 201, response.json
    result = response.json
    assert isinstance(result, dict)
    return result


def plan_body(**overrides: Any) -> dict[str, Any]:
    return {
        "unit_org_code": "150302",
        "title": "海勃湾区智慧校园建设项目",
        "budget": "1200000.00",
        "funding_source": "区级财政预算",
        "functions": ["智慧课堂", "家校互通"],
        "data_collected": ["学生作业数据"],
        "connects_to": ["市级教育数字基座"],
        "builds_data_center": False,
        "starts_on": "2024-03-01",
        "ends_on": "2024-12-31",
        "milestones": [{"name": "完成招标", "due_on": "2024-04-30"}],
        "attachments": [{"name": "建设方案.pdf", "url": "https://files.example.cn/plan.pdf"}],
        **overrides,
    }
