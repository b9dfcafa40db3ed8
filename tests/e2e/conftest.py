"""The platform as real processes: every service's web (gunicorn) and worker and the nginx gateway, on ports,
databases and a vhost of the tests' own, so a running `make run` is never disturbed.

The session's `stack` runs on the README's default, the embedded PostgreSQL `make run` starts; the journeys run
again on the PostgreSQL server (`server_stack`), which is what production has."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from deploy.nginx import render as nginx_render
from deploy.service_catalog import load_services
from shared.embedded_db import EmbeddedPostgres
from tests.conftest import ROOT, database_url, fresh_vhost
from tests.helpers import wait_until
from tests.infrastructure import Infrastructure

DEMO_PASSWORD = "e2e-demo-password"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """`count` different free ports: every socket stays bound until all are chosen. Calling free_port() again and
    again may hand out the same port twice (it is free again once its socket closes), and two processes of one
    stack then fight for it ("Address already in use" at a worker's start)."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


@dataclass
class Stack:
    gateway: str
    web: dict[str, str]
    worker: dict[str, str]
    amqp_url: str
    logs: Path
    # Each service's environment (DATABASE_URL, SIGNING_KEY_SECRET, ...) and each process by name
    # ("identity-web", "identity-worker", "gateway"), with the command that started it: the harnesses
    # (tests/e2e/test_token_attacks_e2e.py, bench/faults.py) read keys, count rows and kill processes.
    envs: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = dataclasses.field(default_factory=dict)
    commands: dict[str, tuple[list[str], dict[str, str]]] = dataclasses.field(default_factory=dict)

    @property
    def web_metrics(self) -> str:
        return f"{self.web['identity']}/metrics"

    @property
    def worker_metrics(self) -> str:
        return f"{self.worker['identity']}/metrics"


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@contextlib.contextmanager
def running_stack(
    infra: Infrastructure,
    run: Path,
    *,
    database: str = "embedded",
    only: set[str] | None = None,
    gateway_port: int | None = None,
    extra_env: dict[str, str] | None = None,
    portal_dir: Path = nginx_render.LOCAL_PORTAL_DIR,
    unlimited_clients: tuple[str, ...] = (),
) -> Iterator[Stack]:
    """Every service that exists (or those in `only`): web under gunicorn and worker, each with its own
    database (`database`: "embedded", the default `make run` starts, or "server", infra's PostgreSQL) and the
    stack's own vhost, behind nginx, which also serves the built portal (`portal_dir`) and Swagger UI's files as
    `make run` does; stopped and dropped on exit. `unlimited_clients`: loopback addresses the gateway's rate
    limits leave out (the fuzzing client connects from one of them; everyone else stays limited)."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is required for the e2e tests: scripts/prepare-test-machine.sh installs it")
    with contextlib.ExitStack() as resources:
        amqp_url = resources.enter_context(fresh_vhost(infra))
        if database == "embedded":
            embedded = EmbeddedPostgres(run / "postgres").start()
            resources.callback(embedded.stop)
            urls = {s.name: embedded.ensure_database(f"cio_{s.name}") for s in load_services() if s.exists}
        else:
            urls = resources.enter_context(server_databases(infra))
        yield from _run_processes(
            infra, amqp_url, run, urls, only, gateway_port, extra_env, portal_dir, unlimited_clients
        )


@contextlib.contextmanager
def server_databases(infra: Infrastructure) -> Iterator[dict[str, str]]:
    """A new database per service on the PostgreSQL server, dropped on exit."""
    names = {s.name: f"cio_test_e2e_{s.name}_{uuid.uuid4().hex[:8]}" for s in load_services() if s.exists}
    with psycopg.connect(infra.pg, autocommit=True) as conn:
        for db in names.values():
            conn.execute(f'CREATE DATABASE "{db}"')
    try:
        yield {name: database_url(infra.pg, db) for name, db in names.items()}
    finally:
        with psycopg.connect(infra.pg, autocommit=True) as conn:
            for db in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    """Wait for a process's readiness; when it does not come, fail with what the process said (its exit code and
    the end of its log), which the stack's temporary directory takes with it when the test ends."""
    try:
        wait_until(lambda: _up(url), timeout, 0.2, f"{log.stem} ready")
    except AssertionError as exc:
        state = "running" if proc.poll() is None else f"exited with {proc.returncode}"
        tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"
        raise AssertionError(f"{exc} ({state}); the end of {log.name}:\n{tail}") from None


def _run_processes(
    infra: Infrastructure,
    amqp_url: str,
    run: Path,
    urls: dict[str, str],
    only: set[str] | None,
    gateway_port: int | None,
    extra_env: dict[str, str] | None,
    portal_dir: Path,
    unlimited_clients: tuple[str, ...] = (),
) -> Iterator[Stack]:
    services = [s for s in load_services() if s.exists and (only is None or s.name in only)]
    chosen = iter(free_ports(2 * len(services) + 1))
    ports = {s.name: (next(chosen), next(chosen)) for s in services}
    gateway_port = gateway_port or next(chosen)
    python = sys.executable
    identity_web = f"http://127.0.0.1:{ports['identity'][0]}"
    common = {
        **os.environ,
        "AMQP_URL": amqp_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{gateway_port}",
        "JWKS_URL": f"{identity_web}/api/auth/.well-known/jwks.json",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "SIGNING_KEY_SECRET": uuid.uuid4().hex,
        "WEB_CONCURRENCY": "2",
        "OUTBOX_IDLE_SECONDS": "0.05",
        "BUS_RETRY_DELAY_MS": "500",
        **(extra_env or {}),
    }
    envs: dict[str, dict[str, str]] = {}
    for s in services:
        web_port, worker_port = ports[s.name]
        (run / "prom" / s.name).mkdir(parents=True)
        envs[s.name] = {
            **common,
            "SERVICE_NAME": s.name,
            "DATABASE_URL": urls[s.name],
            "WEB_BIND": f"127.0.0.1:{web_port}",
            "WORKER_METRICS_PORT": str(worker_port),
        }
        subprocess.run([python, "-m", f"{s.name}.entrypoints.cli", "migrate"], env=envs[s.name], check=True, cwd=ROOT)
    subprocess.run(
        [python, "-m", "identity.entrypoints.cli", "seed-demo"],
        env=envs["identity"],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    nginx_dir = run / "nginx"
    nginx_dir.mkdir()
    conf = nginx_dir / "nginx.conf"
    routed = [
        dataclasses.replace(s, web_port=ports[s.name][0]) if s.name in ports else dataclasses.replace(s, exists=False)
        for s in load_services()
    ]
    conf.write_text(
        nginx_render.render(
            "local",
            gateway_port,
            str(nginx_dir),
            services=routed,
            login_rate="6000r/m",
            portal_dir=portal_dir,
            swagger_ui_dir=nginx_render.LOCAL_SWAGGER_UI_DIR,
            unlimited_clients=unlimited_clients,
        )
    )
    gunicorn = str(Path(python).with_name("gunicorn"))
    logs = run / "logs"
    logs.mkdir()
    commands: dict[str, tuple[list[str], dict[str, str]]] = {}
    for s in services:
        web_app = f"{s.name}.entrypoints.web:create_app()"
        # The web's gunicorn workers share a metrics directory of their own (its master empties it at start, once it
        # has imported the app); the worker is one process and exposes its own registry, as `make run` runs them.
        web_env = {**envs[s.name], "PROMETHEUS_MULTIPROC_DIR": str(run / "prom" / s.name)}
        commands[f"{s.name}-web"] = ([gunicorn, "-c", "deploy/gunicorn/gunicorn.conf.py", web_app], web_env)
        commands[f"{s.name}-worker"] = ([python, "-m", f"{s.name}.entrypoints.worker"], envs[s.name])
    commands["gateway"] = ([NGINX, "-p", str(nginx_dir), "-c", str(conf), "-e", str(nginx_dir / "error.log")], common)
    procs: list[subprocess.Popen[bytes]] = []
    named: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, (command, env) in commands.items():
            out = (logs / f"{name}.log").open("wb")
            procs.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT))
            named[name] = procs[-1]
        web = {name: f"http://127.0.0.1:{web_port}" for name, (web_port, _) in ports.items()}
        worker = {name: f"http://127.0.0.1:{worker_port}" for name, (_, worker_port) in ports.items()}
        for name in ports:
            _wait_ready(f"{web[name]}/health/ready", named[f"{name}-web"], logs / f"{name}-web.log")
            _wait_ready(f"{worker[name]}/health/ready", named[f"{name}-worker"], logs / f"{name}-worker.log")
        wait_until(lambda: _up(f"http://127.0.0.1:{gateway_port}/gateway/health"), 60, 0.2, "gateway up")
        yield Stack(f"http://127.0.0.1:{gateway_port}", web, worker, amqp_url, logs, envs, named, commands)
    finally:
        # a harness may have replaced a process it killed (stack.processes): stop whatever runs now
        procs = list({id(p): p for p in [*procs, *named.values()]}.values())
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def default_stack(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole platform on the README's default (the embedded PostgreSQL), shared by the e2e tests."""
    with running_stack(infra, tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="session")
def stack(default_stack: Stack) -> Stack:
    return default_stack


@pytest.fixture(scope="session")
def server_stack(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole platform on the PostgreSQL server, as production runs it; the journeys run here too."""
    with running_stack(infra, tmp_path_factory.mktemp("server-stack"), database="server") as running:
        yield running


@pytest.fixture(scope="module", params=["embedded default", "PostgreSQL server"])
def journey_stack(request: pytest.FixtureRequest) -> Stack:
    """For the journeys: each runs once on the default `make run` uses and once on a PostgreSQL server."""
    name = "default_stack" if request.param == "embedded default" else "server_stack"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


def token(stack: Stack, username: str, password: str = DEMO_PASSWORD) -> str:
    response = requests.post(
        f"{stack.gateway}/api/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
