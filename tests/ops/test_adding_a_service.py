"""Adding a service is one package plus one line: a throwaway package with a declaration, and its name in a copy of
the registry, and compose, Kubernetes, Prometheus and the gateway all have it (nothing edited by hand)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from deploy import service_catalog
from deploy.compose import render as compose_render
from deploy.nginx import render as nginx_render
from deploy.prometheus import render as prometheus_render
from k8s import generate as k8s_generate

DECLARATION = '''
    """archive, declared: a throwaway service for this test."""

    from sqlalchemy import MetaData

    from shared.service import Ports, ServiceSpec, Subscription

    SPEC = ServiceSpec(
        name="archive",
        metadata=MetaData(),
        ports=Ports(web=8199, worker=9199),
        routes=("/api/archives", "/api/audit/archive"),
        publishes=False,
        subscriptions=(Subscription("archive.records", "archive.handlers:HANDLERS"),),
    )
'''


@pytest.fixture
def with_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[service_catalog.Service]:
    """The catalogue with `archive` added: its package (services/archive/archive/) and one line in the registry."""
    package = tmp_path / "services" / "archive" / "archive"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""archive: a throwaway service."""\n', encoding="utf-8")
    (package / "declaration.py").write_text(textwrap.dedent(DECLARATION), encoding="utf-8")
    monkeypatch.syspath_prepend(str(package.parent))  # what `pip install -e .` does for a real service
    registry = tmp_path / "services.yaml"
    names = service_catalog.service_names()
    registry.write_text(yaml.safe_dump({"services": [*names, "archive"]}), encoding="utf-8")
    return service_catalog.load_services(registry)


def test_the_catalogue_reads_the_new_service_from_its_declaration(with_archive: list[service_catalog.Service]) -> None:
    archive = with_archive[-1]
    assert archive == service_catalog.Service(
        "archive", 8199, 9199, ("/api/archives", "/api/audit/archive"), True, ("archive.records",)
    )


def test_compose_gets_its_database_migrate_web_and_worker(with_archive: list[service_catalog.Service]) -> None:
    compose = yaml.safe_load(compose_render.render(with_archive))
    containers = compose["services"]
    assert containers["archive-migrate"]["command"] == ["python", "-m", "archive.entrypoints.cli", "migrate"]
    assert containers["archive-web"]["command"][-1] == "archive.entrypoints.web:create_app()"
    assert containers["archive-worker"]["command"] == ["python", "-m", "archive.entrypoints.worker"]
    env = containers["archive-worker"]["environment"]
    assert env["SERVICE_NAME"] == "archive" and env["DATABASE_URL"].endswith("@postgres:5432/cio_archive")
    assert env["JWKS_URL"] == "http://identity-web:8000/api/auth/.well-known/jwks.json"
    assert "cio_archive" in containers["postgres-init"]["environment"]["SERVICE_DATABASES"].split()
    assert "archive-web" in containers["gateway"]["depends_on"]
    assert "archive-migrate" in containers["identity-worker"]["depends_on"]


def test_kubernetes_gets_its_objects_and_scales_its_worker_on_its_queue(
    with_archive: list[service_catalog.Service],
) -> None:
    base = k8s_generate.files(with_archive)
    assert "services/archive.yaml" in yaml.safe_load(base["kustomization.yaml"])["resources"]
    objects = list(yaml.safe_load_all(base["services/archive.yaml"]))
    (hpa,) = [
        o for o in objects if o["kind"] == "HorizontalPodAutoscaler" and o["metadata"]["name"] == "archive-worker"
    ]
    (metric,) = [m for m in hpa["spec"]["metrics"] if m["type"] == "External"]
    (selector,) = metric["external"]["metric"]["selector"]["matchExpressions"]
    assert selector["values"] == ["archive.records"]
    assert "cio-archive-db" in base["backups/scheduled-backups.yaml"]


def test_prometheus_scrapes_its_web_and_worker(with_archive: list[service_catalog.Service]) -> None:
    compose = {job["job_name"]: job for job in prometheus_render.build("compose", with_archive)["scrape_configs"]}
    assert "archive-web" in compose["web"]["dns_sd_configs"][0]["names"]
    assert "archive-worker" in compose["worker"]["dns_sd_configs"][0]["names"]
    local = {job["job_name"]: job for job in prometheus_render.build("local", with_archive)["scrape_configs"]}
    assert {"targets": ["127.0.0.1:8199"], "labels": {"service": "archive"}} in local["web"]["static_configs"]
    assert {"targets": ["127.0.0.1:9199"], "labels": {"service": "archive"}} in local["worker"]["static_configs"]


def test_the_gateway_routes_its_public_paths_to_it(with_archive: list[service_catalog.Service]) -> None:
    conf = nginx_render.render("compose", services=with_archive)
    assert "upstream archive_web {\n        server archive-web:8000;" in conf
    for route in ("/api/archives", "/api/audit/archive"):
        block = conf[conf.index(f"location = {route} {{") :].split("}", 1)[0]
        assert "proxy_pass http://archive_web;" in block, route


def test_two_services_declaring_one_port_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "clash" / "clash"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    declaration = textwrap.dedent(DECLARATION).replace('"archive', '"clash').replace("8199", "8101")
    (package / "declaration.py").write_text(declaration, encoding="utf-8")
    monkeypatch.syspath_prepend(str(package.parent))
    registry = tmp_path / "services.yaml"
    registry.write_text(yaml.safe_dump({"services": ["identity", "clash"]}), encoding="utf-8")
    with pytest.raises(ValueError, match="same web_port"):
        service_catalog.load_services(registry)
