"""Operator commands of the nominations service.

python -m nominations.entrypoints.cli migrate
python -m nominations.entrypoints.cli check-policies    # validate every policy file, print a line each
"""

from __future__ import annotations

import argparse

from nominations.adapters.policies import PolicyCatalog
from nominations.bootstrap import bootstrap
from nominations.entrypoints.worker import PROJECTIONS_QUEUE, REVIEWS_QUEUE
from shared.bus.topology import declare_queues
from shared.migrations import service_dir, upgrade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nominations")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply migrations")
    sub.add_parser("check-policies", help="validate the policy files against the schema")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        service = bootstrap()
        upgrade(service_dir("nominations"), service.settings.database_url)
        declare_queues(service.settings.bus, [PROJECTIONS_QUEUE, REVIEWS_QUEUE])
        print("nominations: database at head, queues declared")
    elif args.command == "check-policies":
        for policy in PolicyCatalog.load().all():
            print(f"{policy.id} v{policy.version}: {len(policy.fields)} fields, {len(policy.stages)} stages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
