"""Operator commands of the notifications service (declared in notifications/declaration.py, run by shared.service).

python -m notifications.entrypoints.cli migrate
python -m notifications.entrypoints.cli check-rules
"""

from __future__ import annotations

from notifications.declaration import SPEC
from shared.service import run_cli


def main(argv: list[str] | None = None) -> int:
    return run_cli(SPEC, argv)


if __name__ == "__main__":
    raise SystemExit(main())
