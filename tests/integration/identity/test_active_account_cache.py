"""停用 on identity's own token check, which keeps each account's `is_active` in the web process's memory: a disabled
account's still-valid access token is refused on the very next request in the process that disabled it, as soon as
the trigger's notification arrives in the others, and at once while the process cannot listen."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import jwt
import psycopg
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from identity.adapters.orm import users
from identity.bootstrap import Identity
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.helpers import wait_until
from tests.integration.identity.conftest import bearer, login

pytestmark = pytest.mark.integration


def _database(service: Identity) -> psycopg.Connection:
    """Another process's connection to identity's database: a writer the web process hears of only by NOTIFY."""
    url = make_url(service.settings.database_url).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _user_id(service: Identity, username: str) -> uuid.UUID:
    with service.session_factory() as session:
        return session.execute(select(users.c.id).where(users.c.username == username)).scalar_one()


def _held_token(client: FlaskClient, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {login(client, username)['access_token']}"}


@contextmanager
def _active_flag_reads(service: Identity) -> Iterator[list[str]]:
    """The statements that read an account's active flag while the block runs."""
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "users.is_active" in statement and "FROM users" in statement:
            seen.append(statement)

    sa.event.listen(service.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(service.engine, "before_cursor_execute", record)


@contextmanager
def _trigger_silenced(service: Identity) -> Iterator[None]:
    """No notification for a change to is_active: only the process's own forgetting (or its not listening) can
    make it see the change."""
    with _database(service) as other:
        other.execute("ALTER TABLE users DISABLE TRIGGER users_activity_changed")
    try:
        yield
    finally:
        with _database(service) as other:
            other.execute("ALTER TABLE users ENABLE TRIGGER users_activity_changed")


def test_a_known_active_accounts_request_reads_no_row_for_the_check(
    client: FlaskClient, identity_service: Identity
) -> None:
    held = _held_token(client, "school.admin")
    assert client.get("/api/me", headers=held).status_code == 200
    with _active_flag_reads(identity_service) as reads:
        assert client.get("/api/me", headers=held).status_code == 200
    assert reads == []


def test_an_account_disabled_by_another_process_is_refused_once_the_notification_arrives(
    client: FlaskClient, identity_service: Identity
) -> None:
    held = _held_token(client, "school.admin")
    assert client.get("/api/me", headers=held).status_code == 200
    assert client.get("/api/me", headers=held).status_code == 200  # from memory now
    with _database(identity_service) as other:
        other.execute("UPDATE users SET is_active = false WHERE username = 'school.admin'")
    # The trigger's notification reaches the process as the UPDATE commits: at most a moment later.
    wait_until(lambda: client.get("/api/me", headers=held).status_code == 401, timeout=5, message="the refusal")
    assert client.get("/api/me", headers=held).status_code == 401
    with _database(identity_service) as other:
        other.execute("UPDATE users SET is_active = true WHERE username = 'school.admin'")
    wait_until(lambda: client.get("/api/me", headers=held).status_code == 200, timeout=5, message="enabled again")


def test_an_account_disabled_by_this_process_is_refused_on_its_next_request(
    client: FlaskClient, identity_service: Identity
) -> None:
    held = _held_token(client, "school.admin")
    admin = bearer(client, "admin")
    user_id = _user_id(identity_service, "school.admin")
    assert client.get("/api/me", headers=held).status_code == 200  # kept in memory
    with _trigger_silenced(identity_service):
        assert client.post(f"/api/users/{user_id}/disable", headers=admin).status_code == 200
        assert client.get("/api/me", headers=held).status_code == 401
        assert client.post(f"/api/users/{user_id}/enable", headers=admin).status_code == 200
        assert client.get("/api/me", headers=held).status_code == 200


def test_a_token_naming_the_account_in_capitals_is_refused_as_well(
    client: FlaskClient, identity_service: Identity
) -> None:
    """The flag is kept under the id as PostgreSQL spells it, the key the trigger announces, whatever the `sub`."""
    claims = jwt.decode(login(client, "school.admin")["access_token"], options={"verify_signature": False})
    key = identity_service.keyring.signing_key()
    capitals = jwt.encode(
        {**claims, "sub": claims["sub"].upper()}, key.private_key, algorithm="ES256", headers={"kid": key.kid}
    )
    held = {"Authorization": f"Bearer {capitals}"}
    assert client.get("/api/me", headers=held).status_code == 200
    assert client.get("/api/me", headers=held).status_code == 200  # from memory now
    with _database(identity_service) as other:
        other.execute("UPDATE users SET is_active = false WHERE username = 'school.admin'")
    wait_until(lambda: client.get("/api/me", headers=held).status_code == 401, timeout=5, message="the refusal")


def test_without_its_listening_connection_the_process_reads_the_flag_from_the_database(
    client: FlaskClient, identity_service: Identity
) -> None:
    held = _held_token(client, "school.admin")
    assert client.get("/api/me", headers=held).status_code == 200  # kept in memory
    with _trigger_silenced(identity_service), _database(identity_service) as other:
        # The listener is gone (a restart, a terminated backend: waited for) and any notification with it.
        other.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE query = 'LISTEN identity_users'"
            " AND datname = current_database()"
        )
        other.execute("UPDATE users SET is_active = false WHERE username = 'school.admin'")
        assert client.get("/api/me", headers=held).status_code == 401
        with _active_flag_reads(identity_service) as reads:
            other.execute("UPDATE users SET is_active = true WHERE username = 'school.admin'")
            assert client.get("/api/me", headers=held).status_code == 200
            assert client.get("/api/me", headers=held).status_code == 200
        assert len(reads) == 2  # nothing kept while not listening: each request asked the database


def test_a_platform_administrators_me_asks_nothing_of_the_database_once_their_account_is_known(
    client: FlaskClient, identity_service: Identity
) -> None:
    """A platform-wide grant names no org, and the active flag is kept: not even a pooled connection is taken."""
    held = _held_token(client, "admin")
    assert client.get("/api/me", headers=held).status_code == 200
    checkouts: list[object] = []

    def record(*args: object) -> None:
        checkouts.append(args)

    sa.event.listen(identity_service.engine, "checkout", record)
    try:
        me = client.get("/api/me", headers=held)
    finally:
        sa.event.remove(identity_service.engine, "checkout", record)
    assert me.status_code == 200
    assert [(g["org_path"], g["org_name"]) for g in me.json["grants"]] == [("/", None)]
    assert checkouts == []
