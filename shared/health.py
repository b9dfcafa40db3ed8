"""Readiness probes that reuse the process's connections instead of opening new ones each time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pika
from sqlalchemy import Engine

from shared.db import ping

log = logging.getLogger(__name__)

Check = Callable[[], None]


def database_check(engine: Engine) -> Check:
    return lambda: ping(engine)


class BrokerProbe:
    """Keeps one idle AMQP connection per process and checks it is still open when asked."""

    def __init__(self, amqp_url: str) -> None:
        self.amqp_url = amqp_url
        self._connection: pika.BlockingConnection | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            if self._connection is not None and self._connection.is_open:
                try:
                    self._connection.process_data_events(time_limit=0)
                    return
                except (pika.exceptions.AMQPError, OSError):
                    self._connection = None
            params = pika.URLParameters(self.amqp_url)
            params.heartbeat = 0  # nobody pumps this connection between probes
            params.connection_attempts = 1
            params.socket_timeout = 3
            params.client_properties = {"connection_name": "readiness-probe"}
            self._connection = pika.BlockingConnection(params)


def run_checks(checks: dict[str, Check]) -> dict[str, str]:
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            log.warning("readiness check failed", extra={"check": name, "error": str(exc)})
            results[name] = "unavailable"
    return results
