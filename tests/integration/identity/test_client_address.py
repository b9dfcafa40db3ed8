"""The address identity audits is the real client's: X-Real-IP counts only when the gateway sends it."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from identity.bootstrap import Identity
from sqlalchemy import select

from shared.audit import audit_log

pytestmark = pytest.mark.integration


def _failed_login(client: FlaskClient, peer: str) -> None:
    client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": "nobody", "password": "wrong-password"},
        headers={"X-Real-IP": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": peer},
    )


def _audited_ips(service: Identity) -> list[str]:
    with service.session_factory() as session:
        query = select(audit_log.c.ip).where(audit_log.c.action == "login").order_by(audit_log.c.id)
        return list(session.execute(query).scalars())


def test_a_client_claiming_an_address_is_audited_under_its_own(client: FlaskClient, identity_service: Identity) -> None:
    _failed_login(client, "192.0.2.50")  # straight to identity, not through the gateway
    _failed_login(client, "127.0.0.1")  # the gateway (loopback, the default TRUSTED_PROXIES)
    assert _audited_ips(identity_service) == ["192.0.2.50", "203.0.113.9"]
