"""GET /api/orgs/{code} answers from the web process's memory (identity's org cache): never an org that changed."""

from __future__ import annotations

import psycopg
import pytest
from flask.testing import FlaskClient
from identity.bootstrap import Identity
from sqlalchemy.engine import make_url

from tests.helpers import wait_until
from tests.integration.identity.conftest import bearer

pytestmark = pytest.mark.integration

SCHOOL = "4108020001"


def _database(service: Identity) -> psycopg.Connection:
    """Another process's connection to identity's database: a writer the web process hears of only by NOTIFY."""
    url = make_url(service.settings.database_url).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _name(client: FlaskClient, headers: dict[str, str]) -> str:
    response = client.get(f"/api/orgs/{SCHOOL}", headers=headers)
    assert response.status_code == 200, response.json
    return str(response.json["name"])


def test_an_org_renamed_elsewhere_is_read_renamed(client: FlaskClient, identity_service: Identity) -> None:
    h = bearer(client, "admin")
    before = _name(client, h)
    assert _name(client, h) == before  # from memory now
    with _database(identity_service) as other:
        other.execute("UPDATE orgs SET name = '改名学校' WHERE code = %s", (SCHOOL,))
    # The trigger's notification reaches the process as the UPDATE commits: at most a moment later.
    wait_until(lambda: _name(client, h) == "改名学校", timeout=5, message="the renamed org")


def test_an_org_renamed_by_this_process_is_read_renamed_at_once(client: FlaskClient) -> None:
    h = bearer(client, "admin")
    assert _name(client, h) != "重命名小学"
    csv = f"code,name,level,parent_code\n{SCHOOL},重命名小学,school,410802\n"
    r = client.post("/api/orgs/import", data=csv.encode(), headers={**h, "Content-Type": "text/csv"})
    assert (r.status_code, r.json["updated"]) == (200, 1), r.json
    assert _name(client, h) == "重命名小学"


def test_without_its_listening_connection_the_process_reads_the_database(
    client: FlaskClient, identity_service: Identity
) -> None:
    h = bearer(client, "admin")
    _name(client, h)
    with _database(identity_service) as other:
        # The listener is gone (a restart, a terminated backend) and the rename's notification with it.
        other.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN identity_orgs'"
            " AND datname = current_database()"
        )
        other.execute("UPDATE orgs SET name = '断线后改名' WHERE code = %s", (SCHOOL,))
    assert _name(client, h) == "断线后改名"


def test_an_org_outside_the_scope_stays_404_when_kept_in_memory(client: FlaskClient) -> None:
    """The cache keeps rows, not answers: the caller's scope is checked on every read."""
    other_county = "4108210001"
    assert client.get(f"/api/orgs/{other_county}", headers=bearer(client, "admin")).status_code == 200
    assert client.get(f"/api/orgs/{other_county}", headers=bearer(client, "county.reviewer")).status_code == 404
