"""Errors the caller can act on, with a message per bad field; `shared.problems` renders them as
`application/problem+json` (RFC 9457). Free of the web framework, so service layers raise them without Flask."""

from __future__ import annotations

from typing import Any

from shared.domain import DomainError


class ProblemError(Exception):
    """An error the caller can act on; rendered as problem+json with its status."""

    status = 400
    title = "Bad request"

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


class Unauthorized(ProblemError):
    status, title = 401, "Unauthorized"


class Forbidden(ProblemError):
    status, title = 403, "Forbidden"


class NotFound(ProblemError):
    status, title = 404, "Not found"


class Conflict(ProblemError):
    status, title = 409, "Conflict"


class PreconditionFailed(ProblemError):
    status, title = 412, "Precondition failed"


class PreconditionRequired(ProblemError):
    status, title = 428, "Precondition required"


class Unprocessable(ProblemError):
    status, title = 422, "Unprocessable content"


class TooManyRequests(ProblemError):
    status, title = 429, "Too many requests"


class ServiceUnavailable(ProblemError):
    status, title = 503, "Service unavailable"


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
