"""A database that cannot be reached (restarting, failing over) is a 503 problem+json with Retry-After, which
clients retry; a real database bug stays a 500. Found by bench/faults.py restarting PostgreSQL under load."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy.exc
from flask import Flask

from shared.problems import register_error_handlers


def _app(exc: Exception) -> Flask:
    app = Flask("t")
    register_error_handlers(app)

    @app.get("/boom")
    def boom() -> str:
        raise exc

    return app


@pytest.mark.parametrize(
    "exc",
    [
        sqlalchemy.exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused")),
        sqlalchemy.exc.InterfaceError("SELECT 1", {}, psycopg.InterfaceError("connection already closed")),
        sqlalchemy.exc.DBAPIError("SELECT 1", {}, psycopg.Error("server closed"), connection_invalidated=True),
    ],
    ids=["refused", "closed", "invalidated"],
)
def test_an_unreachable_database_is_a_503_with_retry_after(exc: Exception) -> None:
    response = _app(exc).test_client().get("/boom")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["title"] == "Service unavailable"


def test_another_database_error_stays_a_500() -> None:
    exc = sqlalchemy.exc.ProgrammingError("SELEC 1", {}, psycopg.ProgrammingError("syntax error"))
    response = _app(exc).test_client().get("/boom")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
