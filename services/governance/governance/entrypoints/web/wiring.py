"""What every governance view module needs from the app: the wired service and a response Idempotency-Key can
store and replay. One place, so the plan and registry views (resources.py) and the 月调度, security and committee
views (work_resources.py) answer alike."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app

from governance.bootstrap import GovernanceService
from shared.http import with_etag
from shared.web import wired_service


def service() -> GovernanceService:
    return wired_service("governance", GovernanceService)


def session_factory() -> Any:
    return service().session_factory


def respond(body: Any, version: int | None = None, status: int = 200, location: str | None = None) -> Response:
    """A full response (with its ETag when the record has a version, Location for a creation)."""
    response = current_app.response_class(current_app.json.dumps(body), status=status, mimetype="application/json")
    if location:
        response.headers["Location"] = location
    return with_etag(response, version) if version is not None else response
