"""Long request lines and header fields through the gateway: whatever the length, the answer is the platform's
problem+json (a 414 or 400 from nginx, or the service's own answer), never gunicorn's bare-text 400. gunicorn's
limits (deploy/gunicorn) sit at or above nginx's header buffers (deploy/nginx/render.py HEADER_BUFFER)."""

from __future__ import annotations

import socket
import urllib.parse

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def _raw(stack: Stack, head: str) -> tuple[int, str, bytes]:
    """Send a request as bytes (requests would refuse or rewrite some of these) and read the status, the
    Content-Type and the body."""
    parsed = urllib.parse.urlsplit(stack.gateway)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as sock:
        sock.sendall(head.encode("ascii") + b"Connection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    header, _, body = data.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    content_type = next(
        (line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("content-type:")), ""
    )
    return status, content_type, body


# Around gunicorn's old request-line limit (4094), its largest (8190), nginx's 8k buffer and the old 16k one.
LENGTHS = [4000, 4094, 4100, 6000, 8100, 8180, 8190, 8200, 12000, 16000, 20000]


@pytest.mark.parametrize("length", LENGTHS)
def test_a_long_url_is_answered_in_problem_json(stack: Stack, length: int) -> None:
    path = "/api/rounds?q=" + "a" * length
    status, content_type, body = _raw(stack, f"GET {path} HTTP/1.1\r\nHost: gateway\r\n")
    assert content_type.startswith("application/problem+json"), (status, content_type, body[:200])
    assert status in (401, 414, 400), status  # no token: 401 from the service, or nginx's own refusal


@pytest.mark.parametrize("length", [4000, 8000, 8150, 9000, 16000])
def test_a_long_header_field_is_answered_in_problem_json(stack: Stack, length: int) -> None:
    status, content_type, body = _raw(stack, f"GET /api/rounds HTTP/1.1\r\nHost: gateway\r\nX-Long: {'b' * length}\r\n")
    assert content_type.startswith("application/problem+json"), (status, content_type, body[:200])
    assert status in (401, 400, 431, 494), status


def test_many_header_fields_are_answered_in_problem_json(stack: Stack) -> None:
    """gunicorn's default is 100 fields; nginx bounds them only by its buffers."""
    fields = "".join(f"X-F{i}: v\r\n" for i in range(300))
    status, content_type, body = _raw(stack, f"GET /api/rounds HTTP/1.1\r\nHost: gateway\r\n{fields}")
    assert content_type.startswith("application/problem+json"), (status, content_type, body[:200])
    assert status == 401
