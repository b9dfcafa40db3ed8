"""Render docker-compose.yml from deploy/compose/docker-compose.yml.j2: one migrate job, web and worker per
service of the catalogue (deploy/services.yaml and each service's declaration), its database, and the gateway
waiting for every web.

  python deploy/compose/render.py --out docker-compose.yml
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import jinja2

from deploy.service_catalog import REPO_ROOT, Service, load_services

TEMPLATE = Path(__file__).resolve().parent / "docker-compose.yml.j2"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"


def render(services: Sequence[Service] | None = None) -> str:
    """The compose file for the services that exist (the catalogue's unless given)."""
    catalog = load_services() if services is None else services
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - YAML, not HTML; service names are identifiers (service_catalog)
    )
    # A service with variables of its own has an `x-<name>-own-env: &<name>-own-env` block in the template.
    own_env = set(re.findall(r"&(\w+)-own-env\b", TEMPLATE.read_text(encoding="utf-8")))
    template = environment.get_template(TEMPLATE.name)
    return template.render(services=[s for s in catalog if s.exists], own_env=own_env)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=COMPOSE_FILE)
    args = parser.parse_args(argv)
    args.out.write_text(render(), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
