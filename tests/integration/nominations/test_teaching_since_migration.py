"""Migration 0007 on a real PostgreSQL database: a directory projection row written before identity kept the year
teaching began gets it, counted back from the row's last update, so a form filled later counts 教龄 on."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from alembic import command
from nominations.bootstrap import Nominations

from shared.migrations import alembic_config, service_dir

pytestmark = pytest.mark.integration


def test_教龄_projection_rows_of_before_keep_the_year_teaching_began(service: Nominations) -> None:
    config = alembic_config(service_dir("nominations"), service.engine.url.render_as_string(hide_password=False))
    command.downgrade(config, "0006")
    with service.engine.begin() as conn:
        user_id = conn.execute(sa.text("SELECT user_id FROM user_projection ORDER BY username LIMIT 1")).scalar_one()
        conn.execute(
            sa.text("UPDATE user_projection SET profile = CAST(:p AS jsonb), updated_at = :at WHERE user_id = :id"),
            {"p": json.dumps({"teaching_years": 20}), "at": dt.datetime(2023, 6, 1, tzinfo=dt.UTC), "id": user_id},
        )

    def profile() -> object:
        with service.engine.connect() as conn:
            query = sa.text("SELECT profile FROM user_projection WHERE user_id = :id")
            return conn.execute(query, {"id": user_id}).scalar_one()

    command.upgrade(config, "0007")  # the revision under test (0010 moves the rows into directory_users)
    assert profile() == {"teaching_years": 20, "teaching_since": 2003}
    command.downgrade(config, "0006")
    assert profile() == {"teaching_years": dt.datetime.now(dt.UTC).year - 2003}
    command.upgrade(config, "head")
