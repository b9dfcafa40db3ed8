"""A real Prometheus scraping the running platform: every target is up and the dashboards' queries answer.

Prometheus (Debian's package) is started by the test against the e2e stack, with the project's rule files,
and scrapes what compose and k8s scrape: every web and worker, RabbitMQ's prometheus plugin (aggregated and
per object, the jobs of deploy/prometheus/render.py), postgres_exporter and the nginx exporter of the gateway
(Debian's prometheus-postgres-exporter and prometheus-nginx-exporter, started here). Requests and events are
driven through the gateway first, so the workflow metrics have samples.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from deploy.prometheus import render as prometheus_render
from shared import clock
from tests.conftest import ROOT
from tests.e2e.conftest import Stack, token
from tests.helpers import wait_until
from tests.infrastructure import Infrastructure
from tests.ops.test_ops_tools import require

pytestmark = pytest.mark.e2e

DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
RULES = ROOT / "deploy" / "prometheus" / "rules"
# Every job a dashboard or alert reads (deploy/prometheus/render.py names them the same).
JOBS = {"web", "worker", "rabbitmq", "rabbitmq-queues", "postgres", "gateway"}
# The allow-list: labelled series that only exist once something happened that this traffic does not cause.
# An empty answer is right for them here; everything else a dashboard asks for (targets up, request rates and
# latency per service, the gauges every worker sets at start, bus publishing and consuming of the services this
# traffic touches, outbox backlog and age, handler timings, timer runs) must have data, or the test fails.
QUIET_UNTIL_IT_HAPPENS = {
    # Failure paths of the bus: nothing fails, is retried, parked or unroutable in a healthy run.
    "bus_messages_retried_total",
    "bus_messages_dead_lettered_total",
    "bus_messages_unroutable_total",
    "bus_publish_failures_total",
    # Nominations: nothing is submitted or refused here; the by-(round, status) gauge is refreshed every
    # 60 s by the worker, whose first refresh ran before this test's nomination existed.
    "nominations_submissions_total",
    "nominations_eligibility_failures_total",
    "nominations_nominations",
    # Approvals: no case is opened (nothing is submitted), so no task per stage, decision or evaluation.
    "approvals_open_tasks",
    "approvals_overdue_tasks_by_stage",
    "approvals_decisions_total",
    "approvals_evaluations_total",
    "approvals_evaluations_by_grade",
    # Notifications: no message is addressed to anyone by this traffic, so nothing is delivered or reminded.
    "notifications_deliveries_total",
    "notifications_delivery_latency_seconds_bucket",
    "notifications_messages_total",
    "notifications_reminders_sent_total",
    "notifications_reminders_cancelled_total",
    # Governance: no plan is decided or accepted (approvals' chain is not walked here).
    "governance_plans_decided_total",
    "governance_plan_acceptances_total",
    # Governance's work: no monthly report is sent or reminded, no meeting, check or committee semester is recorded.
    "governance_reports_submitted_total",
    "governance_report_reminders_total",
    "governance_scheduling_meetings_total",
    "governance_security_checks_total",
    "governance_committee_meetings_total",
    "governance_committee_semesters_flagged_total",
    # Training: no spreadsheet import is run.
    "training_import_jobs_total",
    "training_import_rows_total",
    # Identity: this stack has no SSO provider configured (tests/e2e/test_sso_e2e.py signs in through them),
    # so no sign-in, upstream call or ended session.
    "identity_sso_sign_ins_total",
    "identity_sso_upstream_duration_seconds_bucket",
    "identity_sso_sessions_ended_total",
    # Identity's key-rotation timer acts once a month (SIGNING_KEY_ROTATION_SECONDS): no rotation in a test run.
    "identity_signing_key_rotations_total",
}
# Per-service series that are quiet in this traffic: approvals, notifications and training publish no event
# (no case, message or certificate); identity's consumer sees no appointment event.
QUIET_SERVICES = {
    "bus_messages_published_total": {"approvals", "notifications", "training"},
    "bus_messages_consumed_total": {"identity"},
    "bus_handler_duration_seconds_bucket": {"identity"},
}
# Grafana's built-in variables; dashboard variables ($service, …) become `.*` in _substitute.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "5m",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)


@pytest.fixture(scope="module")
def prometheus(stack: Stack, infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = require("prometheus")
    run = tmp_path_factory.mktemp("prometheus")
    procs: list[subprocess.Popen[bytes]] = []
    # The exporters, on ports of their own, against the stack's PostgreSQL server and gateway.
    pg_port, nginx_port = _free_port(), _free_port()
    pg_dsn = urllib.parse.urlsplit(infra.pg)._replace(query="sslmode=disable").geturl()
    procs.append(
        _start(
            [require("prometheus-postgres-exporter"), f"--web.listen-address=127.0.0.1:{pg_port}"],
            run / "postgres-exporter.log",
            env={"PATH": os.environ.get("PATH", ""), "DATA_SOURCE_NAME": pg_dsn},
        )
    )
    procs.append(
        _start(
            [
                require("prometheus-nginx-exporter"),
                f"-nginx.scrape-uri={stack.gateway}/nginx_status",
                f"-web.listen-address=127.0.0.1:{nginx_port}",
            ],
            run / "nginx-exporter.log",
        )
    )
    # The same job names and `service` label as deploy/prometheus/prometheus.yml, which the dashboards use.
    jobs: list[dict[str, Any]] = [
        {
            "job_name": kind,
            "static_configs": [
                {"targets": [urllib.parse.urlsplit(url).netloc], "labels": {"service": service}}
                for service, url in urls.items()
            ],
        }
        for kind, urls in (("web", stack.web), ("worker", stack.worker))
    ]
    # The exporters' and RabbitMQ's jobs as the no-Docker config renders them, on this run's ports and broker.
    broker = infra.broker_metrics
    here = {"gateway": f"127.0.0.1:{nginx_port}", "postgres": f"127.0.0.1:{pg_port}"}
    for job in prometheus_render.build("local")["scrape_configs"]:
        if job["job_name"] in ("gateway", "postgres", "rabbitmq", "rabbitmq-queues"):
            job["static_configs"] = [{"targets": [here.get(job["job_name"], broker)]}]
            job["scrape_interval"] = "1s"
            jobs.append(job)
    assert {job["job_name"] for job in jobs} == JOBS
    assert _ok(f"http://{broker}/metrics"), (
        f"RabbitMQ's prometheus plugin does not answer on {broker}: rabbitmq-plugins enable rabbitmq_prometheus "
        "(.ci/run does)"
    )
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in sorted(RULES.glob("*.yml"))],
        "scrape_configs": jobs,
    }
    (run / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = _free_port()
    procs.append(
        _start(
            [
                binary,
                f"--config.file={run / 'prometheus.yml'}",
                f"--storage.tsdb.path={run / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            run / "prometheus.log",
        )
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ok(f"{base}/-/ready"), timeout=30, interval=0.2, message="prometheus ready")
        yield base
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


class Client:
    """One signed-in demo account talking to the gateway (as in test_cio_workflow_e2e.py)."""

    def __init__(self, stack: Stack, username: str) -> None:
        self.base = stack.gateway
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token(stack, username)}"

    def call(self, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, f"{self.base}{path}", timeout=15, **kwargs)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response


def _drive_traffic(stack: Stack) -> None:
    """Requests and events through the gateway: sign-ins, reads, a person added, a round opened, a nomination."""
    admin = Client(stack, "admin")
    city = Client(stack, "city.reviewer")
    school = Client(stack, "school.admin")
    for path in ("/api/me", "/api/orgs", "/api/policies", "/api/tasks", "/api/inbox", "/api/trainings"):
        city.call("GET", path, expect=None)
    assert requests.get(f"{stack.gateway}/api/me", timeout=10).status_code == 401  # error series exist too
    person = admin.call(
        "POST",
        "/api/users",
        expect=201,
        json={
            "username": f"obs.{uuid.uuid4().hex[:6]}",
            "display_name": "王五",
            "org_code": "4108020001",
            "phone": "13800138001",
            "email": "wangwu@example.cn",
            "gender": "男",
            "birth_date": "1980-03-02",
            "password": "observed-password-2026",
        },
    ).json()
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).isoformat()
    round_ = city.call(
        "POST",
        "/api/rounds",
        expect=201,
        json={"title": "观测", "policy_id": "jiaozuo-2022", "issuing_org_code": "4108", "deadline": deadline},
    ).json()

    def created() -> bool:
        r = school.call(
            "POST",
            "/api/nominations",
            expect=None,
            json={"round_id": round_["id"], "school_org_code": "4108020001", "candidate_user_id": person["id"]},
            headers={"Idempotency-Key": f"obs-{round_['id']}"},
        )
        return r.status_code == 201  # 404 until nominations has the person from identity's event

    wait_until(created, timeout=30, interval=0.3, message="nominations knows the candidate")
    school.call("GET", "/api/nominations")
    # governance: a district's plan sent to the city (an event out, a case in approvals), a registered system
    district = Client(stack, "county.reviewer")
    today = clock.today().isoformat()
    plan_body = {
        "unit_org_code": "410802",
        "title": "观测项目",
        "budget": "1000.00",
        "funding_source": "区级财政",
        "functions": ["智慧课堂"],
        "starts_on": today,
        "ends_on": today,
    }

    def planned() -> requests.Response | None:
        r = district.call("POST", "/api/project-plans", expect=None, json=plan_body)
        return r if r.status_code == 201 else None  # 422 until governance has the org from identity's event

    plan = wait_until(planned, timeout=30, interval=0.3, message="governance knows the district")
    district.call(
        "POST", f"/api/project-plans/{plan.json()['id']}/submit", json={}, headers={"If-Match": plan.headers["ETag"]}
    )
    school.call(
        "POST",
        "/api/application-systems",
        expect=201,
        json={"org_code": "4108020001", "name": "观测应用", "owner": "信息中心", "purpose": "教学"},
    )


def _query(base: str, expr: str) -> list[object]:
    response = requests.get(f"{base}/api/v1/query", params={"query": expr}, timeout=10)
    body = response.json()
    assert body["status"] == "success", f"{expr}: {body}"
    return list(body["data"]["result"])


def _dashboard_queries() -> list[tuple[str, str]]:
    """Every panel target's PromQL, rows' nested panels included, labelled by dashboard and panel (Loki's log
    queries are checked by tests/ops/test_ops_dashboards.py; this run has no Loki)."""
    found: list[tuple[str, str]] = []

    def walk(where: str, panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            found.extend(
                (f"{where}: {panel.get('title')}", target["expr"])
                for target in panel.get("targets", [])
                if target.get("expr") and target["datasource"]["type"] == "prometheus"  # not the Logs board's LogQL
            )
            walk(where, panel.get("panels", []))

    for path in sorted(DASHBOARDS.glob("*.json")):
        walk(path.stem, json.loads(path.read_text()).get("panels", []))
    return found


def _may_be_empty(expr: str) -> bool:
    """True for the allow-listed queries: quiet series, error-only selections."""
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    if names & QUIET_UNTIL_IT_HAPPENS:
        return True
    if re.search(r'status=~"(5\.\.|\[45\]\.\.)"', expr):
        return True  # error-only selections: no errors is the good case
    service = re.search(r'service="(\w+)"', expr)
    return bool(service) and any(
        metric in names and service.group(1) in quiet for metric, quiet in QUIET_SERVICES.items()
    )


def _substitute(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    # Template variables ($service, ${service}, …) select everything.
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def test_every_scrape_target_is_up(stack: Stack, prometheus: str) -> None:
    wanted = {("web", service) for service in stack.web} | {("worker", service) for service in stack.worker}
    wanted |= {(job, None) for job in JOBS - {"web", "worker"}}

    def all_up() -> list[dict[str, Any]] | None:
        targets = requests.get(f"{prometheus}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        return targets if len(targets) == len(wanted) and all(t["health"] == "up" for t in targets) else None

    targets = wait_until(all_up, timeout=30, interval=0.5, message="every target up")
    assert {(t["labels"]["job"], t["labels"].get("service")) for t in targets} == wanted
    # The exporters reach what they export (a target can be up while its exporter fails to connect).
    assert _query(prometheus, "pg_up == 1"), "postgres_exporter cannot reach PostgreSQL"
    assert _query(prometheus, "nginx_up == 1"), "the nginx exporter cannot read the gateway's stub_status"


def test_every_dashboard_query_is_valid_and_ours_return_data(stack: Stack, prometheus: str) -> None:
    _drive_traffic(stack)
    queries = _dashboard_queries()
    assert len(queries) > 50  # the dashboards were found and read

    def without_data() -> list[str]:
        # Every query must be valid PromQL (asserted in _query); only allow-listed ones may come back empty.
        return [
            f"{where}: {expr}"
            for where, expr in queries
            if not _query(prometheus, _substitute(expr)) and not _may_be_empty(expr)
        ]

    # A few scrapes (1 s apart) and rule evaluations after the traffic: rates need two samples.
    deadline = time.monotonic() + 45
    while (empty := without_data()) and time.monotonic() < deadline:
        time.sleep(1)
    assert not empty, "dashboard queries without data:\n" + "\n".join(empty)
    # The recording rules from deploy/prometheus/rules/ were loaded and evaluate.
    groups = requests.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert groups and all(rule["health"] == "ok" for group in groups for rule in group["rules"])
    assert _query(prometheus, "service:http_requests:rate5m"), "the recording rules produce series"
