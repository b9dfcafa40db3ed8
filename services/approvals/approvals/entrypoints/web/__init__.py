"""The approvals web process: `gunicorn "approvals.entrypoints.web:create_app()"`."""

from __future__ import annotations

from flask import Flask

from approvals.bootstrap import SERVICE, Approvals, bootstrap
from shared.health import BrokerProbe, database_check
from shared.logging import configure_logging
from shared.web import create_service_app


def create_app(service: Approvals | None = None) -> Flask:
    from approvals.entrypoints.web.resources import BLUEPRINTS

    service = service or bootstrap()
    configure_logging(SERVICE, service.settings.log_level)
    app = create_service_app(
        service=SERVICE,
        title="CIO platform — approvals",
        blueprints=BLUEPRINTS,
        verifier=lambda: service.verifier,
        checks={
            "database": database_check(service.engine),
            "broker": BrokerProbe(service.settings.bus.amqp_url),
        },
    )
    app.extensions["approvals"] = service
    return app
