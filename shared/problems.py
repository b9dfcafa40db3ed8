"""Every error answer as `application/problem+json` (RFC 9457): `shared.errors`' exceptions, webargs' validation
errors, an unreachable database and anything unexpected, each in the one shape with the request id."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy.exc
from flask import Flask, Response, has_request_context, json, request
from werkzeug.exceptions import HTTPException

from shared.errors import ProblemError, flatten_marshmallow
from shared.logging import get_request_id

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# How long a caller is asked to wait when the database is away (a restart takes a few seconds).
DATABASE_RETRY_AFTER_SECONDS = 5


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if has_request_context():
        body["instance"] = request.path
    if errors:
        body["errors"] = errors
    request_id = get_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update(extensions)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ProblemError)
    def _problem(exc: ProblemError) -> Response:
        return problem_response(
            exc.status, exc.title, exc.detail, errors=exc.errors, headers=exc.headers, **exc.extensions
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        data = getattr(exc, "data", None) or {}
        errors = flatten_marshmallow(data["messages"]) if "messages" in data else None
        status = exc.code or 500
        detail = "Some fields are invalid." if errors else exc.description
        headers = dict(data.get("headers") or {})
        if status == 405 and exc.get_response().headers.get("Allow"):
            headers["Allow"] = exc.get_response().headers["Allow"]
        return problem_response(status, exc.name, detail, errors=errors, headers=headers)

    @app.errorhandler(sqlalchemy.exc.OperationalError)
    @app.errorhandler(sqlalchemy.exc.InterfaceError)
    def _database_unavailable(exc: Exception) -> Response:
        """The database cannot be reached (restarting, failing over, out of connections): a temporary fault of
        ours, so 503 with Retry-After, which clients and the portal retry; never a 500. A disconnect seen as a
        DBAPIError is the same (`connection_invalidated`); other database errors stay bugs (500)."""
        log.warning("database unavailable: %s", type(exc).__name__)
        return problem_response(
            503,
            "Service unavailable",
            "The database cannot be reached right now; retry shortly.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    @app.errorhandler(sqlalchemy.exc.DBAPIError)
    def _database_error(exc: sqlalchemy.exc.DBAPIError) -> Response:
        if exc.connection_invalidated:
            return _database_unavailable(exc)
        log.exception("unhandled database error")
        return problem_response(500, "Internal server error", "The error was logged with the request id.")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(500, "Internal server error", "The error was logged with the request id.")
