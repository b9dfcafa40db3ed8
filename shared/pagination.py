"""Cursor pagination: lists return `items` and an opaque `next_cursor` (the last item's sort key)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from marshmallow import Schema, fields, validate

from shared.errors import Unprocessable, field_error

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class PageArgs(Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(load_default=None)


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, ensure_ascii=False).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as exc:
        raise Unprocessable("The cursor is not valid.", errors=[field_error("cursor", "not valid", "query")]) from exc


def page(items: Sequence[T], limit: int, key: Any) -> dict[str, Any]:
    """Fetch `limit + 1` rows, pass them here: the extra one only tells that a next page exists."""
    has_more = len(items) > limit
    shown = list(items[:limit])
    return {"items": shown, "next_cursor": encode_cursor(key(shown[-1])) if has_more and shown else None}


def time_then_id(attribute: str) -> Callable[[Any], list[str]]:
    """The cursor key of a list sorted by a timestamp (or date) `attribute`, the id breaking ties."""
    return lambda row: [getattr(row, attribute).isoformat(), str(row.id)]


def page_schema(item: type[Schema], name: str, **more: fields.Field[Any]) -> type[Schema]:
    """One page of a list as every list endpoint answers it: `items`, `next_cursor`, then `more` fields (a count)."""
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item)), "next_cursor": fields.String(allow_none=True), **more}, name=name
    )


def list_schema(item: type[Schema], name: str) -> type[Schema]:
    """A whole list in one answer (short lists: a case's history, the policies): `items` only, no cursor."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item))}, name=name)
