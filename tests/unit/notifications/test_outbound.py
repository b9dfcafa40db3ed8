"""The webhook guard (SSRF, finding 1 of issue 14): allowed hosts only, public addresses only after DNS
resolution, the connection pinned to the checked address, one fixed POST; and what the logs never hold."""

from __future__ import annotations

import datetime as dt
import json
import logging
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from notifications.adapters.channels import LoggingSmsProvider
from notifications.adapters.outbound import OutboundFailed, OutboundPolicy, PinnedPoster, RefusedTarget, resolve
from notifications.service_layer.delivery import Outgoing, redact

from tests.helpers import SHUTDOWN_POLL


def answering(*addresses: str) -> Any:
    """A resolver that gives fixed answers, as a name under an attacker's control would."""
    return lambda host, port: list(addresses)


ROBOT_HOSTS = ["qyapi.weixin.qq.com", "oapi.dingtalk.com"]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "10.1.2.3",  # private
        "172.16.0.5",
        "192.168.1.1",
        "169.254.169.254",  # link-local: the cloud metadata service
        "100.64.0.1",  # carrier-grade NAT
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "0.0.0.0",  # noqa: S104 - unspecified
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "ff02::1",
    ],
)
def test_allowed_robot_host_resolving_to_an_internal_address_is_refused(address: str) -> None:
    policy = OutboundPolicy.from_settings(ROBOT_HOSTS, [], resolver=answering(address))
    with pytest.raises(RefusedTarget, match="may not be reached"):
        policy.check("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")


def test_one_internal_answer_among_public_ones_refuses_the_host() -> None:
    policy = OutboundPolicy.from_settings(ROBOT_HOSTS, [], resolver=answering("101.91.22.57", "8.8.8.8", "10.0.0.1"))
    assert policy.problem_with("https://oapi.dingtalk.com/robot/send?access_token=t") is not None


def test_localhost_is_refused_by_the_real_resolver_even_when_allowed_by_name() -> None:
    policy = OutboundPolicy.from_settings(["localhost"], [], resolver=resolve)
    problem = policy.problem_with("http://localhost:15672/api/vhosts")
    assert problem is not None and "may not be reached" in problem


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "not on the allowed list"),
        ("http://rabbitmq:15672/api/queues/%2F", "not on the allowed list"),
        ("https://qyapi.weixin.qq.com.evil.example/x", "not on the allowed list"),
        ("https://guest:guest@qyapi.weixin.qq.com/x", "credentials"),
        ("https://qyapi.weixin.qq.com@10.0.0.1/x", "credentials"),
        ("https://qyapi.weixin.qq.com/x#frag", "fragment"),
        ("https://qyapi.weixin.qq.com/x y", "control characters"),
        ("https://qyapi.weixin.qq.com/x\r\nX-Evil: 1", "control characters"),
        ("json://qyapi.weixin.qq.com/x", "http(s)"),
        ("gopher://qyapi.weixin.qq.com/x", "http(s)"),
        ("https://qyapi.weixin.qq.com:99999/x", "not a valid URL"),
    ],
)
def test_webhook_url_outside_the_rules_is_refused_before_any_lookup(url: str, why: str) -> None:
    def no_lookup(host: str, port: int) -> list[str]:
        raise AssertionError("resolved a URL that should have been refused on its face")

    policy = OutboundPolicy.from_settings(ROBOT_HOSTS, [], resolver=no_lookup)
    problem = policy.problem_with(url)
    assert problem is not None and why in problem


def test_public_address_of_an_allowed_host_passes() -> None:
    policy = OutboundPolicy.from_settings(ROBOT_HOSTS, [], resolver=answering("101.91.22.57"))
    checked = policy.check("https://QYAPI.weixin.qq.com./cgi-bin/webhook/send?key=k")
    assert (checked.host, checked.port, checked.address) == ("qyapi.weixin.qq.com", 443, "101.91.22.57")
    assert checked.target == "/cgi-bin/webhook/send?key=k" and checked.host_header == "qyapi.weixin.qq.com"


@pytest.fixture
def receiver() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_DELETE = do_PUT = do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL}, daemon=True).start()
    try:
        yield int(server.server_address[1]), seen
    finally:
        server.shutdown()
        server.server_close()


def test_dns_rebinding_cannot_swap_the_checked_address(receiver: tuple[int, list[dict[str, Any]]]) -> None:
    """The name answers a trusted address when checked and an internal one afterwards: the request still
    goes to the checked address, because the connection is made to it and the name is not looked up again."""
    port, seen = receiver
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) == 1 else ["10.0.0.1"]

    policy = OutboundPolicy.from_settings(["robot.example"], ["127.0.0.0/8"], resolver=rebinding)
    answer = PinnedPoster(policy).post_json(f"http://robot.example:{port}/hook", {"a": 1})
    assert answer.status == 200 and lookups == ["robot.example"]
    assert seen[0]["headers"]["Host"] == f"robot.example:{port}"
    with pytest.raises(RefusedTarget):  # the next send checks again and sees the internal answer
        PinnedPoster(policy).post_json(f"http://robot.example:{port}/hook", {"a": 1})
    assert len(seen) == 1


def test_webhook_is_one_fixed_post_whatever_the_url_says(receiver: tuple[int, list[dict[str, Any]]]) -> None:
    """Apprise read the method, headers and body fields out of the URL; our client sends a POST of our JSON
    with our headers, and the URL's query goes to the allowed host untouched."""
    port, seen = receiver
    policy = OutboundPolicy.from_settings(["127.0.0.1"], ["127.0.0.1/32"])
    url = f"http://127.0.0.1:{port}/hook?method=DELETE&%2BAuthorization=Basic%20Z3Vlc3Q6Z3Vlc3Q%3D&%3Aextra=1"
    PinnedPoster(policy).post_json(url, {"title": "t"})
    (request,) = seen
    assert request["method"] == "POST" and json.loads(request["body"]) == {"title": "t"}
    assert "Authorization" not in request["headers"] and request["headers"]["Content-Type"].startswith(
        "application/json"
    )


def test_robot_keys_are_blanked_in_a_delivery_error() -> None:
    error = "SendError: robot refused: 93000 invalid webhook url, key=abc+/def, see https://x/?key=abc%2B%2Fdef"
    redacted = redact(error, ["abc+/def", ""])
    assert "abc" not in redacted and redacted.count("******") == 2


def test_sms_text_is_never_written_to_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    text = "张三的首席信息官推荐已通过市教育局审核"
    LoggingSmsProvider().send_sms("13800138000", Outgoing("审核结果", text, False, "review_decided"))
    assert caplog.records, "the sink still says that it sent"
    for record in caplog.records:
        assert "审核" not in json.dumps(record.__dict__, default=str, ensure_ascii=False)
        assert "13800138000" not in json.dumps(record.__dict__, default=str)


def _tls_material(tmp_path: Path) -> tuple[str, str, str]:
    """A test CA and a server certificate for robot.example signed by it; returns (ca, cert, key) paths."""
    now = dt.datetime.now(dt.UTC)

    def certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer: Any, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca_cert = certificate("test CA", ca_key, ca_name, ca_key, ca=True)
    server_cert = certificate("robot.example", server_key, ca_name, ca_key, ca=False)
    paths = (tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key")
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(paths[0]), str(paths[1]), str(paths[2])


def test_https_goes_to_the_checked_address_and_still_verifies_the_robot_name(tmp_path: Path) -> None:
    """The connection is pinned to the checked address, yet TLS is checked against the host's name (SNI and
    certificate), so pinning never means trusting whatever answers at that address."""
    ca, cert, key = _tls_material(tmp_path)
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL}, daemon=True).start()
    port = int(server.server_address[1])
    try:
        for_robot = OutboundPolicy.from_settings(["robot.example"], ["127.0.0.1/32"], resolver=answering("127.0.0.1"))
        answer = PinnedPoster(for_robot, ca_certs=ca).post_json(f"https://robot.example:{port}/send", {"a": 1})
        assert answer.status == 200 and seen == [f"robot.example:{port}"]

        # Another allowed name served by the same address does not match the certificate: refused.
        for_other = OutboundPolicy.from_settings(["other.example"], ["127.0.0.1/32"], resolver=answering("127.0.0.1"))
        with pytest.raises(OutboundFailed):
            PinnedPoster(for_other, ca_certs=ca).post_json(f"https://other.example:{port}/send", {"a": 1})
        assert len(seen) == 1
    finally:
        server.shutdown()
        server.server_close()
