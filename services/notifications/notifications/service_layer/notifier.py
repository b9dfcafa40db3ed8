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
from notifications.domain.rules import Directory, Rule, RuleBook, resolve
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared import directory
from shared.bus.consumer import BatchHandler
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
SUBMISSIONS = ("nominations.nomination.submitted", "nominations.nomination.resubmitted")
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


@dataclass(frozen=True)
class Occurrence:
    """Something to notify about: an event (or a reminder, an alert) with its data as the rules read it."""

    event_type: str
    event_id: str
    event_time: dt.datetime
    data: dict[str, Any]


class _RunDirectory:
    """The directory as a run of events reads it: each (role, org) asked once. The consumer applies identity's
    events between runs, so within one the projection does not change."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._holders: dict[tuple[str, str, bool], set[str]] = {}

    def holders(self, role: str, org_path: str) -> set[str]:
        key = (role, org_path, False)
        if key not in self._holders:
            self._holders[key] = self.directory.holders(role, org_path)
        return self._holders[key]

    def holders_within(self, role: str, org_path: str) -> set[str]:
        key = (role, org_path, True)
        if key not in self._holders:
            self._holders[key] = self.directory.holders_within(role, org_path)
        return self._holders[key]

    def org_level(self, org_path: str) -> str | None:
        return self.directory.org_level(org_path)


class _Renderings:
    """The renderings of one fan-out: what does not read `recipient` is rendered once per (event, kind, locale,
    channel) and given to each recipient of the event; what does (an e-mail's greeting) is rendered per recipient."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates
        self._shared: dict[tuple[int, str, str, str], Rendered] = {}

    def render(self, occurrence: Occurrence, kind: str, locale: str, channel: str, context: dict[str, Any]) -> Rendered:
        if self.templates.reads(kind, locale, channel, "recipient"):
            return self.templates.render(kind, locale, channel, context)
        # the occurrence object stands for its event: each is one of the fan-out's list, alive until it ends
        key = (id(occurrence), kind, locale, channel)
        if key not in self._shared:
            self._shared[key] = self.templates.render(kind, locale, channel, context)
        return self._shared[key]


@dataclass
class Notifier:
    """Turns events into their effects; `handlers()` is what the consumer is given."""

    rulebook: RuleBook
    templates: Templates

    def handlers(self) -> dict[str, Any]:
        types = set(IDENTITY_EVENTS) | set(REMINDER_EVENTS) | self.rulebook.event_types
        return dict.fromkeys(sorted(types), BatchHandler(self.handle_many))

    @property
    def routing_keys(self) -> list[str]:
        return sorted(self.handlers())

    def handle_many(self, events: list[CloudEvent], uow: NotificationsUnitOfWork) -> None:
        """Apply consecutive events as one by one in order would, in a few statements for the lot (a consumer's
        prefetch window of submissions was ten statements each).

        What each event changes is read by the events after it only through what is kept here in order: the
        directory (identity's events end the messages gathered so far, which are written before the projection
        changes), the nominations seen (read once, remembered in memory, written once), and the reminders (same-type
        cancellations gathered, written before any reminder is planned)."""
        seen = SeenNominations(uow, events)
        cancellations = Cancellations(uow)
        gathered: list[Occurrence] = []
        for event in events:
            if event.type in IDENTITY_EVENTS:
                self.fan_out_all(gathered, uow)
                gathered = []
                directory.apply(event, uow)
                continue
            # Parsed through the event's contract (what does not fit is refused, as in any consumer); the rules and
            # templates read it by name, so it stays the data as the producer sent it.
            data = data_of(event)
            if event.type in SUBMISSIONS:
                seen.remember(data)
            self.cancel_reminders(event, uow, cancellations)
            self.schedule_reminders(event, data, uow, cancellations)
            when = parse_time(event.time) or dt.datetime.now(dt.UTC)
            gathered.append(Occurrence(event.type, event.id, when, seen.enrich(data)))
        cancellations.write()
        seen.write()
        self.fan_out_all(gathered, uow)

    # -- messages ------------------------------------------------------------------------------
    def fan_out(
        self,
        event_type: str,
        event_id: str,
        event_time: dt.datetime,
        data: dict[str, Any],
        uow: NotificationsUnitOfWork,
    ) -> int:
        """One event's messages and deliveries (a reminder's, an alert's), its data enriched with the nomination's."""
        return self.fan_out_all([Occurrence(event_type, event_id, event_time, enrich(data, uow))], uow)

    def fan_out_all(self, occurrences: list[Occurrence], uow: NotificationsUnitOfWork) -> int:
        """One inbox message per recipient and one delivery per chosen channel; a replay adds nothing.

        Set-wise, since a round opening reaches every school administrator of a city and a consumer hands over a
        prefetch window of events at once: the recipients' directory rows and preferences in one query each, the
        messages in one INSERT … RETURNING, the deliveries in one executemany, whatever the number of events and
        recipients (it was four statements per recipient). Returns how many messages are new."""
        run_directory = _RunDirectory(uow.directory)
        # The first rule naming a recipient gives their message (unique per event and recipient).
        planned: list[tuple[Occurrence, dict[str, Rule]]] = []
        for occurrence in occurrences:
            rule_of: dict[str, Rule] = {}
            for rule in self.rulebook.for_event(occurrence.event_type):
                for recipient_id in resolve(rule, occurrence.data, run_directory):
                    rule_of.setdefault(recipient_id, rule)
            if rule_of:
                planned.append((occurrence, rule_of))
        if not planned:
            return 0
        now = dt.datetime.now(dt.UTC)
        users = uow.recipients.of({recipient_id for _, rule_of in planned for recipient_id in rule_of})
        message_rows: list[dict[str, Any]] = []
        # per (event, recipient): the occurrence, its rule, the inbox rendering and the context it was rendered with
        written: dict[tuple[str, str], tuple[Occurrence, Rule, Rendered, dict[str, Any]]] = {}
        renderings = _Renderings(self.templates)
        for occurrence, rule_of in planned:
            data = occurrence.data
            org_path = data.get("org_path") or data.get("school_org_path") or data.get("issuing_org_path")
            message_data = {k: v for k, v in data.items() if k != "policy"}
            for recipient_id, rule in rule_of.items():
                recipient = users.get(recipient_id) or {"display_name": "", "locale": "zh-CN"}
                locale = recipient.get("locale") or "zh-CN"
                context = {**data, "recipient": {"display_name": recipient.get("display_name") or ""}}
                inbox = renderings.render(occurrence, rule.kind, locale, Channel.IN_APP, context)
                written.setdefault((occurrence.event_id, recipient_id), (occurrence, rule, inbox, context))
                message_rows.append(
                    {
                        "id": uuid.uuid4(),
                        "event_id": occurrence.event_id,
                        "event_type": occurrence.event_type,
                        "kind": rule.kind,
                        "recipient_id": recipient_id,
                        "org_path": org_path,
                        "locale": locale,
                        "subject": inbox.subject[:400],
                        "body": inbox.body,
                        "data": message_data,
                        "event_time": occurrence.event_time,
                        "created_at": now,
                    }
                )
        # A recipient missing here already had this event (a replay): nothing more for them.
        new_messages = uow.messages.add_new(message_rows)
        if not new_messages:
            return 0
        prefs_of = uow.preferences.of({recipient_id for _, recipient_id in new_messages})
        rows: list[dict[str, Any]] = []
        for (event_id, recipient_id), message_id in new_messages.items():
            occurrence, rule, inbox, context = written[(event_id, recipient_id)]
            data = occurrence.data
            org_path = data.get("org_path") or data.get("school_org_path") or data.get("issuing_org_path")
            kind = self.rulebook.kinds[rule.kind]
            MESSAGES_CREATED.labels(rule.kind).inc()
            user = users.get(recipient_id)
            prefs = prefs_of.get(recipient_id, Preferences())
            locale = (user or {}).get("locale") or "zh-CN"
            for channel in prefs.channels_for(kind):
                addressable = has_address(channel, user, prefs)
                status = (
                    DeliveryStatus.SENT
                    if channel == Channel.IN_APP
                    else DeliveryStatus.PENDING
                    if addressable
                    else DeliveryStatus.SKIPPED
                )
                # What is never sent is not rendered: a skipped delivery keeps the subject the log shows, no body.
                if channel == Channel.IN_APP:
                    rendered = inbox
                elif status == DeliveryStatus.SKIPPED:
                    rendered = self.templates.render_subject(rule.kind, locale, channel, context, inbox)
                else:
                    rendered = renderings.render(occurrence, rule.kind, locale, channel, context)
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
                        "event_time": occurrence.event_time,
                        "created_at": now,
                        "sent_at": now if channel == Channel.IN_APP else None,
                    }
                )
        if rows:
            uow.deliveries.add_new(rows)
        return len(new_messages)

    # -- reminders -----------------------------------------------------------------------------
    def schedule_reminders(
        self, event: CloudEvent, data: dict[str, Any], uow: NotificationsUnitOfWork, cancellations: Cancellations
    ) -> None:
        schools: list[dict[str, str]] = []
        if event.type == "nominations.round.opened" and data.get("issuing_org_path"):
            schools = uow.recipients.schools_within(data["issuing_org_path"])
        now = dt.datetime.now(dt.UTC)
        plans = plan_reminders(event.type, data, self.rulebook.reminders, schools, now=now - REMINDER_GRACE)
        plans = [p for p in plans if p.due_at >= now - REMINDER_GRACE]
        if plans:
            cancellations.write()  # an earlier event's cancellation must not reach what this one plans
            uow.reminders.add_new(plans, event.id, now)

    def plan_next_evaluation(self, reminder: Mapping[str, Any], source: str, uow: NotificationsUnitOfWork) -> None:
        """Continue the yearly chain of an appointment's evaluation-due reminders (nothing past its term)."""
        if reminder["kind"] != "evaluation_due":
            return
        plan = next_evaluation_plan(reminder["data"] or {}, self.rulebook.reminders)
        if plan is not None:
            uow.reminders.add_new([plan], source, dt.datetime.now(dt.UTC))

    def cancel_reminders(self, event: CloudEvent, uow: NotificationsUnitOfWork, cancellations: Cancellations) -> None:
        keys = reminder_keys_cancelled_by(event.type, event.data)
        prefixes = reminder_prefixes_cancelled_by(event.type, event.data)
        if not keys and not prefixes:
            return
        if event.type != "approvals.evaluation.recorded":
            cancellations.add(event.type, keys, prefixes)
            return
        cancellations.write()
        for row in uow.reminders.cancel(keys, prefixes, dt.datetime.now(dt.UTC), event.type):
            REMINDERS_CANCELLED.labels(row["kind"]).inc()
            # this year's evaluation is done: next year's reminder takes its place. Only a
            # reminder that was still pending continues the chain, so an ended appointment stays quiet.
            self.plan_next_evaluation(row, event.id, uow)


class Cancellations:
    """The reminder cancellations of consecutive events of one type, written as one statement: the same reminders
    end, cancelled by that type, as one event after the other would end them. Written when the type changes and
    before any reminder is planned, so a reminder an event plans is cancelled only by the events after it."""

    def __init__(self, uow: NotificationsUnitOfWork) -> None:
        self.uow = uow
        self.event_type = ""
        self.keys: list[str] = []
        self.prefixes: list[str] = []

    def add(self, event_type: str, keys: list[str], prefixes: list[str]) -> None:
        if event_type != self.event_type:
            self.write()
            self.event_type = event_type
        self.keys += keys
        self.prefixes += prefixes

    def write(self) -> None:
        if not self.keys and not self.prefixes:
            return
        for row in self.uow.reminders.cancel(self.keys, self.prefixes, dt.datetime.now(dt.UTC), self.event_type):
            REMINDERS_CANCELLED.labels(row["kind"]).inc()
        self.keys, self.prefixes = [], []


class SeenNominations:
    """The nominations seen (a submission's school and candidate, for the events that name only its id) as a run of
    events reads them: read in one query, what each submission remembers seen by the events after it, written in
    one statement."""

    def __init__(self, uow: NotificationsUnitOfWork, events: list[CloudEvent]) -> None:
        self.uow = uow
        # A submission remembers itself before its own enrichment, which then adds nothing: only the nominations
        # the other events name are read (none in a window of submissions, the deadline day's load).
        ids = {
            str(e.data["nomination_id"]) for e in events if e.data.get("nomination_id") and e.type not in SUBMISSIONS
        }
        self.rows = uow.known_nominations.of(ids) if ids else {}
        self.remembered: dict[str, dict[str, Any]] = {}

    def remember(self, data: Mapping[str, Any]) -> None:
        nomination_id = str(data["nomination_id"])
        values = {
            "round_id": data.get("round_id"),
            "school_org_code": data.get("school_org_code"),
            "school_org_path": data.get("school_org_path"),
            "school_name": data.get("school_name"),
            "candidate_user_id": data.get("candidate_user_id"),
            "candidate_name": data.get("candidate_name"),
        }
        self.rows[nomination_id] = {"nomination_id": nomination_id, **values}
        self.remembered[nomination_id] = values

    def enrich(self, data: dict[str, Any]) -> dict[str, Any]:
        nomination_id = data.get("nomination_id")
        return with_nomination(data, self.rows.get(str(nomination_id)) if nomination_id else None)

    def write(self) -> None:
        if self.remembered:
            self.uow.known_nominations.remember(self.remembered)


def enrich(data: dict[str, Any], uow: NotificationsUnitOfWork) -> dict[str, Any]:
    """Add the nomination's school and candidate (from its submitted event) where the event lacks them."""
    nomination_id = data.get("nomination_id")
    return with_nomination(data, uow.known_nominations.get(str(nomination_id)) if nomination_id else None)


def with_nomination(data: dict[str, Any], row: Mapping[str, Any] | None) -> dict[str, Any]:
    """The event's data with what the nomination's row knows and the data lacks."""
    if row is None:
        return data
    extra = {k: v for k, v in row.items() if v is not None and not data.get(k)}
    return {**data, **extra}
