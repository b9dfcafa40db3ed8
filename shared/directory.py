"""The directory projection (目录): identity's orgs, users and role grants as every other service keeps them.

Services other than identity need names (a school's, a person's), the org tree (scope, which schools lie under a
county) and who holds which role where (who reviews, whom to notify), and refuse a disabled account's tokens. They
keep one copy, in these three tables of their own database (shared's, made by the `shared` Alembic branch), fed by
identity's events through the handlers below: one function per event type, taking the event's data and the
consumer's session, never committing (the consumer commits them with the inbox row). Upserts keyed by identity's
ids make a replayed or reordered event harmless.

Each service subscribes to the events it needs (`HANDLERS` maps the types), so a service that only refuses disabled
accounts and names orgs holds no grants; a user row may know only what the events so far said.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, sessionmaker

from shared.bus.tables import bus_metadata
from shared.contracts import EventContract, consumes
from shared.contracts.identity import OrgUpserted, RoleGranted, RoleRevoked, UserProvisioned
from shared.db import UtcDateTime
from shared.notified_cache import NotifiedCache
from shared.scope import within_any

directory_orgs = sa.Table(
    "directory_orgs",
    bus_metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("path", sa.String(400), nullable=False, unique=True),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("parent_code", sa.String(32)),
    sa.Column("updated_at", UtcDateTime()),
)

directory_users = sa.Table(
    "directory_users",
    bus_metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), index=True),
    sa.Column("display_name", sa.String(100), comment="none while only the account's status is known"),
    sa.Column("email", sa.String(254)),
    sa.Column("phone", sa.String(32)),
    sa.Column("locale", sa.String(16), nullable=False, default="zh-CN"),
    sa.Column("org_code", sa.String(32), index=True),
    sa.Column("gender", sa.String(16)),
    sa.Column("birth_date", sa.Date),
    sa.Column(
        "profile", sa.JSON, comment="学历, 民族, 教龄, 职务, 职称, 政治面貌 from identity: what the forms prefill"
    ),
    sa.Column("is_active", sa.Boolean, nullable=False, default=True, comment="false while disabled (停用)"),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

directory_grants = sa.Table(
    "directory_grants",
    bus_metadata,
    sa.Column("grant_id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(64), nullable=False, index=True),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("org_code", sa.String(32)),
    sa.Column("org_path", sa.String(400), nullable=False),
    sa.Index("ix_directory_grants_role_path", "role", "org_path"),
)


# The channel shared_0003's trigger on directory_users notifies with the id of each user whose `is_active` changed.
USERS_CHANNEL = "directory_users"
# Where a session collects the users its transaction wrote, for `forget_users_after_commit`.
_CHANGED_USERS = "directory_users_changed"


class HasSession(Protocol):
    """A unit of work, as far as the directory's handlers need one."""

    session: Session


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _upsert(session: Session, table: sa.Table, values: dict[str, Any]) -> None:
    """INSERT … ON CONFLICT (primary key) DO UPDATE the given columns."""
    statement = postgresql.insert(table).values(**values)
    key = [c.name for c in table.primary_key.columns]
    session.execute(
        statement.on_conflict_do_update(
            index_elements=key, set_={k: statement.excluded[k] for k in values if k not in key}
        )
    )


# -- handlers: one per event type ---------------------------------------------------------------------
def on_user(data: Mapping[str, Any], session: Session) -> None:
    """identity.user.provisioned / .updated: who a person is, where they work, whether the account is active."""
    user = data.get("user") or {}
    birth_date = user.get("birth_date")
    # this process's active-account cache drops the user once the consumer commits (forget_users_after_commit)
    session.info.setdefault(_CHANGED_USERS, set()).add(str(user["user_id"]))
    _upsert(
        session,
        directory_users,
        {
            "user_id": str(user["user_id"]),
            "username": user.get("username"),
            "display_name": user.get("display_name") or user.get("username") or "",
            "email": user.get("email"),
            "phone": user.get("phone"),
            "locale": user.get("locale") or "zh-CN",
            "org_code": user.get("org_code"),
            "gender": user.get("gender"),
            "birth_date": dt.date.fromisoformat(birth_date) if birth_date else None,
            "profile": dict(user.get("profile") or {}),
            "is_active": user.get("is_active", True) is not False,
            "updated_at": _now(),
        },
    )


def on_org(data: Mapping[str, Any], session: Session) -> None:
    """identity.org.upserted: an org's name, level and place in the tree."""
    _upsert(
        session,
        directory_orgs,
        {
            "code": data["code"],
            "name": data.get("name") or data["code"],
            "path": data["path"],
            "level": data.get("level") or "",
            "parent_code": data.get("parent_code"),
            "updated_at": _now(),
        },
    )


def on_role_granted(data: Mapping[str, Any], session: Session) -> None:
    """identity.role.granted: who holds which role where."""
    _upsert(
        session,
        directory_grants,
        {
            "grant_id": str(data["grant_id"]),
            "user_id": str(data["user_id"]),
            "role": data["role"],
            "org_code": data.get("org_code"),
            "org_path": data.get("org_path") or "/",
        },
    )


def on_role_revoked(data: Mapping[str, Any], session: Session) -> None:
    """identity.role.revoked."""
    session.execute(sa.delete(directory_grants).where(directory_grants.c.grant_id == str(data["grant_id"])))


HANDLERS: Mapping[str, Callable[[Mapping[str, Any], Session], None]] = {
    "identity.user.provisioned": on_user,
    "identity.user.updated": on_user,
    "identity.org.upserted": on_org,
    "identity.role.granted": on_role_granted,
    "identity.role.revoked": on_role_revoked,
}


def project(event_type: str, data: Mapping[str, Any], session: Session) -> None:
    """Apply one identity event to the directory (a consumer's handler hands its event here)."""
    HANDLERS[event_type](data, session)


@consumes(UserProvisioned, OrgUpserted, RoleGranted, RoleRevoked)
def apply(event: EventContract, uow: HasSession) -> None:
    """An `EventConsumer` handler for identity's events, parsed through their contracts (what does not fit is
    refused, as in any consumer): the directory row changes with the inbox row."""
    project(event.event_type, event.data_as_sent(), uow.session)


def forget_users_after_commit(session_factory: sessionmaker[Session], cache: NotifiedCache[Any]) -> None:
    """Drop from `cache` the users a session of `session_factory` wrote once its transaction has committed: a
    process that applied 停用 itself refuses the account on its very next request, before the trigger's
    notification comes back to it. A rollback keeps what was collected for the session's next commit: forgetting a
    user who did not change costs one read, while a savepoint's rollback must not lose the users written before it."""

    def committed(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint released: nothing is visible to other sessions until the outer commit
        for user_id in session.info.pop(_CHANGED_USERS, ()):
            cache.forget(user_id)

    sa.event.listen(session_factory, "after_commit", committed)


# -- queries ------------------------------------------------------------------------------------------
def org(session: Session, code: str) -> sa.Row[Any] | None:
    return session.execute(sa.select(directory_orgs).where(directory_orgs.c.code == code)).first()


def orgs_by_code(session: Session, codes: Sequence[str]) -> dict[str, sa.Row[Any]]:
    rows = session.execute(sa.select(directory_orgs).where(directory_orgs.c.code.in_(list(codes))))
    return {r.code: r for r in rows}


def orgs_within(session: Session, path: str, levels: Sequence[str]) -> list[sa.Row[Any]]:
    """The orgs of these levels at `path` or under it, by path (a county's schools sit together)."""
    o = directory_orgs.c
    query = sa.select(directory_orgs).where(within_any(o.path, [path]), o.level.in_(list(levels))).order_by(o.path)
    return list(session.execute(query))


def holds(session: Session, user_id: str, role: str, org_path: str) -> bool:
    """Whether the user holds `role` at exactly `org_path`."""
    g = directory_grants.c
    query = sa.select(g.grant_id).where(g.user_id == user_id, g.role == role, g.org_path == org_path)
    return session.execute(query).first() is not None
