"""Operator commands of the nominations service (declared in nominations/declaration.py, run by shared.service).

python -m nominations.entrypoints.cli migrate
python -m nominations.entrypoints.cli check-policies    # validate every policy file, print a line each
"""

from __future__ import annotations

from nominations.declaration import SPEC
from shared.service import run_cli


def main(argv: list[str] | None = None) -> int:
    return run_cli(SPEC, argv)


if __name__ == "__main__":
    raise SystemExit(main())
