"""Whose word counts for the client's address: the gateway's X-Real-IP only from a trusted proxy."""

from __future__ import annotations

import pytest

from shared.config import ConfigError
from shared.proxies import TrustedProxies, parse_networks

GATEWAY = TrustedProxies(parse_networks(["10.0.0.0/8", "::1"]))


def test_the_gateways_real_ip_is_believed_from_the_gateway() -> None:
    assert GATEWAY.client_address("10.1.2.3", "203.0.113.9") == "203.0.113.9"
    assert GATEWAY.client_address("::1", "2001:db8::7") == "2001:db8::7"


def test_anyone_else_claiming_a_real_ip_is_their_own_address() -> None:
    assert GATEWAY.client_address("192.0.2.50", "203.0.113.9") == "192.0.2.50"
    assert GATEWAY.client_address("192.0.2.50", None) == "192.0.2.50"


def test_a_malformed_real_ip_is_not_copied_into_the_audit_trail() -> None:
    assert GATEWAY.client_address("10.1.2.3", "203.0.113.9\r\nX-Evil: 1") == "10.1.2.3"


def test_trusted_proxies_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    assert TrustedProxies.from_env().trusts("127.0.0.1") and not TrustedProxies.from_env().trusts("10.0.0.1")
    monkeypatch.setenv("TRUSTED_PROXIES", "172.16.0.0/12, 10.0.0.0/8")
    assert TrustedProxies.from_env().trusts("172.18.0.5") and not TrustedProxies.from_env().trusts("127.0.0.1")
    monkeypatch.setenv("TRUSTED_PROXIES", "gateway")
    with pytest.raises(ConfigError, match="gateway"):
        TrustedProxies.from_env()
