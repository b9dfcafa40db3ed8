"""The pieces the services' API schemas share (shared.api_schemas)."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError, fields

from shared.api_schemas import ORG_CODE, Edited, table_format, without


class _Record(Edited):
    org_code = fields.String(required=True, validate=ORG_CODE)
    title = fields.String(required=True)


def test_without_leaves_out_the_fields_the_url_names_under_its_own_name() -> None:
    change = without(_Record, "RecordChangeSchema", "org_code")
    assert change.__name__ == "RecordChangeSchema"
    assert issubclass(change, _Record)
    assert change().load({"title": "x"}) == {"title": "x"}
    with pytest.raises(ValidationError) as raised:
        change().load({"title": "x", "org_code": "A"})
    assert raised.value.messages == {"org_code": ["Unknown field."]}


def test_a_group_is_read_only() -> None:
    with pytest.raises(ValidationError) as raised:
        _Record().load({"org_code": "A", "title": "x", "version": 3})
    assert raised.value.messages == {"version": ["Unknown field."]}


def test_table_format_is_csv_unless_xlsx_is_asked_for() -> None:
    args = Schema.from_dict({"format": table_format()})()
    assert args.load({}) == {"format": "csv"}
    assert args.load({"format": "xlsx"}) == {"format": "xlsx"}
    with pytest.raises(ValidationError):
        args.load({"format": "pdf"})
