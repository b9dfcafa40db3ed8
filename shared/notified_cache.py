"""Rows a web process keeps in memory because PostgreSQL tells it when they change.

A record read on every request and changed a few times a year (an org by its code) costs a round trip to the
database each time, and on a busy machine that round trip is most of the request. `NotifiedCache` keeps what it
loaded and LISTENs on a channel that a trigger NOTIFYs with the key of every changed row (PostgreSQL sends a
notification when the writing transaction commits, never for a rollback). Before each read it takes the
notifications already on its socket, without waiting, and drops those keys; an empty key drops everything.

What it promises: a change committed by this process is seen at once (its unit of work calls `forget` after the
commit), one committed by another process as soon as the notification reached this one (the time PostgreSQL
takes to hand it over, as with any replica). While it cannot listen (no connection yet, the database restarted)
it keeps nothing and every read goes to the database, so a notification lost with a connection is never a
stale row. A value loaded while a key was being dropped is not kept (the `generation` check).
"""

from __future__ import annotations

import os
import re
import select
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import psycopg

V = TypeVar("V")

# Reads of the socket per lookup at most: a flood of notifications is taken over the next lookups.
MAX_READS = 16
# After a failed LISTEN connection, try again this much later: reads go to the database meanwhile.
RETRY_SECONDS = 5.0


class NotifiedCache(Generic[V]):
    """Values by key, each dropped when `channel` is notified with its key; at most `max_entries`, the least
    recently used dropped first. `conninfo` is the database's libpq URL (the LISTEN connection is its own, outside
    the pool). Thread-safe; after a fork the child opens its own connection."""

    def __init__(self, conninfo: str, channel: str, *, max_entries: int = 10_000) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", channel):
            raise ValueError(f"unsafe channel name {channel!r}")
        self.conninfo, self.channel, self.max_entries = conninfo, channel, max_entries
        self._lock = threading.Lock()
        self._values: OrderedDict[str, V] = OrderedDict()
        self._generation = 0
        self._connection: psycopg.Connection[Any] | None = None
        self._pid = 0
        self._retry_at = 0.0

    def get(self, key: str, load: Callable[[], V | None]) -> V | None:
        """The value for `key`: kept, or `load()`ed (and kept unless None or a drop came in meanwhile)."""
        with self._lock:
            listening = self._take_notifications()
            if listening and key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            generation = self._generation
        value = load()
        if listening and value is not None:
            with self._lock:
                if self._generation == generation and self._connection is not None:
                    self._values[key] = value
                    if len(self._values) > self.max_entries:
                        self._values.popitem(last=False)
        return value

    def forget(self, key: str) -> None:
        """Drop `key` now (what this process itself just changed), before its notification arrives."""
        with self._lock:
            self._values.pop(key, None)
            self._generation += 1

    # -- the LISTEN connection, under the lock --------------------------------------------------------------
    def _take_notifications(self) -> bool:
        """Apply the notifications waiting on the socket; False while not listening (nothing may be kept)."""
        if self._pid != os.getpid():  # a forked child must not read its parent's socket
            self._connection, self._pid = None, os.getpid()
            self._forget_all()
        if self._connection is None and not self._listen():
            return False
        assert self._connection is not None
        pgconn = self._connection.pgconn
        try:
            # libpq directly, without waiting: psycopg's `notifies(timeout=0)` would not notice a closed socket.
            # A socket still readable after its input was consumed is at its end: `consume_input` then raises.
            for _ in range(MAX_READS):
                if not _readable(pgconn.socket):
                    break
                pgconn.consume_input()
                while (notification := pgconn.notifies()) is not None:
                    if notification.extra:
                        self._values.pop(notification.extra.decode(), None)
                    else:
                        self._values.clear()
                    self._generation += 1
        except psycopg.Error:
            self._drop_connection()
            return False
        return True

    def _listen(self) -> bool:
        if time.monotonic() < self._retry_at:
            return False
        try:
            connection = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
            connection.execute(f"LISTEN {self.channel}")
        except psycopg.Error:
            self._retry_at = time.monotonic() + RETRY_SECONDS
            return False
        self._connection = connection
        self._forget_all()  # what changed before the LISTEN was never announced to us
        return True

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        self._forget_all()
        self._retry_at = time.monotonic() + RETRY_SECONDS
        if connection is not None and not connection.closed:
            connection.close()

    def _forget_all(self) -> None:
        self._values.clear()
        self._generation += 1


def _readable(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
