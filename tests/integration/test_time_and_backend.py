"""One time type and one backend: what broke the README's default (a naive `assigned_at` read back from SQLite made
the first review decision a 500) can no longer happen on any table of any service."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import zoneinfo

import psycopg
import pytest
import sqlalchemy as sa

from shared.bus.tables import bus_metadata
from shared.config import ConfigError, load_settings
from shared.db import UtcDateTime, make_engine, make_session_factory, new_metadata, read_outside_transaction
from tests.helpers import wait_until

SERVICES = ["identity", "nominations", "approvals", "training", "notifications", "governance"]


def _all_metadata() -> list[sa.MetaData]:
    return [bus_metadata] + [importlib.import_module(f"{s}.adapters.orm").metadata for s in SERVICES]


def test_every_point_in_time_of_every_table_is_a_utc_datetime() -> None:
    plain = [
        f"{table.name}.{column.name}"
        for metadata in _all_metadata()
        for table in metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, sa.DateTime) and not isinstance(column.type, UtcDateTime)
    ]
    assert plain == [], f"columns bypassing the platform's time type: {plain}"


@pytest.fixture
def moments(pg_database: str) -> sa.Table:
    metadata = new_metadata()
    table = sa.Table("moments", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", UtcDateTime()))
    engine = make_engine(pg_database)
    metadata.create_all(engine)
    table.info["engine"] = engine
    return table


def test_a_naive_datetime_is_refused_rather_than_read_as_local_time(moments: sa.Table) -> None:
    engine = moments.info["engine"]
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), engine.begin() as conn:
        conn.execute(moments.insert().values(id=1, at=dt.datetime(2026, 3, 1, 9, 0)))  # noqa: DTZ001 - the point
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(moments)).scalar() == 0


def test_times_come_back_aware_in_utc_whatever_the_session_zone(moments: sa.Table) -> None:
    engine = moments.info["engine"]
    beijing = dt.datetime(2026, 3, 1, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    with engine.begin() as conn:
        conn.execute(sa.text("SET TIME ZONE 'Asia/Shanghai'"))
        conn.execute(moments.insert().values(id=1, at=beijing))
        got = conn.execute(sa.select(moments.c.at)).scalar_one()
    assert got == beijing
    assert got.tzinfo is dt.UTC
    assert got - dt.datetime.now(dt.UTC) < dt.timedelta(0)  # an aware value subtracts from an aware now


def test_a_sqlite_url_is_refused_at_start_up_naming_what_needs_postgresql() -> None:
    with pytest.raises(ConfigError, match=r"needs PostgreSQL \(FOR UPDATE SKIP LOCKED, LISTEN/NOTIFY"):
        make_engine("sqlite:///var/approvals.db")


def test_no_database_url_is_a_clear_start_up_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("APPROVALS_DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match=r"APPROVALS_DATABASE_URL .* `make run` sets it"):
        load_settings("approvals")


def test_a_pooled_connection_the_server_ended_is_replaced_at_checkout_without_an_error(pg_database: str) -> None:
    """No `SELECT 1` before every checkout: a connection PostgreSQL closed while it sat in the pool (a restart, an
    administrator's pg_terminate_backend) is noticed from its socket and replaced; the caller never sees it."""
    engine = make_engine(pg_database, pool_size=1, max_overflow=0)
    with engine.connect() as conn:
        victim = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    with psycopg.connect(pg_database.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (victim,)).fetchone() == (True,)
        wait_until(
            lambda: admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (victim,)).fetchone() == (0,),
            10,
            0.05,
            "the backend gone",
        )
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != victim
    engine.dispose()


def test_a_forked_worker_opens_its_own_connections_and_the_parents_pooled_one_stays_usable(pg_database: str) -> None:
    """gunicorn forks every web worker from a master that imported the app (`preload_app`): a connection pooled
    before the fork must never be used by two processes, whose protocol streams would interleave on one socket."""
    engine = make_engine(pg_database, pool_size=1, max_overflow=0)
    with engine.connect() as conn:
        parents = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe and never returns to pytest
        code = 1
        try:
            with engine.connect() as conn:
                os.write(write_end, str(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    _, status = os.waitpid(child, 0)
    with os.fdopen(read_end) as reported:
        childs = int(reported.read() or 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert childs not in (0, parents)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() == parents
    engine.dispose()


def test_a_single_read_costs_one_round_trip_and_the_next_session_has_its_transaction_again(pg_database: str) -> None:
    """The active-account check on every request reads with one statement: no BEGIN before it, no ROLLBACK after
    (two round trips of three). The connection goes back to the pool in transaction mode, so a unit of work that
    checks it out next still writes atomically."""
    engine = make_engine(pg_database, pool_size=1, max_overflow=0)
    sessions = make_session_factory(engine)
    with sessions() as session:
        read_outside_transaction(session)
        assert session.execute(sa.text("SELECT 1")).scalar_one() == 1
        driver = session.connection().connection.dbapi_connection
        assert driver is not None
        # No transaction was opened (psycopg sends BEGIN before the first statement otherwise): nothing to roll back.
        assert driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with sessions() as session:
        session.execute(sa.text("SELECT 1"))
        driver = session.connection().connection.dbapi_connection
        assert driver is not None
        assert driver.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    engine.dispose()
