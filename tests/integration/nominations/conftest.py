"""A nominations service on a PostgreSQL database of the test's own (copied from a template migrated once),
with the directory projection seeded through the same event handlers the worker runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from nominations.bootstrap import Nominations, bootstrap
from nominations.entrypoints.web import create_app

from shared import directory
from shared.bus.envelope import CloudEvent
from shared.config import BusSettings, Settings, load_settings
from shared.migrations import service_dir, upgrade
from tests.conftest import database_url
from tests.infrastructure import Infrastructure
from tests.tokens import ISSUER, TestIssuer

ORGS = [
    ("4108", "焦作市教育局", "city", None, "/4108"),
    ("410802", "解放区教育局", "county", "4108", "/4108/410802"),
    ("410821", "修武县教育局", "county", "4108", "/4108/410821"),
    ("4108020001", "解放区第一实验小学", "school", "410802", "/4108/410802/4108020001"),
    ("4108020002", "解放区育才中学", "school", "410802", "/4108/410802/4108020002"),
    ("4108210001", "修武县城关小学", "school", "410821", "/4108/410821/4108210001"),
    ("640122", "贺兰县教育体育局", "county", None, "/640122"),
    ("6401220001", "贺兰县第一小学", "school", "640122", "/640122/6401220001"),
    ("10417", "宜春学院", "university", None, "/10417"),
]
CANDIDATE = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
OTHER_SCHOOL_USER = uuid.UUID("00000000-0000-0000-0000-0000000000b2")
HELAN_USER = uuid.UUID("00000000-0000-0000-0000-0000000000c3")

CITY = ("city_reviewer", "/4108")
COUNTY = ("county_reviewer", "/4108/410802")
OTHER_COUNTY = ("county_reviewer", "/4108/410821")
SCHOOL = ("school_admin", "/4108/410802/4108020001")
OTHER_SCHOOL = ("school_admin", "/4108/410821/4108210001")


def settings_for(url: str, bus: BusSettings | None = None, amqp_url: str | None = None) -> Settings:
    settings = load_settings("nominations", database_url=url)
    return replace(
        settings,
        database_url=url,
        bus=bus or replace(settings.bus, amqp_url=amqp_url or settings.bus.amqp_url),
        auth=replace(settings.auth, issuer=ISSUER, jwks_url="unused"),
    )


def identity_event(event_type: str, data: dict[str, Any]) -> CloudEvent:
    return CloudEvent(type=event_type, source="/cio/identity", data=data)


def seed_directory(service: Nominations) -> None:
    with service.uow() as uow:
        for code, name, level, parent, path in ORGS:
            directory.apply(
                identity_event(
                    "identity.org.upserted",
                    {"code": code, "name": name, "level": level, "parent_code": parent, "path": path},
                ),
                uow,
            )
        for user_id, username, name, org in (
            (CANDIDATE, "zhang.san", "张三", "4108020001"),
            (OTHER_SCHOOL_USER, "li.si", "李四", "4108210001"),
            (HELAN_USER, "wang.wu", "王五", "6401220001"),
        ):
            user = {
                "user_id": str(user_id),
                "username": username,
                "display_name": name,
                "org_code": org,
                "phone": "13800008000",
                "email": f"{username}@example.cn",
                "gender": "男",
                "birth_date": "1980-05-01",
                "external_id": None,
                "locale": "zh-CN",
                "is_active": True,
            }
            directory.apply(identity_event("identity.user.provisioned", {"user": user}), uow)
        uow.commit()


@pytest.fixture(scope="session")
def nominations_template(infra: Infrastructure) -> Iterator[str]:
    name = f"cio_test_nominations_tmpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(infra.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(infra.pg, name)
    service = bootstrap(settings_for(url))
    upgrade(service_dir("nominations"), url)
    seed_directory(service)
    service.engine.dispose()
    try:
        yield name
    finally:
        with psycopg.connect(infra.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def nominations_db(infra: Infrastructure, nominations_template: str) -> Iterator[str]:
    name = f"cio_test_nominations_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(infra.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{nominations_template}"')
    try:
        yield database_url(infra.pg, name)
    finally:
        with psycopg.connect(infra.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def service(nominations_db: str, issuer: TestIssuer) -> Iterator[Nominations]:
    service = bootstrap(settings_for(nominations_db), verifier=issuer.verifier())
    try:
        yield service
    finally:
        service.engine.dispose()


@pytest.fixture
def app(service: Nominations) -> Flask:
    return create_app(service)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
