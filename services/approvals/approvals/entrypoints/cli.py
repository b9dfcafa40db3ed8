"""Operator commands of the approvals service (declared in approvals/declaration.py, run by shared.service).

python -m approvals.entrypoints.cli migrate
python -m approvals.entrypoints.cli end-terms     # end terms past their last day now (the worker does it hourly)
"""

from __future__ import annotations

from approvals.declaration import SPEC
from shared.service import run_cli


def main(argv: list[str] | None = None) -> int:
    return run_cli(SPEC, argv)


if __name__ == "__main__":
    raise SystemExit(main())
