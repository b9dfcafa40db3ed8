"""The inner rooms of every service stay free of the web framework: a domain or service layer that imported Flask
(even through a shared module) could not run in a worker, a CLI or a unit test without it, and would tempt handlers
to read the request. The import graph is read from the source (grimp), so nothing is imported to check it."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / p.name / "__init__.py").exists())
INNER_LAYERS = ("domain", "service_layer")
WEB_FRAMEWORK = ("flask", "flask_smorest", "werkzeug", "webargs")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("shared", *SERVICES, include_external_packages=True, cache_dir=None)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("layer", INNER_LAYERS)
def test_inner_layers_never_reach_the_web_framework(graph: grimp.ImportGraph, service: str, layer: str) -> None:
    package = f"{service}.{layer}"
    modules = {package} | graph.find_descendants(package)
    chains = [
        " -> ".join(chain)
        for module in sorted(modules)
        for framework in WEB_FRAMEWORK
        if framework in graph.modules
        and (chain := graph.find_shortest_chain(importer=module, imported=framework)) is not None
    ]
    assert chains == [], "imports the web framework:\n" + "\n".join(chains)


def test_the_check_sees_the_web_framework_where_it_is(graph: grimp.ImportGraph) -> None:
    """Guards the test above against passing vacuously (a package not found, an import not seen)."""
    assert len(SERVICES) >= 5
    for service in SERVICES:
        for layer in INNER_LAYERS:
            assert graph.find_descendants(f"{service}.{layer}"), f"{service}.{layer} has no modules"
        assert graph.find_shortest_chain(importer=f"{service}.entrypoints.web", imported="flask") is not None
    assert graph.find_shortest_chain(importer="shared.web", imported="flask") == ("shared.web", "flask")
