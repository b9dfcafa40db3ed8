"""How a service's views reach its handlers. Every handler takes the service's unit of work and the caller first, then
what the request names; a view that does nothing but parse, call one handler and render is declared in one line
(`Handlers.view`) instead of spelling out the same MethodView method again."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any, Concatenate, ParamSpec, TypeVar

from flask import Response, make_response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from sqlalchemy.orm import Session

from shared.auth import current_principal
from shared.bootstrap import WiredService
from shared.http import json_response, with_etag
from shared.pagination import PageArgs, decode_cursor, page
from shared.principal import Principal

# The query fields every list's page has (shared.pagination.PageArgs), the others being the list's filters.
PAGE_FIELDS = frozenset(PageArgs().fields)

P = ParamSpec("P")
T = TypeVar("T")


class Handlers:
    """One service's handlers as its views call them; `service` gives the wired service of the running app. A view
    answers a versioned record with Flask's JSON response, or with `shared.http.json_response` where the service
    answers so (`full_responses`: governance's views, whose creations Idempotency-Key replays the same way)."""

    def __init__(self, service: Callable[[], WiredService], *, full_responses: bool = False) -> None:
        self._service = service
        self._full_responses = full_responses

    def session_factory(self) -> Callable[[], Session]:
        """The service's session maker at request time, as `shared.http.idempotent` asks for it."""
        return self._service().session_factory

    def call(self, handler: Callable[Concatenate[Any, Principal, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`handler(unit of work, caller, *args, **kwargs)`: the calling convention of every handler."""
        return handler(self._service().uow(), current_principal(), *args, **kwargs)

    def paged(
        self,
        handler: Callable[..., Sequence[Any]],
        args: Mapping[str, Any],
        key: Callable[[Any], Any],
        *filters: str,
        **named: Any,
    ) -> dict[str, Any]:
        """One page of a list. `args` is the parsed query (shared.pagination.PageArgs and the list's filters): the
        handler gets the `filters` named here by name (None where the query leaves one out, an enum member as its
        value) with `named`, the cursor's position as `after`, and is asked for one row more than the page holds,
        which only tells that a next page exists; `key` is the sort key a row's cursor holds."""
        named.update(_filters(args, filters))
        found = self.call(handler, **named, after=decode_cursor(args.get("cursor")), limit=args["limit"] + 1)
        return page(found, args["limit"], key)

    def view(
        self,
        blp: Blueprint,
        response: type[Schema],
        handler: Callable[..., Any],
        *,
        query: type[Schema] | None = None,
        filters: type[Schema] | None = None,
        body: type[Schema] | None = None,
        command: Callable[..., Any] | None = None,
        status: int = 200,
        items: bool = False,
        etag: bool = False,
        doc: str | None = None,
    ) -> Callable[..., Any]:
        """A MethodView method: parse the `query` string or the JSON `body` (when given) and call `handler` with the
        path's values (in the rule's order) and
        - the query: the whole mapping, before the path's values; or parsed with `filters`, each of its fields
          by name (None where the query leaves one out, an enum member as its value);
        - the body: its fields by name, or one `command` built from the path's values and the body's fields.
        The answer is the result through `response` with `status`: the `items` of a whole list when `items`, with
        the record's version as its ETag when `etag` (what a later If-Match names). `doc` is the method's
        docstring: the operation's summary in the OpenAPI document."""

        named = list(filters().fields) if filters is not None else []

        def method(_view: Any, *parsed: Any, **path: Any) -> Any:
            found = self._handle(handler, parsed, path, by_name=body is not None, command=command, filters=named)
            if etag:
                return self._versioned(response().dump(found), found.version, status)
            return {"items": found} if items else found

        method.__doc__ = doc
        method = blp.response(status, response)(method)
        if query is not None or filters is not None:
            return blp.arguments(query or filters, location="query")(method)
        return blp.arguments(body)(method) if body is not None else method

    def listing(
        self,
        blp: Blueprint,
        query: type[Schema],
        response: type[Schema],
        handler: Callable[..., Sequence[Any]],
        key: Callable[[Any], Any],
        doc: str | None = None,
    ) -> Callable[..., Any]:
        """A MethodView method answering one page of a list (`paged`, rendered with `response`): the `query` schema's
        fields besides the page's are the list's filters, handed to `handler` by name with the path's values;
        `key` is the rows' sort key. `doc` is the method's docstring, the operation's summary."""
        filters = [name for name in query().fields if name not in PAGE_FIELDS]

        def method(_view: Any, args: Mapping[str, Any], **path: Any) -> Any:
            return self.paged(handler, args, key, *filters, **path)

        method.__doc__ = doc
        return blp.arguments(query, location="query")(blp.response(200, response)(method))

    def _handle(
        self,
        handler: Callable[..., Any],
        parsed: tuple[Any, ...],
        path: dict[str, Any],
        *,
        by_name: bool,
        command: Callable[..., Any] | None,
        filters: Sequence[str],
    ) -> Any:
        """The handler called as `view` says, with what the request parsed to (`parsed`) and the path's values."""
        if filters:
            return self.call(handler, *path.values(), **_filters(parsed[0], filters))
        if command is not None:
            return self.call(handler, command(**path, **parsed[0]))
        if by_name:
            return self.call(handler, *path.values(), **parsed[0])
        return self.call(handler, *parsed, *path.values())

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


def _filters(args: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """A query's filters as handlers take them: by name, None where the query leaves one out, an enum member (how
    the query schema validates and documents a choice) as its value."""
    found = {name: args.get(name) for name in names}
    return {name: value.value if isinstance(value, Enum) else value for name, value in found.items()}
