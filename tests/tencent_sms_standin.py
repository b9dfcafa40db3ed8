"""A local stand-in for Tencent Cloud SMS `SendSms`: an HTTP server that checks each request's TC3-HMAC-SHA256
signature the way the real endpoint does (its own implementation of the documented algorithm, not the
adapter's) and answers in the API's shape: `SendStatusSet` with "Ok", or `Error` AuthFailure.*."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.helpers import SHUTDOWN_POLL

_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass
class TencentSmsStandIn:
    port: int
    secret_id: str = "AKIDstandin0123456789"
    secret_key: str = "standin-secret-key-0123456789"
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    send_code: str = "Ok"  # what SendStatusSet says for an accepted request

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def verify(self, headers: dict[str, str], body: bytes) -> str | None:
        """The AuthFailure code for a wrongly signed request, or None when the signature holds."""
        found = _AUTHORIZATION.match(headers.get("authorization", ""))
        if not found:
            return "AuthFailure.InvalidAuthorization"
        if found["id"] != self.secret_id:
            return "AuthFailure.SecretIdNotFound"
        timestamp = int(headers.get("x-tc-timestamp", "0"))
        if abs(time.time() - timestamp) > 300:
            return "AuthFailure.SignatureExpire"
        date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
        if found["date"] != date or found["service"] != "sms":
            return "AuthFailure.SignatureFailure"
        signed = found["signed"].split(";")
        if "host" not in signed or "content-type" not in signed:
            return "AuthFailure.SignatureFailure"
        canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed)
        canonical = "\n".join(["POST", "/", "", canonical_headers, found["signed"], hashlib.sha256(body).hexdigest()])
        to_sign = "\n".join(
            [
                "TC3-HMAC-SHA256",
                str(timestamp),
                f"{date}/sms/tc3_request",
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        key = ("TC3" + self.secret_key).encode()
        for part in (date, "sms", "tc3_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(expected, found["signature"]) else "AuthFailure.SignatureFailure"

    def answer(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        problem = self.verify(headers, body)
        if problem is None and headers.get("x-tc-action") != "SendSms":
            problem = "InvalidAction"
        if problem is not None:
            self.refused.append(problem)
            return {"Response": {"Error": {"Code": problem, "Message": "refused by the stand-in"}, "RequestId": "r"}}
        request = json.loads(body)
        self.received.append({"headers": headers, "body": request})
        statuses = [
            {
                "SerialNo": "2645:0000",
                "PhoneNumber": phone,
                "Fee": 1,
                "SessionContext": "",
                "Code": self.send_code,
                "Message": "send success" if self.send_code == "Ok" else "refused",
                "IsoCode": "CN",
            }
            for phone in request["PhoneNumberSet"]
        ]
        return {"Response": {"SendStatusSet": statuses, "RequestId": "r"}}


@contextmanager
def tencent_sms_standin() -> Iterator[TencentSmsStandIn]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    standin = TencentSmsStandIn(port=port)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            payload = json.dumps(standin.answer(headers, body)).encode()
            self.send_response(200)  # the API answers 200 with an Error object, as the real one does
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL}, daemon=True).start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
