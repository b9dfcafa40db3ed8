"""Issue 17 item 6, schools are told a round opened: through the real consumer, a city round's opening reaches
every school administrator in the city and the county bureaus under it, at once, not three days before the
deadline only; a county round stays within its county."""

from __future__ import annotations

import datetime as dt

import pytest
from notifications.adapters.orm import deliveries, messages
from notifications.bootstrap import Notifications
from sqlalchemy import select

from shared.bus.envelope import CloudEvent
from tests.integration.notifications.conftest import CITY, COUNTY, apply, identity_events

pytestmark = pytest.mark.integration


def round_opened(round_id: str, issuing_code: str, issuing_path: str) -> CloudEvent:
    return CloudEvent(
        type="nominations.round.opened",
        source="/cio/nominations",
        subject=round_id,
        data={
            "round_id": round_id,
            "title": "焦作市首席教育信息官推荐",
            "issuing_org_code": issuing_code,
            "issuing_org_path": issuing_path,
            "deadline": (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat(),
            "policy": {"id": "jiaozuo-2022"},
        },
    )


def told(service: Notifications, round_id: str) -> list[str]:
    with service.session_factory() as session:
        rows = session.execute(
            select(messages.c.recipient_id)
            .where(messages.c.kind == "round_opened", messages.c.data["round_id"].as_string() == round_id)
            .order_by(messages.c.recipient_id)
        )
        return [r[0] for r in rows]


def test_各县市区教育局_市直各学校_a_city_round_tells_every_school_when_it_opens(
    notifications_service: Notifications,
) -> None:
    service = notifications_service
    apply(service, *identity_events(), round_opened("r-city", "4108", CITY))
    assert told(service, "r-city") == ["u-county", "u-county2", "u-school", "u-school3"]
    with service.session_factory() as session:
        emails = session.execute(
            select(deliveries.c.recipient_id).where(
                deliveries.c.kind == "round_opened", deliveries.c.channel == "email"
            )
        ).all()
    assert sorted(r[0] for r in emails) == ["u-county", "u-county2", "u-school", "u-school3"]


def test_a_county_round_tells_only_its_own_schools(notifications_service: Notifications) -> None:
    service = notifications_service
    apply(service, *identity_events(), round_opened("r-county", "410802", COUNTY))
    assert told(service, "r-county") == ["u-county", "u-school", "u-school3"]
