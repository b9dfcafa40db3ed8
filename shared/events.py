"""The base of domain events: plain data, no infrastructure, so domain models may import it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from typing import Any, ClassVar


def to_jsonable(value: Any) -> Any:
    """Turn dataclasses, dates, UUIDs and enums into what `json.dumps` accepts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


class DomainEvent:
    """Something that happened; `event_type` is its routing key `<service>.<aggregate>.<event>`.

    A plain base, not a dataclass: the services' events are the typed contracts of `shared.contracts` (pydantic
    models), and a dataclass subclass (a test's own event) still gets its payload from its fields.
    """

    event_type: ClassVar[str] = ""

    @property
    def subject(self) -> str | None:
        return None

    def payload(self) -> dict[str, Any]:
        data = to_jsonable(self)
        assert isinstance(data, dict)
        return data
