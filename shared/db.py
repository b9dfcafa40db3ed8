"""Engine and sessions per process, the one time type, and the unit of work that rolls back unless committed.

The platform runs on PostgreSQL only: `FOR UPDATE SKIP LOCKED` (relays and timers sharing work), LISTEN/NOTIFY
(the outbox wake-up), advisory locks (one active appointment per school), partial unique indexes and the
append-only audit trigger are part of its correctness, and several processes write each database. Without a
`DATABASE_URL`, `make run` starts an embedded PostgreSQL of its own (`shared.embedded_db`), so the default is
the product and not a lesser copy of it.
"""

from __future__ import annotations

import datetime as dt
import select
from collections.abc import Callable, Iterable
from typing import Any, Protocol, Self

from sqlalchemy import DateTime, Dialect, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from shared.config import ConfigError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A point in time, stored as UTC `timestamptz` and always read back time-zone aware.

    Every table of every service uses this type (never `DateTime` itself), so no naive datetime can be written
    (it is refused, instead of being read as the server's local time) and none comes back, whatever the driver.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: the platform stores aware UTC times")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine for one process; anything but PostgreSQL is refused here, at start-up, with the reason."""
    backend = make_url(url).get_backend_name()
    if backend != "postgresql":
        raise ConfigError(
            f"the database URL names {backend!r}, but the platform needs PostgreSQL (FOR UPDATE SKIP LOCKED, "  # noqa: S608 - a message, not SQL
            "LISTEN/NOTIFY, advisory locks, the append-only audit trigger, several writers per database). "
            "Leave DATABASE_URL unset and `make run` starts an embedded PostgreSQL under var/, "
            "or set it to postgresql+psycopg://user@host:5432/db"
        )
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "checkout", _drop_if_closed_by_server)
    return engine


def _drop_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Stale pooled connections are caught at checkout without a round trip (instead of `pool_pre_ping`'s
    `SELECT 1`, which was a third of identity's time per request): an idle connection has nothing to read, so a
    readable socket means the server closed it (restart, `pg_terminate_backend`, idle timeout: PostgreSQL sends
    its FATAL notice and closes). Raising DisconnectionError makes the pool discard it and check out another."""
    if dbapi_connection.closed or getattr(dbapi_connection, "broken", False):
        raise DisconnectionError("the pooled connection is closed")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    if poller.poll(0):
        raise DisconnectionError("the server closed this pooled connection while it was idle")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def read_outside_transaction(session: Session) -> Session:
    """Let `session` run its statements in autocommit: for a request that reads with one statement (the
    account-active check on every authenticated request, one record by key), a transaction around it only adds a
    BEGIN and a ROLLBACK, two more round trips to the database, and the profile of GET /api/orgs/{code} spent most
    of its time waiting on such round trips. One statement reads one snapshot either way; do not use it where two
    reads must agree. Call it before the session's first statement (it picks the connection); the pool puts the
    connection back in transaction mode when it returns, without a round trip."""
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session


def ping(engine: Engine) -> None:
    """Raise unless the database answers; uses the pool, so it reuses open connections."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


class HasEvents(Protocol):
    events: list[Any]


class UnitOfWork(Protocol):
    """What handlers need from a unit of work; fakes in unit tests implement the same."""

    def __enter__(self) -> Self: ...
    def __exit__(self, *args: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class SqlAlchemyUnitOfWork:
    """One transaction: `with uow: ...; uow.commit()`; leaving the block without commit rolls back.

    Events raised by aggregates the unit of work has seen, and events added with `publish`,
    are written to the outbox in the same transaction as the state change.
    """

    def __init__(self, session_factory: Callable[[], Session], source: str) -> None:
        self._session_factory = session_factory
        self.source = source
        self._pending: list[Any] = []
        self._seen: list[HasEvents] = []

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self._pending = []
        self._seen = []
        self.on_enter()
        return self

    def on_enter(self) -> None:
        """Subclasses build their repositories here."""

    def __exit__(self, *args: object) -> None:
        # Closing rolls back whatever was not committed, and (unlike rollback) leaves the loaded
        # objects readable for the caller, detached.
        self.session.close()

    def track(self, aggregate: HasEvents) -> None:
        self._seen.append(aggregate)

    def publish(self, *events: Any) -> None:
        self._pending.extend(events)

    def collect_events(self) -> Iterable[Any]:
        for aggregate in self._seen:
            while aggregate.events:
                yield aggregate.events.pop(0)
        while self._pending:
            yield self._pending.pop(0)

    def commit(self) -> None:
        from shared.bus.outbox import add_to_outbox

        add_to_outbox(self.session, self.source, list(self.collect_events()))
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
