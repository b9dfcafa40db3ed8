"""The notifications worker's timers: due deliveries with backoff, due reminders, the daily digests, a gauge."""

from __future__ import annotations

from notifications.bootstrap import Notifications
from notifications.service_layer.delivery import count_dead, dispatch_due, send_due_reminders
from notifications.service_layer.digest import send_digests
from shared.worker import PeriodicTask


def timers(service: Notifications) -> list[PeriodicTask]:
    retry = service.channels.retry
    return [
        PeriodicTask(
            "deliveries", service.channels.dispatch_interval, lambda: dispatch_due(service.uow, service.senders, retry)
        ),
        PeriodicTask(
            "reminders", service.channels.reminder_interval, lambda: send_due_reminders(service.uow, service.notifier)
        ),
        PeriodicTask("digests", service.channels.digest_interval, lambda: send_digests(service.uow, service.templates)),
        PeriodicTask("dead-deliveries-gauge", 15.0, lambda: count_dead(service.uow)),
    ]
