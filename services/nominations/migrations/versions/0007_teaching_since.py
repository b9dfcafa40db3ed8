"""nominations: the directory projection's 教龄 kept as the year teaching began (profile.teaching_since)

identity now keeps the year teaching began and publishes it; a projection row written before carries only the
count of the day identity published it. Each such count becomes the year teaching began, counted back from the
row's last update (when the count was true), so the form counts it to the day it is filled; downgrade drops it.

Revision ID: 0007
Revises: 0006
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = ("service",)  # the revision shared_0001 (the `shared` branch) follows
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
users = sa.table(
    "user_projection",
    sa.column("user_id", sa.Uuid()),
    sa.column("profile", JSON),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _rewrite(change: Any) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(users.c.user_id, users.c.profile, users.c.updated_at).where(users.c.profile.isnot(None)))
    for user_id, profile, updated_at in rows.fetchall():
        new = change(dict(profile or {}), updated_at)
        if new is not None:
            conn.execute(users.update().where(users.c.user_id == user_id).values(profile=new))


def _add_since(profile: dict[str, Any], updated_at: dt.datetime | None) -> dict[str, Any] | None:
    years = profile.get("teaching_years")
    if "teaching_since" in profile or not isinstance(years, int) or isinstance(years, bool):
        return None
    return {**profile, "teaching_since": (updated_at or dt.datetime.now(dt.UTC)).year - years}


def _drop_since(profile: dict[str, Any], _updated_at: dt.datetime | None) -> dict[str, Any] | None:
    since = profile.pop("teaching_since", None)
    if not isinstance(since, int) or isinstance(since, bool):
        return None
    return {**profile, "teaching_years": max(0, dt.datetime.now(dt.UTC).year - since)}


def upgrade() -> None:
    _rewrite(_add_since)


def downgrade() -> None:
    _rewrite(_drop_since)
