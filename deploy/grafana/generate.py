"""Generate the Grafana dashboards under deploy/grafana/dashboards/ from code.

Plain dicts in Grafana's dashboard JSON model (schemaVersion 39, Grafana 11), so there is nothing to
install; the committed JSON must equal a fresh generation (tests/ops/test_ops_dashboards.py checks it, and
that every query is valid PromQL naming a metric some process or exporter exposes). Never edit the JSON:
change this file and run

  python deploy/grafana/generate.py          # write deploy/grafana/dashboards/*.json
  python deploy/grafana/generate.py --check  # exit 1 if the committed files are stale

Grafana loads the files through deploy/grafana/provisioning/dashboards/cio.yml; every panel uses the
provisioned datasource (uid "prometheus"), except the "Logs" dashboard's, which read Loki (uid "loki": the logs
Alloy ships, deploy/alloy/). Labels: our processes' series carry `service` and job="web"|"worker"; RabbitMQ
per-queue series come from job="rabbitmq-queues"; log lines carry `service` and `level`, and `request_id` as
structured metadata. Each service dashboard has a "Request id" box and a link to its logs for that request.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deploy.service_catalog import load_services

OUT_DIR = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
LOKI = {"type": "loki", "uid": "loki"}
LOGS_UID = "cio-logs"
# Every line of the platform's processes (compose and Kubernetes: Alloy adds platform="cio").
LOG_STREAM = '{platform="cio", service=~"$service"}'
WIDTH = 24


class Layout:
    """Places panels left to right in rows of 24 columns, and numbers them."""

    def __init__(self) -> None:
        self.x = self.y = self.row_height = 0
        self.next_id = 1
        self.panels: list[dict[str, Any]] = []

    def add(self, panel: dict[str, Any], w: int = 12, h: int = 8) -> None:
        if self.x + w > WIDTH:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        panel["id"] = self.next_id
        panel["gridPos"] = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.next_id += 1
        self.x += w
        self.row_height = max(self.row_height, h)
        self.panels.append(panel)

    def row(self, title: str) -> None:
        if self.x:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        self.panels.append(
            {
                "id": self.next_id,
                "type": "row",
                "title": title,
                "collapsed": False,
                "gridPos": {"x": 0, "y": self.y, "w": WIDTH, "h": 1},
                "panels": [],
            }
        )
        self.next_id += 1
        self.y += 1


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> dict[str, Any]:
    t: dict[str, Any] = {"datasource": DATASOURCE, "refId": ref, "expr": expr, "legendFormat": legend or "__auto"}
    if instant:
        t |= {"instant": True, "range": False, "format": "table"}
    return t


def _targets(queries: Sequence[tuple[str, str]], instant: bool = False) -> list[dict[str, Any]]:
    return [target(expr, legend, chr(ord("A") + i), instant) for i, (expr, legend) in enumerate(queries)]


def timeseries(title: str, queries: Sequence[tuple[str, str]], unit: str = "short", description: str = "") -> dict:
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": _targets(queries),
        "fieldConfig": {"defaults": {"unit": unit, "custom": {"fillOpacity": 10}}, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]}},
    }


def stat(title: str, expr: str, unit: str = "short", red_above: float | None = None, description: str = "") -> dict:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if red_above is not None:
        steps.append({"color": "red", "value": red_above})
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": [target(expr)],
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value"},
    }


def table(title: str, expr: str, description: str = "") -> dict:
    return {
        "type": "table",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": [target(expr, instant=True)],
        "fieldConfig": {"defaults": {}, "overrides": []},
        "transformations": [{"id": "organize", "options": {"excludeByName": {"Time": True}}}],
        "options": {"showHeader": True},
    }


def bar_gauge(title: str, expr: str, legend: str, description: str = "") -> dict:
    return {
        "type": "bargauge",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": [target(expr, legend, instant=True) | {"format": "time_series"}],
        "fieldConfig": {"defaults": {"unit": "short", "min": 0}, "overrides": []},
        "options": {
            "orientation": "horizontal",
            "displayMode": "gradient",
            "reduceOptions": {"calcs": ["lastNotNull"]},
        },
    }


def dashboard(
    uid: str,
    title: str,
    layout: Layout,
    tags: list[str],
    variables: list[dict] | None = None,
    links: list[dict] | None = None,
) -> dict:
    return {
        "uid": uid,
        "title": title,
        "tags": ["cio", *tags],
        "timezone": "browser",
        "editable": False,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": variables or []},
        "annotations": {"list": []},
        "links": [
            {"type": "dashboards", "tags": ["cio"], "asDropdown": True, "title": "CIO dashboards"},
            *(links or []),
        ],
        "panels": layout.panels,
    }


def service_variable(multi: bool) -> dict[str, Any]:
    return {
        "name": "service",
        "label": "Service",
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": 'label_values(up{job=~"web|worker"}, service)', "refId": "service"},
        "definition": 'label_values(up{job=~"web|worker"}, service)',
        "refresh": 2,
        "multi": multi,
        "includeAll": multi,
        "current": {},
        "sort": 1,
    }


def textbox(name: str, label: str, description: str) -> dict[str, Any]:
    return {"name": name, "label": label, "type": "textbox", "query": "", "current": {}, "description": description}


def request_id_variable() -> dict[str, Any]:
    return textbox(
        "request_id",
        "Request id",
        "The X-Request-Id of a response (the gateway sets it; every log line of that request carries it)",
    )


def logs_link(service: str) -> dict[str, Any]:
    """From a service dashboard to its log lines, of the request id typed in its box (or all of them)."""
    return {
        "type": "link",
        "title": "Logs of this request",
        "tooltip": "The service's log lines in Loki, filtered by the request id above",
        "url": f"/d/{LOGS_UID}/logs?var-service={service}&var-request_id=${{request_id}}",
        "keepTime": True,
        "targetBlank": False,
        "icon": "doc",
    }


def loki_target(expr: str, legend: str = "", ref: str = "A") -> dict[str, Any]:
    return {"datasource": LOKI, "refId": ref, "expr": expr, "legendFormat": legend, "queryType": "range"}


# ---------------------------------------------------------------------------------------------- dashboards


def logs() -> dict:
    """The platform's log lines (Loki), by service, level, request id and free text; kept 186 days."""
    lay = Layout()
    selector = LOG_STREAM + ' | request_id=~"${request_id:regex}.*" |~ "(?i)$search"'
    lay.add(
        {
            "type": "timeseries",
            "title": "Log lines per second by level",
            "description": "All lines of the selected services (request id and text filters applied)",
            "datasource": LOKI,
            "targets": [loki_target(f"sum by (level) (rate({selector} [$__auto]))", "{{level}}")],
            "fieldConfig": {"defaults": {"unit": "short", "custom": {"fillOpacity": 10}}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        },
        w=24,
        h=6,
    )
    lay.add(
        {
            "type": "logs",
            "title": "Log lines",
            "description": "JSON lines as the processes wrote them; expand one for its fields",
            "datasource": LOKI,
            "targets": [loki_target(selector)],
            "options": {
                "showTime": True,
                "wrapLogMessage": True,
                "prettifyLogMessage": False,
                "enableLogDetails": True,
                "sortOrder": "Descending",
                "dedupStrategy": "none",
            },
        },
        w=24,
        h=20,
    )
    service = {
        "name": "service",
        "label": "Service",
        "type": "custom",
        "query": ",".join(s.name for s in load_services() if s.exists),
        "multi": True,
        "includeAll": True,
        "allValue": ".+",
        "current": {},
    }
    search = textbox("search", "Text", "A regular expression the line must contain (case-insensitive)")
    return dashboard(LOGS_UID, "Logs", lay, ["logs"], [service, request_id_variable(), search])


def platform_overview() -> dict:
    sel = 'job="web", service=~"$service"'
    lay = Layout()
    lay.row("Targets")
    lay.add(stat("Targets down", "count(up == 0) or vector(0)", red_above=1), w=6, h=4)
    lay.add(
        stat(
            "Parked messages",
            'sum(rabbitmq_queue_messages{job="rabbitmq-queues", queue=~".+\\\\.parking"}) or vector(0)',
            red_above=1,
        ),
        w=6,
        h=4,
    )
    lay.add(
        stat(
            "Oldest unpublished outbox row", "max(outbox_oldest_pending_age_seconds) or vector(0)", "s", red_above=300
        ),
        w=6,
        h=4,
    )
    lay.add(stat("Gateway up", "max(nginx_up)", red_above=None), w=6, h=4)
    lay.add(table("Scrape targets", "up", "1 = scraped, 0 = down."), w=24, h=8)
    lay.row("HTTP: rate, errors, duration per service")
    lay.add(
        timeseries(
            "Requests per second",
            [(f"sum by (service) (rate(http_requests_total{{{sel}}}[$__rate_interval]))", "{{service}}")],
            "reqps",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "5xx ratio",
            [
                (
                    f'sum by (service) (rate(http_requests_total{{{sel}, status=~"5.."}}[$__rate_interval]))'
                    f" / sum by (service) (rate(http_requests_total{{{sel}}}[$__rate_interval]))",
                    "{{service}}",
                )
            ],
            "percentunit",
            "Alert HighErrorRatio fires above 5 % for 5 minutes.",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "p99 latency",
            [
                (
                    "histogram_quantile(0.99, sum by (service, le) "
                    f"(rate(http_request_duration_seconds_bucket{{{sel}}}[$__rate_interval])))",
                    "{{service}}",
                )
            ],
            "s",
            "Target: under 1 s (alert HighLatencyP99).",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Gateway connections",
            [
                ("sum(nginx_connections_active)", "active"),
                ("sum(rate(nginx_http_requests_total[$__rate_interval]))", "req/s"),
            ],
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "PostgreSQL transactions",
            [
                (
                    'sum by (datname) (rate(pg_stat_database_xact_commit{datname=~"cio_.+"}[$__rate_interval]))',
                    "{{datname}}",
                )
            ],
            "ops",
        ),
        w=12,
    )
    lay.row("Message bus")
    lay.add(
        timeseries(
            "Events published per second",
            [
                (
                    'sum by (service) (rate(bus_messages_published_total{service=~"$service"}[$__rate_interval]))',
                    "{{service}}",
                )
            ],
            "ops",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Messages consumed per second",
            [
                (
                    "sum by (queue, outcome) (rate(bus_messages_consumed_total"
                    '{service=~"$service"}[$__rate_interval]))',
                    "{{queue}} {{outcome}}",
                )
            ],
            "ops",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Retries and dead letters",
            [
                (
                    'sum by (queue) (increase(bus_messages_retried_total{service=~"$service"}[$__rate_interval]))',
                    "retried {{queue}}",
                ),
                (
                    "sum by (queue) (increase(bus_messages_dead_lettered_total"
                    '{service=~"$service"}[$__rate_interval]))',
                    "parked {{queue}}",
                ),
            ],
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Queue backlog (ready)",
            [
                (
                    'sum by (queue) (rabbitmq_queue_messages_ready{job="rabbitmq-queues", '
                    'queue!~".+\\\\.(retry|parking)"})',
                    "{{queue}}",
                )
            ],
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Parking queues",
            [('sum by (queue) (rabbitmq_queue_messages{job="rabbitmq-queues", queue=~".+\\\\.parking"})', "{{queue}}")],
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Unroutable events",
            [
                (
                    "sum by (service, type) (increase(bus_messages_unroutable_total"
                    '{service=~"$service"}[$__rate_interval]))',
                    "{{service}} {{type}}",
                )
            ],
        ),
        w=8,
    )
    lay.row("Outbox")
    lay.add(
        timeseries(
            "Outbox pending rows", [('max by (service) (outbox_pending_messages{service=~"$service"})', "{{service}}")]
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Outbox oldest pending age",
            [('max by (service) (outbox_oldest_pending_age_seconds{service=~"$service"})', "{{service}}")],
            "s",
            "Alert OutboxStalled fires above 5 minutes.",
        ),
        w=12,
    )
    return dashboard("cio-platform-overview", "CIO platform overview", lay, ["overview"], [service_variable(True)])


# Each service's own workflow panels: (title, [(expr, legend)], unit).
SERVICE_PANELS: dict[str, list[tuple[str, list[tuple[str, str]], str]]] = {
    "identity": [
        (
            "SSO sign-ins by provider and outcome",
            [
                (
                    "sum by (provider, outcome) (increase(identity_sso_sign_ins_total[$__rate_interval]))",
                    "{{provider}} {{outcome}}",
                )
            ],
            "short",
        ),
        (
            "SSO upstream latency p95 (city identity platform)",
            [
                (
                    "histogram_quantile(0.95, sum by (provider, call, le) "
                    "(rate(identity_sso_upstream_duration_seconds_bucket[$__rate_interval])))",
                    "{{provider}} {{call}}",
                )
            ],
            "s",
        ),
        (
            "SSO browser sessions",
            [
                ("max(identity_sso_active_sessions)", "live"),
                (
                    "sum by (reason) (increase(identity_sso_sessions_ended_total[$__rate_interval]))",
                    "ended: {{reason}}",
                ),
            ],
            "short",
        ),
        (
            "Access tokens issued",
            [
                (
                    "sum by (grant_type) (rate(identity_tokens_issued_total[$__rate_interval]))",
                    "{{grant_type}}",
                )
            ],
            "reqps",
        ),
        (
            "Signing-key rotations (worker timer)",
            [
                (
                    "sum by (outcome) (increase(identity_signing_key_rotations_total[$__rate_interval]))",
                    "{{outcome}}",
                )
            ],
            "short",
        ),
    ],
    "nominations": [
        (
            "Submissions",
            [
                (
                    "sum by (policy, kind) (increase(nominations_submissions_total[$__rate_interval]))",
                    "{{policy}} {{kind}}",
                )
            ],
            "short",
        ),
        (
            "Eligibility refusals by rule",
            [("sum by (rule) (increase(nominations_eligibility_failures_total[$__rate_interval]))", "{{rule}}")],
            "short",
        ),
        (
            "Nominations by status",
            [("sum by (status) (max by (round_id, status) (nominations_nominations))", "{{status}}")],
            "short",
        ),
    ],
    "approvals": [
        (
            "Decisions",
            [("sum by (decision) (increase(approvals_decisions_total[$__rate_interval]))", "{{decision}}")],
            "short",
        ),
        (
            "Open and overdue tasks",
            [("sum(max by (stage) (approvals_open_tasks))", "open"), ("max(approvals_overdue_tasks)", "overdue")],
            "short",
        ),
        (
            "Appointments",
            [
                ("max(approvals_active_appointments)", "active"),
                ("max(approvals_appointments_ending_within_90_days)", "ending within 90 days"),
                (
                    'max(approvals_appointments_ending_without_renewal{within_days="30"})',
                    "ending within 30 days, no renewal",
                ),
            ],
            "short",
        ),
        (
            "Evaluations (考核)",
            [
                (
                    "sum by (kind, grade) (increase(approvals_evaluations_total[$__rate_interval]))",
                    "{{kind}} {{grade}}",
                ),
                ("max by (grade) (approvals_evaluations_by_grade)", "on record: {{grade}}"),
            ],
            "short",
        ),
        (
            "Rectifications (整改)",
            [
                ("max(approvals_open_rectifications)", "open"),
                ("max(approvals_overdue_rectifications)", "overdue"),
            ],
            "short",
        ),
    ],
    "training": [
        (
            "Completions and certificates",
            [
                ("sum(increase(training_completions_total[$__rate_interval]))", "completions"),
                ("sum(increase(training_certificates_issued_total[$__rate_interval]))", "certificates issued"),
                ("sum(increase(training_certificates_revoked_total[$__rate_interval]))", "certificates revoked"),
            ],
            "short",
        ),
        (
            "Import jobs",
            [
                (
                    "sum by (kind, outcome) (increase(training_import_jobs_total[$__rate_interval]))",
                    "{{kind}} {{outcome}}",
                )
            ],
            "short",
        ),
        (
            "Import rows",
            [
                (
                    "sum by (kind, outcome) (increase(training_import_rows_total[$__rate_interval]))",
                    "{{kind}} {{outcome}}",
                )
            ],
            "short",
        ),
        (
            "Yearly requirement",
            [
                ("max(training_active_cios)", "active CIOs"),
                ("max(training_cios_missing_requirement)", "missing the requirement"),
                ("sum(increase(training_requirement_unmet_published_total[$__rate_interval]))", "unmet events"),
            ],
            "short",
        ),
    ],
    "notifications": [
        (
            "Deliveries",
            [
                (
                    "sum by (channel, outcome) (increase(notifications_deliveries_total[$__rate_interval]))",
                    "{{channel}} {{outcome}}",
                )
            ],
            "short",
        ),
        (
            "Delivery latency p95",
            [
                (
                    "histogram_quantile(0.95, sum by (channel, le) "
                    "(rate(notifications_delivery_latency_seconds_bucket[$__rate_interval])))",
                    "{{channel}}",
                )
            ],
            "s",
        ),
        ("Dead deliveries", [("max(notifications_dead_deliveries)", "dead")], "short"),
        (
            "Messages and reminders",
            [
                ("sum by (kind) (increase(notifications_messages_total[$__rate_interval]))", "inbox {{kind}}"),
                ("sum by (kind) (increase(notifications_reminders_sent_total[$__rate_interval]))", "reminder {{kind}}"),
                (
                    "sum by (kind) (increase(notifications_reminders_cancelled_total[$__rate_interval]))",
                    "cancelled {{kind}}",
                ),
                ("sum(increase(notifications_digests_total[$__rate_interval]))", "daily digests"),
            ],
            "short",
        ),
    ],
    "governance": [
        (
            "Project plans (项目建设方案审核)",
            [
                (
                    "sum by (flagged) (increase(governance_plans_submitted_total[$__rate_interval]))",
                    "submitted, flagged={{flagged}}",
                ),
                (
                    "sum by (outcome) (increase(governance_plans_decided_total[$__rate_interval]))",
                    "decided {{outcome}}",
                ),
                ("sum by (kind) (increase(governance_plan_acceptances_total[$__rate_interval]))", "验收 {{kind}}"),
            ],
            "short",
        ),
        ("Plans by status", [("max by (status) (governance_plans)", "{{status}}")], "short"),
        (
            "Application registry (应用系统对接台账)",
            [
                ("max(governance_applications)", "registered"),
                ("max(governance_applications_connected)", "connected"),
                ("max(governance_applications_overdue)", "overdue"),
            ],
            "short",
        ),
        (
            "Connected share",
            [("max(governance_applications_connected) / max(governance_applications)", "connected share")],
            "percentunit",
        ),
        (
            "月调度: reports and reminders",
            [
                (
                    "sum by (timeliness) (increase(governance_reports_submitted_total[$__rate_interval]))",
                    "reports {{timeliness}}",
                ),
                (
                    "sum by (kind) (increase(governance_report_reminders_total[$__rate_interval]))",
                    "reminders {{kind}}",
                ),
                ("max(governance_districts_unreported)", "districts not reported this month"),
            ],
            "short",
        ),
        (
            "Action items of scheduling meetings",
            [
                ("max by (overdue) (governance_action_items_open)", "open, overdue={{overdue}}"),
                ("sum(increase(governance_scheduling_meetings_total[$__rate_interval]))", "meetings recorded"),
            ],
            "short",
        ),
        (
            "Network security work",
            [
                (
                    "sum by (kind) (increase(governance_security_checks_total[$__rate_interval]))",
                    "checks {{kind}}",
                ),
                ("max by (overdue) (governance_findings_open)", "findings open, overdue={{overdue}}"),
                ("max(governance_emergency_plans_stale)", "emergency plans stale"),
            ],
            "short",
        ),
        (
            "Committee (网络安全和信息化委员会)",
            [
                ("sum(increase(governance_committee_meetings_total[$__rate_interval]))", "meetings recorded"),
                (
                    "sum(increase(governance_committee_semesters_flagged_total[$__rate_interval]))",
                    "semesters flagged",
                ),
                ("max(governance_committee_flags_open)", "flags open"),
            ],
            "short",
        ),
    ],
}


def service_dashboard(name: str) -> dict:
    web, svc = f'job="web", service="{name}"', f'service="{name}"'
    lay = Layout()
    lay.row("Processes")
    lay.add(stat("Web replicas up", f"sum(up{{{web}}})"), w=6, h=4)
    lay.add(stat("Workers up", f'sum(up{{job="worker", {svc}}})'), w=6, h=4)
    lay.add(stat("Outbox pending", f"max(outbox_pending_messages{{{svc}}}) or vector(0)", red_above=100), w=6, h=4)
    lay.add(
        stat(
            "Parked (last 24 h)",
            f"sum(increase(bus_messages_dead_lettered_total{{{svc}}}[1d])) or vector(0)",
            red_above=1,
        ),
        w=6,
        h=4,
    )
    lay.row("HTTP by route")
    lay.add(
        timeseries(
            "Requests per second by route",
            [
                (
                    f"sum by (method, route) (rate(http_requests_total{{{web}}}[$__rate_interval]))",
                    "{{method}} {{route}}",
                )
            ],
            "reqps",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Errors by route and status",
            [
                (
                    f'sum by (route, status) (rate(http_requests_total{{{web}, status=~"[45].."}}[$__rate_interval]))',
                    "{{status}} {{route}}",
                )
            ],
            "reqps",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Latency",
            [
                (
                    f"histogram_quantile({q}, sum by (le) "
                    f"(rate(http_request_duration_seconds_bucket{{{web}}}[$__rate_interval])))",
                    f"p{int(q * 100)}",
                )
                for q in (0.5, 0.95, 0.99)
            ],
            "s",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "p99 latency by route",
            [
                (
                    "histogram_quantile(0.99, sum by (route, le) "
                    f"(rate(http_request_duration_seconds_bucket{{{web}}}[$__rate_interval])))",
                    "{{route}}",
                )
            ],
            "s",
        ),
        w=24,
    )
    lay.row("Bus and worker")
    lay.add(
        timeseries(
            "Published by type",
            [(f"sum by (type) (rate(bus_messages_published_total{{{svc}}}[$__rate_interval]))", "{{type}}")],
            "ops",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Consumed by queue and outcome",
            [
                (
                    f"sum by (queue, outcome) (rate(bus_messages_consumed_total{{{svc}}}[$__rate_interval]))",
                    "{{queue}} {{outcome}}",
                )
            ],
            "ops",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Handler p95",
            [
                (
                    "histogram_quantile(0.95, sum by (queue, le) (rate("
                    f"bus_handler_duration_seconds_bucket{{{svc}}}[$__rate_interval])))",
                    "{{queue}}",
                )
            ],
            "s",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Outbox",
            [
                (f"max(outbox_pending_messages{{{svc}}})", "pending rows"),
                (f"max(outbox_oldest_pending_age_seconds{{{svc}}})", "oldest age (s)"),
                (
                    f"sum(increase(bus_publish_failures_total{{{svc}}}[$__rate_interval]))",
                    "publish failures (nacked / timed out)",
                ),
            ],
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Own queues backlog",
            [
                (
                    f'sum by (queue) (rabbitmq_queue_messages{{job="rabbitmq-queues", queue=~"{name}\\\\..+"}})',
                    "{{queue}}",
                )
            ],
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Timer runs",
            [
                (
                    f"sum by (timer, outcome) (increase(worker_timer_runs_total{{{svc}}}[$__rate_interval]))",
                    "{{timer}} {{outcome}}",
                )
            ],
        ),
        w=8,
    )
    if SERVICE_PANELS.get(name):
        lay.row("Workflow")
        for title, queries, unit in SERVICE_PANELS[name]:
            lay.add(timeseries(title, queries, unit), w=12)
    return dashboard(
        f"cio-service-{name}",
        f"CIO service: {name}",
        lay,
        ["service", name],
        variables=[request_id_variable()],
        links=[logs_link(name)],
    )


def cio_workflow() -> dict:
    lay = Layout()
    lay.row("Now")
    lay.add(stat("Active appointments", "max(approvals_active_appointments)"), w=4, h=4)
    lay.add(
        stat("Terms ending within 90 days", "max(approvals_appointments_ending_within_90_days)", red_above=1), w=5, h=4
    )
    lay.add(stat("Open review tasks", "sum(max by (stage) (approvals_open_tasks)) or vector(0)"), w=5, h=4)
    lay.add(stat("Overdue review tasks", "max(approvals_overdue_tasks)", red_above=1), w=5, h=4)
    lay.add(
        stat(
            "Training compliance",
            "1 - max(training_cios_missing_requirement) / max(training_active_cios)",
            "percentunit",
            description="Share of active CIOs who met this year's training requirement.",
        ),
        w=5,
        h=4,
    )
    lay.row("Nominations (推荐)")
    lay.add(
        table(
            "Nominations by status per round",
            "max by (round_id, status) (nominations_nominations)",
            "Counted by the nominations worker; round_id is the round's id.",
        ),
        w=12,
        h=9,
    )
    lay.add(
        timeseries(
            "Nominations by status",
            [("sum by (status) (max by (round_id, status) (nominations_nominations))", "{{status}}")],
        ),
        w=12,
        h=9,
    )
    lay.row("Review (审核)")
    lay.add(
        bar_gauge(
            "Open review tasks per stage (org level)",
            "max by (stage) (approvals_open_tasks)",
            "{{stage}}",
            "Each stage of a policy's chain is a role at an org level.",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Open and overdue tasks per stage (org level)",
            [
                ("max by (stage) (approvals_open_tasks)", "open {{stage}}"),
                ("max by (stage) (approvals_overdue_tasks_by_stage)", "overdue {{stage}}"),
            ],
            description="Overdue: past the due date the policy gives the stage; the overdue timer flags them.",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Time to decision",
            [
                (
                    f"histogram_quantile({q}, sum by (le) (rate(approvals_time_to_decision_seconds_bucket[1d])))",
                    f"p{int(q * 100)}",
                )
                for q in (0.5, 0.9)
            ],
            "s",
            "From a task's assignment to its decision, over the last day.",
        ),
        w=8,
    )
    lay.add(
        timeseries(
            "Decisions", [("sum by (decision) (increase(approvals_decisions_total[$__rate_interval]))", "{{decision}}")]
        ),
        w=12,
    )
    lay.row("Appointments (聘任) and training (培训)")
    lay.add(
        timeseries(
            "Appointments",
            [
                ("max(approvals_active_appointments)", "active"),
                ("max(approvals_appointments_ending_within_90_days)", "ending within 90 days"),
                (
                    'max(approvals_appointments_ending_without_renewal{within_days="30"})',
                    "ending within 30 days, no renewal",
                ),
            ],
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Training compliance",
            [
                ("1 - max(training_cios_missing_requirement) / max(training_active_cios)", "compliant share"),
            ],
            "percentunit",
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Certificates and completions",
            [
                ("sum(increase(training_certificates_issued_total[$__rate_interval]))", "certificates issued"),
                ("sum(increase(training_completions_total[$__rate_interval]))", "completions"),
            ],
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "CIOs missing the requirement",
            [("max(training_cios_missing_requirement)", "missing"), ("max(training_active_cios)", "active CIOs")],
        ),
        w=12,
    )
    return dashboard("cio-workflow", "CIO workflow", lay, ["workflow"])


def rabbitmq() -> dict:
    """The broker, from the rabbitmq_prometheus plugin: health, message rates, per-queue depth and consumers.

    Our own rather than the RabbitMQ team's published "RabbitMQ-Overview": that one needs an import-time
    datasource input and the `rabbitmq_identity_info` joins of a multi-cluster setup; this one uses the
    provisioned datasource and the two jobs deploy/prometheus/render.py defines (rabbitmq, rabbitmq-queues).
    """
    node = 'job="rabbitmq"'
    queues = 'job="rabbitmq-queues", vhost=~"$vhost"'
    lay = Layout()
    lay.row("Broker")
    lay.add(stat("Nodes", f"count(rabbitmq_identity_info{{{node}}})"), w=4, h=4)
    lay.add(stat("Connections", f"sum(rabbitmq_connections{{{node}}})"), w=4, h=4)
    lay.add(stat("Channels", f"sum(rabbitmq_channels{{{node}}})"), w=4, h=4)
    lay.add(stat("Queues", f"sum(rabbitmq_queues{{{node}}})"), w=4, h=4)
    lay.add(stat("Consumers", f"sum(rabbitmq_consumers{{{node}}})"), w=4, h=4)
    lay.add(
        stat(
            "Alarms (memory, disk, file descriptors)",
            f"sum(rabbitmq_alarms_memory_used_watermark{{{node}}}) "
            f"+ sum(rabbitmq_alarms_free_disk_space_watermark{{{node}}}) "
            f"+ sum(rabbitmq_alarms_file_descriptor_limit{{{node}}})",
            red_above=1,
            description="Any alarm blocks every publisher: the services' outboxes back up until it clears.",
        ),
        w=4,
        h=4,
    )
    lay.add(
        timeseries(
            "Memory used / high watermark",
            [
                (f"rabbitmq_process_resident_memory_bytes{{{node}}}", "used {{instance}}"),
                (f"rabbitmq_resident_memory_limit_bytes{{{node}}}", "watermark {{instance}}"),
            ],
            "bytes",
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Disk free / alarm limit",
            [
                (f"rabbitmq_disk_space_available_bytes{{{node}}}", "free {{instance}}"),
                (f"rabbitmq_disk_space_available_limit_bytes{{{node}}}", "limit {{instance}}"),
            ],
            "bytes",
        ),
        w=12,
    )
    lay.row("Messages")
    rate = "[$__rate_interval]"
    lay.add(
        timeseries(
            "Message rates",
            [
                (f"sum(rate(rabbitmq_global_messages_received_total{{{node}}}{rate}))", "received"),
                (f"sum(rate(rabbitmq_global_messages_routed_total{{{node}}}{rate}))", "routed"),
                (f"sum(rate(rabbitmq_global_messages_confirmed_total{{{node}}}{rate}))", "confirmed"),
                (f"sum(rate(rabbitmq_global_messages_delivered_total{{{node}}}{rate}))", "delivered"),
                (f"sum(rate(rabbitmq_global_messages_acknowledged_total{{{node}}}{rate}))", "acknowledged"),
            ],
            "ops",
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Redelivered, unroutable, dead-lettered",
            [
                (f"sum(rate(rabbitmq_global_messages_redelivered_total{{{node}}}{rate}))", "redelivered"),
                (
                    f"sum(rate(rabbitmq_global_messages_unroutable_returned_total{{{node}}}{rate}))"
                    f" + sum(rate(rabbitmq_global_messages_unroutable_dropped_total{{{node}}}{rate}))",
                    "unroutable",
                ),
                (
                    f"sum(rate(rabbitmq_global_messages_dead_lettered_rejected_total{{{node}}}{rate}))",
                    "dead-lettered (rejected: retry or parking)",
                ),
            ],
            "ops",
            "Rejected messages go to <queue>.retry and, after the last attempt, to <queue>.parking.",
        ),
        w=12,
    )
    lay.row("Queues")
    lay.add(
        timeseries(
            "Ready messages per queue",
            [(f"sum by (queue) (rabbitmq_queue_messages_ready{{{queues}}})", "{{queue}}")],
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Unacknowledged messages per queue",
            [(f"sum by (queue) (rabbitmq_queue_messages_unacked{{{queues}}})", "{{queue}}")],
        ),
        w=12,
    )
    lay.add(
        table(
            "Queues: messages and consumers",
            f"sum by (vhost, queue) (rabbitmq_queue_messages{{{queues}}})",
            "Every queue's depth; a consumer queue without consumers shows in the next panel.",
        ),
        w=12,
    )
    lay.add(
        bar_gauge(
            "Consumers per consumer queue",
            f'sum by (queue) (rabbitmq_queue_consumers{{{queues}, queue!~".+\\\\.(retry|parking)"}})',
            "{{queue}}",
            "A worker that stopped consuming drops its queue to 0 here (alert ConsumerBacklogGrowing follows).",
        ),
        w=12,
    )
    variable = {
        "name": "vhost",
        "label": "Virtual host",
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": 'label_values(rabbitmq_queue_messages{job="rabbitmq-queues"}, vhost)', "refId": "vhost"},
        "definition": 'label_values(rabbitmq_queue_messages{job="rabbitmq-queues"}, vhost)',
        "refresh": 2,
        "multi": True,
        "includeAll": True,
        "current": {},
        "sort": 1,
    }
    return dashboard("cio-rabbitmq", "RabbitMQ", lay, ["rabbitmq"], [variable])


def dashboards() -> dict[str, dict]:
    """{file name: dashboard} for every dashboard, services taken from the catalogue (deploy/service_catalog.py)."""
    out = {
        "platform-overview.json": platform_overview(),
        "cio-workflow.json": cio_workflow(),
        "rabbitmq.json": rabbitmq(),
        "logs.json": logs(),
    }
    for service in load_services():
        if service.exists:
            out[f"service-{service.name}.json"] = service_dashboard(service.name)
    return out


def render(board: dict) -> str:
    return json.dumps(board, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed JSON is stale")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    wanted = {name: render(board) for name, board in dashboards().items()}
    existing = {p.name for p in args.out.glob("*.json")}
    if args.check:
        stale = sorted(
            n
            for n, text in wanted.items()
            if not (args.out / n).is_file() or (args.out / n).read_text(encoding="utf-8") != text
        )
        stale += sorted(existing - set(wanted))
        for name in stale:
            print(f"stale: {name}")
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name in existing - set(wanted):
        (args.out / name).unlink()
    for name, text in wanted.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
