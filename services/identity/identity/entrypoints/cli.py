"""Operator commands of the identity service.

python -m identity.entrypoints.cli migrate
python -m identity.entrypoints.cli seed-demo            # demo tree and accounts (DEMO_PASSWORD or random)
python -m identity.entrypoints.cli rotate-keys [--force]
python -m identity.entrypoints.cli create-client ID NAME [--grant role:/path ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from identity.adapters import keys
from identity.bootstrap import bootstrap
from identity.entrypoints.worker import APPOINTMENTS_QUEUE
from identity.service_layer import demo, tokens
from shared.bus.topology import declare_queues
from shared.migrations import service_dir, upgrade


def migrate() -> None:
    service = bootstrap()
    upgrade(service_dir("identity"), service.settings.database_url)
    with service.session_factory() as session, session.begin():
        keys.ensure_keys(session, service.signing_secret)
    declare_queues(service.settings.bus, [APPOINTMENTS_QUEUE])
    print("identity: database at head, signing keys present, queues declared")


def rotate_keys(force: bool) -> None:
    service = bootstrap()
    min_age = dt.timedelta(seconds=service.settings.auth.jwks_cache_seconds + 60)
    with service.session_factory() as session, session.begin():
        kid = keys.rotate(session, service.signing_secret, min_next_age=min_age, force=force)
    print(f"identity: {kid} now signs; a new next key is published")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="identity")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply migrations and make sure signing keys exist")
    seed = sub.add_parser("seed-demo", help="the demo organisation tree and one account per role")
    seed.add_argument("--orgs-csv", default=None, help="org tree CSV (default: the demo tree)")
    rotate = sub.add_parser("rotate-keys", help="promote the next signing key and publish a new next key")
    rotate.add_argument("--force", action="store_true", help="rotate even if verifiers may not have the next key yet")
    client = sub.add_parser("create-client", help="register a service client; prints its secret once")
    client.add_argument("client_id")
    client.add_argument("name")
    client.add_argument("--grant", action="append", default=[], help="role:/org/path, repeatable")
    client.add_argument("--secret", default=None, help="use this secret instead of a random one")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        migrate()
    elif args.command == "seed-demo":
        service = bootstrap()
        if service.settings.is_production:
            # Demo accounts include a platform-wide admin: never in anything labelled production.
            print("identity: seed-demo refused: APP_ENV=production has no demo accounts", file=sys.stderr)
            return 2
        demo.seed(service.uow, orgs_csv=Path(args.orgs_csv) if args.orgs_csv else None, out=sys.stdout)
    elif args.command == "rotate-keys":
        try:
            rotate_keys(args.force)
        except keys.RotationTooEarly as exc:
            print(f"identity: not rotated: {exc}", file=sys.stderr)
            return 1
    elif args.command == "create-client":
        grants = [list(g.split(":", 1)) for g in args.grant]
        secret = tokens.register_client(bootstrap().uow(), args.client_id, args.name, grants, args.secret)
        print(f"client_id={args.client_id}\nclient_secret={secret}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
