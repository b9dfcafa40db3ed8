"""The identity worker: relays the outbox (user, org and grant events) to the bus."""

from __future__ import annotations

from identity.bootstrap import SERVICE, bootstrap
from shared.bus.relay import OutboxRelay
from shared.health import database_check
from shared.logging import configure_logging
from shared.worker import run_worker


def main() -> None:
    service = bootstrap()
    configure_logging(SERVICE, service.settings.log_level)
    relay = OutboxRelay(service.settings.bus, service.session_factory)
    check_db = database_check(service.engine)

    def ready() -> bool:
        try:
            check_db()
        except Exception:
            return False
        return relay.connected.is_set()

    run_worker([relay], metrics_port=service.settings.worker_metrics_port, ready=ready)


if __name__ == "__main__":
    main()
