"""What every identity view needs from the request: the wired service and the caller's address."""

from __future__ import annotations

from flask import request

from identity.bootstrap import Identity
from shared.web import wired_service


def identity() -> Identity:
    return wired_service("identity", Identity)


def client_ip() -> str | None:
    """The client's address for the audit trail: the gateway's X-Real-IP, believed only from the gateway."""
    return identity().trusted_proxies.client_address(request.remote_addr, request.headers.get("X-Real-IP"))
