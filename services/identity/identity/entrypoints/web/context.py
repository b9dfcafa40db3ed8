"""What every identity view needs from the request: the wired service and the caller's address."""

from __future__ import annotations

from flask import current_app, request

from identity.bootstrap import Identity


def identity() -> Identity:
    service = current_app.extensions["identity"]
    assert isinstance(service, Identity)
    return service


def client_ip() -> str | None:
    """The address nginx saw (X-Real-IP), else the socket's."""
    return request.headers.get("X-Real-IP") or request.remote_addr
