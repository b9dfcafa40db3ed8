"""`make run`'s operations: every process's lines land in rotated files under var/log/, and Alertmanager joins the
process list when Debian's package is installed and its settings are in the environment."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from scripts import run_local
from tests.ops.test_ops_tools import require

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_each_process_writes_its_own_log_file(tmp_path: Path) -> None:
    files = run_local.LogFiles(tmp_path, max_bytes=1_000_000, backups=2)
    files.write('12:00:01 identity-web.1   | {"level": "INFO", "service": "identity", "request_id": "r-1"}\n')
    files.write("12:00:02 approvals-worker.1 | started\n")
    files.write("12:00:03 system  | identity-web.1 started (pid=42)\n")
    files.write("a line without honcho's prefix\n")
    files.close()
    assert (tmp_path / "identity-web.log").read_text() == (
        '{"level": "INFO", "service": "identity", "request_id": "r-1"}\n'
    )
    assert (tmp_path / "approvals-worker.log").read_text() == "started\n"
    # honcho's own lines (processes starting and stopping) and anything unprefixed: kept whole, in honcho.log.
    assert (tmp_path / "honcho.log").read_text() == (
        "12:00:03 system  | identity-web.1 started (pid=42)\na line without honcho's prefix\n"
    )


def test_log_files_rotate_by_size_and_keep_a_bounded_history(tmp_path: Path) -> None:
    files = run_local.LogFiles(tmp_path, max_bytes=200, backups=2)
    for i in range(40):
        files.write(f"12:00:00 training-web.1 | line {i:03d} {'x' * 20}\n")
    files.close()
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == ["training-web.log", "training-web.log.1", "training-web.log.2"]
    assert all(p.stat().st_size <= 200 for p in tmp_path.iterdir())
    assert "line 039" in (tmp_path / "training-web.log").read_text()


def test_make_run_tees_every_process_into_var_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real supervisor (honcho) with two short processes: the terminal and the files get the same lines.
    honcho stops every process once one ends, so each waits until both have written their line."""
    monkeypatch.setattr(run_local, "LOG_DIR", tmp_path / "log")
    procfile = tmp_path / "Procfile"
    wrote = tmp_path / "wrote"
    wrote.mkdir()
    procfile.write_text(
        "".join(
            f"{me}: echo {line} && touch {wrote / me} && until [ -e {wrote / other} ]; do sleep 0.02; done\n"
            for me, other, line in (("first", "second", "one-from-first"), ("second", "first", "two-from-second"))
        )
    )
    assert run_local.supervise(procfile, sys.executable) == 0
    assert (tmp_path / "log" / "first.log").read_text() == "one-from-first\n"
    assert (tmp_path / "log" / "second.log").read_text() == "two-from-second\n"


ALERT_ENV = {
    "ALERT_SMTP_SMARTHOST": "127.0.0.1:25",
    "ALERT_SMTP_FROM": "cio-alerts@localhost",
    "ALERT_SMTP_REQUIRE_TLS": "false",
    "ALERT_EMAIL_ONCALL": "oncall@localhost",
    "WECOM_CORP_ID": "ww-dev",
    "WECOM_AGENT_ID": "1000002",
    "WECOM_API_SECRET": "dev-secret",
    "WECOM_TO_PARTY_ONCALL": "2",
}


def test_alertmanager_runs_locally_with_the_rendered_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require(run_local.ALERTMANAGER)
    monkeypatch.setattr(run_local, "RUN_DIR", tmp_path)
    (tmp_path / "client-secret").write_text("s")
    for key, value in ALERT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ALERT_WEBHOOK_CLIENT_SECRET_FILE", str(tmp_path / "client-secret"))
    line = run_local.alertmanager_line(sys.executable)
    assert line is not None and line.startswith("alertmanager: ")
    assert f"--config.file={tmp_path / 'alertmanager' / 'alertmanager.yml'}" in line
    assert "--web.listen-address=127.0.0.1:9093" in line  # where render.py local points Prometheus
    config = yaml.safe_load((tmp_path / "alertmanager" / "alertmanager.yml").read_text())
    (webhook,) = next(r for r in config["receivers"] if r["name"] == "platform-inbox")["webhook_configs"]
    assert webhook["url"] == "http://127.0.0.1:8105/api/alerts/alertmanager"  # notifications' local web port
    assert webhook["http_config"]["oauth2"]["token_url"] == "http://127.0.0.1:8101/api/auth/token"


def test_without_its_settings_make_run_says_so_and_runs_without_alertmanager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    require(run_local.ALERTMANAGER)
    monkeypatch.setattr(run_local, "RUN_DIR", tmp_path)
    for key in (*ALERT_ENV, "ALERT_WEBHOOK_CLIENT_SECRET_FILE"):
        monkeypatch.delenv(key, raising=False)
    assert run_local.alertmanager_line(sys.executable) is None
    assert "Alertmanager not started" in capsys.readouterr().err
