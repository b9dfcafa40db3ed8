"""Whose word we take for the client's address: the gateway's `X-Real-IP`, and only from the gateway.

Audit trails and per-client limits need the real client. Behind nginx every request comes from the gateway,
which puts the client's address (itself taken from `X-Forwarded-For` only when its own peer is a configured
proxy) in `X-Real-IP`. Anyone else who sends that header is lying about who they are, so it counts only when
the connecting peer is one of `TRUSTED_PROXIES` (comma-separated addresses or networks; loopback by default,
which is where the gateway runs locally).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass

from shared.config import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_TRUSTED_PROXIES = ("127.0.0.1/32", "::1/128")


def parse_networks(values: Iterable[str], where: str = "TRUSTED_PROXIES") -> tuple[Network, ...]:
    networks = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ConfigError(f"{where}: {value!r} is not an address or network") from exc
    return tuple(networks)


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[Network, ...]

    @classmethod
    def from_env(cls) -> TrustedProxies:
        raw = os.environ.get("TRUSTED_PROXIES")
        return cls(parse_networks(raw.split(",") if raw is not None else DEFAULT_TRUSTED_PROXIES))

    def trusts(self, peer: str | None) -> bool:
        if not peer:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client_address(self, peer: str | None, real_ip: str | None) -> str | None:
        """The client's address: the proxy's `X-Real-IP` when the peer is a trusted proxy, else the peer."""
        if real_ip and self.trusts(peer):
            try:
                return str(ipaddress.ip_address(real_ip.strip()))
            except ValueError:
                return peer
        return peer
