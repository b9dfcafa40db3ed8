"""Consuming events: keep the directory projection (shared.directory), fan events out to messages and deliveries,
schedule and cancel reminders. Handlers never commit: the consumer commits with the inbox row."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifications.adapters.metrics import MESSAGES_CREATED, REMINDERS_CANCELLED
from notifications.adapters.templates import Rendered, Templates
from notifications.domain.model import (
    Channel,
    DeliveryStatus,
    Preferences,
    next_evaluation_plan,
    parse_time,
    plan_reminders,
    reminder_keys_cancelled_by,
    reminder_prefixes_cancelled_by,
)
from notifications.domain.rules import Rule, RuleBook, resolve
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared import directory
from shared.bus.envelope import CloudEvent
from shared.contracts import data_of

log = logging.getLogger(__name__)

IDENTITY_EVENTS = tuple(directory.HANDLERS)
REMINDER_EVENTS = (
    "nominations.round.opened",
    "nominations.round.closed",
    "nominations.nomination.submitted",
    "nominations.nomination.resubmitted",
    "approvals.task.assigned",
    "approvals.review.decided",
    "approvals.appointment.made",
    "approvals.appointment.renewed",
    "approvals.appointment.ended",
    "approvals.appointment.revoked",
    "approvals.evaluation.recorded",
    "training.requirement.unmet",
    "training.training.completed",
)
# How long past its time a newly planned reminder is still worth sending.
REMINDER_GRACE = dt.timedelta(days=1)


def has_address(channel: str, user: Mapping[str, Any] | None, prefs: Preferences) -> bool:
    if channel == Channel.IN_APP:
        return True
    if channel == Channel.EMAIL:
        return bool(user and user.get("email"))
    if channel == Channel.SMS:
        return bool(user and user.get("phone"))
    if channel == Channel.WEBHOOK:
        return bool(prefs.robots.get("webhook_url"))
    if channel == Channel.WECOM:
        return bool(prefs.robots.get("wecom_key"))
    if channel == Channel.DINGTALK:
        return bool(prefs.robots.get("dingtalk_token"))
    return False


@dataclass
class Notifier:
    """Turns one event into its effects; `handlers()` is what the consumer is given."""

    rulebook: RuleBook
    templates: Templates

    def handlers(self) -> dict[str, Any]:
        types = set(IDENTITY_EVENTS) | set(REMINDER_EVENTS) | self.rulebook.event_types
        return dict.fromkeys(sorted(types), self.handle)

    @property
    def routing_keys(self) -> list[str]:
        return sorted(self.handlers())

    def handle(self, event: CloudEvent, uow: NotificationsUnitOfWork) -> None:
        if event.type in IDENTITY_EVENTS:
            directory.apply(event, uow)
            return
        # Parsed through the event's contract (what does not fit is refused, as in any consumer); the rules and
        # templates read it by name, so it stays the data as the producer sent it.
        data = data_of(event)
        if event.type in ("nominations.nomination.submitted", "nominations.nomination.resubmitted"):
            remember_nomination(data, uow)
        self.cancel_reminders(event, uow)
        self.schedule_reminders(event, data, uow)
        self.fan_out(event.type, event.id, parse_time(event.time) or dt.datetime.now(dt.UTC), data, uow)

    # -- messages ------------------------------------------------------------------------------
    def fan_out(
        self,
        event_type: str,
        event_id: str,
        event_time: dt.datetime,
        data: dict[str, Any],
        uow: NotificationsUnitOfWork,
    ) -> int:
        """One inbox message per recipient and one delivery per chosen channel; a replay adds nothing.

        Set-wise, since a round opening reaches every school administrator of a city: the recipients' directory
        rows and preferences in one query each, the messages in one INSERT … RETURNING, the deliveries in one
        executemany, whatever the number of recipients (it was four statements per recipient)."""
        rules = self.rulebook.for_event(event_type)
        if not rules:
            return 0
        data = enrich(data, uow)
        # The first rule naming a recipient gives their message (unique per event and recipient).
        rule_of: dict[str, Rule] = {}
        for rule in rules:
            for recipient_id in resolve(rule, data, uow.directory):
                rule_of.setdefault(recipient_id, rule)
        if not rule_of:
            return 0
        org_path = data.get("org_path") or data.get("school_org_path") or data.get("issuing_org_path")
        now = dt.datetime.now(dt.UTC)
        users = uow.recipients.of(rule_of)
        message_rows: list[dict[str, Any]] = []
        rendered_inbox: dict[str, tuple[Rendered, dict[str, Any]]] = {}
        message_data = {k: v for k, v in data.items() if k != "policy"}
        for recipient_id, rule in rule_of.items():
            recipient = users.get(recipient_id) or {"display_name": "", "locale": "zh-CN"}
            locale = recipient.get("locale") or "zh-CN"
            context = {**data, "recipient": {"display_name": recipient.get("display_name") or ""}}
            inbox = self.templates.render(rule.kind, locale, Channel.IN_APP, context)
            rendered_inbox[recipient_id] = (inbox, context)
            message_rows.append(
                {
                    "id": uuid.uuid4(),
                    "event_id": event_id,
                    "event_type": event_type,
                    "kind": rule.kind,
                    "recipient_id": recipient_id,
                    "org_path": org_path,
                    "locale": locale,
                    "subject": inbox.subject[:400],
                    "body": inbox.body,
                    "data": message_data,
                    "event_time": event_time,
                    "created_at": now,
                }
            )
        # A recipient missing here already had this event (a replay): nothing more for them.
        new_messages = uow.messages.add_new(message_rows)
        if not new_messages:
            return 0
        prefs_of = uow.preferences.of(new_messages)
        rows: list[dict[str, Any]] = []
        for recipient_id, message_id in new_messages.items():
            rule = rule_of[recipient_id]
            kind = self.rulebook.kinds[rule.kind]
            MESSAGES_CREATED.labels(rule.kind).inc()
            user = users.get(recipient_id)
            prefs = prefs_of.get(recipient_id, Preferences())
            locale = (user or {}).get("locale") or "zh-CN"
            inbox, context = rendered_inbox[recipient_id]
            for channel in prefs.channels_for(kind):
                rendered = (
                    inbox if channel == Channel.IN_APP else self.templates.render(rule.kind, locale, channel, context)
                )
                addressable = has_address(channel, user, prefs)
                status = (
                    DeliveryStatus.SENT
                    if channel == Channel.IN_APP
                    else DeliveryStatus.PENDING
                    if addressable
                    else DeliveryStatus.SKIPPED
                )
                next_at = now if status == DeliveryStatus.PENDING else None
                if status == DeliveryStatus.PENDING and prefs.holds_for_digest(kind, channel):
                    status, next_at = DeliveryStatus.HELD, prefs.next_digest_at(now)
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "message_id": message_id,
                        "event_id": event_id,
                        "recipient_id": recipient_id,
                        "channel": channel,
                        "kind": rule.kind,
                        "org_path": org_path,
                        "subject": rendered.subject[:400],
                        "body": rendered.body,
                        "is_html": rendered.html,
                        "status": status.value,
                        "attempts": 1 if channel == Channel.IN_APP else 0,
                        "last_error": None if addressable else f"no {channel} address for the recipient",
                        "next_attempt_at": next_at,
                        "event_time": event_time,
                        "created_at": now,
                        "sent_at": now if channel == Channel.IN_APP else None,
                    }
                )
        if rows:
            uow.deliveries.add_new(rows)
        return len(new_messages)

    # -- reminders -----------------------------------------------------------------------------
    def schedule_reminders(self, event: CloudEvent, data: dict[str, Any], uow: NotificationsUnitOfWork) -> None:
        schools: list[dict[str, str]] = []
        if event.type == "nominations.round.opened" and data.get("issuing_org_path"):
            schools = uow.recipients.schools_within(data["issuing_org_path"])
        now = dt.datetime.now(dt.UTC)
        plans = plan_reminders(event.type, data, self.rulebook.reminders, schools, now=now - REMINDER_GRACE)
        uow.reminders.add_new([p for p in plans if p.due_at >= now - REMINDER_GRACE], event.id, now)

    def plan_next_evaluation(self, reminder: Mapping[str, Any], source: str, uow: NotificationsUnitOfWork) -> None:
        """Continue the yearly chain of an appointment's evaluation-due reminders (nothing past its term)."""
        if reminder["kind"] != "evaluation_due":
            return
        plan = next_evaluation_plan(reminder["data"] or {}, self.rulebook.reminders)
        if plan is not None:
            uow.reminders.add_new([plan], source, dt.datetime.now(dt.UTC))

    def cancel_reminders(self, event: CloudEvent, uow: NotificationsUnitOfWork) -> int:
        keys = reminder_keys_cancelled_by(event.type, event.data)
        prefixes = reminder_prefixes_cancelled_by(event.type, event.data)
        if not keys and not prefixes:
            return 0
        cancelled = uow.reminders.cancel(keys, prefixes, dt.datetime.now(dt.UTC), event.type)
        for row in cancelled:
            REMINDERS_CANCELLED.labels(row["kind"]).inc()
            if event.type == "approvals.evaluation.recorded":
                # this year's evaluation is done: next year's reminder takes its place. Only a
                # reminder that was still pending continues the chain, so an ended appointment stays quiet.
                self.plan_next_evaluation(row, event.id, uow)
        return len(cancelled)


def enrich(data: dict[str, Any], uow: NotificationsUnitOfWork) -> dict[str, Any]:
    """Add the nomination's school and candidate (from its submitted event) where the event lacks them."""
    nomination_id = data.get("nomination_id")
    if not nomination_id:
        return data
    row = uow.known_nominations.get(str(nomination_id))
    if row is None:
        return data
    extra = {k: v for k, v in row.items() if v is not None and not data.get(k)}
    return {**data, **extra}


def remember_nomination(data: Mapping[str, Any], uow: NotificationsUnitOfWork) -> None:
    values = {
        "round_id": data.get("round_id"),
        "school_org_code": data.get("school_org_code"),
        "school_org_path": data.get("school_org_path"),
        "school_name": data.get("school_name"),
        "candidate_user_id": data.get("candidate_user_id"),
        "candidate_name": data.get("candidate_name"),
    }
    uow.known_nominations.remember(str(data["nomination_id"]), values)
