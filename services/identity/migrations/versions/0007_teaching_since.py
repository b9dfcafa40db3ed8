"""identity: 教龄 kept as the year teaching began (users.profile.teaching_since), so it ages

A profile held `teaching_years`, a count that never changed; a form prefilled a year later was a year short.
Each row's count is turned into the year teaching began, counted back from the row's last update (when the
count was given); downgrade counts it forward to today again.

Revision ID: 0007
Revises: 0006
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = ("service",)  # the revision shared_0001 (the `shared` branch) follows
depends_on = None

users = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("profile", sa.JSON()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _rewrite(change: Any) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(users.c.id, users.c.profile, users.c.updated_at).where(users.c.profile.isnot(None)))
    for user_id, profile, updated_at in rows.fetchall():
        new = change(dict(profile or {}), updated_at)
        if new is not None:
            conn.execute(users.update().where(users.c.id == user_id).values(profile=new))


def _to_since(profile: dict[str, Any], updated_at: dt.datetime | None) -> dict[str, Any] | None:
    years = profile.pop("teaching_years", None)
    if not isinstance(years, int) or isinstance(years, bool):
        return None
    given_in = (updated_at or dt.datetime.now(dt.UTC)).year
    return {**profile, "teaching_since": given_in - years}


def _to_years(profile: dict[str, Any], _updated_at: dt.datetime | None) -> dict[str, Any] | None:
    since = profile.pop("teaching_since", None)
    if not isinstance(since, int) or isinstance(since, bool):
        return None
    return {**profile, "teaching_years": max(0, dt.datetime.now(dt.UTC).year - since)}


def upgrade() -> None:
    _rewrite(_to_since)


def downgrade() -> None:
    _rewrite(_to_years)
