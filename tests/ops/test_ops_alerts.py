"""Alert rules in deploy/prometheus/rules/: valid, loaded by the rendered config, unit-tested per alert
with `promtool test rules`, and naming only metrics that some process or exporter exposes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.prometheus import metrics_catalog as catalog
from deploy.prometheus import render
from tests.ops.test_ops_tools import require

REPO_ROOT = Path(__file__).resolve().parents[2]
PROM_DIR = REPO_ROOT / "deploy" / "prometheus"
RULE_FILES = sorted((PROM_DIR / "rules").glob("*.yml"))
TEST_FILES = sorted((PROM_DIR / "tests").glob("*.yml"))


def _rules() -> list[dict]:
    return [
        rule for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]
    ]


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require("promtool"), *args], capture_output=True, text=True, timeout=120, check=False, cwd=PROM_DIR
    )


def test_the_issue_s_alerts_all_exist() -> None:
    alerts = {rule["alert"] for rule in _rules() if "alert" in rule}
    wanted = {
        "HighErrorRatio",
        "HighLatencyP99",
        "MessageDeadLettered",
        "ParkingQueueNotEmpty",
        "OutboxStalled",
        "ConsumerBacklogGrowing",
        "TargetDown",
        "ReviewTasksOverdue",
        "AppointmentsEndingWithoutRenewal",
        "CertificateImportFailed",
    }
    assert wanted <= alerts, wanted - alerts
    for rule in _rules():
        if "alert" in rule:
            assert rule["labels"]["severity"] in {"page", "warning", "ticket"}, rule["alert"]
            assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


def test_promtool_check_rules_passes() -> None:
    result = _promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    result = _promtool("test", "rules", *map(str, TEST_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_unit_tested_firing() -> None:
    tested_rule_files: set[Path] = set()
    firing: set[str] = set()
    for path in TEST_FILES:
        spec = yaml.safe_load(path.read_text())
        tested_rule_files |= {(path.parent / f).resolve() for f in spec["rule_files"]}
        for case in spec["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    firing.add(check["alertname"])
    assert {p.resolve() for p in RULE_FILES} <= tested_rule_files
    alerts = {rule["alert"] for rule in _rules() if "alert" in rule}
    assert alerts <= firing, f"alerts never shown firing in a test: {sorted(alerts - firing)}"


def test_rules_name_only_metrics_that_exist() -> None:
    known = catalog.known_metrics()
    for rule in _rules():
        unknown = catalog.metric_names(rule["expr"]) - known
        assert not unknown, f"{rule.get('alert') or rule.get('record')}: {sorted(unknown)}"


@pytest.mark.parametrize("target", ["compose", "local"])
def test_rendered_configs_load_the_rule_files(target: str) -> None:
    (pattern,) = render.build(target)["rule_files"]
    base = PROM_DIR if target == "compose" else Path("/")
    matched = {p.resolve() for p in base.glob(pattern.lstrip("/"))}
    assert matched == {p.resolve() for p in RULE_FILES}


def test_promtool_check_config_loads_the_rules() -> None:
    result = _promtool("check", "config", str(PROM_DIR / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    for path in RULE_FILES:
        assert f"rules/{path.name}" in result.stdout + result.stderr, "rule file not loaded by prometheus.yml"


def test_backlog_alerts_read_the_per_object_rabbitmq_job() -> None:
    jobs = {job["job_name"]: job for job in render.build("compose")["scrape_configs"]}
    assert jobs["rabbitmq-queues"]["metrics_path"] == "/metrics/per-object"
    for rule in _rules():
        if "rabbitmq_queue" in rule["expr"]:
            assert 'job="rabbitmq-queues"' in rule["expr"], rule.get("alert")


def test_metric_name_extraction_ignores_functions_labels_and_variables() -> None:
    expr = 'sum by (service, le) (rate(a_total{job="web", service=~"$service"}[$__rate_interval])) / on(x) b > 1'
    assert catalog.metric_names(expr) == {"a_total", "b"}
