"""The workflow gauges the worker refreshes: terms ending soon with no renewal drive an alert; open and
overdue review tasks per stage feed the CIO workflow dashboard."""

from __future__ import annotations

import datetime as dt

from approvals.adapters import metrics
from approvals.bootstrap import Approvals
from approvals.service_layer import reviews
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import text

from tests.integration.approvals.conftest import YICHUN, YICHUN_POLICY, Feed, round_opened, submitted
from tests.integration.approvals.test_appointments_api import (
    appoint_through_yichun_chain,
    made_person,
    through_yichun_chain_again,
)
from tests.integration.approvals.test_reviews_api import open_jiaozuo_case
from tests.tokens import TestIssuer


def _gauges(service: Approvals, today: dt.date) -> tuple[float | None, float | None]:
    with service.session_factory() as session:
        metrics.refresh_gauges(session, today=today)
    return (
        REGISTRY.get_sample_value("approvals_appointments_ending_within_90_days"),
        REGISTRY.get_sample_value("approvals_appointments_ending_without_renewal", {"within_days": "30"}),
    )


def test_a_term_counts_once_it_ends_within_30_days(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    appoint_through_yichun_chain(client, issuer, feed)  # term 2024-09-01 .. 2027-08-31
    assert _gauges(approvals_service, dt.date(2027, 7, 1)) == (1, 0)  # within 90 days, not yet within 30
    assert _gauges(approvals_service, dt.date(2027, 8, 10)) == (1, 1)


def test_a_new_case_for_the_school_in_review_counts_as_the_renewal(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    appoint_through_yichun_chain(client, issuer, feed)
    assert _gauges(approvals_service, dt.date(2027, 8, 10)) == (1, 1)
    opened = round_opened(YICHUN_POLICY, issuing_org_code="10417", issuing_org_path=YICHUN)
    feed(opened, submitted(opened.data["round_id"], YICHUN, policy_id="yichun-university"))
    assert _gauges(approvals_service, dt.date(2027, 8, 10)) == (1, 0)


def test_a_renewed_term_is_no_longer_counted(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    made = appoint_through_yichun_chain(client, issuer, feed)
    person = made_person(client, issuer, made["appointment_id"])
    # 连聘 through the university's three bodies again (宜春学院: not a single renewal call)
    renewed = through_yichun_chain_again(client, issuer, feed, person, "宜院党字〔2027〕9号")
    assert renewed.status_code == 200, renewed.json
    # The next term (to 2030-08-31) is active; the renewed one is no longer counted.
    assert _gauges(approvals_service, dt.date(2027, 8, 10)) == (0, 0)


def test_open_and_overdue_tasks_are_counted_per_stage(feed: Feed, approvals_service: Approvals) -> None:
    open_jiaozuo_case(feed)
    with approvals_service.session_factory() as session:
        metrics.refresh_gauges(session)
    (stage,) = [
        s.labels["stage"]
        for m in REGISTRY.collect()
        if m.name == "approvals_open_tasks"
        for s in m.samples
        if s.value == 1
    ]
    assert REGISTRY.get_sample_value("approvals_overdue_tasks_by_stage", {"stage": stage}) is None
    with approvals_service.engine.begin() as conn:
        conn.execute(text("UPDATE review_tasks SET due_at = now() - interval '1 day'"))
    assert reviews.mark_overdue_tasks(approvals_service.uow) == 1
    with approvals_service.session_factory() as session:
        metrics.refresh_gauges(session)
    assert REGISTRY.get_sample_value("approvals_overdue_tasks_by_stage", {"stage": stage}) == 1
    assert REGISTRY.get_sample_value("approvals_overdue_tasks") == 1
