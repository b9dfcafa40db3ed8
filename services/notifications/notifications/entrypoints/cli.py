"""Operator commands of the notifications service.

python -m notifications.entrypoints.cli migrate
python -m notifications.entrypoints.cli check-rules     # load and validate rules.yaml and templates.yaml
"""

from __future__ import annotations

import argparse

from notifications.bootstrap import bootstrap
from shared.bus.topology import declare_queues
from shared.migrations import service_dir, upgrade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="notifications")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply migrations")
    sub.add_parser("check-rules", help="load and validate the rules and templates")
    args = parser.parse_args(argv)
    service = bootstrap()
    if args.command == "migrate":
        upgrade(service_dir("notifications"), service.settings.database_url)
        declare_queues(service.settings.bus, [service.consumer().spec])
        print("notifications: database at head, queues declared")
    else:
        print(f"notifications: {len(service.rulebook.rules)} rules, {len(service.rulebook.kinds)} kinds, templates ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
