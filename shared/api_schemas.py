"""What the services' API schemas share: the checks of values every service takes (an org's code, a typed name), and
the groups of fields many answers carry alike (an org named by code, path and name; who decided and when; who
recorded a record; a record's edits; an uploaded file's facts). One definition of each, so that every service takes
and documents them the same way.

A group is a schema that is only ever a base class. Its fields come before the schema's own: that order shows nowhere
(answers go out with sorted keys, and a group holds no field a request must send). No endpoint names a group, so it
is no component of an OpenAPI document.
"""

from __future__ import annotations

from typing import cast

from marshmallow import Schema, fields, validate

from shared.files import TABLE_TYPES

ORG_CODE = validate.Length(min=1, max=32)
"""An org's code, as the directory keeps it (the code column is 32 characters in every service)."""

NAME = validate.Length(min=1, max=200)
"""A name or title someone types: not empty, one line's worth."""


class OrgRef(Schema):
    """An org as an answer names it: its code, its path in the org tree (scope checks read it) and its name."""

    org_code = fields.String()
    org_path = fields.String()
    org_name = fields.String()


class Decided(Schema):
    """Who decided and when: null while the decision is still to be made."""

    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class Recorded(Schema):
    """Who recorded a record and when, read-only: the service stamps them from the caller and its clock."""

    recorded_by = fields.String(dump_only=True)
    recorded_at = fields.DateTime(dump_only=True)


class Edited(Schema):
    """An editable record's last change and its version (the `If-Match` of the next change), read-only."""

    updated_at = fields.DateTime(dump_only=True)
    version = fields.Integer(dump_only=True)


class UploadedFile(Schema):
    """A file someone uploaded, as a listing describes it (its content has its own download link)."""

    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.DateTime()


def table_format() -> fields.String:
    """The `format` argument of a table download: CSV unless XLSX is asked for."""
    return fields.String(load_default="csv", validate=validate.OneOf(list(TABLE_TYPES)))


def without(schema: type[Schema], name: str, *fixed: str) -> type[Schema]:
    """`schema` less the fields named, as the component `name`: the body of a change to a record, which cannot move
    what its URL names (its org, its code, its month)."""
    meta = type("Meta", (), {"exclude": fixed})
    return cast(type[Schema], type(name, (schema,), {"Meta": meta, "__module__": schema.__module__}))
