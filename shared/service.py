"""A service is a declaration (`<name>/declaration.py`: SPEC); this module is the machine that runs it.

What every service needs the same way is here once: its web app (`create_app`), its Alembic environment
(`run_migrations`) and its operator commands (`run_cli`: `migrate` for all, plus the service's own). A service's
package declares only what is its own: name, tables, how it is wired, its blueprints, the queues it consumes and its
extra commands. References to modules that import the whole service are "module:attribute" strings, resolved when
used, so importing a declaration is cheap and cycle-free.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import Connection, MetaData

from shared.bus.topology import QueueSpec, declare_queues


@dataclass(frozen=True)
class Command:
    """An operator command beyond `migrate`: `run(service, args)` returns the exit status (None: 0)."""

    help: str
    run: Callable[[Any, argparse.Namespace], int | None]
    arguments: Callable[[argparse.ArgumentParser], object] | None = None
    # False for a command that reads only files (no database, no settings): it gets None for the service.
    wired: bool = True


@dataclass(frozen=True)
class ServiceSpec:
    """A service, declared.

    `bootstrap`, `blueprints` and `worker` are "module:attribute" references: the wiring function (returning the
    service object: `settings`, `engine`, `verifier`), the list of Flask blueprints and `components(service)`, what
    the worker runs (relay, consumers, timers). `queues(service)` names the queues
    its worker consumes (declared by `migrate`); `after_migrate(service)` does what else must exist before it starts
    and says what in the `migrate` line."""

    name: str
    metadata: MetaData
    bootstrap: str
    blueprints: str
    worker: str
    queues: Callable[[Any], Sequence[QueueSpec]]
    commands: Mapping[str, Command] = field(default_factory=dict)
    after_migrate: Callable[[Any], str] | None = None

    def wire(self) -> Any:
        return resolve(self.bootstrap)()


def resolve(reference: str) -> Any:
    """ "package.module:attribute" → the attribute."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def create_app(spec: ServiceSpec, service: Any | None = None) -> Flask:
    """The service's web app (gunicorn "<name>.entrypoints.web:create_app()"): its blueprints on the shared app
    (problem+json errors, auth, metrics, OpenAPI), health checks of its database and the broker."""
    from shared.health import BrokerProbe, database_check
    from shared.logging import configure_logging
    from shared.web import create_service_app

    service = service or spec.wire()
    configure_logging(spec.name, service.settings.log_level)
    app = create_service_app(
        service=spec.name,
        title=f"CIO platform — {spec.name}",
        blueprints=resolve(spec.blueprints),
        verifier=lambda: service.verifier,
        checks={
            "database": database_check(service.engine),
            "broker": BrokerProbe(service.settings.bus.amqp_url),
        },
    )
    app.extensions[spec.name] = service
    return app


def run_migrations(spec: ServiceSpec) -> None:
    """The body of every `services/<name>/migrations/env.py`: the service's tables plus shared's (outbox, inbox,
    idempotency keys, audit trail: the `shared` branch), on the connection a caller gave (tests) or the service's
    configured database."""
    from alembic import context

    from shared.config import load_settings
    from shared.db import make_engine
    from shared.migrations import shared_metadata

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection, target_metadata=[spec.metadata, shared_metadata()], render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = make_engine(context.config.attributes.get("url") or load_settings(spec.name).database_url)
    with engine.begin() as conn:
        run(conn)
    engine.dispose()


def worker_main(spec: ServiceSpec) -> None:
    """The service's worker (`python -m <name>.entrypoints.worker`): its components, /metrics and health, ready
    when the database answers and every component that talks to the broker is connected."""
    from shared.health import database_check
    from shared.logging import configure_logging
    from shared.worker import ready_when, run_worker

    service = spec.wire()
    configure_logging(spec.name, service.settings.log_level)
    parts = list(resolve(spec.worker)(service))
    ready = ready_when([database_check(service.engine)], parts)
    run_worker(parts, metrics_port=service.settings.worker_metrics_port, ready=ready)


def migrate(spec: ServiceSpec, service: Any) -> str:
    """Database at head, whatever the service needs besides (`after_migrate`), its queues declared."""
    from shared.migrations import service_dir, upgrade

    upgrade(service_dir(spec.name), service.settings.database_url)
    extra = spec.after_migrate(service) if spec.after_migrate else None
    declare_queues(service.settings.bus, list(spec.queues(service)))
    return ", ".join(p for p in ("database at head", extra, "queues declared") if p)


def run_cli(spec: ServiceSpec, argv: Sequence[str] | None = None) -> int:
    """`python -m <name>.entrypoints.cli <command>`: migrate, and the service's own commands."""
    parser = argparse.ArgumentParser(prog=spec.name)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply migrations and declare the queues")
    for name, command in spec.commands.items():
        command_parser = sub.add_parser(name, help=command.help)
        if command.arguments:
            command.arguments(command_parser)
    args = parser.parse_args(argv)
    if args.command == "migrate":
        print(f"{spec.name}: {migrate(spec, spec.wire())}")
        return 0
    command = spec.commands[args.command]
    return command.run(spec.wire() if command.wired else None, args) or 0
