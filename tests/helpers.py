"""Small test helpers: wait with a timeout instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05, message: str = "") -> T:
    """Poll until `predicate()` is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message or predicate}")
        time.sleep(interval)


# serve_forever's poll interval for the tests' stand-in HTTP servers: shutdown() waits up to one interval, and the
# default half second, once per server, was most of `make test-fast`'s teardown time.
SHUTDOWN_POLL = 0.05
