"""Alertmanager's webhook into the platform inbox.

Alertmanager reaches the on-call by e-mail and WeCom on its own (deploy/alertmanager/render.py), so an alert is
heard even when the platform is down; while the platform is up, this also puts every alert, and its resolve,
into the inbox of the platform's operators (platform_admin at the root), and into their DingTalk robot if they
chose one. Each alert is one message per operator and status: Alertmanager re-sends a group's alerts at every
update and repeat, and the (event id, recipient) key makes those re-sends add nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from notifications.service_layer.notifier import Notifier
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork

EVENT_TYPES = {"firing": "platform.alert.firing", "resolved": "platform.alert.resolved"}
PLATFORM_PATH = "/"


def alert_event_id(alert: dict[str, Any]) -> str:
    """One id per alert instance (its fingerprint and start) and status: a repeat is the same event."""
    return f"alert:{alert['fingerprint']}:{alert['startsAt'].isoformat()}:{alert['status']}"


def record_alerts(uow: NotificationsUnitOfWork, notifier: Notifier, alerts: Iterable[dict[str, Any]]) -> int:
    """Fan every alert out to the operators in one transaction; returns how many messages are new."""
    created = 0
    with uow:
        for alert in alerts:
            labels, annotations, status = alert["labels"], alert["annotations"], alert["status"]
            ends_at = alert.get("endsAt")
            data = {
                "org_path": PLATFORM_PATH,
                "status": status,
                "alertname": labels.get("alertname", ""),
                "severity": labels.get("severity", ""),
                "service": labels.get("service", ""),
                "labels": labels,
                "summary": annotations.get("summary") or labels.get("alertname", ""),
                "description": annotations.get("description", ""),
                "starts_at": alert["startsAt"].isoformat(),
                "ends_at": ends_at.isoformat() if status == "resolved" and ends_at else None,
            }
            when = ends_at if status == "resolved" and ends_at else alert["startsAt"]
            created += notifier.fan_out(EVENT_TYPES[status], alert_event_id(alert), when, data, uow)
        uow.commit()
    return created
