"""Alembic environment of the notifications service: its tables plus the shared outbox and inbox."""

from __future__ import annotations

from alembic import context
from notifications.adapters.orm import metadata
from sqlalchemy import Connection

import shared.http  # noqa: F401 - registers the idempotency_keys table on bus_metadata
from shared.bus.tables import bus_metadata
from shared.config import load_settings
from shared.db import make_engine

target_metadata = [metadata, bus_metadata]


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(context.config.attributes.get("url") or load_settings("notifications").database_url)
    with engine.begin() as conn:
        run(conn)
    engine.dispose()
