"""An answer's fields read from the domain dataclass it shows (shared.dataclass_schemas)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from marshmallow import Schema, fields

from shared.dataclass_schemas import dataclass_fields


class _State(enum.StrEnum):
    OPEN = "open"


@dataclass
class _Record:
    id: uuid.UUID
    title: str
    count: int
    share: float
    done: bool
    on: dt.date
    at: dt.datetime | None
    state: _State
    form: dict[str, Any]
    deadlines: dict[str, dt.datetime]
    tags: list[str]
    created_by: str
    events: list[Any] = field(default_factory=list)


class _RecordSchema(Schema):
    class Meta:
        include = dataclass_fields(
            _Record, omit=("created_by", "events"), title=fields.String(metadata={"description": "its name"})
        )

    masked = fields.Boolean()


def test_each_field_shows_its_type_hint() -> None:
    declared = _RecordSchema._declared_fields
    assert set(declared) == {"id", "title", "count", "share", "done", "on", "at", "state", "form", "deadlines"} | {
        "tags",
        "masked",
    }
    kinds = {name: type(f) for name, f in declared.items()}
    assert kinds["id"] is fields.UUID and kinds["count"] is fields.Integer and kinds["share"] is fields.Float
    assert kinds["done"] is fields.Boolean and kinds["on"] is fields.Date and kinds["at"] is fields.DateTime
    assert kinds["state"] is fields.String and kinds["form"] is fields.Dict and kinds["tags"] is fields.List
    assert declared["at"].allow_none and not declared["on"].allow_none
    deadlines = declared["deadlines"]
    assert isinstance(deadlines, fields.Dict)
    assert isinstance(deadlines.key_field, fields.String) and isinstance(deadlines.value_field, fields.DateTime)
    assert declared["title"].metadata == {"description": "its name"}


def test_an_answer_shows_the_record() -> None:
    at = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    record = _Record(uuid.UUID(int=1), "t", 2, 0.5, True, dt.date(2026, 1, 2), at, _State.OPEN, {}, {}, ["a"], "u")
    body = _RecordSchema().dump({**vars(record), "masked": False})
    assert body["state"] == "open" and body["at"] == at.isoformat() and "created_by" not in body


def test_a_name_the_dataclass_lacks_is_an_error() -> None:
    with pytest.raises(TypeError, match="no field createdby"):
        dataclass_fields(_Record, omit=("createdby",))


def test_a_hint_without_a_field_must_be_given() -> None:
    @dataclass
    class _Odd:
        span: dt.timedelta

    with pytest.raises(TypeError, match="give it explicitly"):
        dataclass_fields(_Odd)
    assert set(dataclass_fields(_Odd, span=fields.TimeDelta())) == {"span"}
