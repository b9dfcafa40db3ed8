"""Operator commands of the governance service (declared in governance/declaration.py, run by shared.service).

python -m governance.entrypoints.cli migrate
"""

from __future__ import annotations

from governance.declaration import SPEC
from shared.service import run_cli


def main(argv: list[str] | None = None) -> int:
    return run_cli(SPEC, argv)


if __name__ == "__main__":
    raise SystemExit(main())
