"""Helpers the benchmark scripts share: child processes, ports, databases, the gateway copy and wrk.

Each benchmark starts everything it needs on its own ports (18080 gateway, 181xx services) and
its own databases, and tears it all down in `finally`; nothing here touches the local run's
ports (8080, 8101-8105, 9101-9105).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PYTHON = sys.executable
VENV_BIN = Path(PYTHON).parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn" / "gunicorn.conf.py"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
LOCAL_RUN_PORTS = {8080, *range(8101, 8106), *range(9101, 9106)}


class BenchError(RuntimeError):
    """Something the benchmark needs is missing or did not come up; the message says what."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def emit(result: Mapping[str, Any]) -> None:
    """The one JSON line on stdout."""
    print(json.dumps(result, ensure_ascii=False, separators=(",", ":")), flush=True)


def require_tool(name: str, hint: str, fallbacks: Sequence[str] = ()) -> str:
    found = shutil.which(name) or next((p for p in fallbacks if Path(p).exists()), None)
    if found is None:
        raise BenchError(f"`{name}` is needed but was not found on PATH. {hint}")
    return found


def gunicorn_bin() -> str:
    path = VENV_BIN / "gunicorn"
    if not path.exists():
        raise BenchError(f"gunicorn not found next to {PYTHON}; run with the project venv (.venv/bin/python).")
    return str(path)


# -- ports and processes --------------------------------------------------------------------------
def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def ensure_ports_free(*ports: int) -> None:
    clash = sorted(p for p in ports if p in LOCAL_RUN_PORTS)
    if clash:
        raise BenchError(f"ports {clash} belong to the local run (`make run`); pick others")
    busy = [p for p in ports if port_open(p)]
    if busy:
        raise BenchError(f"ports {busy} are already in use (a benchmark left running?); free them first")


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    log_file: TextIO

    def tail(self, lines: int = 30) -> str:
        self.log_file.flush()
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Processes:
    """Children started in their own process group, stopped (TERM, then KILL) on exit."""

    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path = ROOT) -> Child:
        log_path = self.log_dir / f"{name}.log"
        log_file = log_path.open("w")
        log(f"starting {name}: {' '.join(argv)}  (log: {log_path})")
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        child = Child(name, proc, log_path, log_file)
        self.children.append(child)
        return child

    def stop_all(self) -> None:
        for child in reversed(self.children):
            if child.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in reversed(self.children):
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{child.name} ignored SIGTERM; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait(timeout=5)
            child.log_file.close()
        self.children.clear()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def wait_port(child: Child, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            raise BenchError(f"{child.name} exited with {child.proc.returncode} before listening:\n{child.tail()}")
        if port_open(port):
            return
        time.sleep(0.1)
    raise BenchError(f"{child.name} did not listen on port {port} within {timeout:.0f}s:\n{child.tail()}")


def http_request(
    url: str,
    *,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}))  # noqa: S310 - our own URLs
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_http(url: str, timeout: float = 30.0, expect: int = 200) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            status, _ = http_request(url, timeout=2)
            if status == expect:
                return
            last = status
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise BenchError(f"{url} did not answer {expect} within {timeout:.0f}s (last: {last})")


def start_gunicorn(procs: Processes, name: str, app: str, port: int, env: Mapping[str, str], prom_dir: Path) -> Child:
    """The project's gunicorn config, unchanged; only the bind address and metrics dir are ours."""
    prom_dir.mkdir(parents=True, exist_ok=True)
    child_env = {**env, "WEB_BIND": f"127.0.0.1:{port}", "PROMETHEUS_MULTIPROC_DIR": str(prom_dir)}
    child = procs.start(name, [gunicorn_bin(), "-c", str(GUNICORN_CONF), app], env=child_env)
    wait_port(child, port)
    return child


def bench_tempdir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    # nginx workers may run as another user when started by root: they must reach the runtime dir.
    path.chmod(0o755)
    return path


# -- PostgreSQL -----------------------------------------------------------------------------------
def postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception as exc:
        log(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
        return False


def _admin_exec(*statements: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def create_database(name: str) -> str:
    """Drop a leftover copy, create it empty; returns its SQLAlchemy URL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"unsafe database name {name!r}")
    drop_database(name)
    _admin_exec(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_database(name: str) -> None:
    _admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def storage(database_url: str) -> dict[str, Any]:
    """What the records cost on disk: the database's size and, per table with rows, its live rows and bytes with
    indexes and TOAST (after VACUUM ANALYZE, so the counts are exact). deploy/CAPACITY.md sizes a year from it."""
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("VACUUM ANALYZE")
        rows = conn.execute(
            "SELECT relname, n_live_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables ORDER BY 3 DESC"
        ).fetchall()
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    assert size is not None
    return {
        "database_bytes": int(size[0]),
        "tables": {name: {"rows": int(n), "bytes": int(b)} for name, n, b in rows if n},
    }


# -- the gateway copy -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ExtraRoute:
    """A location added to the bench copy of the gateway, proxied to an upstream of ours."""

    location: str  # e.g. "= /bench/hello" or "/oidc/"
    upstream: str
    address: str
    strip_to: str = ""  # proxy_pass URI part: "/" strips a prefix location


@dataclass
class Gateway:
    conf: Path
    runtime: Path
    changes: list[str]


def render_gateway(
    runtime: Path,
    port: int,
    upstream_ports: Mapping[int, int],
    extra_routes: Sequence[ExtraRoute] = (),
) -> Gateway:
    """`deploy/nginx/render.py local --port <port>`, then, in the bench copy only:

    - upstream ports rewritten (render.py takes them from the declarations' web ports and has no
      option to change them);
    - every `limit_req zone=...` line removed: the per-address limits (50 r/s, 30 r/min on the
      token endpoint) would turn a load test into a test of the limiter;
    - extra locations for the benchmark's own upstreams.
    """
    rendered = runtime / "nginx.rendered.conf"
    subprocess.run(
        [
            PYTHON,
            str(ROOT / "deploy" / "nginx" / "render.py"),
            "local",
            "--out",
            str(rendered),
            "--runtime-dir",
            str(runtime),
            "--port",
            str(port),
        ],
        check=True,
        cwd=ROOT,
        stdout=sys.stderr,
    )
    text = rendered.read_text()
    changes: list[str] = []
    for old, new in upstream_ports.items():
        pattern = f"server 127.0.0.1:{old};"
        if pattern not in text:
            raise BenchError(f"rendered gateway has no `{pattern}` to point at {new}; did render.py change?")
        text = text.replace(pattern, f"server 127.0.0.1:{new};")
        changes.append(f"upstream 127.0.0.1:{old} -> 127.0.0.1:{new}")
    kept = [line for line in text.splitlines() if not re.match(r"\s*limit_req\s+zone=", line)]
    removed = text.count("\n") + 1 - len(kept)
    if removed:
        changes.append(f"removed {removed} limit_req lines")
    text = "\n".join(kept) + "\n"
    if extra_routes:
        upstreams = "".join(
            f"    upstream {r.upstream} {{\n        server {r.address};\n        keepalive 32;\n    }}\n\n"
            for r in extra_routes
        )
        locations = "".join(
            f"        location {r.location} {{\n"
            f'            set $service "{r.upstream}";\n'
            f"            proxy_pass http://{r.upstream}{r.strip_to};\n"
            "        }\n"
            for r in extra_routes
        )
        marker_server, marker_catch_all = "    server {\n", "        location / {\n"
        if marker_server not in text or marker_catch_all not in text:
            raise BenchError("rendered gateway layout changed: cannot add the benchmark's locations")
        text = text.replace(marker_server, upstreams + marker_server, 1)
        text = text.replace(marker_catch_all, locations + marker_catch_all, 1)
        changes.append("added " + ", ".join(f"location {r.location} -> {r.address}" for r in extra_routes))
    conf = runtime / "nginx.conf"
    conf.write_text(text)
    return Gateway(conf, runtime, changes)


def start_gateway(procs: Processes, gateway: Gateway, port: int) -> Child:
    nginx = require_tool("nginx", "Install it: `apt-get install nginx-light`.", ["/usr/sbin/nginx"])
    base = [nginx, "-p", str(gateway.runtime), "-c", str(gateway.conf), "-e", str(gateway.runtime / "error.log")]
    check = subprocess.run([*base, "-t"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise BenchError(f"nginx rejects the bench gateway config:\n{check.stderr}")
    child = procs.start("gateway", base)
    wait_port(child, port)
    wait_http(f"http://127.0.0.1:{port}/gateway/health")
    return child


# -- wrk ------------------------------------------------------------------------------------------
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", value)
    if not match:
        raise BenchError(f"cannot read wrk latency {value!r}")
    return round(float(match.group(1)) * _UNIT_MS[match.group(2)], 3)


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/s, the latency distribution (needs --latency), request count and errors."""
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M)
    if rps is None:
        raise BenchError(f"wrk printed no Requests/sec:\n{output}")
    result: dict[str, Any] = {"rps": round(float(rps.group(1)), 1)}
    for pct in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", output, re.M)
        if match is None:
            raise BenchError(f"wrk printed no {pct}% latency (was --latency given?):\n{output}")
        result[f"p{pct}_ms"] = _ms(match.group(1))
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    result["requests"] = int(total.group(1)) if total else None
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = sum(int(x) for x in errors.groups()) if errors else 0
    return result


@dataclass(frozen=True)
class WrkSettings:
    threads: int = 2
    connections: int = 32
    duration_s: int = 10
    warmup_s: int = 2


def run_wrk(
    url: str,
    settings: WrkSettings,
    *,
    headers: Mapping[str, str] | None = None,
    script: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    wrk = require_tool("wrk", "Install it: `apt-get install wrk`.")
    argv = [wrk, f"-t{settings.threads}", f"-c{settings.connections}", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    if script is not None:
        argv += ["-s", str(script)]
    child_env = {**os.environ, **(env or {})}
    if settings.warmup_s > 0:
        subprocess.run(
            [*argv, f"-d{settings.warmup_s}s", url], env=child_env, capture_output=True, check=False, timeout=120
        )
    log(f"wrk {settings.duration_s}s, {settings.connections} connections: {url}")
    done = subprocess.run(
        [*argv, f"-d{settings.duration_s}s", url],
        env=child_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=settings.duration_s + 120,
    )
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = parse_wrk(done.stdout)
    log(f"  -> {result}")
    if result["non_2xx"]:
        log(f"  WARNING: {result['non_2xx']} responses were not 2xx/3xx: the figure is not clean")
    return result
