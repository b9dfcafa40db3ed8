"""identity, declared (shared.service runs it): accounts, orgs, grants, tokens, unified sign-on."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from identity.adapters.orm import metadata
from shared.service import Command, Ports, ServiceSpec, Subscription


def _signing_keys(service: Any) -> str:
    from identity.adapters import keys

    with service.session_factory() as session, session.begin():
        keys.ensure_keys(session, service.signing_secret)
    return "signing keys present"


def _seed_demo(service: Any, args: argparse.Namespace) -> int:
    from identity.service_layer import demo

    if service.settings.is_production:
        # Demo accounts include a platform-wide admin: never in anything labelled production.
        print("identity: seed-demo refused: APP_ENV=production has no demo accounts", file=sys.stderr)
        return 2
    demo.seed(service.uow, orgs_csv=Path(args.orgs_csv) if args.orgs_csv else None, out=sys.stdout)
    return 0


def _rotate_keys(service: Any, args: argparse.Namespace) -> int:
    from identity.adapters import keys

    min_age = dt.timedelta(seconds=service.settings.auth.jwks_cache_seconds + 60)
    try:
        with service.session_factory() as session, session.begin():
            kid = keys.rotate(session, service.signing_secret, min_next_age=min_age, force=args.force)
    except keys.RotationTooEarly as exc:
        print(f"identity: not rotated: {exc}", file=sys.stderr)
        return 1
    print(f"identity: {kid} now signs; a new next key is published")
    return 0


def _create_client(service: Any, args: argparse.Namespace) -> None:
    from identity.service_layer import tokens

    grants = [list(g.split(":", 1)) for g in args.grant]
    secret = tokens.register_client(service.uow(), args.client_id, args.name, grants, args.secret)
    print(f"client_id={args.client_id}\nclient_secret={secret}")


def _client_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("client_id")
    parser.add_argument("name")
    parser.add_argument("--grant", action="append", default=[], help="role:/org/path, repeatable")
    parser.add_argument("--secret", default=None, help="use this secret instead of a random one")


SPEC = ServiceSpec(
    name="identity",
    metadata=metadata,
    ports=Ports(web=8101, worker=9101),
    routes=("/api/auth/", "/api/me", "/api/orgs", "/api/users", "/sso/", "/api/audit/identity"),
    # user, org and grant events
    publishes=True,
    # `cio` grants kept in step with appointments
    subscriptions=(Subscription("identity.appointments", "identity.service_layer.appointments:HANDLERS"),),
    timers="identity.entrypoints.timers:timers",
    after_migrate=_signing_keys,
    commands={
        "seed-demo": Command(
            "the demo organisation tree and one account per role",
            _seed_demo,
            lambda parser: parser.add_argument(
                "--orgs-csv", default=None, help="org tree CSV (default: the demo tree)"
            ),
        ),
        "rotate-keys": Command(
            "promote the next signing key and publish a new next key",
            _rotate_keys,
            lambda parser: parser.add_argument(
                "--force", action="store_true", help="rotate even if verifiers may not have the next key yet"
            ),
        ),
        "create-client": Command(
            "register a service client; prints its secret once", _create_client, _client_arguments
        ),
    },
)
