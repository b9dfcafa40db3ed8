"""Channels, kinds, preferences, retry policy and reminder plans: the rules of telling people, pure Python."""

from __future__ import annotations

import datetime as dt
import enum
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared import clock


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
    HELD = "held"  # collected for the recipient's daily digest, sent with it at next_attempt_at
    DIGESTED = "digested"  # went out inside the digest named by digest_id
    SIMULATED = "simulated"  # handed to a development sink (the logging SMS provider): reached nobody


DIGEST_MODES = ("off", "daily")
DEFAULT_DIGEST_TIME = dt.time(8, 0)
DEFAULT_DIGEST_TIMEZONE = "Asia/Shanghai"
_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


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
    digest: str = "off"
    digest_time: dt.time = DEFAULT_DIGEST_TIME
    digest_timezone: str = DEFAULT_DIGEST_TIMEZONE

    def channels_for(self, kind: Kind) -> list[str]:
        """The in-app inbox always; a mandatory kind's channels even if the stored choice lacks them."""
        chosen = list(self.channels.get(kind.name, kind.default_channels))
        wanted = [Channel.IN_APP.value, *chosen, *kind.mandatory_channels]
        return list(dict.fromkeys(wanted))

    def holds_for_digest(self, kind: Kind, channel: str) -> bool:
        """Under a daily digest, e-mail of a kind that may be switched off waits for the digest;
        mandatory kinds (overdue escalation, revocation, rectification) still go at once."""
        return self.digest == "daily" and channel == Channel.EMAIL and not kind.mandatory

    def next_digest_at(self, now: dt.datetime) -> dt.datetime:
        """The next local send time strictly after `now`, in UTC."""
        zone = zoneinfo.ZoneInfo(self.digest_timezone)
        local = now.astimezone(zone)
        at = dt.datetime.combine(local.date(), self.digest_time, tzinfo=zone)
        if at <= local:
            at = dt.datetime.combine(local.date() + dt.timedelta(days=1), self.digest_time, tzinfo=zone)
        return at.astimezone(dt.UTC)

    def digest_date(self, scheduled: dt.datetime) -> dt.date:
        """The local date a digest sent at `scheduled` belongs to: one digest per user and date."""
        return scheduled.astimezone(zoneinfo.ZoneInfo(self.digest_timezone)).date()


def parse_digest_time(value: str) -> dt.time | None:
    match = _HH_MM.match(value or "")
    return dt.time(int(match.group(1)), int(match.group(2))) if match else None


def validate_digest(mode: str | None, time: str | None, timezone: str | None) -> list[tuple[str, str]]:
    """Problems with a digest choice as (field, message); None means 'keep what is stored'."""
    problems: list[tuple[str, str]] = []
    if mode is not None and mode not in DIGEST_MODES:
        problems.append(("digest", f"one of {', '.join(DIGEST_MODES)}"))
    if time is not None and parse_digest_time(time) is None:
        problems.append(("digest_time", "a local time HH:MM, e.g. 08:00"))
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            problems.append(("digest_timezone", "an IANA time zone, e.g. Asia/Shanghai"))
    return problems


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
    training_requirement_due: str = "12-01"  # month-day of the requirement's year, before it ends
    evaluation_due_days_before: int = 30


def anniversary(start: dt.date, years: int) -> dt.date:
    """`start` moved on by whole years; 29 February becomes 28 February in a common year."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def _china_morning(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))


def evaluation_plan(
    data: Mapping[str, Any],
    settings: ReminderSettings,
    period: int | None = None,
    *,
    not_before: dt.datetime | None = None,
) -> ReminderPlan | None:
    """The evaluation-due reminder of one yearly period of an appointment, or None when the term is over.

    The annual evaluation of period Y is due at the anniversary of `starts_on` that falls in year Y; the
    reminder goes `evaluation_due_days_before` days earlier. Without `period`, the first period whose
    reminder is not before `not_before` (so an appointment recorded late is not reminded of past years).
    The cadence is not in the appointment event, so it is yearly; a term ending the day before an
    anniversary (2024-09-01 to 2027-08-31) still completes that year.
    """
    cadences = data.get("evaluation_cadences")
    if isinstance(cadences, list) and not any(
        isinstance(c, dict) and c.get("every_years") == 1 and c.get("subject", "cio") == "cio" for c in cadences
    ):
        # the policy orders no yearly evaluation of the CIO (宜春学院 orders none; a school assessment is the
        # school's, opened by the bureau's campaign): nothing to remind the CIO of. An event without the field
        # (older producers) keeps the yearly reminder.
        return None
    try:
        starts = dt.date.fromisoformat(str(data.get("starts_on") or ""))
    except ValueError:
        return None
    ends: dt.date | None = None
    if data.get("ends_on"):
        try:
            ends = dt.date.fromisoformat(str(data["ends_on"]))
        except ValueError:
            ends = None
    lead = dt.timedelta(days=settings.evaluation_due_days_before)
    years = 1 if period is None else period - starts.year
    if years < 1:
        return None
    while True:
        due_day = anniversary(starts, years)
        if ends is not None and due_day > ends + dt.timedelta(days=1):
            return None
        due_at = _china_morning(due_day) - lead
        if period is not None or not_before is None or due_at >= not_before:
            break
        years += 1
    year = due_day.year
    return ReminderPlan(
        "evaluation_due",
        f"evaluation:{data.get('appointment_id')}:{year}",
        due_at,
        {
            **{k: v for k, v in data.items() if k not in ("period", "anniversary", "days_left")},
            "period": year,
            "anniversary": due_day.isoformat(),
            "days_left": settings.evaluation_due_days_before,
        },
    )


def next_evaluation_plan(reminder_data: Mapping[str, Any], settings: ReminderSettings) -> ReminderPlan | None:
    """After the reminder of period Y was sent or lost its reason, the one of Y + 1 (None past the term)."""
    period = reminder_data.get("period")
    if not isinstance(period, int):
        return None
    return evaluation_plan(reminder_data, settings, period + 1)


def parse_time(value: Any) -> dt.datetime | None:
    """ISO date or date-time from an event; a bare date means its start, China time."""
    if not value:
        return None
    text = str(value)
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return _china_morning(day)
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def plan_reminders(
    event_type: str,
    data: Mapping[str, Any],
    settings: ReminderSettings,
    schools: Iterable[Mapping[str, str]] = (),
    now: dt.datetime | None = None,
) -> list[ReminderPlan]:
    """The reminders an event starts; `schools` are the schools under a round's issuing org.

    An appointment starts only its next evaluation-due reminder: the following year's is planned when
    that one is sent or cancelled by the evaluation (a chain that an ended or revoked appointment cuts).
    """
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
        evaluation = evaluation_plan(data, settings, not_before=now)
        if evaluation is not None:
            plans.append(evaluation)
    elif event_type == "training.requirement.unmet":
        month, day = (int(p) for p in settings.training_requirement_due.split("-"))
        year = int(data.get("year") or clock.today().year)
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
    if event_type == "approvals.evaluation.recorded" and data.get("kind", "cio_annual") == "cio_annual":
        return [f"evaluation:{data.get('appointment_id')}:{data.get('year')}"]
    if event_type in ("approvals.appointment.ended", "approvals.appointment.revoked"):
        return [f"appointment:{data.get('appointment_id')}"]
    if event_type == "training.training.completed" and data.get("centralized"):
        return [f"training:{data.get('person_user_id')}:{data.get('year')}"]
    return []


def reminder_prefixes_cancelled_by(event_type: str, data: Mapping[str, Any]) -> list[str]:
    """Prefixes of subject keys cancelled as a group (a closed round reminds nobody)."""
    if event_type == "nominations.round.closed":
        return [f"round:{data.get('round_id')}:"]
    if event_type == "approvals.appointment.renewed":
        return [f"evaluation:{data.get('previous_appointment_id')}:"]
    if event_type in ("approvals.appointment.ended", "approvals.appointment.revoked"):
        return [f"evaluation:{data.get('appointment_id')}:"]
    return []


RuleBookKinds = Mapping[str, Kind]
