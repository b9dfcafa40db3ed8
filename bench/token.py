"""Token benchmark: client_credentials tokens per second, identity vs the npm `oidc-provider`.

Starts, on its own ports and database, and stops again:
  - identity (fresh database as in bench/http.py, migrated) under gunicorn with the project's
    config on 127.0.0.1:18101, with a client registered by
    `identity.entrypoints.cli create-client bench-client Bench --grant platform_admin:/ --secret <random>`;
  - oidc-provider (bench/oidc, version pinned in its package.json) under node on 127.0.0.1:18201,
    issuing ES256 JWT access tokens for client_credentials through resource indicators, with as
    many node cluster workers as gunicorn has workers;
  - the gateway copy (render.py local --port 18080, pointed at 18101, limit_req lines removed) with
    /oidc/ routed to oidc-provider too, so both are measured through the same nginx and directly;
  - the ceiling: bench/hello_app.py (bare Flask, one route, no auth, no database) under the same gunicorn config on
    127.0.0.1:18199, routed at /bench/hello through the same gateway. No route of a Flask app under this server
    answers faster, so `ceiling_hello_to_oidc_provider` is the most `ratio` could be without changing the server or
    the framework, and `ratio_to_ceiling` is how near the token route comes to it.
Both endpoints must answer 200 with an ES256 access_token before anything is timed. wrk POSTs
`grant_type=client_credentials` with HTTP Basic auth (bench/wrk/post_form.lua).

Prints one JSON line on stdout; progress goes to stderr.

  .venv/bin/python -m bench.token [--duration 10] [--connections 32] [--threads 2] [--db auto|postgres|embedded]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
from typing import Any

from bench.benchlib import (
    BENCH,
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
    wait_port,
)
from bench.http import DB_NAME as HTTP_DB_NAME
from bench.http import GATEWAY_PORT, HELLO_PORT, IDENTITY_PORT, LOCAL_IDENTITY_PORT, cli, identity_env
from shared.embedded_db import EmbeddedPostgres

OIDC_PORT = 18201
DB_NAME = "cio_bench_identity_token"
CLIENT_ID = "bench-client"
FORM = "grant_type=client_credentials"
POST_SCRIPT = BENCH / "wrk" / "post_form.lua"
OIDC_DIR = BENCH / "oidc"

assert DB_NAME != HTTP_DB_NAME  # the two benchmarks may run side by side on one server


def oidc_provider_version() -> str:
    package = OIDC_DIR / "node_modules" / "oidc-provider" / "package.json"
    return str(json.loads(package.read_text())["version"])


def ensure_oidc_installed() -> str:
    node = require_tool("node", "Install Node.js 20+ (e.g. `apt-get install nodejs npm`).")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").exists():
        npm = require_tool("npm", "Install npm, then `npm ci --prefix bench/oidc`.")
        log("installing oidc-provider: npm ci --prefix bench/oidc")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(OIDC_DIR)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"`npm ci --prefix bench/oidc` failed:\n{done.stdout}\n{done.stderr}")
    return node


def fetch_token(url: str, basic: str) -> dict[str, Any]:
    status, raw = http_request(
        url,
        data=FORM.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"},
    )
    if status != 200:
        raise BenchError(f"{url} answered {status} to client_credentials: {raw[:500]!r}")
    body = json.loads(raw)
    token = body.get("access_token")
    if not isinstance(token, str):
        raise BenchError(f"{url} answered 200 without an access_token: {raw[:500]!r}")
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    if header.get("alg") != "ES256":
        raise BenchError(f"{url} issued a token signed with {header.get('alg')!r}, not ES256")
    return {"token_bytes": len(token), "alg": header["alg"], "typ": header.get("typ")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured wrk before each run")
    parser.add_argument("--db", choices=("auto", "postgres", "embedded"), default="auto")
    parser.add_argument(
        "--oidc-workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "2")),
        help="node cluster workers for oidc-provider (default: gunicorn's worker count)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, gateway config)")
    args = parser.parse_args()
    wrk = WrkSettings(args.threads, args.connections, args.duration, args.warmup)

    require_tool("wrk", "Install it: `apt-get install wrk`.")
    require_tool("nginx", "Install it: `apt-get install nginx-light`.", ["/usr/sbin/nginx"])
    ensure_ports_free(GATEWAY_PORT, IDENTITY_PORT, OIDC_PORT, HELLO_PORT)
    use_pg = args.db == "postgres" or (args.db == "auto" and postgres_reachable())
    tmp = bench_tempdir("cio-bench-token-")
    created_db = False
    embedded: EmbeddedPostgres | None = None
    procs = Processes(tmp)
    try:
        node = ensure_oidc_installed()
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
        secret = secrets.token_urlsafe(32)
        # `--secret=`: a random secret may begin with "-", which argparse would take for an option.
        cli(env, "create-client", CLIENT_ID, "Bench", "--grant", "platform_admin:/", f"--secret={secret}")
        basic = base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()

        start_gunicorn(
            procs, "identity-web", "identity.entrypoints.web:create_app()", IDENTITY_PORT, env, tmp / "prom-identity"
        )
        start_gunicorn(procs, "hello-web", "bench.hello_app:app", HELLO_PORT, dict(os.environ), tmp / "prom-hello")
        wait_http(f"http://127.0.0.1:{IDENTITY_PORT}/health/live")
        oidc_env = {
            **os.environ,
            "NODE_ENV": "production",
            "OIDC_PORT": str(OIDC_PORT),
            "OIDC_ISSUER": f"http://127.0.0.1:{OIDC_PORT}",
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": secret,
            "OIDC_WORKERS": str(args.oidc_workers),
        }
        oidc = procs.start("oidc-provider", [node, str(OIDC_DIR / "server.mjs")], env=oidc_env, cwd=OIDC_DIR)
        wait_port(oidc, OIDC_PORT)
        gateway = render_gateway(
            tmp / "nginx",
            GATEWAY_PORT,
            {LOCAL_IDENTITY_PORT: IDENTITY_PORT},
            [
                ExtraRoute("/oidc/", "bench_oidc", f"127.0.0.1:{OIDC_PORT}", strip_to="/"),
                ExtraRoute("= /bench/hello", "bench_hello", f"127.0.0.1:{HELLO_PORT}"),
            ],
        )
        start_gateway(procs, gateway, GATEWAY_PORT)

        gw = f"http://127.0.0.1:{GATEWAY_PORT}"
        urls = {
            "identity_via_gateway": f"{gw}/api/auth/token",
            "oidc_provider_via_gateway": f"{gw}/oidc/token",
            "identity_direct": f"http://127.0.0.1:{IDENTITY_PORT}/api/auth/token",
            "oidc_provider_direct": f"http://127.0.0.1:{OIDC_PORT}/token",
        }
        tokens = {name: fetch_token(url, basic) for name, url in urls.items()}
        wait_http(f"{gw}/bench/hello")
        log(f"both answer 200 with an ES256 access token: {tokens}")

        wrk_env = {"WRK_BODY": FORM, "WRK_BASIC": basic}
        figures = {name: run_wrk(url, wrk, script=POST_SCRIPT, env=wrk_env) for name, url in urls.items()}
        figures["hello_via_gateway"] = run_wrk(f"{gw}/bench/hello", wrk)
        identity_tps = figures["identity_via_gateway"]["rps"]
        hello_rps = figures["hello_via_gateway"]["rps"]
        oidc_tps = figures["oidc_provider_via_gateway"]["rps"]
        direct_ratio = figures["identity_direct"]["rps"] / figures["oidc_provider_direct"]["rps"]
        clean = all(f["non_2xx"] == 0 and f["socket_errors"] == 0 for f in figures.values())
        emit(
            {
                "bench": "token",
                "identity_tps": identity_tps,
                "oidc_provider_tps": oidc_tps,
                "ratio": round(identity_tps / oidc_tps, 3) if oidc_tps else 0.0,
                "ratio_direct": round(direct_ratio, 3),
                "ceiling_hello_to_oidc_provider": round(hello_rps / oidc_tps, 3) if oidc_tps else 0.0,
                "ratio_to_ceiling": round(identity_tps / hello_rps, 3) if hello_rps else 0.0,
                "measured": "headline figures through the same nginx gateway copy; *_direct without nginx",
                **figures,
                "tokens": {
                    "identity": tokens["identity_direct"],
                    "oidc_provider": tokens["oidc_provider_direct"],
                },
                "oidc_provider_version": oidc_provider_version(),
                "oidc_provider_workers": args.oidc_workers,
                "node": subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip(),
                "gunicorn": {
                    "config": "deploy/gunicorn/gunicorn.conf.py",
                    "workers": int(os.environ.get("WEB_CONCURRENCY", "2")),
                    "threads": int(os.environ.get("WEB_THREADS", "4")),
                    "worker_class": os.environ.get("WEB_WORKER_CLASS", "gthread"),
                },
                "db": db_label,
                "duration_s": args.duration,
                "connections": args.connections,
                "cpus": os.cpu_count(),
                "rate_limit": "disabled for the benchmark",
                "gateway_changes": gateway.changes,
                "clean": clean,
            }
        )
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
