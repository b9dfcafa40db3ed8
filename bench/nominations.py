"""Nominations benchmark: draft creation + submit throughput through the gateway against the bare hello
baseline, the list endpoint's p50 at 1,000 and 100,000 nominations, and the summary export's peak memory growth
at 50,000 rows.

Through the gateway (its own database `cio_bench_nominations_gw`, ports 18094 gateway, 18112 nominations web,
18192 hello, 18193 JWKS; all started and stopped here):
  - nominations' web under gunicorn with deploy/gunicorn/gunicorn.conf.py, bench/hello_app.py under the same
    config, and the gateway rendered by deploy/nginx/render.py (bench copy: nominations upstream pointed at
    18112, limit_req removed, /bench/hello added); tokens are ES256 JWTs verified against a JWKS the benchmark
    serves, one school_admin token per school (no identity service: the directory projection, the candidates
    and their CIO certificates are seeded into nominations' database as the worker's consumers would);
  - the city reviewer opens a Jiaozuo round through the gateway; then, for every school, the whole draft-to-
    submit path: POST /api/nominations (Idempotency-Key, candidate, form) → PUT /photo → POST /attestation →
    POST /submit, `--concurrency` keep-alive connections (Python http.client threads);
  - the same driver, the same connections, the same number of requests, against GET /bench/hello direct and
    through the gateway: the baseline of the same run.
Then, on its own database (`cio_bench_nominations`, created and dropped):
  - migrates it with the service's Alembic migrations and seeds the directory (city, counties) and two rounds;
  - seeds nominations directly into the database (1,000, measures; then up to 100,000, measures);
  - calls `GET /api/nominations` in process through the Flask app (the whole view, auth and query path, no
    network), as a city reviewer (the whole table in scope) and a county reviewer (a tenth of it);
  - streams the 汇总表 of a 50,000-row round as CSV and as XLSX in a fresh child process and reports its peak
    RSS growth over the RSS after start-up.

  .venv/bin/python -m bench.nominations [--requests 200] [--small 1000] [--big 100000] [--submits 300]
                                        [--concurrency 8] [--keep]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import http.server
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from bench.benchlib import (
    PYTHON,
    ROOT,
    BenchError,
    ExtraRoute,
    Processes,
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
    start_gateway,
    start_gunicorn,
    storage,
    wait_http,
)

DB_NAME = "cio_bench_nominations"
GW_DB_NAME = "cio_bench_nominations_gw"
COUNTIES = 10
CITY = ("city_reviewer", "/4108")
COUNTY = ("county_reviewer", "/4108/410800")
SCHOOL_CODE = f"410800{0:07d}"  # the first seeded school (county 410800): one nomination in each round
SCHOOL = ("school_admin", f"/4108/410800/{SCHOOL_CODE}")

GATEWAY_PORT = 18094
NOMINATIONS_PORT = 18112
HELLO_PORT = 18192
JWKS_PORT = 18193
LOCAL_NOMINATIONS_PORT = 8102  # the declared web port (Ports), what render.py writes
GW_COUNTY = ("410899", "基准区教育局", "/4108/410899")
# A real 2×3 PNG: the service reads an upload's size from its header and refuses what it cannot read.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAFElEQVR4nGM8ISfHwMDAxMDAgKAAFEoBCqHkTQMAAAAASUVORK5CYII="
)
SUBMIT_FORM = {
    "education": "本科",
    "ethnicity": "汉族",
    "teaching_years": 20,
    "administrative_post": "校长",
    "professional_title": "高级教师",
    "postal_address": "焦作市解放区民主路1号",
    "honours": [{"award_name": "市级优秀教师", "awarded_on": "2021-09-10", "granted_by": "焦作市教育局"}],
    "work_achievements": "推进智慧校园建设，建成校园数据中台。" * 20,
    "post_kind": "principal",
    "years_in_it_management": 3,
}


def _service(database_url: str) -> Any:
    from nominations.bootstrap import bootstrap

    from shared.config import load_settings
    from tests.tokens import ISSUER, TestIssuer

    settings = load_settings("nominations", database_url=database_url)
    settings = replace(settings, auth=replace(settings.auth, issuer=ISSUER, jwks_url="-"))
    issuer = TestIssuer()
    return bootstrap(settings, verifier=issuer.verifier()), issuer


def _project(event: Any, uow: Any) -> None:
    """Apply one event as the worker's `nominations.projections` consumer would: through the handler its
    declaration subscribes to that type (identity's orgs and users land in the shared directory)."""
    from nominations.service_layer.projections import PROJECTION_HANDLERS

    PROJECTION_HANDLERS[event.type](event, uow)


def _seed_directory_and_rounds(service: Any) -> list[uuid.UUID]:
    from nominations.domain.model import Round

    from shared.bus.envelope import CloudEvent

    policy = service.catalog.get("jiaozuo-2022")
    now = dt.datetime.now(dt.UTC)
    with service.uow() as uow:
        orgs = [("4108", "焦作市教育局", "city", None, "/4108")] + [
            (f"4108{i:02d}", f"第{i}区教育局", "county", "4108", f"/4108/4108{i:02d}") for i in range(COUNTIES)
        ]
        for code, name, level, parent, path in orgs:
            data = {"code": code, "name": name, "level": level, "parent_code": parent, "path": path}
            _project(CloudEvent(type="identity.org.upserted", source="/cio/identity", data=data), uow)
        ids = []
        for n in range(2):
            round_ = Round.open(
                title=f"bench round {n}",
                policy=policy,
                issuing_org_code="4108",
                issuing_org_path="/4108",
                deadline=now + dt.timedelta(days=30),
                created_by="bench",
                now=now,
            )
            uow.rounds.add(round_)
            ids.append(round_.id)
        uow.commit()
    return ids


def _seed_nominations(service: Any, round_ids: list[uuid.UUID], start: int, stop: int) -> None:
    """Rows straight into the table (COPY-sized batches); the first half of the ids go to round 0."""
    from nominations.adapters.orm import nominations

    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    form = {
        "name": "张三",
        "gender": "男",
        "birth_date": "1980-05-01",
        "education": "本科",
        "administrative_post": "校长",
        "professional_title": "高级教师",
        "mobile": "13800008000",
        "work_achievements": "推进智慧校园建设。" * 50,
    }
    batch = 5000
    for offset in range(start, stop, batch):
        rows = []
        for i in range(offset, min(stop, offset + batch)):
            county = f"4108{i % COUNTIES:02d}"
            code = f"{county}{i:07d}"
            at = base + dt.timedelta(seconds=i)
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "round_id": round_ids[0] if i % 2 == 0 else round_ids[1],
                    "policy_id": "jiaozuo-2022",
                    "school_org_code": code,
                    "school_org_path": f"/4108/{county}/{code}",
                    "school_name": f"第{i}学校",
                    "candidate_user_id": uuid.uuid4(),
                    "candidate": {"display_name": "张三", "phone": "13800008000"},
                    "form": form,
                    "status": "submitted",
                    "revision": 1,
                    "submitted_at": at,
                    "created_by": "bench",
                    "created_at": at,
                    "updated_at": at,
                    "version": 1,
                }
            )
        with service.engine.begin() as conn:
            conn.execute(nominations.insert(), rows)
    with service.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE nominations")


def _p50(
    client: Any, issuer: Any, grant: tuple[str, str], requests: int, query: str = "", expect: int = 20
) -> dict[str, Any]:
    headers = issuer.headers("bench", grant)
    url = f"/api/nominations?limit=20{query}"
    for _ in range(10):
        assert client.get(url, headers=headers).status_code == 200
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200 or len(response.json["items"]) != expect:
            raise BenchError(f"list answered {response.status_code}: {response.data[:300]!r}")
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(len(times) * 0.95)], 2)}


def _list_figures(client: Any, issuer: Any, requests: int, round_ids: list[uuid.UUID]) -> dict[str, Any]:
    """The first page as a city reviewer (everything), a county reviewer (a tenth, and one round of it) and
    the admin of one school (its one nomination: the narrowest scope, one row to find in the whole table)."""
    return {
        "city": _p50(client, issuer, CITY, requests),
        "county": _p50(client, issuer, COUNTY, requests),
        "county_round": _p50(client, issuer, COUNTY, requests, f"&round_id={round_ids[0]}"),
        "school": _p50(client, issuer, SCHOOL, requests, expect=1),
    }


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise BenchError(f"{key} not in /proc/self/status (Linux only)")


def _reset_peak_rss() -> None:
    """Writing 5 to clear_refs resets VmHWM, so the peak measured is the export's, not start-up's."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _export_child(database_url: str, round_id: str, fmt: str) -> None:
    """In a fresh process: stream the summary table, report rows, bytes and peak RSS growth (KiB)."""
    service, issuer = _service(database_url)
    from nominations.entrypoints.web import create_app

    client = create_app(service).test_client()
    headers = issuer.headers("bench", CITY)
    warm = client.get(f"/api/nominations?limit=1&round_id={round_id}", headers=headers)
    assert warm.status_code == 200
    before = _status_kib("VmRSS")
    _reset_peak_rss()
    t0 = time.perf_counter()
    response = client.get(f"/api/rounds/{round_id}/summary?format={fmt}", headers=headers, buffered=False)
    size, lines = 0, 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - t0
    after = _status_kib("VmHWM")
    out = {"status": response.status_code, "bytes": size, "seconds": round(seconds, 2)}
    out["peak_rss_growth_mb"] = round((after - before) / 1024, 1)
    if fmt == "csv":
        out["rows"] = lines - 1
    print(json.dumps(out))


def _export(database_url: str, round_id: uuid.UUID, fmt: str) -> dict[str, Any]:
    done = subprocess.run(
        # as a module, like every benchmark: run as a file, bench/ would lead sys.path and its http.py shadow the stdlib
        [PYTHON, "-m", "bench.nominations", "--export-child", database_url, str(round_id), fmt],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        raise BenchError(f"export child failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# -- draft creation + submit through the gateway ----------------------------------------------------
def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))  # nearest rank
    return round(ordered[index], 1)


def _serve_jwks(jwks: dict[str, Any]) -> http.server.ThreadingHTTPServer:
    """The key set nominations verifies tokens against, as identity would publish it."""
    body = json.dumps(jwks).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            """Quiet: the bench and the test print what matters."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", JWKS_PORT), Handler)
    threading.Thread(target=server.serve_forever, name="bench-jwks", daemon=True).start()
    return server


def _seed_gateway_directory(service: Any, schools: int) -> list[tuple[str, str, uuid.UUID]]:
    """City, one county and `schools` schools, each with one user holding a city-level CIO certificate:
    what the worker's consumers would have projected from identity's and training's events."""
    from shared.bus.envelope import CloudEvent

    county_code, county_name, county_path = GW_COUNTY
    seeded = []
    with service.uow() as uow:
        for code, name, level, parent, path in (
            ("4108", "焦作市教育局", "city", None, "/4108"),
            (county_code, county_name, "county", "4108", county_path),
        ):
            data = {"code": code, "name": name, "level": level, "parent_code": parent, "path": path}
            _project(CloudEvent(type="identity.org.upserted", source="/cio/identity", data=data), uow)
        for i in range(schools):
            code = f"{county_code}{i:04d}"
            path = f"{county_path}/{code}"
            data = {"code": code, "name": f"基准第{i}小学", "level": "school", "parent_code": county_code, "path": path}
            _project(CloudEvent(type="identity.org.upserted", source="/cio/identity", data=data), uow)
            user_id = uuid.uuid4()
            user = {
                "user_id": str(user_id),
                "username": f"bench.{code}",
                "display_name": f"校长{i}",
                "org_code": code,
                "phone": "13800008000",
                "email": f"p{i}@example.cn",
                "gender": "男",
                "birth_date": "1978-05-04",
                "is_active": True,
            }
            _project(CloudEvent(type="identity.user.provisioned", source="/cio/identity", data={"user": user}), uow)
            certificate = {
                "certificate_id": str(uuid.uuid4()),
                "number": f"JZ-CIO-{i:05d}",
                "person_user_id": str(user_id),
                "kind": "cio",
                "level": "city",
                "issuer": "焦作市教育局",
                "issued_on": "2026-01-10",
                "expires_on": None,
            }
            _project(CloudEvent(type="training.certificate.issued", source="/cio/training", data=certificate), uow)
            seeded.append((code, path, user_id))
        uow.commit()
    return seeded


class Driver:
    """`concurrency` threads, each with its own keep-alive connection, running one job per item."""

    def __init__(self, port: int, concurrency: int) -> None:
        self.port, self.concurrency = port, concurrency
        self.local = threading.local()

    def call(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes, float]:
        if not hasattr(self.local, "conn"):
            self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        started = time.perf_counter()
        self.local.conn.request(method, path, body=body, headers=headers or {})
        response = self.local.conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data, time.perf_counter() - started

    def run(self, jobs: Sequence[Any], job: Callable[[Any], Any]) -> tuple[float, list[Any]]:
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="bench-driver") as pool:
            started = time.perf_counter()
            results = list(pool.map(job, jobs))
            return time.perf_counter() - started, results


def _nominate(driver: Driver, issuer: Any, round_id: str, school: tuple[str, str, uuid.UUID]) -> dict[str, float]:
    """One school's draft → photo → attestation → submit; the latency of each step (ms)."""
    code, path, user_id = school
    auth = {"Authorization": f"Bearer {issuer.token(f'admin.{code}', ('school_admin', path))}"}
    steps: dict[str, float] = {}

    def step(name: str, method: str, url: str, expect: int, body: bytes, headers: dict[str, str]) -> str:
        status, answer_headers, data, seconds = driver.call(method, url, body, {**auth, **headers})
        if status != expect:
            raise BenchError(f"{name} for {code}: {status} {data[:300]!r}")
        steps[name] = seconds * 1000
        return answer_headers["etag"]

    create = {"round_id": round_id, "school_org_code": code, "candidate_user_id": str(user_id), "form": SUBMIT_FORM}
    json_type = {"Content-Type": "application/json"}
    status, headers, data, seconds = driver.call(
        "POST",
        "/api/nominations",
        json.dumps(create, ensure_ascii=False).encode(),
        {**auth, **json_type, "Idempotency-Key": f"bench-{round_id}-{code}"},
    )
    if status != 201:
        raise BenchError(f"create for {code}: {status} {data[:300]!r}")
    steps["create"] = seconds * 1000
    nid, etag = json.loads(data)["id"], headers["etag"]
    etag = step(
        "photo", "PUT", f"/api/nominations/{nid}/photo", 200, PNG, {"Content-Type": "image/png", "If-Match": etag}
    )
    signed = json.dumps({"signer_name": "填表人", "confirm": True}, ensure_ascii=False).encode()
    etag = step("attest", "POST", f"/api/nominations/{nid}/attestation", 200, signed, {**json_type, "If-Match": etag})
    step("submit", "POST", f"/api/nominations/{nid}/submit", 200, b"", {"If-Match": etag})
    return steps


def _hello(driver: Driver, requests: int) -> dict[str, Any]:
    def one(_: int) -> float:
        status, _headers, data, seconds = driver.call("GET", "/bench/hello")
        if status != 200:
            raise BenchError(f"hello answered {status}: {data[:200]!r}")
        return seconds * 1000

    driver.run(range(min(200, requests)), one)  # warm-up: connections open, workers loaded
    elapsed, latencies = driver.run(range(requests), one)
    return {"requests": requests, "rps": round(requests / elapsed, 1), "p50_ms": percentile(latencies, 50)}


def gateway_throughput(submits: int, concurrency: int, keep: bool) -> dict[str, Any]:
    """Draft creation + submit through the gateway vs hello (direct and via the gateway), one run."""
    from tests.tokens import ISSUER, TestIssuer

    require_tool("nginx", "Install it: `apt-get install nginx-light`.", ["/usr/sbin/nginx"])
    ensure_ports_free(GATEWAY_PORT, NOMINATIONS_PORT, HELLO_PORT, JWKS_PORT)
    tmp = bench_tempdir("cio-bench-nominations-")
    procs = Processes(tmp)
    issuer = TestIssuer()
    jwks = _serve_jwks(issuer.jwks())
    service = None
    try:
        database_url = create_database(GW_DB_NAME)
        from shared.migrations import service_dir, upgrade

        upgrade(service_dir("nominations"), database_url)
        service, _ = _service(database_url)
        schools = _seed_gateway_directory(service, submits + 1)  # one warm-up school
        env = {
            **os.environ,
            "SERVICE_NAME": "nominations",
            "APP_ENV": "development",
            "NOMINATIONS_DATABASE_URL": database_url,
            "JWT_ISSUER": ISSUER,
            "JWKS_URL": f"http://127.0.0.1:{JWKS_PORT}/jwks.json",
        }
        start_gunicorn(
            procs, "nominations-web", "nominations.entrypoints.web:create_app()", NOMINATIONS_PORT, env, tmp / "prom-n"
        )
        start_gunicorn(procs, "hello-web", "bench.hello_app:app", HELLO_PORT, dict(os.environ), tmp / "prom-hello")
        wait_http(f"http://127.0.0.1:{NOMINATIONS_PORT}/health/live")
        gateway = render_gateway(
            tmp / "nginx",
            GATEWAY_PORT,
            {LOCAL_NOMINATIONS_PORT: NOMINATIONS_PORT},
            [ExtraRoute("= /bench/hello", "bench_hello", f"127.0.0.1:{HELLO_PORT}")],
        )
        start_gateway(procs, gateway, GATEWAY_PORT)

        deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
        body = {"title": "基准推荐批次", "policy_id": "jiaozuo-2022", "issuing_org_code": "4108", "deadline": deadline}
        status, raw = http_request(
            f"http://127.0.0.1:{GATEWAY_PORT}/api/rounds",
            data=json.dumps(body, ensure_ascii=False).encode(),
            headers={**issuer.headers("city", CITY), "Content-Type": "application/json"},
        )
        if status != 201:
            raise BenchError(f"opening the round through the gateway answered {status}: {raw[:300]!r}")
        round_id = json.loads(raw)["id"]

        driver = Driver(GATEWAY_PORT, concurrency)
        driver.run(schools[:1], lambda s: _nominate(driver, issuer, round_id, s))  # warm-up (JWKS fetch, imports)
        log(f"{submits} nominations, draft to submit, {concurrency} connections through the gateway")
        elapsed, steps = driver.run(schools[1:], lambda s: _nominate(driver, issuer, round_id, s))
        requests = 4 * submits
        with service.engine.connect() as conn:
            import sqlalchemy as sa

            submitted = conn.execute(
                sa.text("SELECT count(*) FROM nominations WHERE round_id = :r AND status = 'submitted'"),
                {"r": round_id},
            ).scalar_one()
            events = conn.execute(
                sa.text("SELECT count(*) FROM outbox WHERE type = 'nominations.nomination.submitted'")
            ).scalar_one()
        flow = {
            "nominations": submits,
            "requests": requests,
            "nominations_per_s": round(submits / elapsed, 1),
            "rps": round(requests / elapsed, 1),
            "p50_ms": {
                name: percentile([s[name] for s in steps], 50) for name in ("create", "photo", "attest", "submit")
            },
            "submitted_in_db": submitted,
            "submitted_events_in_outbox": events,
        }
        hello_direct = _hello(Driver(HELLO_PORT, concurrency), requests)
        hello_gateway = _hello(driver, requests)
        return {
            "how": f"Python http.client, {concurrency} keep-alive connections, the same driver for all three",
            "gunicorn": {
                "config": "deploy/gunicorn/gunicorn.conf.py",
                "workers": int(os.environ.get("WEB_CONCURRENCY", "2")),
                "threads": int(os.environ.get("WEB_THREADS", "4")),
                "worker_class": os.environ.get("WEB_WORKER_CLASS", "gthread"),
            },
            "rate_limit": "disabled for the benchmark",
            "gateway_changes": gateway.changes,
            "draft_to_submit_via_gateway": flow,
            "hello": hello_direct,
            "hello_via_gateway": hello_gateway,
            "ratio_rps_to_hello": round(flow["rps"] / hello_direct["rps"], 3),
            "ratio_rps_to_hello_via_gateway": round(flow["rps"] / hello_gateway["rps"], 3),
            "clean": submitted == events == submits + 1,  # with the warm-up school
        }
    finally:
        procs.stop_all()
        jwks.shutdown()
        if service is not None:
            service.engine.dispose()
        try:
            drop_database(GW_DB_NAME)
        except Exception as exc:
            log(f"could not drop {GW_DB_NAME}: {exc}")
        if keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="list requests per measurement")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--submits", type=int, default=300, help="nominations created and submitted via the gateway")
    parser.add_argument("--concurrency", type=int, default=8, help="connections for the gateway phase")
    parser.add_argument("--keep", action="store_true", help="keep the gateway phase's temp dir (logs, config)")
    parser.add_argument("--export-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        _export_child(*args.export_child)
        return 0
    if not postgres_reachable():
        log("ERROR: PostgreSQL is needed (BENCH_PG_ADMIN_URL)")
        return 2
    from shared.migrations import service_dir, upgrade

    try:
        log("phase 1: draft creation + submit through the gateway")
        through_gateway = gateway_throughput(args.submits, args.concurrency, args.keep)
    except BenchError as exc:
        log(f"ERROR: {exc}")
        return 2
    database_url = create_database(DB_NAME)
    service = None
    try:
        log("phase 2: the list endpoint and the summary export")
        upgrade(service_dir("nominations"), database_url)
        service, issuer = _service(database_url)
        from nominations.entrypoints.web import create_app

        client = create_app(service).test_client()
        round_ids = _seed_directory_and_rounds(service)
        log(f"seeding {args.small} nominations")
        _seed_nominations(service, round_ids, 0, args.small)
        small = _list_figures(client, issuer, args.requests, round_ids)
        log(f"seeding up to {args.big} nominations")
        t0 = time.perf_counter()
        _seed_nominations(service, round_ids, args.small, args.big)
        seed_s = time.perf_counter() - t0
        stored = storage(database_url)
        big = _list_figures(client, issuer, args.requests, round_ids)
        log("exporting the summary table")
        export_rows = args.big // 2
        exports = {fmt: _export(database_url, round_ids[0], fmt) for fmt in ("csv", "xlsx")}
        ratios = {k: round(big[k]["p50_ms"] / small[k]["p50_ms"], 2) for k in small}
        result = {
            "bench": "nominations",
            "db": f"postgresql (database {DB_NAME}, created and dropped)",
            "cpus": os.cpu_count(),
            "gateway": through_gateway,
            "list_how": "in-process Flask test client (view + auth + query, no network), limit=20, first page",
            f"list_at_{args.small}": small,
            f"list_at_{args.big}": big,
            "list_p50_ratio_big_to_small": ratios,
            "list_target_met": all(r <= 1.5 for r in ratios.values()),
            "seed_s": round(seed_s, 1),
            f"storage_at_{args.big}": stored,
            "export_rows": export_rows,
            "export": exports,
            "export_target_met": all(e["peak_rss_growth_mb"] <= 100 for e in exports.values()),
        }
        result["clean"] = (
            through_gateway["clean"]
            and exports["csv"].get("rows") == export_rows
            and all(e["status"] == 200 for e in exports.values())
        )
        emit(result)
        return 0 if result["clean"] else 1
    except BenchError as exc:
        log(f"ERROR: {exc}")
        return 2
    finally:
        if service is not None:
            service.engine.dispose()
        try:
            drop_database(DB_NAME)
        except Exception as exc:
            log(f"could not drop {DB_NAME}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
