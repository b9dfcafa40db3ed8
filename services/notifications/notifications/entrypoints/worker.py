"""The notifications worker: consumes every service's events (projection, fan-out, reminders), sends
due deliveries with backoff, sends due reminders, makes the daily digests, and relays its outbox."""

from __future__ import annotations

from notifications.bootstrap import SERVICE, Notifications, bootstrap
from notifications.service_layer.delivery import count_dead, dispatch_due, send_due_reminders
from notifications.service_layer.digest import send_digests
from shared.bus.relay import OutboxRelay
from shared.health import database_check
from shared.logging import configure_logging
from shared.worker import Component, PeriodicTask, run_worker


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
        OutboxRelay(service.settings.bus, service.session_factory),
    ]


def main() -> None:
    service = bootstrap()
    configure_logging(SERVICE, service.settings.log_level)
    parts = components(service)
    consumer = parts[0]
    check_db = database_check(service.engine)

    def ready() -> bool:
        try:
            check_db()
        except Exception:
            return False
        return bool(getattr(consumer, "connected").is_set())  # noqa: B009

    run_worker(parts, metrics_port=service.settings.worker_metrics_port, ready=ready)


if __name__ == "__main__":
    main()
