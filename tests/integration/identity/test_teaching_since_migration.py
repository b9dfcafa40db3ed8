"""Migration 0007 on a real PostgreSQL database: a profile's 教龄 count becomes the year teaching began, counted
back from when it was given (the row's last update), and the downgrade counts it forward to today."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from identity.bootstrap import Identity

from shared.migrations import alembic_config, service_dir

pytestmark = pytest.mark.integration


def test_教龄_existing_profiles_keep_the_year_teaching_began(identity_service: Identity) -> None:
    url = identity_service.engine.url.render_as_string(hide_password=False)
    config = alembic_config(service_dir("identity"), url)
    command.downgrade(config, "0006")
    given = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    with identity_service.engine.begin() as conn:
        user_id = conn.execute(sa.text("SELECT id FROM users ORDER BY username LIMIT 1")).scalar_one()
        conn.execute(
            sa.text("UPDATE users SET profile = CAST(:p AS json), updated_at = :at WHERE id = :id"),
            {"p": '{"education": "本科", "teaching_years": 18}', "at": given, "id": user_id},
        )

    command.upgrade(config, "head")
    with identity_service.engine.connect() as conn:
        profile = conn.execute(sa.text("SELECT profile FROM users WHERE id = :id"), {"id": user_id}).scalar_one()
    assert profile == {"education": "本科", "teaching_since": 2006}

    command.downgrade(config, "0006")
    with identity_service.engine.connect() as conn:
        profile = conn.execute(sa.text("SELECT profile FROM users WHERE id = :id"), {"id": user_id}).scalar_one()
    assert profile == {"education": "本科", "teaching_years": dt.datetime.now(dt.UTC).year - 2006}
    command.upgrade(config, "head")
