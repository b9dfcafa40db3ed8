"""The demo accounts (a platform-wide `admin` among them) never reach anything labelled production."""

from __future__ import annotations

import pytest
from identity.entrypoints import cli


def test_seed_demo_refuses_under_app_env_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    # Nothing listens there: the refusal comes before any connection.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://cio@127.0.0.1:9/cio_identity")
    monkeypatch.setenv("SIGNING_KEY_SECRET", "x" * 32)
    monkeypatch.delenv("SSO_PROVIDERS_FILE", raising=False)
    assert cli.main(["seed-demo"]) == 2
    captured = capsys.readouterr()
    assert "production" in captured.err and "admin" not in captured.out
