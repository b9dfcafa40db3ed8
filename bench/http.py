"""HTTP benchmark: identity's /api/me and /api/orgs/4108 through the gateway vs a bare Flask hello.

Starts, on its own ports and database, and stops again:
  - a fresh identity database (PostgreSQL `cio_bench_identity` if a server is reachable, else the
    embedded PostgreSQL of `make run` in a temp dir), migrated and seeded with the demo accounts;
  - identity's web under gunicorn with deploy/gunicorn/gunicorn.conf.py on 127.0.0.1:18101;
  - bench/hello_app.py under the same gunicorn config on 127.0.0.1:18199;
  - the gateway rendered by `deploy/nginx/render.py local --port 18080`, in a copy pointed at 18101,
    without its limit_req lines, and with /bench/hello routed to the hello app.
Then signs in as the demo `admin` (password grant) and runs wrk against each endpoint.

Prints one JSON line on stdout; progress goes to stderr.

  .venv/bin/python -m bench.http [--duration 10] [--connections 32] [--threads 2] [--db auto|postgres|embedded]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from bench.benchlib import (
    PYTHON,
    ROOT,
    BenchError,
    ExtraRoute,
    Processes,
    WrkSettings,
    bench_tempdir,
    create_database,
    drop_database,
    emit,
    ensure_ports_free,
    http_request,
    log,
    postgres_reachable,
    render_gateway,
    require_tool,
    run_wrk,
    start_gateway,
    start_gunicorn,
    wait_http,
)
from shared.embedded_db import EmbeddedPostgres

GATEWAY_PORT = 18080
IDENTITY_PORT = 18101
HELLO_PORT = 18199
LOCAL_IDENTITY_PORT = 8101  # identity's declared web port (Ports), what render.py writes
DB_NAME = "cio_bench_identity"
ORG_CODE = "4108"


def identity_env(tmp: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "SERVICE_NAME": "identity",
        "APP_ENV": "development",
        "IDENTITY_DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{GATEWAY_PORT}",
        "SIGNING_KEY_SECRET": secrets.token_urlsafe(32),
        "DEMO_PASSWORD": secrets.token_urlsafe(12),
    }


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "-m", "identity.entrypoints.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"identity cli {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def password_token(username: str, password: str) -> str:
    body = urllib.parse.urlencode({"grant_type": "password", "username": username, "password": password}).encode()
    status, raw = http_request(
        f"http://127.0.0.1:{GATEWAY_PORT}/api/auth/token",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 200:
        raise BenchError(f"password grant for {username} answered {status}: {raw[:500]!r}")
    token = json.loads(raw).get("access_token")
    if not token:
        raise BenchError(f"password grant answered without an access_token: {raw[:500]!r}")
    return str(token)


def check_ok(url: str, headers: dict[str, str] | None = None) -> None:
    status, raw = http_request(url, headers=headers)
    if status != 200:
        raise BenchError(f"{url} answered {status} before the benchmark: {raw[:500]!r}")


def ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    return round(a["rps"] / b["rps"], 3) if b["rps"] else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured wrk before each run")
    parser.add_argument("--db", choices=("auto", "postgres", "embedded"), default="auto")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, gateway config)")
    args = parser.parse_args()
    wrk = WrkSettings(args.threads, args.connections, args.duration, args.warmup)

    require_tool("wrk", "Install it: `apt-get install wrk`.")
    require_tool("nginx", "Install it: `apt-get install nginx-light`.", ["/usr/sbin/nginx"])
    ensure_ports_free(GATEWAY_PORT, IDENTITY_PORT, HELLO_PORT)
    use_pg = args.db == "postgres" or (args.db == "auto" and postgres_reachable())
    tmp = bench_tempdir("cio-bench-http-")
    created_db = False
    embedded: EmbeddedPostgres | None = None
    procs = Processes(tmp)
    try:
        if use_pg:
            database_url = create_database(DB_NAME)
            created_db = True
            db_label = f"postgresql (database {DB_NAME}, created and dropped)"
        else:
            embedded = EmbeddedPostgres(tmp / "postgres").start()
            database_url = embedded.ensure_database("cio_identity")
            db_label = "embedded PostgreSQL (temp dir, the make run default)"
        log(f"identity database: {db_label}")
        env = identity_env(tmp, database_url)
        cli(env, "migrate")
        cli(env, "seed-demo")

        start_gunicorn(
            procs, "identity-web", "identity.entrypoints.web:create_app()", IDENTITY_PORT, env, tmp / "prom-identity"
        )
        start_gunicorn(procs, "hello-web", "bench.hello_app:app", HELLO_PORT, dict(os.environ), tmp / "prom-hello")
        wait_http(f"http://127.0.0.1:{IDENTITY_PORT}/health/live")
        gateway = render_gateway(
            tmp / "nginx",
            GATEWAY_PORT,
            {LOCAL_IDENTITY_PORT: IDENTITY_PORT},
            [ExtraRoute("= /bench/hello", "bench_hello", f"127.0.0.1:{HELLO_PORT}")],
        )
        start_gateway(procs, gateway, GATEWAY_PORT)

        token = password_token("admin", env["DEMO_PASSWORD"])
        auth = {"Authorization": f"Bearer {token}"}
        gw = f"http://127.0.0.1:{GATEWAY_PORT}"
        urls = {
            "hello": f"http://127.0.0.1:{HELLO_PORT}/bench/hello",
            "hello_via_gateway": f"{gw}/bench/hello",
            "me_via_gateway": f"{gw}/api/me",
            "org_via_gateway": f"{gw}/api/orgs/{ORG_CODE}",
            "me_direct": f"http://127.0.0.1:{IDENTITY_PORT}/api/me",
        }
        for name, url in urls.items():
            check_ok(url, auth if "hello" not in name else None)

        figures: dict[str, dict[str, Any]] = {}
        for name, url in urls.items():
            figures[name] = run_wrk(url, wrk, headers=auth if "hello" not in name else None)

        result: dict[str, Any] = {
            "bench": "http",
            "db": db_label,
            "duration_s": args.duration,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "cpus": os.cpu_count(),
            "gunicorn": {
                "config": "deploy/gunicorn/gunicorn.conf.py",
                "workers": int(os.environ.get("WEB_CONCURRENCY", "2")),
                "threads": int(os.environ.get("WEB_THREADS", "4")),
                "worker_class": os.environ.get("WEB_WORKER_CLASS", "gthread"),
            },
            "rate_limit": "disabled for the benchmark",
            "gateway_changes": gateway.changes,
            **figures,
            "ratio_me_to_hello": ratio(figures["me_via_gateway"], figures["hello"]),
            "ratio_org_to_hello": ratio(figures["org_via_gateway"], figures["hello"]),
            "ratio_me_to_hello_via_gateway": ratio(figures["me_via_gateway"], figures["hello_via_gateway"]),
            "ratio_org_to_hello_via_gateway": ratio(figures["org_via_gateway"], figures["hello_via_gateway"]),
        }
        clean = all(f["non_2xx"] == 0 and f["socket_errors"] == 0 for f in figures.values())
        result["clean"] = clean
        emit(result)
        return 0 if clean else 1
    except BenchError as exc:
        log(f"ERROR: {exc}")
        return 2
    finally:
        procs.stop_all()
        if embedded is not None:
            embedded.stop()
        if created_db:
            try:
                drop_database(DB_NAME)
            except Exception as exc:
                log(f"could not drop {DB_NAME}: {exc}")
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
