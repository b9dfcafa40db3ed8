"""The Alertmanager config (deploy/alertmanager/render.py): amtool accepts what it renders, and
`amtool config routes test` shows each kind of alert reaching the people it should, for every rule the
platform has."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.alertmanager import render
from tests.ops.test_ops_tools import require

REPO_ROOT = Path(__file__).resolve().parents[2]


def deployment_env(tmp_path: Path) -> dict[str, str]:
    """What an operator puts in .env (secrets as files where Alertmanager can read them from one)."""
    (tmp_path / "smtp-password").write_text("relay-password\n", encoding="utf-8")
    (tmp_path / "client-secret").write_text("a-long-random-secret\n", encoding="utf-8")
    return {
        "ALERT_SMTP_SMARTHOST": "smtp.example.org:587",
        "ALERT_SMTP_FROM": "cio-alerts@example.org",
        "ALERT_SMTP_USERNAME": "cio-alerts",
        "ALERT_SMTP_PASSWORD_FILE": str(tmp_path / "smtp-password"),
        "ALERT_EMAIL_ONCALL": "oncall@example.org, duty@example.org",
        "ALERT_EMAIL_OPS": "ops@example.org",
        "ALERT_EMAIL_WORKFLOW": "cio-office@example.org",
        "WECOM_CORP_ID": "ww0123456789abcdef",
        "WECOM_AGENT_ID": "1000002",
        "WECOM_API_SECRET": "wecom-app-secret",
        "WECOM_TO_PARTY_ONCALL": "2",
        "WECOM_TO_PARTY_WORKFLOW": "3",
        "ALERT_WEBHOOK_CLIENT_SECRET_FILE": str(tmp_path / "client-secret"),
    }


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "alertmanager.yml"
    path.write_text(render.render("compose", deployment_env(tmp_path)), encoding="utf-8")
    return path


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require("amtool"), *args], capture_output=True, text=True, timeout=60, check=False)


def receivers_of(config: Path, **labels: str) -> set[str]:
    """Where Alertmanager sends an alert with these labels, as `amtool config routes test` resolves it."""
    result = amtool("config", "routes", "test", f"--config.file={config}", *(f"{k}={v}" for k, v in labels.items()))
    assert result.returncode == 0, result.stderr
    return set(result.stdout.strip().split(","))


@pytest.mark.parametrize("target", render.TARGETS)
def test_amtool_accepts_the_rendered_config(target: str, tmp_path: Path) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(render.render(target, deployment_env(tmp_path)), encoding="utf-8")
    result = amtool("check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 inhibit rules" in result.stdout and "4 receivers" in result.stdout


def test_a_page_reaches_the_on_call_by_mail_and_wecom_and_the_platform_inbox(config_file: Path) -> None:
    assert receivers_of(config_file, alertname="TargetDown", severity="page", service="approvals") == {
        "platform-inbox",
        "oncall",
    }
    oncall = next(r for r in yaml.safe_load(config_file.read_text())["receivers"] if r["name"] == "oncall")
    assert oncall["email_configs"][0]["to"] == "oncall@example.org, duty@example.org"
    assert oncall["wechat_configs"][0]["to_party"] == "2"
    assert all(c["send_resolved"] for c in oncall["email_configs"] + oncall["wechat_configs"])


def test_a_workflow_ticket_goes_to_the_cio_office_and_another_service_s_to_the_operators(config_file: Path) -> None:
    for service in ("nominations", "approvals", "training", "notifications"):
        labels = {"alertname": "ReviewTasksOverdue", "severity": "ticket", "service": service}
        assert receivers_of(config_file, **labels) == {"platform-inbox", "workflow-office"}
    labels = {"alertname": "SsoSignInsMostlyFail", "severity": "ticket", "service": "identity"}
    assert receivers_of(config_file, **labels) == {"platform-inbox", "ops-mail"}


def test_a_warning_goes_to_the_operators_mailbox(config_file: Path) -> None:
    labels = {"alertname": "HighLatencyP99", "severity": "warning", "service": "training"}
    assert receivers_of(config_file, **labels) == {"platform-inbox", "ops-mail"}


def test_an_alert_without_a_known_severity_still_reaches_the_operators(config_file: Path) -> None:
    assert receivers_of(config_file, alertname="Watchdog") == {"ops-mail"}


def test_every_alert_rule_of_the_platform_reaches_a_person(config_file: Path) -> None:
    """Each rule's own labels (plus a service) route to a receiver that mails someone, not only the inbox."""
    people = {"oncall", "workflow-office", "ops-mail"}
    for path in sorted((REPO_ROOT / "deploy" / "prometheus" / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                assert rule["labels"]["severity"] in ("page", "warning", "ticket"), rule["alert"]
                found = receivers_of(config_file, alertname=rule["alert"], service="approvals", **rule["labels"])
                assert found & people and "platform-inbox" in found, (rule["alert"], found)


def test_a_down_target_inhibits_its_own_service_s_symptoms_only() -> None:
    (down, page) = render.inhibit_rules()
    assert down["source_matchers"] == ['alertname="TargetDown"', 'service=~".+"']
    assert down["equal"] == ["service"] and down["target_matchers"] == ['alertname!="TargetDown"']
    assert page["target_matchers"] == ['severity="warning"'] and page["equal"] == ["service"]


def test_alerts_are_grouped_per_alert_and_service() -> None:
    tree = render.routes()
    assert tree["group_by"] == ["alertname", "service"]
    assert tree["routes"][0] == {
        "receiver": "platform-inbox",
        "matchers": ['severity=~"page|warning|ticket"'],
        "continue": True,
    }


def test_secrets_stay_in_files_where_alertmanager_reads_them_from_one(config_file: Path) -> None:
    text = config_file.read_text(encoding="utf-8")
    assert "relay-password" not in text and "a-long-random-secret" not in text
    config = yaml.safe_load(text)
    assert config["global"]["smtp_auth_password_file"].endswith("smtp-password")
    inbox = next(r for r in config["receivers"] if r["name"] == "platform-inbox")
    oauth2 = inbox["webhook_configs"][0]["http_config"]["oauth2"]
    assert oauth2["client_secret_file"].endswith("client-secret") and oauth2["client_id"] == "alertmanager"
    assert oauth2["token_url"] == "http://identity-web:8000/api/auth/token"
    assert inbox["webhook_configs"][0]["url"] == "http://notifications-web:8000/api/alerts/alertmanager"


def test_rendering_without_the_required_settings_names_each_one(tmp_path: Path) -> None:
    env = deployment_env(tmp_path)
    del env["WECOM_API_SECRET"], env["ALERT_EMAIL_ONCALL"]
    with pytest.raises(render.MissingSettings, match="ALERT_EMAIL_ONCALL, WECOM_API_SECRET"):
        render.build("compose", env)
    with pytest.raises(render.MissingSettings, match="ALERT_SMTP_SMARTHOST"):
        render.build("local", {})


def test_compose_renders_the_config_before_alertmanager_starts_and_prometheus_sends_to_it() -> None:
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    init, manager = services["alertmanager-init"], services["alertmanager"]
    assert init["command"][:3] == ["python", "deploy/alertmanager/render.py", "compose"]
    assert init["restart"] == "no"
    assert manager["depends_on"]["alertmanager-init"]["condition"] == "service_completed_successfully"
    assert "alertmanager-config:/etc/alertmanager:ro" in manager["volumes"]
    # The files the rendered config names are the secrets compose mounts into Alertmanager.
    env = init["environment"]
    assert env["ALERT_SMTP_PASSWORD_FILE"] == "/run/secrets/alert-smtp-password"
    assert env["ALERT_WEBHOOK_CLIENT_SECRET_FILE"] == "/run/secrets/alertmanager-client-secret"
    assert set(manager["secrets"]) == {"alert-smtp-password", "alertmanager-client-secret"}
    prometheus = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    (targets,) = [c["targets"] for a in prometheus["alerting"]["alertmanagers"] for c in a["static_configs"]]
    assert targets == ["alertmanager:9093"]
