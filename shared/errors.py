"""Errors the caller can act on, with a message per bad field; `shared.problems` renders them as
`application/problem+json` (RFC 9457). Free of the web framework, so service layers raise them without Flask."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from shared.domain import DomainError


class ProblemError(Exception):
    """An error the caller can act on; rendered as problem+json with its status."""

    status = 400
    title = "Bad request"

    def __init_subclass__(cls, *, status: int | None = None, title: str | None = None, **kwargs: Any) -> None:
        """A kind of problem names its HTTP status in its class statement; its title is the status's standard
        phrase as a sentence ("Not found"), unless it gives its own."""
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
            cls.title = title or HTTPStatus(status).phrase.capitalize()

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        status: int | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title


class Unauthorized(ProblemError, status=401):
    """No credentials that verify: no bearer token, or one that is malformed, expired or names no active account."""


class Forbidden(ProblemError, status=403):
    """The caller is known but may not do this: not their role, or not their part of the org tree."""


class NotFound(ProblemError, status=404):
    """No such resource."""


class Conflict(ProblemError, status=409):
    """The resource's state does not allow it now (e.g. a task already decided)."""


class PreconditionFailed(ProblemError, status=412):
    """The If-Match names a version that is no longer the current one: someone else changed it first."""


class PreconditionRequired(ProblemError, status=428):
    """A change came without an If-Match naming the version it was based on."""


# RFC 9110 renamed 422 "Unprocessable Content"; Python 3.11's phrase is still "Unprocessable Entity".
class Unprocessable(ProblemError, status=422, title="Unprocessable content"):
    """Well-formed, but a field's value or a domain rule refuses it."""


class TooManyRequests(ProblemError, status=429):
    """Too many requests from this caller in too short a time; retry later."""


class ServiceUnavailable(ProblemError, status=503):
    """Something the answer needs is not reachable right now; retry shortly."""


def field_error(field: str, message: str, location: str = "json") -> dict[str, Any]:
    return {"field": field, "in": location, "messages": [message]}


def row_error(row: int, column: str, message: str, message_zh: str) -> dict[str, Any]:
    """One bad cell of an imported file (`row` as the spreadsheet numbers it: the header is 1), in both languages."""
    return {"row": row, "column": column, "message": message, "message_zh": message_zh}


def flatten_marshmallow(messages: dict[str, Any]) -> list[dict[str, Any]]:
    """webargs' {location: {field: [msg]}} (nested for nested schemas) → one entry per bad field."""
    out: list[dict[str, Any]] = []

    def walk(location: str, prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(location, f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            msgs = value if isinstance(value, list) else [value]
            if msgs and all(isinstance(m, str) for m in msgs):
                out.append({"field": prefix or "_schema", "in": location, "messages": msgs})
            else:
                for index, inner in enumerate(msgs):
                    walk(location, f"{prefix}.{index}", inner)

    for location, fields in messages.items():
        walk(location, "", fields)
    return out


def refused(exc: DomainError) -> Unprocessable:
    """A domain rule's refusal as the API reports it: 422, naming the field (`_schema` when it names none)."""
    return Unprocessable(str(exc), errors=[field_error(exc.field or "_schema", str(exc))])
