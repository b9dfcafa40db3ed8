"""`scripts/backup.py` on a PostgreSQL server (`DATABASE_URL`, as compose and a server install run): the manifest
counts the outbox rows committed but not yet published, and the restore brings them back with the rest, so the
relay publishes them after a restore."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.orm import Session

from shared.bus.outbox import add_to_outbox
from shared.bus.tables import OUTBOX_PENDING, outbox
from shared.db import make_engine
from shared.events import DomainEvent
from shared.migrations import service_dir, upgrade
from tests.conftest import ROOT, database_url

pytestmark = pytest.mark.integration

SERVICES = ("identity", "nominations", "approvals", "training", "notifications", "governance")


@dataclasses.dataclass
class RoundOpened(DomainEvent):
    event_type = "nominations.round.opened"
    round_id: str


@pytest.fixture
def suffixes(infra: dict[str, str]) -> Iterator[tuple[str, str]]:
    """Two sets of service databases on the server, `cio_<service><live>` (migrated) and `<restored>` (left to the
    restore), dropped afterwards."""
    live, restored = f"_bk_{uuid.uuid4().hex[:8]}", f"_rs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(infra["pg"], autocommit=True) as conn:
        for name in SERVICES:
            conn.execute(f'CREATE DATABASE "cio_{name}{live}"')
    try:
        for name in SERVICES:
            upgrade(service_dir(name), database_url(infra["pg"], f"cio_{name}{live}"))
        yield live, restored
    finally:
        with psycopg.connect(infra["pg"], autocommit=True) as conn:
            for name in SERVICES:
                for suffix in (live, restored):
                    conn.execute(f'DROP DATABASE IF EXISTS "cio_{name}{suffix}" WITH (FORCE)')


def backup_cli(infra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url(infra["pg"], "postgres")}
    command = [sys.executable, str(ROOT / "scripts" / "backup.py"), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False, timeout=300)


def test_a_server_backup_counts_unpublished_events_and_the_restore_keeps_them(
    infra: dict[str, str], suffixes: tuple[str, str], tmp_path: Path
) -> None:
    live, restored = suffixes
    engine = make_engine(database_url(infra["pg"], f"cio_nominations{live}"))
    with Session(engine) as session, session.begin():
        [staged] = add_to_outbox(session, "/cio/nominations", [RoundOpened(round_id=str(uuid.uuid4()))])
    engine.dispose()

    made = backup_cli(infra, "--database-suffix", live, "backup", "--out", str(tmp_path / "b"))
    assert made.returncode == 0, made.stderr
    assert "outbox rows not yet published: {'nominations': 1}" in made.stdout
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["source"] == "server"
    server_major = manifest["services"]["identity"]["server_version"].split(".")[0]
    assert manifest["pg_dump"].startswith(f"pg_dump (PostgreSQL) {server_major}.")  # the server's own tools
    nominations = manifest["services"]["nominations"]
    assert nominations["database"] == f"cio_nominations{live}"
    assert nominations["outbox"]["pending"] == 1
    oldest = dt.datetime.fromisoformat(nominations["outbox"]["oldest_pending_at"])
    assert abs(oldest - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert {s: e["outbox"]["pending"] for s, e in manifest["services"].items() if s != "nominations"} == {
        s: 0 for s in SERVICES if s != "nominations"
    }

    done = backup_cli(infra, "--database-suffix", restored, "restore", str(tmp_path / "b"))
    assert done.returncode == 0, done.stderr
    assert f"cio_nominations{restored} at" in done.stdout and "1 outbox rows to publish" in done.stdout
    engine = make_engine(database_url(infra["pg"], f"cio_nominations{restored}"))
    with Session(engine) as session:
        rows = session.execute(outbox.select()).all()
    engine.dispose()
    assert [(r.id, r.type, r.status) for r in rows] == [(staged.id, RoundOpened.event_type, OUTBOX_PENDING)]
