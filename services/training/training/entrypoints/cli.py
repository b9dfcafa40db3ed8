"""Operator commands of the training service (declared in training/declaration.py, run by shared.service).

python -m training.entrypoints.cli migrate
python -m training.entrypoints.cli check-requirement [--today YYYY-MM-DD]   # the worker's yearly check, once
"""

from __future__ import annotations

from shared.service import run_cli
from training.declaration import SPEC


def main(argv: list[str] | None = None) -> int:
    return run_cli(SPEC, argv)


if __name__ == "__main__":
    raise SystemExit(main())
