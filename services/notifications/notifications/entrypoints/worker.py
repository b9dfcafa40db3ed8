"""The notifications worker: consumes every service's events (projection, fan-out, reminders), sends
due deliveries with backoff, sends due reminders, makes the daily digests, and relays its outbox."""

from __future__ import annotations

from notifications.bootstrap import Notifications
from notifications.declaration import SPEC
from notifications.service_layer.delivery import count_dead, dispatch_due, send_due_reminders
from notifications.service_layer.digest import send_digests
from shared.service import worker_main
from shared.worker import Component, PeriodicTask


def components(service: Notifications) -> list[Component]:
    """Everything the worker runs; tests start the same pieces in threads."""
    retry = service.channels.retry
    return [
        service.consumer(),
        PeriodicTask(
            "deliveries", service.channels.dispatch_interval, lambda: dispatch_due(service.uow, service.senders, retry)
        ),
        PeriodicTask(
            "reminders", service.channels.reminder_interval, lambda: send_due_reminders(service.uow, service.notifier)
        ),
        PeriodicTask("digests", service.channels.digest_interval, lambda: send_digests(service.uow, service.templates)),
        PeriodicTask("dead-deliveries-gauge", 15.0, lambda: count_dead(service.uow)),
    ]


def main() -> None:
    worker_main(SPEC)


if __name__ == "__main__":
    main()
