"""A real Prometheus scraping the running platform: every target is up and the dashboards' queries answer.

Prometheus (Debian's package) is started by the test against the e2e stack, with the project's rule files;
requests and events are driven through the gateway first, so the workflow metrics have samples.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from tests.conftest import ROOT
from tests.e2e.conftest import Stack, token
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
RULES = ROOT / "deploy" / "prometheus" / "rules"
# Metrics only the exporters give (RabbitMQ's plugin, postgres_exporter, the nginx exporter): not run here.
EXPORTER_PREFIXES = ("rabbitmq_", "pg_", "nginx_")
# Series that only exist once something happened that this traffic does not cause (failures, retries,
# decisions, evaluations, imports, deliveries, appointments' events): an empty answer is right for them.
# Everything else a dashboard asks for (targets up, request rates and latency per service, bus publishing of
# the services this traffic touches, outbox backlog and age, handler timings) must have data.
QUIET_UNTIL_IT_HAPPENS = {
    "bus_messages_retried_total",
    "bus_messages_dead_lettered_total",
    "bus_messages_unroutable_total",
    "bus_publish_failures_total",
    "nominations_submissions_total",
    "nominations_eligibility_failures_total",
    "nominations_nominations",  # one series per (round, status), refreshed by the worker's gauge timer
    "approvals_open_tasks",  # labelled by stage: no task yet, no series
    "approvals_decisions_total",
    "approvals_evaluations_total",
    "approvals_evaluations_by_grade",
    "notifications_deliveries_total",
    "notifications_delivery_latency_seconds_bucket",
    "notifications_messages_total",
    "notifications_reminders_sent_total",
    "notifications_reminders_cancelled_total",
    "training_import_jobs_total",
    "training_import_rows_total",
}
# Services that publish nothing, consume nothing or run no timer in this traffic.
QUIET_SERVICES = {
    "bus_messages_published_total": {"approvals", "notifications", "training"},
    "bus_messages_consumed_total": {"identity"},
    "bus_handler_duration_seconds_bucket": {"identity"},
    "worker_timer_runs_total": {"identity"},
}
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "5m",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    assert Path(binary).exists(), "prometheus is required: apt-get install prometheus (.ci/run does)"
    run = tmp_path_factory.mktemp("prometheus")
    # The same job names and `service` label as deploy/prometheus/prometheus.yml, which the dashboards use.
    jobs = [
        {
            "job_name": kind,
            "static_configs": [
                {"targets": [urllib.parse.urlsplit(url).netloc], "labels": {"service": service}}
                for service, url in urls.items()
            ],
        }
        for kind, urls in (("web", stack.web), ("worker", stack.worker))
    ]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in sorted(RULES.glob("*.yml"))],
        "scrape_configs": jobs,
    }
    (run / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = _free_port()
    log = (run / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={run / 'prometheus.yml'}",
            f"--storage.tsdb.path={run / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ok(f"{base}/-/ready"), timeout=30, interval=0.2, message="prometheus ready")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _drive_traffic(stack: Stack) -> None:
    """Requests and events through the gateway: sign-ins, reads, a round opened and a nomination drafted."""
    city = {"Authorization": f"Bearer {token(stack, 'city.reviewer')}"}
    school = {"Authorization": f"Bearer {token(stack, 'school.admin')}"}
    for path in ("/api/me", "/api/orgs", "/api/policies", "/api/tasks", "/api/inbox", "/api/trainings"):
        requests.get(f"{stack.gateway}{path}", headers=city, timeout=10)
    requests.get(f"{stack.gateway}/api/me", timeout=10)  # a 401, so error series exist too
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).isoformat()

    def opened() -> bool:
        r = requests.post(
            f"{stack.gateway}/api/rounds",
            json={"title": "观测", "policy_id": "jiaozuo-2022", "issuing_org_code": "4108", "deadline": deadline},
            headers=city,
            timeout=10,
        )
        return r.status_code == 201

    wait_until(opened, timeout=60, interval=0.5, message="a round opened")
    requests.get(f"{stack.gateway}/api/nominations", headers=school, timeout=10)


def _query(base: str, expr: str) -> list[object]:
    response = requests.get(f"{base}/api/v1/query", params={"query": expr}, timeout=10)
    body = response.json()
    assert body["status"] == "success", f"{expr}: {body}"
    return list(body["data"]["result"])


def _dashboard_queries() -> list[tuple[str, str]]:
    found = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text())
        for panel in dashboard.get("panels", []):
            for target in panel.get("targets", []):
                expr = target.get("expr")
                if expr:
                    found.append((f"{path.stem}: {panel.get('title')}", expr))
    return found


def _may_be_empty(expr: str) -> bool:
    metrics = set(re.findall(r"\b([a-z_]+(?:_total|_bucket|_seconds|_messages|_tasks|_nominations|_by_grade))\b", expr))
    if any(prefix in expr for prefix in EXPORTER_PREFIXES) or metrics & QUIET_UNTIL_IT_HAPPENS:
        return True
    if re.search(r'status=~"(5\.\.|\[45\]\.\.)"', expr):
        return True  # error-only selections: no errors is the good case
    service = re.search(r'service="(\w+)"', expr)
    return any(service and service.group(1) in quiet for metric, quiet in QUIET_SERVICES.items() if metric in metrics)


def _substitute(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    # Template variables ($service, ${service}, …) select everything.
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def test_every_scrape_target_is_up(stack: Stack, prometheus: str) -> None:
    def all_up() -> list[dict[str, object]] | None:
        targets = requests.get(f"{prometheus}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        return targets if targets and all(t["health"] == "up" for t in targets) else None

    targets = wait_until(all_up, timeout=30, interval=0.5, message="every target up")
    assert len(targets) == 2 * len(stack.web)


def test_every_dashboard_query_is_valid_and_ours_return_data(stack: Stack, prometheus: str) -> None:
    _drive_traffic(stack)
    time.sleep(3)  # a few scrapes after the traffic (scrape interval 1 s)
    empty = []
    for where, expr in _dashboard_queries():
        result = _query(prometheus, _substitute(expr))
        if not result and not _may_be_empty(expr):
            empty.append(f"{where}: {expr}")
    assert not empty, "dashboard queries without data:\n" + "\n".join(empty)
