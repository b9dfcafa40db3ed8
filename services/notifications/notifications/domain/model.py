"""Channels, kinds, preferences, retry policy and reminder plans: the rules of telling people, pure Python."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class DomainError(Exception):
    """A rule refused the input; `field` names the input it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Channel(enum.StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"
    WECOM = "wecom"
    DINGTALK = "dingtalk"


CHANNELS = frozenset(c.value for c in Channel)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    SKIPPED = "skipped"  # the recipient has no address for the channel: visible, never retried


@dataclass(frozen=True)
class Kind:
    """A kind of notification users choose channels for; a mandatory kind keeps its mandatory channels."""

    name: str
    default_channels: tuple[str, ...]
    mandatory: bool = False
    mandatory_channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preferences:
    """One user's choice of channels per kind (kinds not named use their defaults) and robot addresses."""

    channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    robots: Mapping[str, str] = field(default_factory=dict)
    version: int = 0

    def channels_for(self, kind: Kind) -> list[str]:
        """The in-app inbox always; a mandatory kind's channels even if the stored choice lacks them."""
        chosen = list(self.channels.get(kind.name, kind.default_channels))
        wanted = [Channel.IN_APP.value, *chosen, *kind.mandatory_channels]
        return list(dict.fromkeys(wanted))


ROBOT_FIELDS = ("webhook_url", "wecom_key", "dingtalk_token", "dingtalk_secret")


def validate_preferences(
    kinds: Mapping[str, Kind], channels: Mapping[str, Iterable[str]], robots: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Every problem as (field, message); a mandatory kind cannot be switched off."""
    problems: list[tuple[str, str]] = []
    for name, chosen in channels.items():
        where = f"channels.{name}"
        kind = kinds.get(name)
        if kind is None:
            problems.append((where, f"unknown kind; one of {', '.join(sorted(kinds))}"))
            continue
        chosen = list(chosen)
        unknown = [c for c in chosen if c not in CHANNELS]
        if unknown:
            problems.append((where, f"unknown channels {unknown}; one of {', '.join(sorted(CHANNELS))}"))
            continue
        missing = [c for c in kind.mandatory_channels if c not in chosen]
        if kind.mandatory and missing:
            problems.append((where, f"{name} is mandatory and cannot be switched off on {', '.join(missing)}"))
    for name, value in robots.items():
        if name not in ROBOT_FIELDS:
            problems.append((f"robots.{name}", f"unknown; one of {', '.join(ROBOT_FIELDS)}"))
        elif name == "webhook_url" and value and not value.startswith(("http://", "https://")):
            problems.append((f"robots.{name}", "must be an http(s) URL"))
    return problems


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff between attempts; dead after `max_attempts` (an operator may retry it)."""

    max_attempts: int = 5
    base_seconds: float = 30.0
    max_seconds: float = 3600.0

    def delay(self, attempts: int) -> dt.timedelta:
        return dt.timedelta(seconds=min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))

    def after_failure(self, attempts: int, now: dt.datetime) -> tuple[DeliveryStatus, dt.datetime | None]:
        if attempts >= self.max_attempts:
            return DeliveryStatus.DEAD, None
        return DeliveryStatus.PENDING, now + self.delay(attempts)


@dataclass(frozen=True)
class ReminderPlan:
    """A reminder to schedule: sent once at `due_at` unless its reason goes away before."""

    kind: str
    subject_key: str
    due_at: dt.datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class ReminderSettings:
    round_deadline_days_before: int = 3
    task_due_hours_before: int = 24
    term_ending_days_before: tuple[int, ...] = (90, 30)
    training_requirement_due: str = "11-30"  # month-day of the requirement's year


def parse_time(value: Any) -> dt.datetime | None:
    """ISO date or date-time from an event; a bare date means its start, China time."""
    if not value:
        return None
    text = str(value)
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def plan_reminders(
    event_type: str, data: Mapping[str, Any], settings: ReminderSettings, schools: Iterable[Mapping[str, str]] = ()
) -> list[ReminderPlan]:
    """The reminders an event starts; `schools` are the schools under a round's issuing org."""
    plans: list[ReminderPlan] = []
    if event_type == "nominations.round.opened":
        deadline = parse_time(data.get("deadline"))
        if deadline is None:
            return []
        due = deadline - dt.timedelta(days=settings.round_deadline_days_before)
        for school in schools:
            plans.append(
                ReminderPlan(
                    "round_deadline",
                    f"round:{data['round_id']}:{school['code']}",
                    due,
                    {
                        **dict(data),
                        "policy": None,
                        "school_org_code": school["code"],
                        "school_org_path": school["path"],
                    },
                )
            )
    elif event_type == "approvals.task.assigned":
        due_at = parse_time(data.get("due_at"))
        if due_at is not None:
            due = due_at - dt.timedelta(hours=settings.task_due_hours_before)
            plans.append(ReminderPlan("task_due", f"task:{data['task_id']}", due, dict(data)))
    elif event_type in ("approvals.appointment.made", "approvals.appointment.renewed"):
        ends = parse_time(data.get("ends_on"))
        if ends is not None:
            for days in settings.term_ending_days_before:
                plans.append(
                    ReminderPlan(
                        "term_ending",
                        f"appointment:{data['appointment_id']}",
                        ends - dt.timedelta(days=days),
                        {**dict(data), "days_left": days},
                    )
                )
    elif event_type == "training.requirement.unmet":
        month, day = (int(p) for p in settings.training_requirement_due.split("-"))
        year = int(data.get("year") or dt.date.today().year)
        due = dt.datetime(year, month, day, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        plans.append(ReminderPlan("training_requirement", f"training:{data['person_user_id']}:{year}", due, dict(data)))
    return plans


def reminder_keys_cancelled_by(event_type: str, data: Mapping[str, Any]) -> list[str]:
    """Subject keys whose reminders lose their reason with this event."""
    if event_type in ("nominations.nomination.submitted", "nominations.nomination.resubmitted"):
        return [f"round:{data.get('round_id')}:{data.get('school_org_code')}"]
    if event_type == "approvals.review.decided":
        return [f"task:{data.get('task_id')}"]
    if event_type == "approvals.appointment.renewed":
        return [f"appointment:{data.get('previous_appointment_id')}"]
    if event_type in ("approvals.appointment.ended", "approvals.appointment.revoked"):
        return [f"appointment:{data.get('appointment_id')}"]
    if event_type == "training.training.completed" and data.get("centralized"):
        return [f"training:{data.get('person_user_id')}:{data.get('year')}"]
    return []


def reminder_prefixes_cancelled_by(event_type: str, data: Mapping[str, Any]) -> list[str]:
    """Prefixes of subject keys cancelled as a group (a closed round reminds nobody)."""
    if event_type == "nominations.round.closed":
        return [f"round:{data.get('round_id')}:"]
    return []


RuleBookKinds = Mapping[str, Kind]
