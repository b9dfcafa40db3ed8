"""An approvals service on a PostgreSQL database of the test's own (a copy of a template migrated once),
tokens from tests.tokens.TestIssuer, and helpers that feed it the events nominations and identity publish."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from approvals.adapters.orm import review_tasks
from approvals.bootstrap import Approvals, bootstrap
from approvals.declaration import SPEC
from approvals.entrypoints.web import create_app
from approvals.service_layer.subscriptions import DIRECTORY_HANDLERS, REVIEW_HANDLERS
from flask.testing import FlaskClient
from sqlalchemy import select

from shared.bus.consumer import EventConsumer
from shared.bus.envelope import CloudEvent
from shared.bus.tables import outbox
from shared.config import Settings, load_settings
from shared.migrations import service_dir, upgrade
from tests.conftest import database_url
from tests.infrastructure import Infrastructure
from tests.tokens import ISSUER, TestIssuer
from tests.unit.approvals.nominations_events import (
    batch_submitted,
    nomination_submitted,
    nomination_withdrawn,
    policy_document,
    round_opened_data,
)

CITY, COUNTY, SCHOOL = "/4108", "/4108/410802", "/4108/410802/4108020001"
COUNTY2, SCHOOL2 = "/4108/410821", "/4108/410821/4108210001"
HELAN_COUNTY, HELAN_SCHOOL = "/6401/640122", "/6401/640122/6401220001"
YICHUN = "/10417"

REVIEWS_QUEUE, DIRECTORY_QUEUE = SPEC.queues()

ORGS = [
    ("4108", "焦作市教育局", "city", None, CITY),
    ("410802", "解放区教育局", "county", "4108", COUNTY),
    ("4108020001", "解放区第一实验小学", "school", "410802", SCHOOL),
    ("410821", "修武县教育局", "county", "4108", COUNTY2),
    ("4108210001", "修武县城关小学", "school", "410821", SCHOOL2),
    ("6401", "银川市教育局", "city", None, "/6401"),
    ("640122", "贺兰县教育体育局", "county", "6401", HELAN_COUNTY),
    ("6401220001", "贺兰县第一小学", "school", "640122", HELAN_SCHOOL),
    ("10417", "宜春学院", "university", None, YICHUN),
]

# The real policies, loaded and validated by nominations' own loader, so approvals' tests and the
# documents nominations snapshots into `nominations.round.opened` cannot drift apart again.
JIAOZUO = policy_document("jiaozuo-2022")
HELAN = policy_document("helan-2024")
YICHUN_POLICY = policy_document("yichun-university")


def _settings(url: str, amqp_url: str) -> Settings:
    settings = load_settings("approvals", database_url=url)
    return replace(
        settings,
        database_url=url,
        bus=replace(settings.bus, amqp_url=amqp_url),
        auth=replace(settings.auth, issuer=ISSUER, jwks_url="unused"),
    )


@pytest.fixture(scope="session")
def approvals_template(infra: Infrastructure) -> Iterator[str]:
    name = f"cio_test_approvals_tmpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(infra.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(service_dir("approvals"), database_url(infra.pg, name))
    try:
        yield name
    finally:
        with psycopg.connect(infra.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def approvals_service(
    infra: Infrastructure, approvals_template: str, amqp_url: str, issuer: TestIssuer
) -> Iterator[Approvals]:
    name = f"cio_test_approvals_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(infra.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{approvals_template}"')
    service = bootstrap(_settings(database_url(infra.pg, name), amqp_url), verifier=issuer.verifier())
    try:
        yield service
    finally:
        service.engine.dispose()
        with psycopg.connect(infra.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def client(approvals_service: Approvals) -> FlaskClient:
    return create_app(approvals_service).test_client()


def event(event_type: str, data: dict[str, Any], subject: str | None = None, event_id: str | None = None) -> CloudEvent:
    return CloudEvent(
        type=event_type,
        source="/cio/" + event_type.split(".")[0],
        data=data,
        subject=subject,
        id=event_id or str(uuid.uuid4()),
    )


def org_events() -> list[CloudEvent]:
    return [
        event("identity.org.upserted", {"code": c, "name": n, "level": lv, "parent_code": p, "path": path}, c)
        for c, n, lv, p, path in ORGS
    ]


def round_opened(
    policy: dict[str, Any], round_id: str | None = None, issuing_org_code: str = "4108", issuing_org_path: str = CITY
) -> CloudEvent:
    """`nominations.round.opened` exactly as nominations builds it (its Round.open on the policy document)."""
    data = round_opened_data(policy, issuing_org_code=issuing_org_code, issuing_org_path=issuing_org_path)
    if round_id is not None:
        data["round_id"] = round_id
    return event("nominations.round.opened", data, data["round_id"])


def submitted(
    round_id: str,
    school_path: str,
    *,
    nomination_id: str | None = None,
    revision: int = 1,
    candidate: str | None = None,
    event_type: str = "nominations.nomination.submitted",
    returned_at_stage: int | None = None,
    policy_id: str = "jiaozuo-2022",
) -> CloudEvent:
    """`nominations.nomination.submitted` / `.resubmitted` with the payload of nominations' own event class."""
    data = nomination_submitted(
        round_id,
        school_path,
        nomination_id=nomination_id,
        revision=revision,
        candidate_user_id=candidate,
        resubmitted=event_type.endswith(".resubmitted"),
        returned_at_stage=returned_at_stage,
        policy_id=policy_id,
    )
    return event(event_type, data, data["nomination_id"])


def withdrawn(round_id: str, nomination_id: str, school_path: str, by: str) -> CloudEvent:
    data = nomination_withdrawn(round_id, nomination_id, school_path, by)
    return event("nominations.nomination.withdrawn", data, nomination_id)


def batch_sent(round_id: str, county_path: str, *nomination_ids: str) -> CloudEvent:
    """`nominations.batch.submitted`: the county at `county_path` sent these nominations up to the city (报送)."""
    data = batch_submitted(round_id, county_path, list(nomination_ids))
    return event("nominations.batch.submitted", data, data["batch_id"])


class Feed:
    """Applies events through the real consumers' code path (inbox + handlers + commit), without a broker."""

    def __init__(self, service: Approvals) -> None:
        self.service = service
        self.reviews = EventConsumer(service.settings.bus, REVIEWS_QUEUE, REVIEW_HANDLERS, service.uow)
        self.directory = EventConsumer(service.settings.bus, DIRECTORY_QUEUE, DIRECTORY_HANDLERS, service.uow)

    def __call__(self, *events: CloudEvent) -> None:
        for e in events:
            consumer = self.directory if e.type.startswith("identity.") else self.reviews
            consumer.process(e.to_json())

    def county_sends_its_batch(self, county_path: str = COUNTY) -> list[str]:
        """报送至市教育局: the county sends up every form its stage approved, round by round, as nominations'
        Batch.send picks them (its `approved_at_stage`); returns the nominations sent."""
        t = review_tasks.c
        query = select(t.round_id, t.nomination_id).where(
            t.org_path == county_path, t.stage_key == "county_review", t.decision == "approve"
        )
        by_round: dict[str, list[str]] = {}
        with self.service.session_factory() as session:
            for round_id, nomination_id in session.execute(query):
                by_round.setdefault(str(round_id), []).append(str(nomination_id))
        for round_id, nomination_ids in by_round.items():
            self(batch_sent(round_id, county_path, *nomination_ids))
        return [n for ids in by_round.values() for n in ids]


@pytest.fixture
def feed(approvals_service: Approvals) -> Feed:
    f = Feed(approvals_service)
    f(*org_events())
    return f


def outbox_events(service: Approvals, event_type: str) -> list[dict[str, Any]]:
    with service.session_factory() as session:
        rows = session.execute(select(outbox.c.body).where(outbox.c.type == event_type).order_by(outbox.c.created_at))
        return [json.loads(r[0]) for r in rows]
