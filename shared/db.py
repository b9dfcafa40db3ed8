"""Engine and sessions per process, and the unit of work that rolls back unless committed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, Self

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine for one process; SQLite gets WAL and foreign keys so it behaves like a server."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # see _sqlite_begin
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # pysqlite manages transactions itself and gets savepoints wrong; take control of BEGIN.
            connection.exec_driver_sql("BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def is_postgres(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


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
