"""Through the nginx gateway, as a client would: sign in, ask who I am, see events leave on the bus."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import pika
import psutil
import pytest
import requests

from tests.e2e.conftest import Stack, token
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e


def test_token_for_a_demo_account_and_me_through_the_gateway(stack: Stack) -> None:
    access = token(stack, "county.reviewer")
    me = requests.get(f"{stack.gateway}/api/me", headers={"Authorization": f"Bearer {access}"}, timeout=5)
    assert me.status_code == 200
    assert me.json()["grants"] == [
        {"role": "county_reviewer", "org_path": "/4108/410802", "org_code": "410802", "org_name": "解放区教育局"}
    ]


def test_request_id_is_kept_end_to_end(stack: Stack) -> None:
    r = requests.get(f"{stack.gateway}/api/me", headers={"X-Request-ID": "e2e-trace-1"}, timeout=5)
    assert r.status_code == 401
    assert r.headers["X-Request-ID"] == "e2e-trace-1"
    assert r.json()["request_id"] == "e2e-trace-1"


def test_org_from_another_county_is_404_through_the_gateway(stack: Stack) -> None:
    h = {"Authorization": f"Bearer {token(stack, 'county.reviewer')}"}
    assert requests.get(f"{stack.gateway}/api/orgs/4108020001", headers=h, timeout=5).status_code == 200
    assert requests.get(f"{stack.gateway}/api/orgs/4108210001", headers=h, timeout=5).status_code == 404


def test_created_user_event_reaches_a_subscriber(stack: Stack) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(stack.amqp_url))
    channel = connection.channel()
    queue = f"e2e.watch.{uuid.uuid4().hex[:8]}"
    channel.exchange_declare("cio.events", "topic", durable=True)
    channel.queue_declare(queue, exclusive=True)
    channel.queue_bind(queue, "cio.events", "identity.user.*")
    try:
        username = f"e2e.{uuid.uuid4().hex[:6]}"
        created = requests.post(
            f"{stack.gateway}/api/users",
            json={"username": username, "display_name": "端到端", "org_code": "4108020001"},
            headers={"Authorization": f"Bearer {token(stack, 'admin')}", "X-Request-ID": "e2e-create-user"},
            timeout=5,
        )
        assert created.status_code == 201, created.text

        def provisioned() -> dict | None:  # type: ignore[type-arg]
            method, _properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return None
            event = json.loads(body)
            return event if event["data"]["user"]["username"] == username else None

        event = wait_until(provisioned, timeout=15, message="identity.user.provisioned on the bus")
        assert event["type"] == "identity.user.provisioned"
        assert event["requestid"] == "e2e-create-user"
    finally:
        connection.close()


@pytest.mark.parametrize("which", ["web_metrics", "worker_metrics"])
def test_metrics_pass_promtool(stack: Stack, which: str) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is required: apt-get install prometheus (.ci/run does)"
    requests.get(f"{stack.gateway}/api/me", timeout=5)
    text = requests.get(getattr(stack, which), timeout=5).text
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    if which == "web_metrics":
        assert 'http_requests_total{method="GET",route="/api/me",status="401"}' in text
    else:
        assert "outbox_pending_messages" in text


def test_no_web_master_holds_a_connection_the_workers_it_forks_would_share(stack: Stack) -> None:
    """Creating the app opens no connection, so gunicorn may import it in its master and fork the workers from it
    (`preload_app`) without a database or broker socket written by several processes. The master keeps only its
    listening socket; the workers it forked are alive and serving (the other tests of this module)."""
    for name, process in stack.processes.items():
        if not name.endswith("-web"):
            continue
        master = psutil.Process(process.pid)
        held = [c for c in master.net_connections(kind="all") if c.status != psutil.CONN_LISTEN and c.raddr]
        assert held == [], f"{name}'s master holds {held}"
        assert master.children(), f"{name} has no workers"


def test_web_metrics_add_up_over_gunicorn_workers(stack: Stack) -> None:
    before = _count(requests.get(stack.web_metrics, timeout=5).text)
    for _ in range(20):
        requests.get(f"{stack.gateway}/api/auth/.well-known/jwks.json", timeout=5)
    after = _count(requests.get(stack.web_metrics, timeout=5).text)
    assert after - before == 20


def _count(text: str) -> float:
    prefix = 'http_requests_total{method="GET",route="/api/auth/.well-known/jwks.json",status="200"}'
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.split()[-1])
    return 0.0
