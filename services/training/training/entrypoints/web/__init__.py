"""The training web process: `gunicorn "training.entrypoints.web:create_app()"`."""

from __future__ import annotations

from flask import Flask

from shared.health import BrokerProbe, database_check
from shared.logging import configure_logging
from shared.web import create_service_app
from training.bootstrap import SERVICE, TrainingService, bootstrap


def create_app(service: TrainingService | None = None) -> Flask:
    from training.entrypoints.web.resources import BLUEPRINTS

    service = service or bootstrap()
    configure_logging(SERVICE, service.settings.log_level)
    app = create_service_app(
        service=SERVICE,
        title="CIO platform — training",
        blueprints=BLUEPRINTS,
        verifier=lambda: service.verifier,
        checks={
            "database": database_check(service.engine),
            "broker": BrokerProbe(service.settings.bus.amqp_url),
        },
    )
    app.extensions["training"] = service
    return app
