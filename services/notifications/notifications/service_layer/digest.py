"""The daily digest: e-mail held for users who chose `digest: daily` goes out as one message per user
and local date, at their send time. The digest is an ordinary e-mail delivery (retries, dead, operator
retry) whose event id `digest:<user>:<date>` is unique, so a day's digest is made and sent once."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
import zoneinfo
from collections.abc import Callable
from itertools import groupby
from typing import Any

from sqlalchemy import select, update

from notifications.adapters.metrics import DIGESTS
from notifications.adapters.orm import deliveries, messages
from notifications.adapters.templates import Templates
from notifications.domain.model import Channel, DeliveryStatus, Preferences
from notifications.service_layer.notifier import load_preferences
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.directory import directory_users

log = logging.getLogger(__name__)

DIGEST_KIND = "daily_digest"


def send_digests(
    uow_factory: Callable[[], NotificationsUnitOfWork],
    templates: Templates,
    *,
    batch_size: int = 2000,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> int:
    """Turn held e-mail whose send time has come into digest deliveries; returns how many digests were made.

    Held rows are locked (SKIP LOCKED) and moved to `digested` in the transaction that writes the digest,
    so two workers never put one message into two digests. Rows scheduled for a date whose digest
    already exists (the user moved the send time that day) wait for the next day's.
    """
    at = now()
    made = 0
    with uow_factory() as uow:
        held = [
            dict(r)
            for r in uow.session.execute(
                select(
                    deliveries.c.id,
                    deliveries.c.recipient_id,
                    deliveries.c.next_attempt_at,
                    deliveries.c.event_time,
                    deliveries.c.kind,
                    messages.c.subject,
                    messages.c.body,
                    messages.c.created_at,
                )
                .select_from(deliveries.join(messages, messages.c.id == deliveries.c.message_id))
                .where(
                    deliveries.c.status == DeliveryStatus.HELD.value,
                    deliveries.c.channel == Channel.EMAIL.value,
                    deliveries.c.next_attempt_at <= at,
                )
                .order_by(deliveries.c.recipient_id, deliveries.c.created_at, deliveries.c.id)
                .limit(batch_size)
                .with_for_update(of=deliveries, skip_locked=True)
            ).mappings()
        ]
        for recipient_id, rows in groupby(held, key=lambda r: r["recipient_id"]):
            prefs = load_preferences(uow.session, recipient_id)
            by_date: dict[dt.date, list[dict[str, Any]]] = {}
            for row in rows:
                by_date.setdefault(prefs.digest_date(row["next_attempt_at"]), []).append(row)
            for day, items in sorted(by_date.items()):
                if _make_digest(uow, templates, prefs, recipient_id, day, items, at):
                    made += 1
                else:
                    later = prefs.next_digest_at(max(at, items[0]["next_attempt_at"]))
                    uow.session.execute(
                        update(deliveries)
                        .where(deliveries.c.id.in_([i["id"] for i in items]))
                        .values(next_attempt_at=later)
                    )
        uow.commit()
    if made:
        DIGESTS.inc(made)
    return made


def _make_digest(
    uow: NotificationsUnitOfWork,
    templates: Templates,
    prefs: Preferences,
    recipient_id: str,
    day: dt.date,
    items: list[dict[str, Any]],
    at: dt.datetime,
) -> bool:
    """Write the day's digest delivery and point the held rows at it; False if that day's digest exists."""
    user = (
        uow.session.execute(select(directory_users).where(directory_users.c.user_id == recipient_id)).mappings().first()
    )
    zone = zoneinfo.ZoneInfo(prefs.digest_timezone)
    context = {
        "date": day.isoformat(),
        "count": len(items),
        "recipient": {"display_name": (user["display_name"] if user else "") or ""},
        "items": [
            {
                "subject": i["subject"],
                "body": i["body"],
                "kind": i["kind"],
                "time": i["created_at"].astimezone(zone).strftime("%m-%d %H:%M"),
            }
            for i in items
        ],
    }
    rendered = templates.render(DIGEST_KIND, user["locale"] if user else None, Channel.EMAIL, context)
    digest_id = uuid.uuid4()
    inserted = uow.session.execute(
        uow.insert(deliveries)
        .values(
            id=digest_id,
            message_id=None,
            event_id=f"digest:{recipient_id}:{day.isoformat()}",
            recipient_id=recipient_id,
            channel=Channel.EMAIL.value,
            kind=DIGEST_KIND,
            org_path=None,
            subject=rendered.subject[:400],
            body=rendered.body,
            is_html=rendered.html,
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            next_attempt_at=at,
            event_time=min(i["event_time"] for i in items),
            created_at=at,
        )
        .on_conflict_do_nothing(index_elements=["event_id", "recipient_id", "channel"])
        .returning(deliveries.c.id)
    ).first()
    if inserted is None:
        log.info("digest already made", extra={"recipient_id": recipient_id, "date": day.isoformat()})
        return False
    uow.session.execute(
        update(deliveries)
        .where(deliveries.c.id.in_([i["id"] for i in items]))
        .values(status=DeliveryStatus.DIGESTED.value, digest_id=digest_id, next_attempt_at=None, sent_at=None)
    )
    return True
