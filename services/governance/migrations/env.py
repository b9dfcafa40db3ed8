"""Alembic environment of the governance service: its tables plus the shared outbox, inbox and idempotency keys."""

from __future__ import annotations

from governance.declaration import SPEC

from shared.service import run_migrations

run_migrations(SPEC)
