"""A service is a declaration (`<name>/declaration.py`: SPEC); this module is the machine that runs it.

What every service needs the same way is here once: its web app (`create_app`), its Alembic environment
(`run_migrations`), its worker (`worker_main`: consumers built from the declared subscriptions, the outbox relay
when the service publishes, the declared timers) and its operator commands (`run_cli`: `migrate` for all, plus the
service's own). A service's package declares only what is its own: name, tables, how it is wired, its blueprints,
what it subscribes to, its timers, whether it publishes, its ports and public routes, and its extra commands. The
deploy renderers read the same declarations (`deploy/service_catalog.py`), so adding a service is its package plus
its name in `deploy/services.yaml`. References to modules that import the whole service are "module:attribute"
strings, resolved when used, so importing a declaration is cheap and cycle-free.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import Connection, MetaData

from shared.bus.topology import QueueSpec, declare_queues
from shared.config import BusSettings

if TYPE_CHECKING:
    from shared.bus.consumer import EventConsumer

# handler(event, uow): shared.bus.consumer.Handler, named here without importing pika at declaration time.
HandlerMap = Mapping[str, Callable[..., Any]]


@dataclass(frozen=True)
class Command:
    """An operator command beyond `migrate`: `run(service, args)` returns the exit status (None: 0)."""

    help: str
    run: Callable[[Any, argparse.Namespace], int | None]
    arguments: Callable[[argparse.ArgumentParser], object] | None = None
    # False for a command that reads only files (no database, no settings): it gets None for the service.
    wired: bool = True


def today_argument(parser: argparse.ArgumentParser) -> None:
    """`--today YYYY-MM-DD` of a dated command: run it as on that day (default: the real today)."""
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None)


@dataclass(frozen=True)
class Subscription:
    """A queue the worker consumes (`<service>.<purpose>`) and the handler of each event type on it.

    nameko's `@event_handler`, as data: the map lives in the service layer beside the handlers, the declaration
    names it. `handlers` is a "module:attribute" reference to the {event type: handler} map, or a function of the
    wired service returning it (handlers that depend on the service's settings or rules). The queue is bound to
    the map's event types unless `bindings` gives topic patterns instead (e.g. `identity.role.*`)."""

    queue: str
    handlers: str | Callable[[Any], HandlerMap]
    bindings: Sequence[str] | None = None

    def handler_map(self, service: Any = None) -> HandlerMap:
        """The handlers; `service` (the wired service) is needed only when they are a function of it."""
        found = resolve(self.handlers) if isinstance(self.handlers, str) else self.handlers
        return found if isinstance(found, Mapping) else found(service)

    def queue_spec(self, service: Any = None) -> QueueSpec:
        bindings = self.bindings if self.bindings is not None else sorted(self.handler_map(service))
        return QueueSpec(self.queue, tuple(bindings))

    def consumer(self, service: Any, bus: BusSettings | None = None, queue: str | None = None) -> EventConsumer:
        """This queue's consumer for the wired service; tests give their own bus and a queue name of their own."""
        from shared.bus.consumer import EventConsumer

        spec = self.queue_spec(service)
        if queue is not None:
            spec = QueueSpec(queue, spec.bindings)
        return EventConsumer(bus or service.settings.bus, spec, self.handler_map(service), service.uow)


@dataclass(frozen=True)
class Ports:
    """Where a service listens on a machine without containers (`make run`, the e2e stack's defaults); in
    containers every web listens on 8000 and every worker serves /metrics on 9100."""

    web: int
    worker: int


@dataclass(frozen=True)
class ServiceSpec:
    """A service, declared.

    `subscriptions` are the queues its worker consumes (declared by `migrate`), `timers` a reference to
    `timers(service) -> [shared.worker.PeriodicTask]`, `publishes` whether its unit of work writes events to the
    outbox (then the worker runs the relay). `ports` and `routes` (the gateway's path prefixes to the service)
    are read by the deploy renderers. `after_migrate(service)` does what else must exist before the service
    starts and says what in the `migrate` line. `bootstrap` and `blueprints` are "module:attribute" references to
    the wiring function (returning the service object: `settings`, `engine`, `session_factory`, `uow`,
    `verifier`) and the list of Flask blueprints; by convention `<name>.bootstrap:bootstrap` and
    `<name>.entrypoints.web.resources:BLUEPRINTS`."""

    name: str
    metadata: MetaData
    ports: Ports
    routes: Sequence[str]
    publishes: bool
    subscriptions: Sequence[Subscription] = ()
    timers: str | None = None
    commands: Mapping[str, Command] = field(default_factory=dict)
    after_migrate: Callable[[Any], str] | None = None
    bootstrap: str = ""
    blueprints: str = ""

    def __post_init__(self) -> None:
        if not self.bootstrap:
            object.__setattr__(self, "bootstrap", f"{self.name}.bootstrap:bootstrap")
        if not self.blueprints:
            object.__setattr__(self, "blueprints", f"{self.name}.entrypoints.web.resources:BLUEPRINTS")

    def wire(self) -> Any:
        return resolve(self.bootstrap)()

    @property
    def queue_names(self) -> list[str]:
        """The durable queues its worker reads, without wiring anything (k8s' queue-depth autoscaling)."""
        return [s.queue for s in self.subscriptions]

    def queues(self, service: Any = None) -> list[QueueSpec]:
        return [s.queue_spec(service) for s in self.subscriptions]


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


def worker_components(spec: ServiceSpec, service: Any) -> list[Any]:
    """What the worker runs: the outbox relay (only when the service publishes), one consumer per subscription,
    the timers. Tests start the same pieces in threads."""
    from shared.bus.relay import OutboxRelay

    parts: list[Any] = [OutboxRelay(service.settings.bus, service.session_factory)] if spec.publishes else []
    parts += [s.consumer(service) for s in spec.subscriptions]
    if spec.timers:
        parts += resolve(spec.timers)(service)
    return parts


def worker_main(spec: ServiceSpec) -> None:
    """The service's worker (`python -m <name>.entrypoints.worker`): its components, /metrics and health, ready
    when the database answers and every component that talks to the broker is connected."""
    from shared.health import database_check
    from shared.logging import configure_logging
    from shared.worker import ready_when, run_worker

    service = spec.wire()
    configure_logging(spec.name, service.settings.log_level)
    parts = worker_components(spec, service)
    ready = ready_when([database_check(service.engine)], parts)
    run_worker(parts, metrics_port=service.settings.worker_metrics_port, ready=ready)


def migrate(spec: ServiceSpec, service: Any) -> str:
    """Database at head, whatever the service needs besides (`after_migrate`), its queues declared."""
    from shared.migrations import service_dir, upgrade

    upgrade(service_dir(spec.name), service.settings.database_url)
    extra = spec.after_migrate(service) if spec.after_migrate else None
    declare_queues(service.settings.bus, spec.queues(service))
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
