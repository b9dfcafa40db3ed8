"""停用 in a service other than identity: the token check reads the directory projection's `is_active`, kept in the web
process's memory (the production wiring, `WiredService.is_disabled`). A disabled account's still-valid token is
refused on the very next request in the process that applied identity.user.updated, as soon as the trigger's
notification arrives when another process applied it, and at once while the process cannot listen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from governance.bootstrap import GovernanceService
from governance.entrypoints.web import create_app
from sqlalchemy.engine import make_url

from shared.auth import ActiveAccountsOnly
from shared.bus.envelope import CloudEvent
from tests.helpers import wait_until
from tests.integration.governance.conftest import DISTRICT, apply_events
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration

USER = {"user_id": "district-1", "username": "d1", "display_name": "区审核员", "org_code": "150302"}


@pytest.fixture
def checked(issuer: TestIssuer, governance_service: GovernanceService) -> FlaskClient:
    """The service with the verifier it builds in production, over the test issuer's keys."""
    given = issuer.verifier()
    governance_service.given_verifier = ActiveAccountsOnly(given.settings, given.keys, governance_service.is_disabled)
    return create_app(governance_service).test_client()


def _user_event(active: bool) -> CloudEvent:
    return CloudEvent(
        "identity.user.updated", "/cio/identity", {"user": {**USER, "is_active": active}, "changed": ["is_active"]}
    )


def _database(service: GovernanceService) -> psycopg.Connection:
    """Another process's connection (the worker's, say): a writer the web process hears of only by NOTIFY."""
    url = make_url(service.settings.database_url).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


@contextmanager
def _trigger_silenced(service: GovernanceService, *triggers: str) -> Iterator[None]:
    """No notification for a change to is_active (and for each of `triggers`): only the process's own forgetting
    (or its not listening) can make it see the change."""
    silenced = ("directory_users_activity_changed", *triggers)
    with _database(service) as other:
        for trigger in silenced:
            other.execute(f"ALTER TABLE directory_users DISABLE TRIGGER {trigger}")
    try:
        yield
    finally:
        with _database(service) as other:
            for trigger in silenced:
                other.execute(f"ALTER TABLE directory_users ENABLE TRIGGER {trigger}")


@contextmanager
def _active_flag_reads(service: GovernanceService) -> Iterator[list[str]]:
    """The statements that read an account's active flag while the block runs."""
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "directory_users.is_active" in statement:
            seen.append(statement)

    sa.event.listen(service.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(service.engine, "before_cursor_execute", record)


def _status(client: FlaskClient, headers: dict[str, str]) -> int:
    return client.get("/api/project-plans", headers=headers).status_code


def test_a_known_active_accounts_request_reads_no_row_for_the_check(
    checked: FlaskClient, issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    apply_events(governance_service, [_user_event(True)])
    headers = issuer.headers("district-1", DISTRICT)
    assert _status(checked, headers) == 200
    with _active_flag_reads(governance_service) as reads:
        assert _status(checked, headers) == 200
    assert reads == []


def test_an_account_the_directory_has_not_heard_of_costs_one_read_and_is_then_kept(
    checked: FlaskClient, issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    """Approvals hears of a user only when the user changes: most accounts are unknown to a projection, and their
    every request must not cost a round trip for the check."""
    headers = issuer.headers("district-1", DISTRICT)
    with _active_flag_reads(governance_service) as reads:
        assert _status(checked, headers) == 200
        assert _status(checked, headers) == 200
    assert len(reads) == 1


def test_an_unknown_accounts_first_event_停用_written_by_another_process_is_refused_once_the_notification_arrives(
    checked: FlaskClient, issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    headers = issuer.headers("district-1", DISTRICT)
    assert _status(checked, headers) == 200
    assert _status(checked, headers) == 200  # kept as not disabled
    with _database(governance_service) as other:
        other.execute(
            "INSERT INTO directory_users (user_id, username, display_name, locale, org_code, profile, is_active, "
            "updated_at) VALUES ('district-1', 'd1', '区审核员', 'zh-CN', '150302', '{}', false, now())"
        )
    # The INSERT trigger's notification reaches the process as the row commits: at most a moment later.
    wait_until(lambda: _status(checked, headers) == 401, timeout=5, message="the refusal")
    assert _status(checked, headers) == 401


def test_an_unknown_accounts_first_event_停用_applied_by_this_process_is_refused_on_its_next_request(
    checked: FlaskClient, issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    headers = issuer.headers("district-1", DISTRICT)
    assert _status(checked, headers) == 200  # kept as not disabled
    with _trigger_silenced(governance_service, "directory_users_added_or_removed"):
        apply_events(governance_service, [_user_event(False)])
        assert _status(checked, headers) == 401


def test_an_account_disabled_by_this_process_is_refused_on_its_next_request(
    checked: FlaskClient, issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    apply_events(governance_service, [_user_event(True)])
    headers = issuer.headers("district-1", DISTRICT)
    assert _status(checked, headers) == 200  # kept in memory
    with _trigger_silenced(governance_service):
        apply_events(governance_service, [_user_event(False)])
        assert _status(checked, headers) == 401
        apply_events(governance_service, [_user_event(True)])
        assert _status(checked, headers) == 200


def test_an_account_disabled_by_another_process_is_refused_once_the_notification_arrives(
    checked: FlaskClient, issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    apply_events(governance_service, [_user_event(True)])
    headers = issuer.headers("district-1", DISTRICT)
    assert _status(checked, headers) == 200
    assert _status(checked, headers) == 200  # from memory now
    with _database(governance_service) as other:
        other.execute("UPDATE directory_users SET is_active = false WHERE user_id = 'district-1'")
    # The trigger's notification reaches the process as the UPDATE commits: at most a moment later.
    wait_until(lambda: _status(checked, headers) == 401, timeout=5, message="the refusal")
    assert _status(checked, headers) == 401
    with _database(governance_service) as other:
        other.execute("DELETE FROM directory_users WHERE user_id = 'district-1'")
    wait_until(lambda: _status(checked, headers) == 200, timeout=5, message="no longer known as disabled")


def test_without_its_listening_connection_the_process_reads_the_flag_from_the_database(
    checked: FlaskClient, issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    apply_events(governance_service, [_user_event(True)])
    headers = issuer.headers("district-1", DISTRICT)
    assert _status(checked, headers) == 200  # kept in memory
    with _trigger_silenced(governance_service), _database(governance_service) as other:
        # The listener is gone (a restart, a terminated backend: waited for) and any notification with it.
        other.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE query = 'LISTEN directory_users'"
            " AND datname = current_database()"
        )
        other.execute("UPDATE directory_users SET is_active = false WHERE user_id = 'district-1'")
        assert _status(checked, headers) == 401
        with _active_flag_reads(governance_service) as reads:
            other.execute("UPDATE directory_users SET is_active = true WHERE user_id = 'district-1'")
            assert _status(checked, headers) == 200
            assert _status(checked, headers) == 200
        assert len(reads) == 2  # nothing kept while not listening: each request asked the database
