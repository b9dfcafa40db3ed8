"""Reads deploy/services.yaml, the one list of services, for the deploy render scripts and their tests.

A service "exists" once its directory services/<name>/ does: only those get upstreams, scrape targets
and compose entries, so adding a service means adding its directory and re-running the renderers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVICES_FILE = REPO_ROOT / "deploy" / "services.yaml"


@dataclass(frozen=True)
class Service:
    name: str
    web_port: int
    worker_port: int
    routes: tuple[str, ...]
    exists: bool


def load_services(path: Path = SERVICES_FILE, root: Path = REPO_ROOT) -> list[Service]:
    """Every service of the catalogue in file order, each marked with whether its code exists yet."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    services = []
    for name, spec in data["services"].items():
        services.append(
            Service(
                name=name,
                web_port=int(spec["web_port"]),
                worker_port=int(spec["worker_port"]),
                routes=tuple(spec["routes"]),
                exists=(root / "services" / name).is_dir(),
            )
        )
    return services
