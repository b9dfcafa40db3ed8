"""`make run`: the whole platform as local processes, no Docker.

Migrates every service's database, seeds the demo tree and accounts, renders the nginx gateway
config, and supervises each service's web and worker process plus nginx with honcho.
Databases: each service gets its own database `cio_<service>` (created if missing) on the PostgreSQL
server DATABASE_URL names or, without it, on the embedded PostgreSQL this script starts under var/postgres
(and stops when it ends).
Logs: every process's lines go to the terminal and to var/log/<process>.log, rotated (LOG_FILE_MAX_BYTES, 10 MB;
LOG_FILE_BACKUPS, 20 old files kept each).
Alerts: with Debian's prometheus-alertmanager installed and the ALERT_* / WECOM_* settings in .env
(deploy/alertmanager/render.py), Alertmanager runs too, on 127.0.0.1:9093, where the local Prometheus
(deploy/prometheus/render.py local) sends its alerts.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pika
import psycopg

from deploy.service_catalog import Service, load_services
from shared.embedded_db import EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[1]

RUN_DIR = ROOT / ".run"
ENV_FILE = ROOT / ".env"
LOG_DIR = ROOT / "var" / "log"
ALERTMANAGER = "prometheus-alertmanager"  # Debian's name for the binary


def load_env_file() -> None:
    """Read .env (KEY=VALUE lines); create it with fresh development secrets on the first run."""
    if not ENV_FILE.exists():
        ENV_FILE.write_text(
            "# Local development settings, created by `make run`. Not for production.\n"
            f"SIGNING_KEY_SECRET={secrets.token_urlsafe(32)}\n"
        )
        ENV_FILE.chmod(0o600)
    for line in ENV_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key.strip(), value.strip())


def check_broker(url: str) -> None:
    try:
        params = pika.URLParameters(url)
        params.connection_attempts = 1
        pika.BlockingConnection(params).close()
    except Exception as exc:
        sys.exit(
            f"RabbitMQ is not reachable at {url} ({exc}). Start it (e.g. `rabbitmq-server -detached`) or set AMQP_URL."
        )


def check_pdf_fonts() -> None:
    """The printable 推荐表 (nominations /form.pdf) needs a CJK font and HarfBuzz's subsetter; say so up front."""
    import ctypes.util

    fc_list = shutil.which("fc-list")
    families = ""
    if fc_list:
        families = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    missing = [] if "Noto Sans CJK" in families else ["fonts-noto-cjk"]
    if not ctypes.util.find_library("harfbuzz-subset"):
        missing.append("libharfbuzz-subset0")  # without it WeasyPrint subsets fonts ~40x slower
    if missing:
        print(
            f"warning: the printable form (/api/nominations/{{id}}/form.pdf) needs {' and '.join(missing)}: "
            f"`sudo apt-get install {' '.join(missing)}`",
            file=sys.stderr,
        )


def per_service_database(base_url: str, service: str) -> str:
    """Same server, database `cio_<service>`, created if missing: services never share a database."""
    parts = urllib.parse.urlsplit(base_url)
    name = f"cio_{service}"
    admin = urllib.parse.urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    scheme = "postgresql+psycopg" if parts.scheme in ("postgres", "postgresql") else parts.scheme
    return urllib.parse.urlunsplit(parts._replace(scheme=scheme, path="/" + name))


def database_urls(services: list[Service], embedded: EmbeddedPostgres | None) -> dict[str, str]:
    """`<SERVICE>_DATABASE_URL` for each service: its own database on the server or the embedded one."""
    base = os.environ.get("DATABASE_URL")
    urls = {}
    for s in services:
        if embedded is not None:
            url = embedded.ensure_database(f"cio_{s.name}")
        else:
            assert base is not None
            url = per_service_database(base, s.name)
        urls[f"{s.name.upper()}_DATABASE_URL"] = url
    return urls


def service_env(service: Service, urls: dict[str, str], identity_port: int | None = None) -> dict[str, str]:
    key = f"{service.name.upper()}_DATABASE_URL"
    env = {"SERVICE_NAME": service.name, key: urls[key]}
    if service.name != "identity" and identity_port is not None:
        # Keys straight from identity, not through the gateway and its per-address rate limit (a 429 there
        # would make every request of the service fail).
        env["JWKS_URL"] = f"http://127.0.0.1:{identity_port}/api/auth/.well-known/jwks.json"
    return env


def alertmanager_line(python: str) -> str | None:
    """The Procfile line of Alertmanager, when it is installed and its settings render; else None, saying why."""
    binary = shutil.which(ALERTMANAGER)
    if binary is None:
        return None
    config = RUN_DIR / "alertmanager" / "alertmanager.yml"
    render = [python, "deploy/alertmanager/render.py", "local", "--out", str(config)]
    result = subprocess.run(render, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print(f"warning: Alertmanager not started: {result.stderr.strip()}", file=sys.stderr)
        return None
    data = ROOT / "var" / "alertmanager"
    return (
        f"alertmanager: {binary} --config.file={config} --storage.path={data} "
        "--web.listen-address=127.0.0.1:9093 --cluster.listen-address="
    )


class LogFiles:
    """Each process's lines (honcho's `12:00:00 identity-web.1 | ...`) appended to var/log/<process>.log, rotated
    by size, so a long `make run` keeps its recent history without filling the disk."""

    LINE = re.compile(r"^\S+ (?P<name>[\w-]+)\.\d+\s+\| (?P<text>.*)$", re.DOTALL)

    def __init__(self, directory: Path, max_bytes: int, backups: int) -> None:
        self.directory, self.max_bytes, self.backups = directory, max_bytes, backups
        directory.mkdir(parents=True, exist_ok=True)
        self.handlers: dict[str, logging.handlers.RotatingFileHandler] = {}

    def write(self, line: str) -> None:
        found = self.LINE.match(line)
        name, text = (found["name"], found["text"]) if found else ("honcho", line)
        handler = self.handlers.get(name)
        if handler is None:
            handler = logging.handlers.RotatingFileHandler(
                self.directory / f"{name}.log", maxBytes=self.max_bytes, backupCount=self.backups, encoding="utf-8"
            )
            handler.setFormatter(logging.Formatter("%(message)s"))
            self.handlers[name] = handler
        handler.emit(logging.makeLogRecord({"msg": text.rstrip("\n"), "levelno": logging.INFO}))

    def close(self) -> None:
        for handler in self.handlers.values():
            handler.close()


def procfile(services: list[Service], urls: dict[str, str], gateway_conf: Path, python: str) -> str:
    gunicorn = str(Path(python).with_name("gunicorn"))
    identity_port = next((s.web_port for s in services if s.name == "identity"), None)
    lines = []
    for s in services:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in service_env(s, urls, identity_port).items())
        lines.append(
            f"{s.name}-web: env {exports} WEB_BIND=127.0.0.1:{s.web_port} "
            f"PROMETHEUS_MULTIPROC_DIR={RUN_DIR / 'prom' / s.name} "
            f"{gunicorn} -c deploy/gunicorn/gunicorn.conf.py '{s.name}.entrypoints.web:create_app()'"
        )
        lines.append(
            f"{s.name}-worker: env {exports} WORKER_METRICS_PORT={s.worker_port} "
            f"{python} -m {s.name}.entrypoints.worker"
        )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    runtime = gateway_conf.parent
    lines.append(f"gateway: {nginx} -p {runtime} -c {gateway_conf} -e {runtime / 'error.log'}")
    return "\n".join(lines) + "\n"


def supervise(procfile_path: Path, python: str) -> int:
    """Run honcho until it ends. Honcho runs in a process group of its own, so a signal reaches it once, from
    here: Ctrl-C (SIGINT) and SIGTERM are passed on, and this process waits for it before the database stops."""
    honcho = str(Path(python).with_name("honcho"))
    child = subprocess.Popen(
        [honcho, "-f", str(procfile_path), "-d", str(ROOT), "start"],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda sig, _frame: child.send_signal(sig))
    files = LogFiles(
        LOG_DIR,
        int(os.environ.get("LOG_FILE_MAX_BYTES", str(10 * 1024 * 1024))),
        int(os.environ.get("LOG_FILE_BACKUPS", "20")),
    )
    assert child.stdout is not None
    try:
        for line in child.stdout:  # until honcho and every process it started have ended
            sys.stdout.write(line)
            sys.stdout.flush()
            files.write(line)
    finally:
        files.close()
    return child.wait()


def main() -> None:
    os.chdir(ROOT)
    load_env_file()
    port = int(os.environ.get("GATEWAY_PORT", "8080"))
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    amqp = os.environ.setdefault("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    check_broker(amqp)
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        sys.exit("nginx is needed for the gateway: `sudo apt-get install nginx-light` (or your system's package).")
    check_pdf_fonts()
    services = [s for s in load_services() if s.exists]
    python = sys.executable
    embedded = None
    if not os.environ.get("DATABASE_URL"):
        embedded = EmbeddedPostgres(ROOT / "var" / "postgres").start()
        print(f"Database: embedded PostgreSQL in var/postgres (socket {embedded.socket_dir})", flush=True)
    try:
        urls = database_urls(services, embedded)
        for s in services:
            env = {**os.environ, **service_env(s, urls)}
            subprocess.run([python, "-m", f"{s.name}.entrypoints.cli", "migrate"], check=True, env=env)
        identity_env = {**os.environ, **service_env(next(s for s in services if s.name == "identity"), urls)}
        subprocess.run([python, "-m", "identity.entrypoints.cli", "seed-demo"], check=True, env=identity_env)

        runtime = RUN_DIR / "nginx"
        runtime.mkdir(parents=True, exist_ok=True)
        conf = runtime / "nginx.conf"
        subprocess.run(
            [
                python,
                "deploy/nginx/render.py",
                "local",
                "--out",
                str(conf),
                "--runtime-dir",
                str(runtime),
                "--port",
                str(port),
            ],
            check=True,
        )
        for s in services:
            (RUN_DIR / "prom" / s.name).mkdir(parents=True, exist_ok=True)
        proc = RUN_DIR / "Procfile"
        alerting = alertmanager_line(python)
        proc.write_text(procfile(services, urls, conf, python) + (alerting + "\n" if alerting else ""))
        print(f"\nPortal: http://127.0.0.1:{port}/")
        print(f"Gateway: http://127.0.0.1:{port}   (OpenAPI: http://127.0.0.1:{port}/openapi/identity/docs)")
        print(
            "Try:  curl -s -d grant_type=password -d username=admin -d password=<password above> "
            f"http://127.0.0.1:{port}/api/auth/token\n",
            flush=True,
        )
        sys.exit(supervise(proc, python))
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
