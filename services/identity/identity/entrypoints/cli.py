"""Operator commands of the identity service (declared in identity/declaration.py, run by shared.service).

python -m identity.entrypoints.cli migrate
python -m identity.entrypoints.cli seed-demo            # demo tree and accounts (DEMO_PASSWORD or random)
python -m identity.entrypoints.cli rotate-keys [--force]
python -m identity.entrypoints.cli create-client ID NAME [--grant role:/path ...]
"""

from __future__ import annotations

from identity.declaration import SPEC
from shared.service import run_cli


def main(argv: list[str] | None = None) -> int:
    return run_cli(SPEC, argv)


if __name__ == "__main__":
    raise SystemExit(main())
