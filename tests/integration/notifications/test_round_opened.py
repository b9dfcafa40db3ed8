"""Issue 17 item 6, schools are told a round opened: through the real consumer, a city round's opening reaches
every school administrator in the city and the county bureaus under it, at once, not three days before the
deadline only; a county round stays within its county."""

from __future__ import annotations

import datetime as dt

import pytest
from notifications.adapters.orm import deliveries, messages
from notifications.bootstrap import Notifications
from sqlalchemy import event as sa_event
from sqlalchemy import select

from shared.bus.envelope import CloudEvent
from tests.integration.notifications.conftest import CITY, COUNTY, COUNTY2, apply, identity_events

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


def _schools_with_administrators(county_code: str, county_path: str, count: int) -> list[CloudEvent]:
    """`count` schools of a county, each with its school administrator, as identity publishes them."""
    events: list[CloudEvent] = []
    for n in range(count):
        code = f"{county_code}{9000 + n}"
        path = f"{county_path}/{code}"
        user_id = f"u-admin-{code}"
        events += [
            CloudEvent(
                type="identity.org.upserted",
                source="/cio/identity",
                subject=code,
                data={"code": code, "name": f"学校{n}", "level": "school", "parent_code": county_code, "path": path},
            ),
            CloudEvent(
                type="identity.user.provisioned",
                source="/cio/identity",
                data={
                    "user": {
                        "user_id": user_id,
                        "username": user_id,
                        "display_name": f"管理员{n}",
                        "org_code": code,
                        "email": f"{user_id}@example.com",
                        "locale": "zh-CN",
                    }
                },
            ),
            CloudEvent(
                type="identity.role.granted",
                source="/cio/identity",
                subject=user_id,
                data={
                    "grant_id": f"g-{user_id}",
                    "user_id": user_id,
                    "role": "school_admin",
                    "org_code": code,
                    "org_path": path,
                    "source": "manual",
                    "granted_by": "admin",
                },
            ),
        ]
    return events


def _statements_to_apply(service: Notifications, event: CloudEvent) -> int:
    counted: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        counted.append(statement)

    sa_event.listen(service.engine, "before_cursor_execute", count)
    try:
        apply(service, event)
    finally:
        sa_event.remove(service.engine, "before_cursor_execute", count)
    return len(counted)


def test_a_round_opening_costs_the_same_statements_for_forty_schools_as_for_two(
    notifications_service: Notifications,
) -> None:
    """Fan-out is set-wise: a city's round reaches thousands of school administrators, so the work per event
    must not grow a statement per recipient (it was four per recipient, one more per school's reminder)."""
    service = notifications_service
    apply(service, *identity_events())
    small = _statements_to_apply(service, round_opened("r-small", "410821", COUNTY2))
    apply(service, *_schools_with_administrators("410802", COUNTY, 40))
    large = _statements_to_apply(service, round_opened("r-large", "410802", COUNTY))
    assert len(told(service, "r-large")) == 43  # the county reviewer, two schools' and forty new administrators
    assert len(told(service, "r-small")) == 1
    assert large == small
