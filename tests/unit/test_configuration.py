"""Settings come from one declaration per variable (pydantic-settings): the defaults are the documented ones, a
wrong value stops the process naming the variable and never echoing the value, and the README's table is the one the
declarations generate."""

from __future__ import annotations

import pytest
from training.config import TrainingEnvironment

from scripts import configuration_table
from shared.config import ConfigError, load_settings, read_environment

DATABASE = "postgresql+psycopg://postgres@127.0.0.1/cio_test"


def test_the_defaults_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_ENV", "BUS_PREFETCH", "BUS_QUORUM_QUEUES", "PUBLIC_BASE_URL", "JWT_ISSUER", "JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings("approvals", database_url=DATABASE)
    assert settings.env == "development" and settings.bus.prefetch == 50 and settings.bus.quorum_queues is False
    assert settings.auth.issuer == "http://127.0.0.1:8080/api/auth"
    assert settings.auth.jwks_url == "http://127.0.0.1:8080/api/auth/.well-known/jwks.json"
    monkeypatch.setenv("APP_ENV", "production")
    assert load_settings("approvals", database_url=DATABASE).bus.quorum_queues is True


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUS_PREFETCH", "")
    assert load_settings("approvals", database_url=DATABASE).bus.prefetch == 50


def test_a_wrong_value_names_the_variable_and_not_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUS_PREFETCH", "many")
    monkeypatch.setenv("JWT_LEEWAY_SECONDS", "-1")
    with pytest.raises(ConfigError) as raised:
        load_settings("approvals", database_url=DATABASE)
    assert "BUS_PREFETCH" in str(raised.value) and "JWT_LEEWAY_SECONDS" in str(raised.value)
    assert "many" not in str(raised.value)


def test_a_services_own_variable_is_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINING_REQUIREMENT_CHECK_DATE", "13-40")
    with pytest.raises(ConfigError, match=r"TRAINING_REQUIREMENT_CHECK_DATE: .*must be MM-DD"):
        read_environment(TrainingEnvironment)
    monkeypatch.setenv("TRAINING_REQUIREMENT_CHECK_DATE", "02-29")
    assert read_environment(TrainingEnvironment).check_on == (2, 29)


def test_the_readmes_configuration_table_is_generated_from_the_declarations() -> None:
    assert configuration_table.main(["--check"]) == 0
