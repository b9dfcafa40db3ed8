"""The platform as real processes: identity web (gunicorn), worker and the nginx gateway, on ports and a
database and vhost of the tests' own, so a running `make run` is never disturbed."""

from __future__ import annotations

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

from tests.conftest import ROOT, database_url
from tests.helpers import wait_until

sys.path.insert(0, str(ROOT / "deploy"))
sys.path.insert(0, str(ROOT / "deploy" / "nginx"))
import render as nginx_render
from service_catalog import load_services

DEMO_PASSWORD = "e2e-demo-password"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    gateway: str
    web_metrics: str
    worker_metrics: str
    amqp_url: str
    env: dict[str, str]
    logs: Path


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="session")
def stack(infra: dict[str, str], amqp_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not Path(NGINX).exists():
        pytest.fail("nginx is required for the e2e tests: apt-get install nginx-light (.ci/run does)")
    run = tmp_path_factory.mktemp("stack")
    db = f"cio_test_e2e_identity_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(infra["pg"], autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    gateway_port, web_port, worker_port = free_port(), free_port(), free_port()
    python = sys.executable
    env = {
        **os.environ,
        "SERVICE_NAME": "identity",
        "DATABASE_URL": database_url(infra["pg"], db),
        "AMQP_URL": amqp_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{gateway_port}",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "SIGNING_KEY_SECRET": uuid.uuid4().hex,
        "WEB_BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "2",
        "WORKER_METRICS_PORT": str(worker_port),
        "PROMETHEUS_MULTIPROC_DIR": str(run / "prom"),
        "OUTBOX_IDLE_SECONDS": "0.05",
    }
    (run / "prom").mkdir()
    subprocess.run([python, "-m", "identity.entrypoints.cli", "migrate"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [python, "-m", "identity.entrypoints.cli", "seed-demo"], env=env, check=True, cwd=ROOT, capture_output=True
    )
    services = [dataclasses.replace(s, web_port=web_port) if s.name == "identity" else s for s in load_services()]
    nginx_dir = run / "nginx"
    nginx_dir.mkdir()
    conf = nginx_dir / "nginx.conf"
    conf.write_text(nginx_render.render("local", gateway_port, str(nginx_dir), services=services, login_rate="6000r/m"))
    gunicorn = str(Path(python).with_name("gunicorn"))
    logs = run / "logs"
    logs.mkdir()
    commands = {
        "web": [gunicorn, "-c", "deploy/gunicorn/gunicorn.conf.py", "identity.entrypoints.web:create_app()"],
        "worker": [python, "-m", "identity.entrypoints.worker"],
        "gateway": [NGINX, "-p", str(nginx_dir), "-c", str(conf), "-e", str(nginx_dir / "error.log")],
    }
    procs = []
    try:
        for name, command in commands.items():
            out = (logs / f"{name}.log").open("wb")
            procs.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT))
        wait_until(lambda: _up(f"http://127.0.0.1:{web_port}/health/ready"), 30, 0.2, "identity web ready")
        wait_until(lambda: _up(f"http://127.0.0.1:{worker_port}/health/ready"), 30, 0.2, "identity worker ready")
        wait_until(lambda: _up(f"http://127.0.0.1:{gateway_port}/gateway/health"), 30, 0.2, "gateway up")
        yield Stack(
            gateway=f"http://127.0.0.1:{gateway_port}",
            web_metrics=f"http://127.0.0.1:{web_port}/metrics",
            worker_metrics=f"http://127.0.0.1:{worker_port}/metrics",
            amqp_url=amqp_url,
            env=env,
            logs=logs,
        )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        with psycopg.connect(infra["pg"], autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def token(stack: Stack, username: str, password: str = DEMO_PASSWORD) -> str:
    response = requests.post(
        f"{stack.gateway}/api/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
