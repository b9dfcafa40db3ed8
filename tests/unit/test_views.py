"""shared.views: how a view reaches its handler (the unit of work and the caller first, then what the request names)
and what it answers, on a small app built with the shared factory (no database, no broker)."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from shared.pagination import PageArgs, page_schema
from shared.principal import Grant, Principal
from shared.views import Handlers
from shared.web import create_service_app

UOW = object()


class FakeVerifier:
    def verify(self, token: str) -> Principal:
        return Principal(subject=token, grants=(Grant("school_admin", "/1"),))


class FakeService:
    def uow(self) -> object:
        return UOW


class Colour(enum.Enum):
    RED = "red"


@dataclass
class Thing:
    id: str
    name: str
    version: int = 3


@dataclass
class Rename:
    thing_id: uuid.UUID
    name: str


class ThingSchema(Schema):
    id = fields.String()
    name = fields.String()


class ThingArgs(Schema):
    name = fields.String()
    colour = fields.Enum(Colour, by_value=True)


class ThingListArgs(PageArgs):
    colour = fields.Enum(Colour, by_value=True)


class NameSchema(Schema):
    name = fields.String(required=True)


ThingPage = page_schema(ThingSchema, "ThingPage")
ThingList = Schema.from_dict({"items": fields.List(fields.Nested(ThingSchema))}, name="ThingList")

calls: list[tuple[Any, ...]] = []


def record(uow: object, principal: Principal, *args: Any, **kwargs: Any) -> Any:
    calls.append((uow, principal.subject, *args, kwargs))
    return Thing(id="t1", name="one")


def found(uow: object, principal: Principal, **filters: Any) -> list[Thing]:
    calls.append((uow, principal.subject, filters))
    return [Thing(id="t1", name="one")]


def listed(uow: object, principal: Principal, *, colour: str | None, after: Any, limit: int) -> list[Thing]:
    calls.append((colour, after, limit))
    return [Thing(id=str(n), name=f"n{n}") for n in range(limit)]


def app_client(handlers: Handlers) -> FlaskClient:
    blp = Blueprint("things", __name__, url_prefix="/api/things")

    @blp.route("")
    class Things(MethodView):
        get = handlers.listing(blp, ThingListArgs, ThingPage, listed, lambda t: t.id, doc="Things, a page at a time.")
        post = handlers.view(blp, ThingSchema, record, body=NameSchema, status=201)

    handlers.route(blp, "/search", "Search", ThingSchema, record, query=ThingArgs)
    handlers.route(blp, "/filtered", "Filtered", ThingList, found, filters=ThingArgs, items=True)
    handlers.route(blp, "/<uuid:thing_id>", "ThingById", ThingSchema, record, etag=True, doc="One thing.")
    handlers.route(
        blp, "/<uuid:thing_id>/name", "Renaming", ThingSchema, record, verb="post", body=NameSchema, command=Rename
    )
    app = create_service_app(
        service="test",
        title="test",
        blueprints=[blp],
        verifier=lambda: FakeVerifier(),  # type: ignore[arg-type,return-value]
        checks={},
    )
    return app.test_client()


@pytest.fixture
def client() -> FlaskClient:
    calls.clear()
    return app_client(Handlers(lambda: FakeService()))  # type: ignore[arg-type,return-value]


AUTH = {"Authorization": "Bearer u1"}
THING = "5b0f4b7e-4b8e-4a5e-9c41-6f0c1d2e3a4b"


def test_a_handler_gets_the_unit_of_work_and_the_caller_first_then_the_query_and_the_path(client: FlaskClient) -> None:
    r = client.get("/api/things/search?name=x&colour=red", headers=AUTH)
    assert r.status_code == 200 and r.json == {"id": "t1", "name": "one"}
    assert calls == [(UOW, "u1", {"name": "x", "colour": Colour.RED}, {})]


def test_filters_go_by_name_missing_ones_as_none_and_enums_as_their_value(client: FlaskClient) -> None:
    r = client.get("/api/things/filtered?colour=red", headers=AUTH)
    assert r.json == {"items": [{"id": "t1", "name": "one"}]}
    assert calls == [(UOW, "u1", {"name": None, "colour": "red"})]


def test_the_body_goes_by_name_after_the_path_or_as_one_command(client: FlaskClient) -> None:
    assert client.post("/api/things", json={"name": "new"}, headers=AUTH).status_code == 201
    assert client.post(f"/api/things/{THING}/name", json={"name": "b"}, headers=AUTH).status_code == 200
    assert calls == [
        (UOW, "u1", {"name": "new"}),
        (UOW, "u1", Rename(thing_id=uuid.UUID(THING), name="b"), {}),
    ]


def test_a_versioned_record_is_answered_with_its_etag(client: FlaskClient) -> None:
    r = client.get(f"/api/things/{THING}", headers=AUTH)
    assert r.headers["ETag"] == '"3"'
    assert r.json == {"id": "t1", "name": "one"}
    assert calls == [(UOW, "u1", uuid.UUID(THING), {})]


def test_full_responses_answer_as_shared_http_json_response() -> None:
    calls.clear()
    full = app_client(Handlers(lambda: FakeService(), full_responses=True))  # type: ignore[arg-type,return-value]
    r = full.get(f"/api/things/{THING}", headers=AUTH)
    assert r.headers["ETag"] == '"3"'
    assert r.get_data(as_text=True) == '{"id": "t1", "name": "one"}'


def test_a_listing_asks_for_one_row_more_than_the_page_and_passes_its_filters(client: FlaskClient) -> None:
    r = client.get("/api/things?limit=2&colour=red", headers=AUTH)
    assert [t["id"] for t in r.json["items"]] == ["0", "1"]
    assert r.json["next_cursor"] is not None
    assert calls == [("red", None, 3)]


def test_declared_views_keep_their_endpoint_names_and_summaries(client: FlaskClient) -> None:
    spec = client.get("/openapi/test/openapi.json").json
    assert spec["paths"]["/api/things/{thing_id}"]["get"]["summary"] == "One thing."
    assert spec["paths"]["/api/things"]["get"]["summary"] == "Things, a page at a time."
    assert "summary" not in spec["paths"]["/api/things/search"]["get"]
    assert client.application.url_map.bind("").match(f"/api/things/{THING}")[0] == "things.ThingById"
