"""The worker process: outbox relay, consumers and timers in threads, with its own /metrics and health."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from shared.metrics import TIMER_RUNS, render_latest

log = logging.getLogger(__name__)


class Component(Protocol):
    name: str

    def run(self, stop: threading.Event) -> None: ...


class PeriodicTask:
    """Runs `action` every `interval` seconds; a failure is logged and counted, the timer goes on."""

    def __init__(self, name: str, interval: float, action: Callable[[], Any]) -> None:
        self.name = name
        self.interval = interval
        self.action = action

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.action()
                TIMER_RUNS.labels(self.name, "ok").inc()
            except Exception:
                TIMER_RUNS.labels(self.name, "error").inc()
                log.exception("timer failed", extra={"timer": self.name})
            stop.wait(self.interval)


def ready_when(checks: Sequence[Callable[[], None]], components: Sequence[Any]) -> Callable[[], bool]:
    """Ready = every check passes (e.g. the database answers) and every component that talks to the broker
    (relay, consumers: anything with a `connected` event) is connected."""

    def ready() -> bool:
        try:
            for check in checks:
                check()
        except Exception:
            return False
        return all(c.connected.is_set() for c in components if hasattr(c, "connected"))

    return ready


def _handler_class(ready: Callable[[], bool]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                body, content_type = render_latest()
                status = 200
            elif self.path == "/health/live":
                body, content_type, status = b'{"status":"ok"}', "application/json", 200
            elif self.path == "/health/ready":
                ok = ready()
                body = b'{"status":"ok"}' if ok else b'{"status":"unavailable"}'
                content_type, status = "application/json", 200 if ok else 503
            else:
                body, content_type, status = b"not found", "text/plain", 404
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def run_worker(
    components: Sequence[Component],
    *,
    metrics_port: int,
    ready: Callable[[], bool],
    stop: threading.Event | None = None,
) -> None:
    """Start every component in its own thread and serve /metrics; return after SIGTERM or SIGINT."""
    stop = stop or threading.Event()
    server = ThreadingHTTPServer(("0.0.0.0", metrics_port), _handler_class(ready))  # noqa: S104
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    threads = [threading.Thread(target=c.run, args=(stop,), name=c.name, daemon=True) for c in components]
    for thread in threads:
        thread.start()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    log.info("worker started", extra={"components": [c.name for c in components], "port": metrics_port})
    stop.wait()
    log.info("worker stopping")
    for thread in threads:
        thread.join(timeout=10)
    server.shutdown()
