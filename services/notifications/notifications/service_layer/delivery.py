"""Sending due deliveries with backoff, the operator's retry, and sending due reminders once.

A delivery is claimed in a short transaction (attempts + 1, next attempt pushed out by a lease),
sent outside any transaction, and its outcome written in another; a worker that dies mid-send
leaves the row to be taken again when the lease ends.
"""

from __future__ import annotations

import datetime as dt
import logging
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import func, select, update

from notifications.adapters.metrics import DEAD_DELIVERIES, DELIVERIES, DELIVERY_LATENCY, REMINDERS_SENT
from notifications.adapters.orm import deliveries, reminders
from notifications.domain.model import DeliveryStatus, RetryPolicy
from notifications.service_layer.notifier import Notifier, load_preferences
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.directory import directory_users
from shared.errors import Conflict, NotFound

log = logging.getLogger(__name__)

CLAIM_LEASE = dt.timedelta(minutes=2)


class SendError(Exception):
    """The channel refused or failed; the delivery is tried again later."""


@dataclass(frozen=True)
class Target:
    """Where one recipient receives one channel: read at send time, so a changed address is used."""

    user_id: str
    email: str | None = None
    phone: str | None = None
    display_name: str = ""
    robots: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outgoing:
    subject: str
    body: str
    html: bool
    kind: str


class Sender(Protocol):
    def send(self, target: Target, message: Outgoing) -> DeliveryStatus | None:
        """Send or raise; None means sent, DeliveryStatus.SIMULATED that a development sink took it."""


def redact(text: str, secrets: Iterable[str]) -> str:
    """The error with every robot key, token, secret and webhook URL of the recipient blanked out: operators
    and auditors read the delivery log, and a robot key there lets anyone post into that group."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            text = text.replace(form, "******")
    return text


def dispatch_due(
    uow_factory: Callable[[], NotificationsUnitOfWork],
    senders: Mapping[str, Sender],
    policy: RetryPolicy,
    *,
    batch_size: int = 50,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> int:
    """Send the deliveries that are due; returns how many were attempted."""
    started = now()
    with uow_factory() as uow:
        due: list[dict[str, Any]] = [
            dict(r)
            for r in uow.session.execute(
                select(deliveries)
                .where(
                    deliveries.c.status == DeliveryStatus.PENDING.value,
                    deliveries.c.next_attempt_at <= started,
                    deliveries.c.channel.in_(list(senders)),
                )
                .order_by(deliveries.c.next_attempt_at)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            ).mappings()
        ]
        if not due:
            return 0
        uow.session.execute(
            update(deliveries)
            .where(deliveries.c.id.in_([d["id"] for d in due]))
            .values(attempts=deliveries.c.attempts + 1, next_attempt_at=started + CLAIM_LEASE)
        )
        targets = {}
        for user_id in {d["recipient_id"] for d in due}:
            user = (
                uow.session.execute(select(directory_users).where(directory_users.c.user_id == user_id))
                .mappings()
                .first()
            )
            prefs = load_preferences(uow.session, user_id)
            targets[user_id] = Target(
                user_id=user_id,
                email=user["email"] if user else None,
                phone=user["phone"] if user else None,
                display_name=user["display_name"] if user else "",
                robots=dict(prefs.robots),
            )
        uow.commit()
    for row in due:
        attempts = row["attempts"] + 1
        message = Outgoing(row["subject"], row["body"], row["is_html"], row["kind"])
        try:
            outcome = senders[row["channel"]].send(targets[row["recipient_id"]], message) or DeliveryStatus.SENT
        except Exception as exc:  # any failure of a transport is a failed attempt, never a lost message
            error = redact(f"{type(exc).__name__}: {exc}", targets[row["recipient_id"]].robots.values())
            _failed(uow_factory, row, attempts, error[:2000], policy, now())
            continue
        finished = now()
        with uow_factory() as uow:
            uow.session.execute(
                update(deliveries)
                .where(deliveries.c.id == row["id"])
                .values(status=outcome.value, sent_at=finished, last_error=None, next_attempt_at=None)
            )
            uow.commit()
        DELIVERIES.labels(row["channel"], outcome.value).inc()
        latency = (finished - row["event_time"]).total_seconds()
        DELIVERY_LATENCY.labels(row["channel"]).observe(max(0.0, latency))
    return len(due)


def _failed(
    uow_factory: Callable[[], NotificationsUnitOfWork],
    row: Mapping[str, Any],
    attempts: int,
    error: str,
    policy: RetryPolicy,
    at: dt.datetime,
) -> None:
    status, next_at = policy.after_failure(attempts, at)
    log.warning(
        "delivery failed",
        extra={"delivery_id": str(row["id"]), "channel": row["channel"], "attempts": attempts, "status": status},
    )
    with uow_factory() as uow:
        uow.session.execute(
            update(deliveries)
            .where(deliveries.c.id == row["id"])
            .values(status=status.value, last_error=error, next_attempt_at=next_at)
        )
        uow.commit()
    DELIVERIES.labels(row["channel"], "dead" if status == DeliveryStatus.DEAD else "failed").inc()


def count_dead(uow_factory: Callable[[], NotificationsUnitOfWork]) -> int:
    with uow_factory() as uow:
        dead = uow.session.execute(
            select(func.count()).select_from(deliveries).where(deliveries.c.status == DeliveryStatus.DEAD.value)
        ).scalar_one()
    DEAD_DELIVERIES.set(dead)
    return int(dead)


def retry_delivery(uow: NotificationsUnitOfWork, delivery_id: uuid.UUID, actor: str, scope: Any) -> dict[str, Any]:
    """An operator sends a dead delivery again: attempts start over, it is due now. Audited."""
    with uow:
        row = (
            uow.session.execute(select(deliveries).where(deliveries.c.id == delivery_id, scope).with_for_update())
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound("No such delivery.")
        if row["status"] != DeliveryStatus.DEAD.value:
            raise Conflict(f"Only a dead delivery can be retried; this one is {row['status']}.")
        now = dt.datetime.now(dt.UTC)
        uow.session.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=now)
        )
        uow.audit(
            "delivery.retried",
            actor=actor,
            target=str(delivery_id),
            details={"channel": row["channel"], "attempts_before": row["attempts"], "last_error": row["last_error"]},
        )
        result = uow.session.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().one()
        uow.commit()
    return dict(result)


def send_due_reminders(
    uow_factory: Callable[[], NotificationsUnitOfWork],
    notifier: Notifier,
    *,
    batch_size: int = 100,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> int:
    """Turn due, uncancelled reminders into messages; marked sent in the same transaction, so once."""
    at = now()
    with uow_factory() as uow:
        due = (
            uow.session.execute(
                select(reminders)
                .where(reminders.c.sent_at.is_(None), reminders.c.cancelled_at.is_(None), reminders.c.due_at <= at)
                .order_by(reminders.c.due_at)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            )
            .mappings()
            .all()
        )
        for reminder in due:
            notifier.fan_out(
                f"reminder.{reminder['kind']}", f"reminder:{reminder['id']}", at, dict(reminder["data"]), uow
            )
            uow.session.execute(update(reminders).where(reminders.c.id == reminder["id"]).values(sent_at=at))
            notifier.plan_next_evaluation(dict(reminder), f"reminder:{reminder['id']}", uow)
        uow.commit()
    for reminder in due:
        REMINDERS_SENT.labels(reminder["kind"]).inc()
    return len(due)
