"""Migration 0009 on a real PostgreSQL database: the evaluations of before are the CIOs' (subject cio); downgrading
removes the school assessments (the old schema ties every evaluation to an appointment) and keeps the CIOs'."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from approvals.bootstrap import Approvals
from flask.testing import FlaskClient

from shared.migrations import alembic_config, service_dir
from tests.integration.approvals.conftest import CITY, Feed
from tests.integration.approvals.test_evaluations_api import jiaozuo_appointment, open_and_submit
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


def test_0009_evaluations_of_before_are_the_cios_and_a_downgrade_keeps_them(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    appointment_id = jiaozuo_appointment(client, issuer, feed)
    cio = open_and_submit(client, issuer, appointment_id).json["id"]
    city = issuer.headers("ev", ("evaluator", CITY))
    round_id = client.get(f"/api/appointments/{appointment_id}", headers=city).json["round_id"]
    school = client.post(
        "/api/evaluations/campaigns",
        json={"org_code": "4108", "kind": "school_biennial", "period": 2023, "round_id": round_id},
        headers=city,
    )
    assert school.json["opened"] == 2
    config = alembic_config(
        service_dir("approvals"), approvals_service.engine.url.render_as_string(hide_password=False)
    )

    def rows() -> list[tuple[str, str | None]]:
        with approvals_service.engine.connect() as conn:
            found = conn.execute(sa.text("SELECT CAST(id AS text), CAST(appointment_id AS text) FROM evaluations"))
            return sorted((r[0], r[1]) for r in found)

    command.downgrade(config, "0008")
    assert rows() == [(cio, appointment_id)]
    with approvals_service.engine.connect() as conn:
        nullable = conn.execute(
            sa.text(
                "SELECT is_nullable FROM information_schema.columns "
                "WHERE table_name = 'evaluations' AND column_name = 'appointment_id'"
            )
        ).scalar_one()
    assert nullable == "NO"
    command.upgrade(config, "head")
    with approvals_service.engine.connect() as conn:
        subject = conn.execute(sa.text("SELECT subject FROM evaluations")).scalars().all()
    assert subject == ["cio"]
    # the school assessments can be opened again on the upgraded schema
    again = client.post(
        "/api/evaluations/campaigns",
        json={"org_code": "4108", "kind": "school_biennial", "period": 2023, "round_id": round_id},
        headers=city,
    )
    assert again.json["opened"] == 2
