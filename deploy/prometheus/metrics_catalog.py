"""Which metric names exist: the ones our processes define, plus those the exporters provide.

Read by deploy/grafana/generate.py's checks and tests/ops/test_ops_*.py so that no alert or dashboard
query silently names a metric nobody exposes. Our own names are read from the source with `ast`
(shared/metrics.py and services/*/*/adapters/metrics.py), so a renamed metric breaks the tests, not
a dashboard in production. Exporter metrics are listed by hand below, with where they come from.
"""

from __future__ import annotations

import ast
import re
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
_KINDS = {"Counter", "Gauge", "Histogram", "Summary"}

# Exporter metrics the alerts and dashboards use (names as the exporters publish them).
EXPORTER_METRICS = frozenset(
    {
        # Prometheus itself, for every target.
        "up",
        "scrape_duration_seconds",
        # RabbitMQ's rabbitmq_prometheus plugin; per queue on /metrics/per-object (job rabbitmq-queues).
        "rabbitmq_queue_messages",
        "rabbitmq_queue_messages_ready",
        "rabbitmq_queue_messages_unacked",
        "rabbitmq_queue_consumers",
        "rabbitmq_queues",
        "rabbitmq_connections",
        "rabbitmq_channels",
        "rabbitmq_global_messages_received_total",
        "rabbitmq_global_messages_delivered_total",
        "rabbitmq_global_messages_confirmed_total",
        "rabbitmq_global_messages_unroutable_returned_total",
        # ... and for the RabbitMQ dashboard, on the aggregated /metrics (job rabbitmq).
        "rabbitmq_identity_info",
        "rabbitmq_consumers",
        "rabbitmq_alarms_memory_used_watermark",
        "rabbitmq_alarms_free_disk_space_watermark",
        "rabbitmq_alarms_file_descriptor_limit",
        "rabbitmq_process_resident_memory_bytes",
        "rabbitmq_resident_memory_limit_bytes",
        "rabbitmq_disk_space_available_bytes",
        "rabbitmq_disk_space_available_limit_bytes",
        "rabbitmq_global_messages_routed_total",
        "rabbitmq_global_messages_acknowledged_total",
        "rabbitmq_global_messages_redelivered_total",
        "rabbitmq_global_messages_unroutable_dropped_total",
        "rabbitmq_global_messages_dead_lettered_rejected_total",
        # nginx-prometheus-exporter (stub_status of the gateway).
        "nginx_up",
        "nginx_connections_active",
        "nginx_http_requests_total",
        # Alertmanager's own metrics (job alertmanager).
        "alertmanager_notifications_failed_total",
        "alertmanager_notifications_total",
        # postgres_exporter.
        "pg_up",
        "pg_stat_database_numbackends",
        "pg_stat_database_xact_commit",
        "pg_stat_database_xact_rollback",
        "pg_database_size_bytes",
    }
)

# Words of PromQL that look like metric names: functions, aggregations, keywords.
_WORDS = """
    abs absent absent_over_time avg avg_over_time bottomk by ceil changes clamp clamp_max clamp_min count
    count_over_time count_values day_of_month day_of_week days_in_month delta deriv exp floor group
    group_left group_right histogram_quantile holt_winters hour idelta ignoring increase irate label_join
    label_replace last_over_time ln log10 log2 max max_over_time min min_over_time minute month offset on
    predict_linear present_over_time quantile quantile_over_time rate resets round scalar sgn sort sort_desc
    sqrt stddev stddev_over_time stdvar stdvar_over_time sum sum_over_time time timestamp topk vector
    without year and or unless bool inf nan
"""
PROMQL_WORDS = frozenset(_WORDS.split())


def defined_metrics(root: Path = REPO_ROOT) -> dict[str, str]:
    """{exposed name: kind} for every metric our code defines, with the _bucket/_sum/_count series."""
    files = [root / "shared" / "metrics.py", *sorted((root / "services").glob("*/*/adapters/metrics.py"))]
    found: dict[str, str] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                continue
            kind = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if kind not in _KINDS or not isinstance(node.args[0].value, str):
                continue
            name = node.args[0].value
            if kind == "Counter" and not name.endswith("_total"):
                name += "_total"  # prometheus_client exposes counters with the suffix
            found[name] = kind
            if kind in ("Histogram", "Summary"):
                for suffix in ("_bucket", "_sum", "_count"):
                    found[name + suffix] = kind
    return found


def known_metrics(root: Path = REPO_ROOT) -> set[str]:
    """Every metric name an expression may use, including recording rules of deploy/prometheus/rules."""
    names = set(defined_metrics(root)) | EXPORTER_METRICS
    for rules in sorted((root / "deploy" / "prometheus" / "rules").glob("*.yml")):
        for group in yaml.safe_load(rules.read_text(encoding="utf-8"))["groups"]:
            names |= {rule["record"] for rule in group["rules"] if "record" in rule}
    return names


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_LABEL_LISTS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_DURATION = re.compile(r"\b\d+(\.\d+)?(ms|s|m|h|d|w|y)?\b")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (Grafana $variables are ignored)."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"\$\{?[A-Za-z_]\w*\}?", "", text)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _LABEL_LISTS.sub("", text)
    text = _DURATION.sub("", text)
    return {word for word in _IDENT.findall(text) if word.lower() not in PROMQL_WORDS}


def grafana_to_promql(expr: str) -> str:
    """A Grafana query made plain PromQL: built-in interval variables and template variables substituted."""
    text = re.sub(r"\$__(rate_interval|interval|range)\b", "5m", expr)
    return re.sub(r"\$\{?([A-Za-z_]\w*)\}?", "x", text)


def promtool_check_exprs(exprs: Iterable[str]) -> str | None:
    """Parse the expressions with `promtool check rules` (as recording rules); None if all are valid PromQL."""
    rules = [{"record": f"check:expr_{i}", "expr": grafana_to_promql(e)} for i, e in enumerate(exprs)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "exprs.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "exprs", "rules": rules}]}), encoding="utf-8")
        result = subprocess.run(
            ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False
        )
    return None if result.returncode == 0 else result.stdout + result.stderr
