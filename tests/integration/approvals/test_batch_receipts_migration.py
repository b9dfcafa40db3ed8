"""Migration 0010 on a real PostgreSQL database (报送至市教育局): a task of before waits for no batch (its
`awaits_batch_from` is NULL), and downgrading drops the receipts and the column."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from approvals.bootstrap import Approvals
from flask.testing import FlaskClient

from shared.migrations import alembic_config, service_dir
from tests.integration.approvals.conftest import CITY, COUNTY, JIAOZUO, SCHOOL, Feed, round_opened, submitted
from tests.integration.approvals.test_reviews_api import decide, inbox
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


def test_0010_a_task_of_before_waits_for_no_batch_and_a_downgrade_drops_the_receipts(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    config = alembic_config(
        service_dir("approvals"), approvals_service.engine.url.render_as_string(hide_password=False)
    )
    command.downgrade(config, "0009")
    with approvals_service.engine.connect() as conn:
        tables = conn.execute(sa.text("SELECT table_name FROM information_schema.tables")).scalars().all()
        columns = (
            conn.execute(
                sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = 'review_tasks'")
            )
            .scalars()
            .all()
        )
    assert "batch_receipts" not in tables and "awaits_batch_from" not in columns
    command.upgrade(config, "head")

    # a city task whose row carries no awaits_batch_from (as every task of before 0010) is decided as before
    opened = round_opened(JIAOZUO)
    sub = submitted(opened.data["round_id"], SCHOOL)
    feed(opened, sub)
    for who, grant in [("sa", ("school_admin", SCHOOL)), ("cr", ("county_reviewer", COUNTY))]:
        [task] = inbox(client, issuer, who, grant)
        assert decide(client, issuer, who, grant, task["id"], opinion="同意").status_code == 200
    with approvals_service.engine.begin() as conn:
        conn.execute(sa.text("UPDATE review_tasks SET awaits_batch_from = NULL"))
    [city_task] = inbox(client, issuer, "city", ("city_reviewer", CITY))
    assert (city_task["awaits_batch_from"], city_task["awaiting_batch"]) == (None, False)
    final = decide(
        client,
        issuer,
        "city",
        ("city_reviewer", CITY),
        city_task["id"],
        opinion="同意",
        document_number="焦教文〔2022〕9号",
    )
    assert final.status_code == 200, final.json
