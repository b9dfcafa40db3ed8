"""docker-compose.yml, checked without a Docker engine: schema, health checks, and one complete set of
containers and settings for every service that exists; plus the Prometheus config and Dockerfile."""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.compose import render as compose_render
from deploy.prometheus import render as prometheus_render
from tests.ops.test_ops_tools import docker_compose, require

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
PROMETHEUS_FILE = REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml"
ONE_SHOT_SUFFIXES = ("-migrate", "-seed", "-init")
REQUIRED_ENV = ("SERVICE_NAME", "APP_ENV", "DATABASE_URL", "AMQP_URL", "PUBLIC_BASE_URL")
JWKS_URL = "http://identity-web:8000/api/auth/.well-known/jwks.json"


@cache
def compose() -> dict[str, Any]:
    """The compose file with YAML anchors and merge keys resolved, as docker compose sees it."""
    return dict(yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8")))


def existing_services() -> list[str]:
    return [s.name for s in prometheus_render.load_services() if s.exists]


def env_of(container: str) -> dict[str, Any]:
    env = compose()["services"][container].get("environment") or {}
    assert isinstance(env, dict), f"{container}: write environment as a mapping"
    return env


def test_committed_compose_file_is_the_rendered_template() -> None:
    assert COMPOSE_FILE.read_text(encoding="utf-8") == compose_render.render(), (
        "run `python deploy/compose/render.py` (edit deploy/compose/docker-compose.yml.j2, not the file)"
    )


def test_compose_file_matches_the_compose_specification_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("check_jsonschema")
    schema_text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    schema = json.loads(schema_text)
    validator_cls = jsonschema.validators.validator_for(schema)
    errors = sorted(validator_cls(schema).iter_errors(compose()), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def _compose_config(tmp_path: Path, *profiles: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`docker compose config` on the committed file, with an empty env file (a developer's .env stays out)."""
    env_file = tmp_path / "empty.env"
    env_file.write_text("", encoding="utf-8")
    command = [*docker_compose(), "--project-directory", str(REPO_ROOT), "-f", str(COMPOSE_FILE)]
    command += [arg for profile in profiles for arg in ("--profile", profile)]
    return subprocess.run(
        [*command, "--env-file", str(env_file), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
    )


# What an operator must set: the signing key and every password (no fallbacks).
REQUIRED_SECRETS = {
    "SIGNING_KEY_SECRET": "x" * 32,
    "POSTGRES_PASSWORD": "pg-" + "p" * 20,
    "RABBITMQ_PASSWORD": "mq-" + "r" * 20,
    "GRAFANA_ADMIN_PASSWORD": "gf-" + "g" * 20,
}


def _rendered(tmp_path: Path, *profiles: str) -> dict[str, Any]:
    """The configuration docker compose would run, with every required secret set."""
    result = _compose_config(tmp_path, *profiles, **REQUIRED_SECRETS)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    result = _compose_config(tmp_path, **REQUIRED_SECRETS)
    assert result.returncode == 0, result.stderr
    resolved = json.loads(result.stdout)
    assert set(resolved["services"]) == set(compose()["services"]) - {"identity-seed"}  # the demo profile's
    assert resolved["name"] == compose()["name"]


@pytest.mark.parametrize("secret", sorted(REQUIRED_SECRETS))
def test_docker_compose_refuses_to_run_without_each_secret(tmp_path: Path, secret: str) -> None:
    result = _compose_config(tmp_path, **{k: v for k, v in REQUIRED_SECRETS.items() if k != secret})
    assert result.returncode != 0
    assert secret in result.stderr


def test_production_has_no_fallback_passwords(tmp_path: Path) -> None:
    raw = COMPOSE_FILE.read_text(encoding="utf-8")
    for name in ("POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert f"${{{name}:-" not in raw and f"${{{name}}}" not in raw, name
    services = _rendered(tmp_path)["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == REQUIRED_SECRETS["POSTGRES_PASSWORD"]
    assert services["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_PASS"] == REQUIRED_SECRETS["RABBITMQ_PASSWORD"]
    grafana = services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    assert grafana == REQUIRED_SECRETS["GRAFANA_ADMIN_PASSWORD"]
    for name, spec in services.items():
        env = spec.get("environment") or {}
        for key in ("DATABASE_URL", "AMQP_URL"):
            if key in env:
                assert ":cio@" not in env[key] and "guest" not in env[key], f"{name}: {key}"


def test_production_seeds_no_demo_accounts(tmp_path: Path) -> None:
    assert "identity-seed" not in _rendered(tmp_path)["services"]
    demo = _rendered(tmp_path, "demo")["services"]["identity-seed"]
    assert demo["command"][-1] == "seed-demo" and demo["environment"]["APP_ENV"] == "development"


def test_prometheus_cannot_be_reconfigured_or_stopped_over_http(tmp_path: Path) -> None:
    command = _rendered(tmp_path)["services"]["prometheus"]["command"]
    assert "--web.enable-lifecycle" not in command and "--web.enable-admin-api" not in command


def test_the_gateway_reads_its_trusted_proxies_from_a_mounted_file(tmp_path: Path) -> None:
    gateway = _rendered(tmp_path)["services"]["gateway"]
    mounts = {v["target"]: v["source"] for v in gateway["volumes"]}
    assert mounts["/etc/nginx/trusted-proxies.conf"] == str(REPO_ROOT / "deploy" / "nginx" / "trusted-proxies.conf")
    assert _rendered(tmp_path)["services"]["identity-web"]["environment"]["TRUSTED_PROXIES"]


def test_the_services_believe_forwarded_headers_only_from_private_networks(tmp_path: Path) -> None:
    """gunicorn's FORWARDED_ALLOW_IPS "*" would let anything that reaches a web container choose the scheme and
    client address it is seen with; only the compose network's private ranges (the gateway) are believed."""
    for name, spec in _rendered(tmp_path)["services"].items():
        allowed = (spec.get("environment") or {}).get("FORWARDED_ALLOW_IPS")
        if name.endswith("-web"):
            assert allowed, name
        if allowed is not None:
            networks = [ipaddress.ip_network(value) for value in allowed.split(",")]
            assert all(network.is_private for network in networks), (name, allowed)


def test_every_long_running_container_has_a_healthcheck() -> None:
    for name, spec in compose()["services"].items():
        if name.endswith(ONE_SHOT_SUFFIXES):
            assert spec.get("restart") == "no", f"{name} is a one-shot job: restart must be 'no'"
            continue
        check = spec.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_every_existing_service_has_migrate_web_and_worker_fully_configured() -> None:
    services = compose()["services"]
    assert existing_services(), "services/identity/ should exist"
    for name in existing_services():
        for role in ("migrate", "web", "worker"):
            container = f"{name}-{role}"
            assert container in services, f"{container} missing from docker-compose.yml"
            env = env_of(container)
            for key in REQUIRED_ENV:
                assert env.get(key), f"{container}: {key} not set"
            assert env["SERVICE_NAME"] == name
            assert env["APP_ENV"] == "production"
            assert str(env["BUS_QUORUM_QUEUES"]).lower() == "true"
            assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
            assert env["DATABASE_URL"].endswith(f"@postgres:5432/cio_{name}"), container
            assert env["AMQP_URL"].startswith("amqp://")
            if name != "identity":
                assert env.get("JWKS_URL") == JWKS_URL, container
        web, worker, migrate = (services[f"{name}-{r}"] for r in ("web", "worker", "migrate"))
        assert web["command"][:3] == ["gunicorn", "-c", "deploy/gunicorn/gunicorn.conf.py"]
        assert web["command"][3] == f"{name}.entrypoints.web:create_app()"
        assert worker["command"] == ["python", "-m", f"{name}.entrypoints.worker"]
        assert str(env_of(f"{name}-worker")["WORKER_METRICS_PORT"]) == "9100"
        assert migrate["command"] == ["python", "-m", f"{name}.entrypoints.cli", "migrate"]
        for process in (web, worker):
            assert process["depends_on"][f"{name}-migrate"]["condition"] == "service_completed_successfully"
            assert process["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert f"{name}-web" in services["gateway"]["depends_on"]


def test_every_existing_service_gets_its_database() -> None:
    wanted = re.split(r"[,\s]+", env_of("postgres-init")["SERVICE_DATABASES"].strip())
    for name in existing_services():
        assert f"cio_{name}" in wanted


def test_identity_secret_comes_from_the_environment_without_a_default() -> None:
    required = re.compile(r"^\$\{SIGNING_KEY_SECRET(:?\?[^}]*)?\}$")
    containers = [c for c in compose()["services"] if c.startswith("identity-")]
    assert {"identity-migrate", "identity-web", "identity-worker", "identity-seed"} <= set(containers)
    for container in containers:
        value = env_of(container).get("SIGNING_KEY_SECRET")
        assert isinstance(value, str) and required.match(value), f"{container}: {value!r}"
    # No other literal secret sneaks in either.
    raw = COMPOSE_FILE.read_text(encoding="utf-8")
    assert not re.search(r"SIGNING_KEY_SECRET:-", raw)


def test_bind_mounted_files_exist_in_the_repository() -> None:
    for name, spec in compose()["services"].items():
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO_ROOT / source).exists(), f"{name}: {source} does not exist"
    gateway_mounts = compose()["services"]["gateway"]["volumes"]
    assert "./deploy/nginx/nginx.compose.conf:/etc/nginx/nginx.conf:ro" in gateway_mounts
    for volume in ("postgres-data", "grafana-data"):
        assert volume in compose()["volumes"]


def test_committed_prometheus_config_is_up_to_date() -> None:
    assert PROMETHEUS_FILE.read_text(encoding="utf-8") == prometheus_render.render("compose"), (
        "deploy/prometheus/prometheus.yml is stale: run "
        "`python deploy/prometheus/render.py compose --out deploy/prometheus/prometheus.yml`"
    )


def test_prometheus_scrapes_exporters_and_every_existing_process() -> None:
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    text = json.dumps(config)
    for target in ("nginx-exporter:9113", "rabbitmq:15692", "postgres-exporter:9187"):
        assert target in text
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name in existing_services():
        assert f"{name}-web" in jobs["web"]["dns_sd_configs"][0]["names"]
        assert f"{name}-worker" in jobs["worker"]["dns_sd_configs"][0]["names"]
        assert f"{name}-web" in compose()["services"] and f"{name}-worker" in compose()["services"]
    local = prometheus_render.build("local")
    local_targets = json.dumps(local["scrape_configs"])
    for service in prometheus_render.load_services():
        if service.exists:
            assert f"127.0.0.1:{service.web_port}" in local_targets
            assert f"127.0.0.1:{service.worker_port}" in local_targets


@pytest.mark.parametrize("target", ["compose", "local"])
def test_promtool_accepts_the_prometheus_configs(target: str, tmp_path: Path) -> None:
    promtool = require("promtool")
    if target == "compose":
        config = PROMETHEUS_FILE
    else:
        config = tmp_path / "prometheus.yml"
        config.write_text(prometheus_render.render("local"), encoding="utf-8")
    result = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_and_ships_migrations() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim AS build" in text and "pip wheel" in text
    assert re.search(r"^USER (?!root|0)", text, flags=re.MULTILINE)
    assert "PYTHONUNBUFFERED=1" in text and "migrations" in text
    ignored = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".venv", "var", ".run", ".git", "**/__pycache__", ".env"):
        assert entry in ignored


def test_the_gateway_image_serves_the_built_portal_and_swagger_ui() -> None:
    """compose builds the gateway from the Dockerfile's `gateway` stage, which puts the portal's build and
    swagger-ui-dist where the committed nginx config serves them from."""
    gateway = compose()["services"]["gateway"]
    assert gateway["build"]["target"] == "gateway"
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    stage = text[text.index("AS gateway") :].split("\nFROM ", 1)[0]
    conf = (REPO_ROOT / "deploy" / "nginx" / "nginx.compose.conf").read_text(encoding="utf-8")
    for source, served in (
        ("/portal/dist", "/usr/share/nginx/portal"),
        ("swagger-ui-dist", "/usr/share/nginx/swagger-ui"),
    ):
        assert re.search(rf"^COPY --from=\S+ \S*{re.escape(source)} {re.escape(served)}$", stage, flags=re.MULTILINE)
        assert served in conf
    assert "npm ci" in text and "npm run build" in text
