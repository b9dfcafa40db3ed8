"""The API's reads and the preference update: the inbox of the caller, preferences, the delivery log."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from notifications.domain.model import RuleBookKinds, validate_digest, validate_preferences
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.errors import NotFound, Unprocessable, field_error
from shared.etags import require_current


def inbox_page(
    uow: NotificationsUnitOfWork, user_id: str, *, unread_only: bool, after: Any, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The caller's messages, newest first, and how many are unread."""
    with uow:
        items = uow.messages.page(user_id, unread_only=unread_only, after=after, limit=limit + 1)
        unread = uow.messages.unread(user_id)
    return items, unread


def mark_read(uow: NotificationsUnitOfWork, user_id: str, message_id: uuid.UUID | None) -> int:
    """Mark one message (or, with None, all) of the caller read; someone else's message is a 404."""
    with uow:
        if message_id is not None and uow.messages.get(user_id, message_id) is None:
            raise NotFound("No such message.")
        marked = uow.messages.mark_read(user_id, message_id, dt.datetime.now(dt.UTC))
        uow.commit()
    return marked


def get_message(uow: NotificationsUnitOfWork, user_id: str, message_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        row = uow.messages.get(user_id, message_id)
    if row is None:
        raise NotFound("No such message.")
    return row


def preferences_view(kinds: RuleBookKinds, uow: NotificationsUnitOfWork, user_id: str) -> dict[str, Any]:
    """Effective channels per kind (stored choice or default, plus what cannot be switched off)."""
    with uow:
        prefs = uow.preferences.get(user_id)
    robots = dict(prefs.robots)
    if robots.get("dingtalk_secret"):
        robots["dingtalk_secret"] = "******"  # noqa: S105 - write-only: never read back
    return {
        "channels": {name: prefs.channels_for(kind) for name, kind in sorted(kinds.items())},
        "mandatory": {name: list(kind.mandatory_channels) for name, kind in sorted(kinds.items()) if kind.mandatory},
        "robots": robots,
        "digest": prefs.digest,
        "digest_time": prefs.digest_time.strftime("%H:%M"),
        "digest_timezone": prefs.digest_timezone,
        "version": prefs.version,
    }


@dataclass(frozen=True)
class DigestChoice:
    """The digest part of a preferences update; a None field keeps what is stored."""

    mode: str | None = None
    time: str | None = None
    timezone: str | None = None


def update_preferences(
    kinds: RuleBookKinds,
    uow: NotificationsUnitOfWork,
    user_id: str,
    if_match: set[str],
    channels: Mapping[str, list[str]],
    robots: Mapping[str, str | None] | None,
    digest: DigestChoice,
    *,
    webhook_problem: Callable[[str], str | None],
) -> int:
    """Replace the caller's channel choices (kinds not named keep their defaults); returns the new version.
    `webhook_problem` is the outbound guard: a webhook URL it refuses is never stored."""
    problems = validate_preferences(kinds, channels, {k: v or "" for k, v in (robots or {}).items()})
    url = (robots or {}).get("webhook_url")
    already = any(field == "robots.webhook_url" for field, _ in problems)
    if url and not already and (problem := webhook_problem(url)) is not None:
        problems.append(("robots.webhook_url", problem))
    problems += validate_digest(digest.mode, digest.time, digest.timezone)
    if problems:
        raise Unprocessable(
            "Some preferences are not allowed.", errors=[field_error(field, message) for field, message in problems]
        )
    with uow:
        row = uow.preferences.stored_for_update(user_id)
        version = row["version"] if row else 0
        require_current(if_match, version, "The preferences changed since you read them; read them again and retry.")
        stored_robots = dict(row["robots"]) if row else {}
        for name, value in (robots or {}).items():
            if value:
                stored_robots[name] = value
            else:
                stored_robots.pop(name, None)
        stored_digest = {
            "digest": row["digest"] if row else None,
            "digest_time": row["digest_time"] if row else None,
            "digest_timezone": row["digest_timezone"] if row else None,
        }
        chosen = {"digest": digest.mode, "digest_time": digest.time, "digest_timezone": digest.timezone}
        values = {
            **stored_digest,
            **{k: v for k, v in chosen.items() if v is not None},
            "channels": {k: list(dict.fromkeys(v)) for k, v in channels.items()},
            "robots": stored_robots,
            "version": version + 1,
            "updated_at": dt.datetime.now(dt.UTC),
        }
        uow.preferences.save(user_id, values, stored=row is not None)
        uow.audit(
            "preferences.updated",
            actor=user_id,
            target=user_id,
            details={
                "channels": values["channels"],
                "robots": sorted(stored_robots),
                "digest": [values["digest"], values["digest_time"], values["digest_timezone"]],
            },
        )
        uow.commit()
    return version + 1


def deliveries_page(
    uow: NotificationsUnitOfWork,
    paths: list[str],
    *,
    status: str | None,
    channel: str | None,
    after: Any,
    limit: int,
) -> list[dict[str, Any]]:
    with uow:
        return uow.deliveries.page(paths, status=status, channel=channel, after=after, limit=limit + 1)


def get_delivery(uow: NotificationsUnitOfWork, paths: list[str], delivery_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        row = uow.deliveries.get(delivery_id, paths)
    if row is None:
        raise NotFound("No such delivery.")
    return row
