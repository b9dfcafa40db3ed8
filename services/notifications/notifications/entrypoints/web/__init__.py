"""The notifications web process: `gunicorn "notifications.entrypoints.web:create_app()"`."""

from __future__ import annotations

from flask import Flask

from notifications.bootstrap import SERVICE, Notifications, bootstrap
from shared.health import BrokerProbe, database_check
from shared.logging import configure_logging
from shared.web import create_service_app


def create_app(service: Notifications | None = None) -> Flask:
    from notifications.entrypoints.web.resources import BLUEPRINTS

    service = service or bootstrap()
    configure_logging(SERVICE, service.settings.log_level)
    app = create_service_app(
        service=SERVICE,
        title="CIO platform — notifications",
        blueprints=BLUEPRINTS,
        verifier=lambda: service.verifier,
        checks={
            "database": database_check(service.engine),
            "broker": BrokerProbe(service.settings.bus.amqp_url),
        },
    )
    app.extensions["notifications"] = service
    return app
