"""Optional filters of a listing (`shared.db.where_given`): a filter given narrows it, one left out does not."""

from __future__ import annotations

import sqlalchemy as sa

from shared.db import where_given

deliveries = sa.Table(
    "deliveries",
    sa.MetaData(),
    sa.Column("id", sa.Integer),
    sa.Column("status", sa.String),
    sa.Column("channel", sa.String),
)


def test_each_filter_the_caller_gave_narrows_the_listing() -> None:
    query = where_given(sa.select(deliveries.c.id), (deliveries.c.status, "failed"), (deliveries.c.channel, "sms"))
    assert query.whereclause is not None
    where = str(query.whereclause.compile(compile_kwargs={"literal_binds": True}))
    assert where == "deliveries.status = 'failed' AND deliveries.channel = 'sms'"


def test_a_filter_left_out_or_empty_leaves_the_listing_whole() -> None:
    query = where_given(sa.select(deliveries.c.id), (deliveries.c.status, None), (deliveries.c.channel, ""))
    assert query.whereclause is None
