"""Operator commands of the approvals service.

python -m approvals.entrypoints.cli migrate
python -m approvals.entrypoints.cli end-terms     # end terms past their last day now (the worker does it hourly)
"""

from __future__ import annotations

import argparse

from approvals.bootstrap import bootstrap
from approvals.entrypoints.worker import DIRECTORY_QUEUE, REVIEWS_QUEUE
from approvals.service_layer import appointments, reviews
from shared.bus.topology import declare_queues
from shared.migrations import service_dir, upgrade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="approvals")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply migrations")
    sub.add_parser("end-terms", help="end appointments past their last day")
    sub.add_parser("mark-overdue", help="flag review tasks past their due date")
    args = parser.parse_args(argv)
    service = bootstrap()
    if args.command == "migrate":
        upgrade(service_dir("approvals"), service.settings.database_url)
        declare_queues(service.settings.bus, [REVIEWS_QUEUE, DIRECTORY_QUEUE])
        print("approvals: database at head, queues declared")
    elif args.command == "end-terms":
        print(f"approvals: {appointments.end_due_terms(service.uow)} appointment(s) ended")
    elif args.command == "mark-overdue":
        print(f"approvals: {reviews.mark_overdue_tasks(service.uow)} task(s) overdue")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
