"""The services of the platform, for the deploy renderers and their tests: the names listed in
deploy/services.yaml, each described by its own declaration (`<name>.declaration.SPEC`: ports, public routes,
queues).

Adding a service is its package plus its name in services.yaml; compose, Kubernetes, Prometheus, Grafana, the
gateway, `make run` and the backup read it from here. A listed service whose package is not importable yet
"does not exist": it gets no upstream, scrape target or container.
"""

from __future__ import annotations

import importlib
import importlib.util
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
    # The durable queues its worker consumes (not their retry and parking siblings).
    queues: tuple[str, ...] = ()


def service_names(path: Path = SERVICES_FILE) -> list[str]:
    """The registry: every service's name, in the order the artefacts list them."""
    names = yaml.safe_load(path.read_text(encoding="utf-8"))["services"]
    if not isinstance(names, list) or not all(isinstance(n, str) and n.isidentifier() for n in names):
        raise ValueError(f"{path}: `services` must be a list of package names")
    return names


def describe(name: str) -> Service:
    """One service as its declaration describes it."""
    if importlib.util.find_spec(name) is None:
        return Service(name, 0, 0, (), exists=False)
    spec = importlib.import_module(f"{name}.declaration").SPEC
    if spec.name != name:
        raise ValueError(f"{name}.declaration declares {spec.name!r}")
    return Service(
        name=name,
        web_port=spec.ports.web,
        worker_port=spec.ports.worker,
        routes=tuple(spec.routes),
        exists=True,
        queues=tuple(spec.queue_names),
    )


def load_services(path: Path = SERVICES_FILE) -> list[Service]:
    """Every service of the registry in its order, each marked with whether its package exists yet."""
    services = [describe(name) for name in service_names(path)]
    for attribute in ("web_port", "worker_port"):
        ports = [getattr(s, attribute) for s in services if s.exists]
        if len(set(ports)) != len(ports):
            raise ValueError(f"two services declare the same {attribute}: {sorted(ports)}")
    return services
