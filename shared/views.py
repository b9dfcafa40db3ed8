"""How a service's views reach its handlers. Every handler takes the service's unit of work and the caller first, then
what the request names; a view that does nothing but parse, call one handler and render is declared in one line
(`Handlers.view`) instead of spelling out the same MethodView method again."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from flask import Response, make_response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema

from shared.auth import current_principal
from shared.bootstrap import WiredService
from shared.http import json_response, with_etag
from shared.pagination import decode_cursor, page
from shared.principal import Principal

P = ParamSpec("P")
T = TypeVar("T")


class Handlers:
    """One service's handlers as its views call them; `service` gives the wired service of the running app. A view
    answers a versioned record with Flask's JSON response, or with `shared.http.json_response` where the service
    answers so (`full_responses`: governance's and nominations' views)."""

    def __init__(self, service: Callable[[], WiredService], *, full_responses: bool = False) -> None:
        self._service = service
        self._full_responses = full_responses

    def call(self, handler: Callable[Concatenate[Any, Principal, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`handler(unit of work, caller, *args, **kwargs)`: the calling convention of every handler."""
        return handler(self._service().uow(), current_principal(), *args, **kwargs)

    def paged(
        self,
        handler: Callable[..., Sequence[T]],
        args: Mapping[str, Any],
        key: Callable[[T], Any],
        *values: Any,
        **named: Any,
    ) -> dict[str, Any]:
        """One page of a list (`args`: the query's `cursor` and `limit`, shared.pagination.PageArgs): the handler gets
        the cursor's position as `after` and is asked for one row more than the page holds, which only tells that
        a next page exists; `key` is the sort key a row's cursor holds."""
        found = self.call(handler, *values, **named, after=decode_cursor(args.get("cursor")), limit=args["limit"] + 1)
        return page(found, args["limit"], key)

    def view(
        self,
        blp: Blueprint,
        response: type[Schema],
        handler: Callable[..., Any],
        *,
        query: type[Schema] | None = None,
        body: type[Schema] | None = None,
        command: Callable[..., Any] | None = None,
        status: int = 200,
        items: bool = False,
        etag: bool = False,
        doc: str | None = None,
    ) -> Callable[..., Any]:
        """A MethodView method: parse the `query` string or the JSON `body` (when given), call `handler` with the
        parsed query (one mapping of filters) and the path's values (in the rule's order), or with the path's values
        and the body's fields as keyword arguments, or with one `command` built from both; answer the result through
        `response` with `status`, as the `items` of a whole list when `items`, with the record's version as its ETag
        when `etag` (what a later If-Match names). `doc` is the method's docstring: the operation's summary in the
        OpenAPI document."""

        def method(_view: Any, *parsed: Any, **path: Any) -> Any:
            if command is not None:
                found = self.call(handler, command(**path, **parsed[0]))
            elif body is not None:
                found = self.call(handler, *path.values(), **parsed[0])
            else:
                found = self.call(handler, *parsed, *path.values())
            if etag:
                return self._versioned(response().dump(found), found.version, status)
            return {"items": found} if items else found

        method.__doc__ = doc
        method = blp.response(status, response)(method)
        if query is not None:
            return blp.arguments(query, location="query")(method)
        return blp.arguments(body)(method) if body is not None else method

    def _versioned(self, body: Any, version: int, status: int) -> Response:
        if self._full_responses:
            return json_response(body, version, status)
        return with_etag(make_response(body, status), version)

    def route(
        self,
        blp: Blueprint,
        rule: str,
        endpoint: str,
        response: type[Schema],
        handler: Callable[..., Any],
        *,
        verb: str = "get",
        **view: Any,
    ) -> None:
        """A URL whose one method (`verb`) is such a `view`: its MethodView is named `endpoint`, the name `url_for`
        and the OpenAPI document know it by."""
        blp.route(rule)(type(endpoint, (MethodView,), {verb: self.view(blp, response, handler, **view)}))
