"""The fields of an answer that shows a domain dataclass, read from the dataclass's type hints: the record's fields
are listed once, in the domain, and the API cannot drift from them.

A field the answer shows differently (a description, a nested schema) is given explicitly, and the answer's schema
declares what it adds (a flag the view computes); the fields the API leaves out are named. A hint this module does
not know is an error when the service starts, not a guess: give that field explicitly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
import uuid
from typing import Any

from marshmallow import fields

_SCALARS: dict[Any, type[fields.Field]] = {
    str: fields.String,
    int: fields.Integer,
    float: fields.Float,
    bool: fields.Boolean,
    uuid.UUID: fields.UUID,
    dt.datetime: fields.DateTime,
    dt.date: fields.Date,
}


def field_for(hint: Any, **options: Any) -> fields.Field:
    """The field that shows a value of type `hint`: `X | None` may be null, a str enum shows its value, a dict of
    anything is an object, a dict or list of known types says what it holds."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union) and type(None) in args:
        (kept,) = [arg for arg in args if arg is not type(None)]
        return field_for(kept, allow_none=True, **options)
    if origin is dict:
        key, value = args
        if value is Any:
            return fields.Dict(**options)
        return fields.Dict(keys=field_for(key), values=field_for(value), **options)
    if origin is list:
        return fields.List(field_for(args[0]), **options)
    if isinstance(hint, type) and issubclass(hint, enum.StrEnum):
        return fields.String(**options)
    if hint in _SCALARS:
        return _SCALARS[hint](**options)
    raise TypeError(f"no field for {hint!r}: give it explicitly")


def dataclass_fields(record: type, *, omit: tuple[str, ...] = (), **given: fields.Field) -> dict[str, fields.Field]:
    """The fields of an answer showing the dataclass `record`, for its schema's `Meta.include`: one per field of the
    dataclass but those in `omit`, from its type hint unless `given` shows it otherwise. Naming a field the dataclass
    does not have is an error (a rename in the domain must not leave a stale name here)."""
    hints = typing.get_type_hints(record)
    names = [f.name for f in dataclasses.fields(record)]
    unknown = {*omit, *given} - {*names}
    if unknown:
        raise TypeError(f"{record.__name__} has no field {', '.join(sorted(unknown))}")
    return {name: given[name] if name in given else field_for(hints[name]) for name in names if name not in omit}
