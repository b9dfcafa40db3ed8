"""Operator commands of the training service.

python -m training.entrypoints.cli migrate
python -m training.entrypoints.cli check-requirement [--today YYYY-MM-DD]   # the worker's yearly check, once
"""

from __future__ import annotations

import argparse
import datetime as dt

from shared.bus.topology import declare_queues
from shared.migrations import service_dir, upgrade
from training.bootstrap import bootstrap
from training.entrypoints.worker import APPOINTMENTS_QUEUE, DIRECTORY_QUEUE, requirement_check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="training")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply migrations")
    check = sub.add_parser("check-requirement", help="publish training.requirement.unmet for this year, once")
    check.add_argument("--today", type=dt.date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    service = bootstrap()
    if args.command == "migrate":
        upgrade(service_dir("training"), service.settings.database_url)
        declare_queues(service.settings.bus, [DIRECTORY_QUEUE, APPOINTMENTS_QUEUE])
        print("training: database at head, queues declared")
    else:
        print(f"training: {requirement_check(service, args.today)} requirement.unmet event(s) published")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
