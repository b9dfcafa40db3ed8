"""Outbound HTTP to robots and webhooks, guarded against server-side request forgery (SSRF).

A user chooses where their webhook goes, so the worker must not become their way into the network:
only hosts on the operator's allow-list are reached (the WeCom and DingTalk robot hosts by default),
every address a host resolves to must be a public one (or inside a network the operator explicitly
trusts), and the connection is made to the address that was checked, not to a second DNS answer, so
a rebinding name cannot swap in an internal address after the check. What is sent is fixed: one POST
of a JSON body with our own headers, no credentials, no redirects followed and no proxy.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import certifi
import urllib3

DEFAULT_ALLOWED_HOSTS = ("qyapi.weixin.qq.com", "oapi.dingtalk.com")
CONNECT_SECONDS = 5.0
READ_SECONDS = 10.0
MAX_ANSWER_BYTES = 64 * 1024
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]


class RefusedTarget(ValueError):
    """The address may not be reached from the platform; the message says why without echoing secrets."""


class OutboundFailed(Exception):
    """The target could not be reached or did not answer; the message names no URL (it may carry a key)."""


def resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedTarget(f"the host {host} does not resolve") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: Address) -> bool:
    """A globally routable unicast address: not private, loopback, link-local, multicast, reserved or unspecified."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True)
class Checked:
    """A target that passed the guard: where to connect (the checked address) and what to ask for."""

    scheme: str
    host: str
    port: int
    address: str
    target: str  # path and query, sent as is

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


@dataclass(frozen=True)
class OutboundPolicy:
    """Where robots and webhooks may go: configured hosts, at public addresses or in trusted networks."""

    allowed_hosts: frozenset[str] = frozenset(DEFAULT_ALLOWED_HOSTS)
    trusted_networks: tuple[Network, ...] = ()
    resolver: Resolver = field(default=resolve, compare=False)

    @classmethod
    def from_settings(
        cls, hosts: Iterable[str], networks: Iterable[str], resolver: Resolver = resolve
    ) -> OutboundPolicy:
        return cls(
            allowed_hosts=frozenset(h.strip().lower().rstrip(".") for h in hosts if h.strip()),
            trusted_networks=tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip()),
            resolver=resolver,
        )

    def with_hosts(self, *urls: str) -> OutboundPolicy:
        """The policy with the hosts of operator-configured URLs (the robot base URLs) allowed as well."""
        extra = {(urllib.parse.urlsplit(u).hostname or "").lower() for u in urls}
        return OutboundPolicy(self.allowed_hosts | (extra - {""}), self.trusted_networks, self.resolver)

    def problem_with(self, url: str) -> str | None:
        """Why url may not be used as a webhook, or None; what the preferences API tells the user."""
        try:
            self.check(url)
        except RefusedTarget as exc:
            return str(exc)
        return None

    def check(self, url: str) -> Checked:
        """The URL's parts and one checked address to connect to; RefusedTarget when any rule is broken."""
        if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
            raise RefusedTarget("the URL contains spaces or control characters")
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise RefusedTarget("not a valid URL") from exc
        if parts.scheme not in ("http", "https"):
            raise RefusedTarget("must be an http(s) URL")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise RefusedTarget("must not carry credentials (user:password@)")
        if parts.fragment:
            raise RefusedTarget("must not carry a fragment (#…)")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise RefusedTarget("has no host")
        if host not in self.allowed_hosts:
            raise RefusedTarget(f"the host {host} is not on the allowed list ({', '.join(sorted(self.allowed_hosts))})")
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in self.resolver(host, port)]
        if not addresses:
            raise RefusedTarget(f"the host {host} does not resolve")
        refused = [a for a in addresses if not (is_public(a) or any(a in n for n in self.trusted_networks))]
        if refused:
            raise RefusedTarget(f"the host {host} resolves to an address that may not be reached ({refused[0]})")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return Checked(parts.scheme, host, port, str(addresses[0]), target)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class PinnedPoster:
    """POSTs JSON to a checked target over a connection to the checked address (TLS still verifies the name)."""

    def __init__(self, policy: OutboundPolicy, ca_certs: str | None = None) -> None:
        self.policy = policy
        self.ca_certs = ca_certs or certifi.where()  # another CA bundle only for a private CA (and tests)

    def post_json(self, url: str, payload: dict[str, Any]) -> Answer:
        return self.post(url, json.dumps(payload, ensure_ascii=False).encode())

    def post(self, url: str, body: bytes, headers: Mapping[str, str] | None = None) -> Answer:
        """POST body (JSON) to a checked target. `headers` are a signed API's own (Authorization, X-TC-*):
        they cannot replace Host, Content-Type or User-Agent, which a signature covers as we send them."""
        checked = self.policy.check(url)
        timeout = urllib3.Timeout(connect=CONNECT_SECONDS, read=READ_SECONDS)
        pool: urllib3.HTTPConnectionPool
        if checked.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                checked.address,
                checked.port,
                timeout=timeout,
                retries=False,
                cert_reqs="CERT_REQUIRED",
                ca_certs=self.ca_certs,
                server_hostname=checked.host,
                assert_hostname=checked.host,
            )
        else:
            pool = urllib3.HTTPConnectionPool(checked.address, checked.port, timeout=timeout, retries=False)
        fixed = {
            "Host": checked.host_header,
            "Content-Type": JSON_CONTENT_TYPE,
            "User-Agent": "cio-platform-notifications",
        }
        fixed_names = {name.lower() for name in fixed}
        headers = {**{k: v for k, v in (headers or {}).items() if k.lower() not in fixed_names}, **fixed}
        try:
            with pool:
                response = pool.urlopen(
                    "POST",
                    checked.target,
                    body=body,
                    headers=headers,
                    redirect=False,
                    assert_same_host=False,
                    preload_content=False,
                )
                try:
                    data = response.read(MAX_ANSWER_BYTES)
                finally:
                    response.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            raise OutboundFailed(f"{checked.host} unreachable ({type(exc).__name__})") from exc
        return Answer(response.status, data)
