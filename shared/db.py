"""Engine and sessions per process, the one time type, and the unit of work that rolls back unless committed.

The platform runs on PostgreSQL only: `FOR UPDATE SKIP LOCKED` (relays and timers sharing work), LISTEN/NOTIFY
(the outbox wake-up), advisory locks (one active appointment per school), partial unique indexes and the
append-only audit trigger are part of its correctness, and several processes write each database. Without a
`DATABASE_URL`, `make run` starts an embedded PostgreSQL of its own (`shared.embedded_db`), so the default is
the product and not a lesser copy of it.
"""

from __future__ import annotations

import abc
import datetime as dt
import enum
import itertools
import operator
import os
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from select import POLLERR, POLLHUP, POLLIN, poll
from typing import Any, Generic, Protocol, Self, TypeVar, overload

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Enum,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Uuid,
    bindparam,
    create_engine,
    event,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy import (
    column as column_clause,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, registry, sessionmaker
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


def insert_from_json(table: Table, skip: Iterable[str] = ()) -> tuple[Insert, list[Column[Any]]]:
    """`INSERT INTO table (c, …) SELECT c, … FROM json_populate_recordset(NULL::table, :rows)`: any number of rows
    as one JSON array (`json_rows`), typed by the table's own row type.

    Built once per process: its text never changes with the number of rows, so SQLAlchemy compiles it once,
    psycopg parses it once and PostgreSQL plans it once, and no row count reaches the 65,535 parameters a statement
    takes. A multi-row `insert().values([...])` has no cache key at all (SQLAlchemy compiles it on every execution,
    8 % of the approvals web's CPU on the deadline day for the outbox's one row); an executemany's
    insertmanyvalues writes the rows into the text, a statement of its own for every number of rows, which psycopg
    split placeholder by placeholder in Python each time (about a tenth of the notifications worker's samples under
    bench.notifications)."""
    columns = [c for c in table.columns if c.name not in set(skip)]
    rows = func.json_populate_recordset(literal_column(f"NULL::{table.name}"), bindparam("rows", type_=JSON))
    fields = rows.table_valued(*[column_clause(c.name, c.type) for c in columns])
    return insert(table).from_select([c.name for c in columns], select(*fields.c)), columns


def json_rows(columns: Sequence[Column[Any]], rows: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The rows as `insert_from_json`'s statement takes them: every row names every column (no column default fills
    in here); ids as text, times through their column type (a naive one refused, as ever) and then as ISO text,
    which PostgreSQL reads back exactly (microseconds and offset). Rows often share a few times (a unit of work's
    `now`): each distinct one is spelled once."""
    names = [c.name for c in columns]
    ids = [c.name for c in columns if isinstance(c.type, Uuid)]
    times = [c.name for c in columns if isinstance(c.type, UtcDateTime)]
    spelled: dict[dt.datetime | None, str | None] = {None: None}
    out = []
    for row in rows:
        values = {n: row[n] for n in names}
        for n in ids:
            if values[n] is not None:
                values[n] = str(values[n])
        for n in times:
            at = values[n]
            if at not in spelled:
                spelled[at] = _utc_text(at)
            values[n] = spelled[at]
        out.append(values)
    return {"rows": out}


_POSTGRESQL = postgresql.dialect()
_UTC = UtcDateTime()


def _utc_text(value: dt.datetime | None) -> str | None:
    at = _UTC.process_bind_param(value, _POSTGRESQL)
    return None if at is None else at.isoformat()


def id_column() -> Column[uuid.UUID]:
    """The `id` primary key of an aggregate's table: a UUID the domain mints, so a new record has its identity
    (and its events their subject) before the INSERT."""
    return Column("id", Uuid, primary_key=True)


def timestamps() -> tuple[Column[dt.datetime], Column[dt.datetime]]:
    """`created_at` and `updated_at` of a record that changes after it is made, both always set (UTC)."""
    return created_at_column(), Column("updated_at", UtcDateTime(), nullable=False)


def created_at_column() -> Column[dt.datetime]:
    """`created_at` of a record, always set (UTC)."""
    return Column("created_at", UtcDateTime(), nullable=False)


def version_column() -> Column[int]:
    """`version`, the counter `AggregateMapping(versioned=True)` hands SQLAlchemy as `version_id_col`."""
    return Column("version", Integer, nullable=False)


def org_columns(prefix: str = "org", name: str | None = None) -> tuple[Column[Any], ...]:
    """The org a record belongs to, as the directory knew it: `<prefix>_code`, `<prefix>_path` (indexed: listings
    are filtered by subtree) and, where the record keeps it, the org's `name` column; all always set."""
    named = (Column(name, String(200), nullable=False),) if name else ()
    return (
        Column(f"{prefix}_code", String(32), nullable=False),
        Column(f"{prefix}_path", String(400), nullable=False, index=True),
        *named,
    )


def act_columns(act: str) -> tuple[Column[str], Column[dt.datetime]]:
    """Who did `act` (`<act>_by`, a username) and when (`<act>_at`, UTC), both always set."""
    return Column(f"{act}_by", String(100), nullable=False), Column(f"{act}_at", UtcDateTime(), nullable=False)


def enum_type(cls: type[enum.Enum], length: int = 20) -> Enum:
    """A domain enum column's type: read back as the enum's member, stored as a VARCHAR of its value (no database
    enum type, no CHECK)."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


def unique_where(name: str, *columns: str, where: str) -> Index:
    """A unique index over only the rows `where` holds (a PostgreSQL partial index): at most one live row per key,
    however many closed ones."""
    return Index(name, *columns, unique=True, postgresql_where=text(where))


def file_columns() -> tuple[Column[Any], ...]:
    """An uploaded file kept in its record's table: the name it came with, its type, size, SHA-256 (what
    `shared.files.uploaded` checked) and bytes, and when it came (the same columns wherever a service keeps files)."""
    return (
        Column("filename", String(200), nullable=False),
        Column("content_type", String(100), nullable=False),
        Column("size", Integer, nullable=False),
        Column("sha256", String(64), nullable=False),
        Column("data", LargeBinary, nullable=False),
        Column("uploaded_at", UtcDateTime(), nullable=False),
    )


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
    _ENGINES.add(engine)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "checkout", _drop_if_closed_by_server)
    event.listen(engine, "commit", _refuse_to_commit_aborted)
    return engine


# Every engine of this process, so a forked child (gunicorn's workers, forked from a master that imported the app
# under `preload_app`; anything using os.fork) starts with empty pools: a pooled connection's socket shared by two
# processes would interleave their protocol streams. `close=False`: the parent still owns those connections; the
# child only forgets them.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_inherited_connections() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


class TransactionAborted(RuntimeError):
    """PostgreSQL aborted the transaction at a statement whose error was caught and not raised again."""


def transaction_aborted(connection: Connection) -> bool:
    """Whether PostgreSQL has aborted `connection`'s transaction: a statement in it failed and the error was caught.
    Read from the driver's own state (libpq's), so it costs no round trip."""
    driver: psycopg.Connection[Any] = connection.connection.driver_connection  # type: ignore[assignment]
    return driver.info.transaction_status == TransactionStatus.INERROR


def _refuse_to_commit_aborted(connection: Connection) -> None:
    """Raise instead of committing an aborted transaction. PostgreSQL answers COMMIT with ROLLBACK there and psycopg
    reports no error, so a unit of work whose code swallowed a statement's error would lose all its writes (and a
    consumer would ack the window it was applying) as if they had been saved. The driver connection is rolled back
    first, as COMMIT would have done: SQLAlchemy takes a failed commit for the end of the transaction and hands the
    connection back to the pool without another rollback, which must not get it aborted."""
    if transaction_aborted(connection):
        connection.connection.dbapi_connection.rollback()  # type: ignore[union-attr]
        raise TransactionAborted(
            "the transaction was aborted by a statement whose error was caught; nothing of it is committed"
        )


def _drop_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Stale pooled connections are caught at checkout without a round trip (instead of `pool_pre_ping`'s
    `SELECT 1`, which was a third of identity's time per request): an idle connection has nothing to read, so a
    readable socket means the server closed it (restart, `pg_terminate_backend`, idle timeout: PostgreSQL sends
    its FATAL notice and closes). Raising DisconnectionError makes the pool discard it and check out another."""
    if dbapi_connection.closed or getattr(dbapi_connection, "broken", False):
        raise DisconnectionError("the pooled connection is closed")
    poller = poll()
    poller.register(dbapi_connection.fileno(), POLLIN | POLLERR | POLLHUP)
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


def record_scope(
    session: Session,
    target: str | None,
    columns: Sequence[Column[Any]],
    loaded: Iterable[object] = (),
) -> str | None:
    """The org path an audit row's `target` is about when the target is a record's UUID: the first of `columns`
    (org path columns, each of a table keyed by `id`) that has a row for it; None for any other target.

    A record this transaction added but has not flushed yet, or one already `loaded`, answers from its attribute of
    that name, without a query. The queries run without autoflush, so writing an audit row never moves a flush (and
    the constraint errors a handler expects at commit) into `audit()`."""
    try:
        record = uuid.UUID(target or "")
    except ValueError:
        return None
    attributes = list(dict.fromkeys(column.key for column in columns))
    for obj in itertools.chain(session.new, loaded):
        if getattr(obj, "id", None) == record:
            for attribute in attributes:
                value = getattr(obj, attribute, None)
                if isinstance(value, str):
                    return value
    with session.no_autoflush:
        for column in columns:
            path = session.execute(select(column).where(column.table.c.id == record)).scalar_one_or_none()
            if path is not None:
                return str(path)
    return None


class HasEvents(Protocol):
    events: list[Any]


A = TypeVar("A", bound=HasEvents)

# Numbers every sighting of an aggregate, across the repositories of a unit of work, so its events leave in the
# order the aggregates were first seen, whichever repository saw them (a case decided before the appointment it
# made, a rectification failed before the appointment it revoked).
_sightings = itertools.count()


class Repository:
    """What every repository shares with its fake: the aggregates it handed out or took in are `seen`, so the
    unit of work that owns it can collect their events on commit (cosmicpython's `seen`)."""

    def __init__(self) -> None:
        self._sightings: list[tuple[int, HasEvents]] = []

    @property
    def seen(self) -> list[HasEvents]:
        return [aggregate for _, aggregate in self._sightings]

    def _saw(self, aggregate: A) -> A:
        self._sightings.append((next(_sightings), aggregate))
        return aggregate


def where_given(query: Select[Any], *filters: tuple[Any, Any]) -> Select[Any]:
    """`query` narrowed to `column == value` for each `(column, value)` filter the caller gave; an empty or None
    value leaves the listing whole, which is what every optional filter of a list endpoint means."""
    for column, value in filters:
        if value:
            query = query.where(column == value)
    return query


class SqlRepository(Repository, Generic[A]):
    """A repository of `A` aggregates over the unit of work's session (one per unit of work, built when it is
    entered)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def add(self, aggregate: A) -> None:
        self.session.add(aggregate)
        self._saw(aggregate)

    def _get(self, cls: type[A], key: Any) -> A | None:
        """The aggregate of this class with this primary key (seen), or None."""
        found = self.session.get(cls, key)
        return None if found is None else self._saw(found)

    def _one(self, query: Select[Any], lock: bool = False) -> Any | None:
        """The one aggregate the query finds (seen), or None; `lock` holds its row until the transaction ends."""
        found = self.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
        return None if found is None else self._saw(found)

    def _all(self, query: Select[Any]) -> list[Any]:
        """Every aggregate the query finds, each seen: the caller is about to change them."""
        return [self._saw(found) for found in self.session.execute(query).scalars()]

    def _read(self, query: Select[Any]) -> list[Any]:
        """Every aggregate the query finds, not seen: the caller only reads them (a listing)."""
        return list(self.session.execute(query).scalars())


class AbstractUnitOfWork(abc.ABC):
    """One business transaction (cosmicpython): `with uow: ...; uow.commit()`; leaving the block without commit
    rolls back. The events of the aggregates its repositories have seen, and events added with `publish`, leave
    with the commit. Handlers are written against this; unit tests pass a fake that subclasses it (in-memory
    repositories, a `committed` flag, the events it collected), the services a SQLAlchemy one.

    Repositories are attributes (a SQLAlchemy unit of work declares them with `OverSession`, anything else builds
    them in `on_enter`); every attribute that is a `Repository` is asked for what it has seen."""

    def __enter__(self) -> Self:
        self._pending: list[Any] = []
        self._tracked: list[tuple[int, HasEvents]] = []
        self.on_enter()
        return self

    def on_enter(self) -> None:  # noqa: B027 - a hook: a unit of work without repositories needs none
        """Subclasses build here what their declarations do not (repositories that need more than a session)."""

    def __exit__(self, *args: object) -> None:
        self.rollback()

    def track(self, aggregate: HasEvents) -> None:
        """An aggregate loaded outside a repository whose events must leave with the commit."""
        self._tracked.append((next(_sightings), aggregate))

    def publish(self, *events: Any) -> None:
        """Events that belong to no aggregate (a projection's news), written to the outbox on commit."""
        self._pending.extend(events)

    @property
    def seen(self) -> list[HasEvents]:
        """Every aggregate this unit of work has seen (tracked, or through a repository), in the order first seen."""
        repositories = [value for value in vars(self).values() if isinstance(value, Repository)]
        sightings = [*self._tracked, *(seen for repository in repositories for seen in repository._sightings)]
        return [aggregate for _, aggregate in sorted(sightings, key=operator.itemgetter(0))]

    def collect_events(self) -> Iterable[Any]:
        for aggregate in self.seen:
            while aggregate.events:
                yield aggregate.events.pop(0)
        while self._pending:
            yield self._pending.pop(0)

    def commit(self) -> None:
        self._commit(list(self.collect_events()))

    @abc.abstractmethod
    def _commit(self, events: list[Any]) -> None:
        """Make the changes and the events durable together."""

    @abc.abstractmethod
    def rollback(self) -> None: ...


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    """The unit of work over one database session: the events go to the outbox in the same transaction as the
    state change."""

    def __init__(self, session_factory: Callable[[], Session], source: str) -> None:
        self._session_factory = session_factory
        self.source = source

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        for cls in reversed(type(self).__mro__):  # a subclass's declaration wins over its base's
            for name, declared in vars(cls).items():
                if isinstance(declared, OverSession):
                    setattr(self, name, declared.build(self.session))
        return super().__enter__()

    def __exit__(self, *args: object) -> None:
        # Closing rolls back whatever was not committed, and (unlike rollback) leaves the loaded
        # objects readable for the caller, detached.
        self.session.close()

    def _commit(self, events: list[Any]) -> None:
        from shared.bus.outbox import add_to_outbox

        add_to_outbox(self.session, self.source, events)
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


R = TypeVar("R")


class OverSession(Generic[R]):
    """A repository of a SQLAlchemy unit of work, declared once as a class attribute
    (`cases = OverSession(CaseRepository)`): entering the unit of work builds it over the new session, and
    `uow.cases` is typed as the repository. Use `on_enter` only for what needs more than the session."""

    def __init__(self, build: Callable[[Session], R]) -> None:
        self.build = build

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, uow: None, owner: type) -> Self: ...

    @overload
    def __get__(self, uow: object, owner: type) -> R: ...

    def __get__(self, uow: object, owner: type) -> Self | R:
        if uow is None:
            return self
        raise AttributeError(f"{self.name}: the unit of work builds its repositories when it is entered")


@dataclass(frozen=True)
class AggregateMapping:
    """How one domain class maps onto its table (what `map_imperatively` is told). `versioned`: the table's
    `version` column is SQLAlchemy's `version_id_col`, so an UPDATE that lost a race with another transaction
    fails (StaleDataError) instead of overwriting it (optimistic locking, for aggregates two people may change
    at once). `domain_counts_versions`: the domain class counts its own versions (clients send that number back
    as an ETag), so SQLAlchemy checks the column on every UPDATE but never sets it."""

    cls: type
    table: Table
    versioned: bool = False
    domain_counts_versions: bool = False
    properties: Callable[[], dict[str, Any]] | None = None
    # False for an entity that lives inside another aggregate and raises no events of its own.
    raises_events: bool = True


def map_imperatively_once(mapper_registry: registry, *mappings: AggregateMapping) -> None:
    """Map the domain classes once per process (a later call does nothing), keeping the domain free of
    SQLAlchemy. A loaded object gets an empty `events` list, since SQLAlchemy does not call `__init__`."""
    if mapper_registry.mappers:
        return
    for mapping in mappings:
        mapper_registry.map_imperatively(
            mapping.cls,
            mapping.table,
            version_id_col=mapping.table.c.version if mapping.versioned else None,
            version_id_generator=False if mapping.domain_counts_versions else None,
            properties=mapping.properties() if mapping.properties else None,
        )
        if mapping.raises_events:
            event.listen(mapping.cls, "load", _fresh_events)


def _fresh_events(target: Any, _context: Any) -> None:
    target.events = []
