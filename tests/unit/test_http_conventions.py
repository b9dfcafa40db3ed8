"""ETag / If-Match and Idempotency-Key, on a small app built with the shared factory (PostgreSQL, no broker)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, jsonify
from flask.testing import FlaskClient
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.bus.tables import bus_metadata
from shared.db import make_engine, make_session_factory
from shared.errors import Unprocessable
from shared.http import idempotent, require_if_match, with_etag
from shared.principal import Grant, Principal
from shared.web import create_service_app


class FakeVerifier:
    def verify(self, token: str) -> Principal:
        return Principal(subject=token, grants=(Grant("school_admin", "/1"),))


@pytest.fixture
def client(pg_database: str) -> FlaskClient:
    engine = make_engine(pg_database)
    bus_metadata.create_all(engine)
    sessions = make_session_factory(engine)
    counter = itertools.count(1)
    blp = Blueprint("things", __name__, url_prefix="/api/things")
    state = {"version": 1}

    @blp.route("")
    class Things(MethodView):
        @idempotent(lambda: sessions)
        def post(self) -> Any:
            from flask import request

            if request.json.get("bad"):
                raise Unprocessable("bad")
            response = jsonify(id=next(counter))
            response.status_code = 201
            response.headers["Location"] = "/api/things/1"
            return response

    @blp.route("/1")
    class Thing(MethodView):
        def put(self) -> Any:
            require_if_match(state["version"])
            state["version"] += 1
            return with_etag(jsonify(version=state["version"]), state["version"])

    app: Flask = create_service_app(
        service="test",
        title="test",
        blueprints=[blp],
        verifier=lambda: FakeVerifier(),
        checks={},  # type: ignore[arg-type,return-value]
    )
    return app.test_client()


def post(client: FlaskClient, body: dict[str, Any], key: str | None, caller: str = "u1") -> Any:
    headers = {"Authorization": f"Bearer {caller}"}
    if key:
        headers["Idempotency-Key"] = key
    return client.post("/api/things", json=body, headers=headers)


def test_retry_with_the_same_key_replays_the_first_answer(client: FlaskClient) -> None:
    first = post(client, {"a": 1}, "k1")
    again = post(client, {"a": 1}, "k1")
    assert first.status_code == again.status_code == 201
    assert first.json == again.json == {"id": 1}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == "/api/things/1"


def test_same_key_with_a_different_body_is_422(client: FlaskClient) -> None:
    post(client, {"a": 1}, "k1")
    r = post(client, {"a": 2}, "k1")
    assert r.status_code == 422
    assert r.json["errors"][0]["field"] == "Idempotency-Key"


def test_keys_belong_to_their_caller(client: FlaskClient) -> None:
    assert post(client, {"a": 1}, "k1", caller="u1").json == {"id": 1}
    assert post(client, {"a": 1}, "k1", caller="u2").json == {"id": 2}


def test_a_failed_request_releases_its_key(client: FlaskClient) -> None:
    assert post(client, {"bad": True}, "k2").status_code == 422
    assert post(client, {"bad": True}, "k2").status_code == 422
    assert "Idempotent-Replayed" not in post(client, {"bad": True}, "k2").headers


def test_without_a_key_every_post_creates(client: FlaskClient) -> None:
    assert post(client, {}, None).json == {"id": 1}
    assert post(client, {}, None).json == {"id": 2}


def test_update_without_if_match_is_428(client: FlaskClient) -> None:
    r = client.put("/api/things/1", headers={"Authorization": "Bearer u1"})
    assert r.status_code == 428
    assert r.content_type == "application/problem+json"


def test_stale_if_match_is_412_and_current_one_succeeds(client: FlaskClient) -> None:
    auth = {"Authorization": "Bearer u1"}
    ok = client.put("/api/things/1", headers={**auth, "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    stale = client.put("/api/things/1", headers={**auth, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json["current_etag"] == '"2"'


def test_a_key_older_than_a_day_is_free_again(client: FlaskClient, pg_database: str) -> None:
    assert post(client, {"a": 1}, "k3").json == {"id": 1}
    engine = make_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'k3'"))
    again = post(client, {"a": 2}, "k3")  # another body: no 422, the old claim is gone
    assert again.status_code == 201 and again.json == {"id": 2}
    assert "Idempotent-Replayed" not in again.headers
    engine.dispose()


def test_a_claim_whose_request_died_is_free_after_its_lease(client: FlaskClient, pg_database: str) -> None:
    """A worker killed -9 between the claim and the answer leaves the key claimed without a status: a retry is a
    409 while the first request could still be running, and runs once no request could be (found by the faults
    harness: a school's draft stayed 409 for the key's whole day)."""
    assert post(client, {"a": 1}, "k4").status_code == 201
    engine = make_engine(pg_database)
    with engine.begin() as conn:  # what a request that died before answering leaves: its claim, no answer
        conn.execute(sa.text("UPDATE idempotency_keys SET status = NULL, body = NULL WHERE key = 'k4'"))
    assert post(client, {"a": 1}, "k4").status_code == 409
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE idempotency_keys SET created_at = now() - interval '2 minutes' WHERE key = 'k4'"))
    retried = post(client, {"a": 1}, "k4")
    assert retried.status_code == 201 and retried.json == {"id": 2}
    assert post(client, {"a": 1}, "k4").headers["Idempotent-Replayed"] == "true"
    engine.dispose()
