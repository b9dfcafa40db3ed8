"""Approvals benchmark: review decisions per second through the gateway, and the time from a
`nominations.nomination.submitted` commit to the first task assigned, against raw RabbitMQ.

Starts, on its own ports, databases and vhost, and stops again (also on error or Ctrl-C):
  - the RabbitMQ vhost `cio-bench-approvals` (created with rabbitmqctl, deleted at the end);
  - identity (web under gunicorn on 18111, worker with metrics on 18121) on `cio_bench_appr_identity`,
    migrated and seeded with the demo tree and accounts (its worker relays the org events to approvals);
  - approvals (web on 18113, worker on 18123) on `cio_bench_appr_approvals`, exactly as `make run`;
  - the gateway rendered by `deploy/nginx/render.py local --port 18090`, its copy pointed at 18111 and
    18113 and without its limit_req lines;
  - in this process, the nominations side of the bus: an outbox in `cio_bench_appr_nominations`
    written with SqlAlchemyUnitOfWork (as nominations commits `submitted`) and an OutboxRelay thread.

Phases:
  1. `nominations.round.opened` with the jiaozuo-2022 policy snapshot (what nominations publishes);
  2. steady load: `--rate` submissions per second for `--duration` s, each committed in its own
     transaction; latency = the task's `assigned_at` (set by approvals' consumer in the transaction that
     opens the case) minus the wall-clock moment the submission's commit returned;
  3. the same steady load of raw messages: ConfirmingPublisher to a plain durable queue in the same
     vhost, a pika consumer acking each; latency = consume time minus the moment before publishing;
  4. decisions: every first-stage task of phase 2 approved by the demo `school.admin` through the gateway
     (`POST /api/tasks/{id}/decision`) with `--concurrency` keep-alive connections; decisions/s =
     N / (first request sent .. last response read).

Prints one JSON line on stdout; progress goes to stderr.

  .venv/bin/python -m bench.approvals [--rate 20] [--duration 15] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import logging
import math
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from bench.benchlib import (
    PYTHON,
    ROOT,
    BenchError,
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
    wait_port,
)
from shared.bus.publisher import ConfirmingPublisher, OutgoingMessage, connect
from shared.bus.relay import OutboxRelay
from shared.bus.tables import bus_metadata
from shared.config import BusSettings
from shared.db import SqlAlchemyUnitOfWork, make_engine, make_session_factory

GATEWAY_PORT = 18090
PORTS = {"identity": (18111, 18121), "approvals": (18113, 18123)}
LOCAL_WEB_PORTS = {"identity": 8101, "approvals": 8103}  # the declared web ports, what render.py writes
DATABASES = {
    "identity": "cio_bench_appr_identity",
    "approvals": "cio_bench_appr_approvals",
    "nominations": "cio_bench_appr_nominations",
}
VHOST = "cio-bench-approvals"
BROKER = os.environ.get("BENCH_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
SCHOOL = {"code": "4108020001", "path": "/4108/410802/4108020001", "name": "解放区第一实验小学"}
POLICY_FILE = ROOT / "services" / "nominations" / "nominations" / "policies" / "jiaozuo-2022.yaml"


def amqp_url() -> str:
    return f"{BROKER}/{urllib.parse.quote(VHOST, safe='')}"


# -- the broker's vhost ---------------------------------------------------------------------------
def rabbitmqctl(*args: str, check: bool = True) -> None:
    ctl = require_tool("rabbitmqctl", "The benchmark creates its own vhost with it.", ["/usr/sbin/rabbitmqctl"])
    done = subprocess.run([ctl, "-q", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise BenchError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr or done.stdout}")


def create_vhost() -> None:
    rabbitmqctl("delete_vhost", VHOST, check=False)  # a leftover of an interrupted run
    rabbitmqctl("add_vhost", VHOST)
    rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")


# -- the services ---------------------------------------------------------------------------------
def service_env(name: str, tmp: Path, database_url: str, common: dict[str, str]) -> dict[str, str]:
    web_port, worker_port = PORTS[name]
    prom = tmp / "prom" / name
    prom.mkdir(parents=True, exist_ok=True)
    return {
        **common,
        "SERVICE_NAME": name,
        "DATABASE_URL": database_url,
        "WEB_BIND": f"127.0.0.1:{web_port}",
        "WORKER_METRICS_PORT": str(worker_port),
        "PROMETHEUS_MULTIPROC_DIR": str(prom),
    }


def cli(name: str, env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [PYTHON, "-m", f"{name}.entrypoints.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"{name} cli {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def start_service(procs: Processes, name: str, env: dict[str, str], tmp: Path) -> None:
    web_port, worker_port = PORTS[name]
    start_gunicorn(procs, f"{name}-web", f"{name}.entrypoints.web:create_app()", web_port, env, tmp / "prom" / name)
    worker = procs.start(f"{name}-worker", [PYTHON, "-m", f"{name}.entrypoints.worker"], env=env)
    wait_port(worker, worker_port)
    wait_http(f"http://127.0.0.1:{web_port}/health/ready")
    wait_http(f"http://127.0.0.1:{worker_port}/health/ready")


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


# -- the nominations side of the bus --------------------------------------------------------------
class Nominations:
    """What the nominations service does on the bus: commit events to its outbox; a relay publishes them."""

    def __init__(self, engine: Engine, settings: BusSettings) -> None:
        self.session_factory = make_session_factory(engine)
        self.relay = OutboxRelay(settings, self.session_factory)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.relay.run, args=(self.stop,), name="bench-relay", daemon=True)

    def __enter__(self) -> Nominations:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=15)

    def commit(self, event_type: str, subject: str, data: dict[str, Any]) -> float:
        """One event in one transaction, as a handler of nominations commits it; returns the commit time."""
        from shared.bus.envelope import CloudEvent

        with SqlAlchemyUnitOfWork(self.session_factory, source="/cio/nominations") as uow:
            uow.publish(CloudEvent(type=event_type, source="/cio/nominations", subject=subject, data=data))
            uow.commit()
        return time.time()


def round_opened(round_id: uuid.UUID) -> dict[str, Any]:
    from nominations.adapters.policies import parse_policy

    policy = parse_policy(POLICY_FILE.read_text(encoding="utf-8"), str(POLICY_FILE))
    now = dt.datetime.now(dt.UTC)
    return {
        "round_id": str(round_id),
        "title": "基准测试批次",
        "policy_id": policy.id,
        "policy_version": policy.version,
        "issuing_org_code": "4108",
        "issuing_org_path": "/4108",
        "opens_at": now.isoformat(),
        "deadline": (now + dt.timedelta(days=30)).isoformat(),
        "policy": policy.document,
    }


def submitted(round_id: uuid.UUID, nomination_id: uuid.UUID, n: int) -> dict[str, Any]:
    return {
        "nomination_id": str(nomination_id),
        "round_id": str(round_id),
        "policy_id": "jiaozuo-2022",
        "school_org_code": SCHOOL["code"],
        "school_org_path": SCHOOL["path"],
        "school_name": SCHOOL["name"],
        "candidate_user_id": str(uuid.uuid4()),
        "candidate_name": f"候选人{n}",
        "submitted_by": "bench",
        "submitted_at": dt.datetime.now(dt.UTC).isoformat(),
        "revision": 1,
        "form": {"name": f"候选人{n}", "post_kind": "principal", "years_in_it_management": 3},
        "candidate": {"display_name": f"候选人{n}"},
        "photo_sha256": None,
        "eligibility": {"eligible": True, "checked_rules": ["candidate_post", "qualification"]},
    }


def steady(rate: float, duration: float, send: Callable[[int], None]) -> int:
    """Call `send(n)` `rate` times a second for `duration` seconds, on a fixed schedule (no drift)."""
    count = int(rate * duration)
    started = time.perf_counter()
    for n in range(count):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        send(n)
    return count


def assigned_times(engine: Engine, nomination_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[uuid.UUID, float]]:
    """First-stage task and its assigned_at (epoch seconds) per nomination, as approvals committed them."""
    query = sa.text(
        "SELECT nomination_id, id, assigned_at FROM review_tasks WHERE stage_index = 0 AND nomination_id = ANY(:ids)"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"ids": list(nomination_ids)}).all()
    return {row[0]: (row[1], row[2].timestamp()) for row in rows}


# -- raw RabbitMQ ---------------------------------------------------------------------------------
def raw_round_trips(settings: BusSettings, rate: float, duration: float) -> list[float]:
    """The same steady load as plain messages: publish (confirmed) → consume (acked), per message, in ms."""
    queue = f"bench-approvals-raw-{uuid.uuid4().hex[:8]}"
    setup = connect(settings.amqp_url, "bench-raw-setup")
    setup.channel().queue_declare(queue, durable=True)
    setup.close()
    latencies: list[float] = []
    expected = int(rate * duration)
    ready, errors = threading.Event(), []

    def consume() -> None:
        try:
            connection = connect(settings.amqp_url, "bench-raw-consumer")
            channel = connection.channel()
            channel.basic_qos(prefetch_count=settings.prefetch)

            def on_message(ch: Any, method: Any, _props: Any, body: bytes) -> None:
                latencies.append((time.time() - json.loads(body)["sent_at"]) * 1000)
                ch.basic_ack(method.delivery_tag)

            channel.basic_consume(queue, on_message, auto_ack=False)
            ready.set()
            deadline = time.monotonic() + duration + 60
            while len(latencies) < expected and time.monotonic() < deadline:
                connection.process_data_events(time_limit=0.01)
            connection.close()
        except BaseException as exc:
            errors.append(exc)
        finally:
            ready.set()

    thread = threading.Thread(target=consume, name="bench-raw-consumer", daemon=True)
    thread.start()
    ready.wait(15)
    connection = connect(settings.amqp_url, "bench-raw-publisher")
    try:
        publisher = ConfirmingPublisher(connection, "")

        def send(n: int) -> None:
            body = json.dumps({"n": n, "sent_at": time.time(), "pad": "x" * 600}).encode()
            _ok, failed = publisher.publish_batch(
                [OutgoingMessage(uuid.uuid4().hex, queue, body)], timeout=settings.confirm_timeout_seconds
            )
            if failed:
                raise BenchError("raw publish not confirmed")

        steady(rate, duration, send)
        thread.join(timeout=70)
        connection.channel().queue_delete(queue)
    finally:
        connection.close()
    if errors:
        raise BenchError(f"raw consumer failed: {errors[0]!r}")
    if len(latencies) != expected:
        raise BenchError(f"raw: {len(latencies)} of {expected} messages consumed")
    return latencies


# -- decisions through the gateway ----------------------------------------------------------------
def password_token(username: str, password: str) -> str:
    body = urllib.parse.urlencode({"grant_type": "password", "username": username, "password": password}).encode()
    status, raw = http_request(
        f"http://127.0.0.1:{GATEWAY_PORT}/api/auth/token",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 200:
        raise BenchError(f"password grant for {username} answered {status}: {raw[:300]!r}")
    return str(json.loads(raw)["access_token"])


def decide_all(task_ids: Sequence[uuid.UUID], token: str, concurrency: int) -> tuple[float, list[float], list[int]]:
    """Approve every task through the gateway; returns elapsed seconds, latencies (ms) and statuses."""
    body = json.dumps(
        {"decision": "approve", "opinion": "同意推荐", "seal": {"unit_name": SCHOOL["name"]}}, ensure_ascii=False
    ).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    local = threading.local()

    def one(task_id: uuid.UUID) -> tuple[float, int]:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", GATEWAY_PORT, timeout=30)
        started = time.perf_counter()
        local.conn.request("POST", f"/api/tasks/{task_id}/decision", body=body, headers=headers)
        response = local.conn.getresponse()
        response.read()
        return (time.perf_counter() - started) * 1000, response.status

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bench-decide") as pool:
        started = time.perf_counter()
        results = list(pool.map(one, task_ids))
        elapsed = time.perf_counter() - started
    return elapsed, [r[0] for r in results], [r[1] for r in results]


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))  # nearest rank
    return round(ordered[index], 1)


def spread(values: Sequence[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50),
        "p99_ms": percentile(values, 99),
        "max_ms": round(max(values), 1),
    }


# -- main -----------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="submissions (and raw messages) per second")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of steady load")
    parser.add_argument("--concurrency", type=int, default=16, help="connections deciding at once")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, gateway config)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    require_tool("nginx", "Install it: `apt-get install nginx-light`.", ["/usr/sbin/nginx"])
    ensure_ports_free(GATEWAY_PORT, *(p for pair in PORTS.values() for p in pair))
    if not postgres_reachable():
        raise SystemExit("bench/approvals.py needs PostgreSQL (BENCH_PG_ADMIN_URL, default postgres@127.0.0.1:5432)")
    tmp = bench_tempdir("cio-bench-approvals-")
    procs = Processes(tmp)
    engines: list[Engine] = []
    created: list[str] = []
    vhost_created = False
    settings = BusSettings(amqp_url=amqp_url())
    try:
        create_vhost()
        vhost_created = True
        urls = {}
        for name, db in DATABASES.items():
            urls[name] = create_database(db)
            created.append(db)
        demo_password = secrets.token_urlsafe(12)
        common = {
            **os.environ,
            "APP_ENV": "development",
            "AMQP_URL": amqp_url(),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{GATEWAY_PORT}",
            "JWKS_URL": f"http://127.0.0.1:{PORTS['identity'][0]}/api/auth/.well-known/jwks.json",
            "DEMO_PASSWORD": demo_password,
            "SIGNING_KEY_SECRET": secrets.token_urlsafe(32),
        }
        envs = {name: service_env(name, tmp, urls[name], common) for name in PORTS}
        cli("approvals", envs["approvals"], "migrate")  # declares approvals' queues before identity relays
        cli("identity", envs["identity"], "migrate")
        cli("identity", envs["identity"], "seed-demo")
        for name in PORTS:
            start_service(procs, name, envs[name], tmp)
        gateway = render_gateway(
            tmp / "nginx", GATEWAY_PORT, {LOCAL_WEB_PORTS[n]: PORTS[n][0] for n in PORTS}, extra_routes=()
        )
        start_gateway(procs, gateway, GATEWAY_PORT)

        approvals_db = make_engine(urls["approvals"])
        engines.append(approvals_db)

        def school_known() -> bool:
            with approvals_db.connect() as conn:
                return bool(
                    conn.execute(sa.text("SELECT 1 FROM directory_orgs WHERE code = :c"), {"c": SCHOOL["code"]}).first()
                )

        wait_for(school_known, 60, "approvals to learn the org tree from identity's events")

        nominations_db = make_engine(urls["nominations"])
        engines.append(nominations_db)
        bus_metadata.create_all(nominations_db)
        round_id = uuid.uuid4()
        with Nominations(nominations_db, settings) as nominations:
            nominations.commit("nominations.round.opened", str(round_id), round_opened(round_id))

            def round_known() -> bool:
                with approvals_db.connect() as conn:
                    query = sa.text("SELECT 1 FROM rounds WHERE round_id = :r")
                    return bool(conn.execute(query, {"r": round_id}).first())

            wait_for(round_known, 60, "approvals to keep the round's policy snapshot")

            # Warm-up (connections, caches, JIT of the first queries): not measured.
            warm = [uuid.uuid4() for _ in range(10)]
            for n, nid in enumerate(warm):
                nominations.commit("nominations.nomination.submitted", str(nid), submitted(round_id, nid, n))
            wait_for(lambda: len(assigned_times(approvals_db, warm)) == len(warm), 60, "the warm-up cases")

            log(f"steady load: {args.rate}/s submissions for {args.duration}s")
            committed: dict[uuid.UUID, float] = {}

            def submit(n: int) -> None:
                nid = uuid.uuid4()
                committed[nid] = nominations.commit(
                    "nominations.nomination.submitted", str(nid), submitted(round_id, nid, n)
                )

            steady(args.rate, args.duration, submit)
            ids = list(committed)
            wait_for(lambda: len(assigned_times(approvals_db, ids)) == len(ids), 120, "every case's first task")
            tasks = assigned_times(approvals_db, ids)
        to_assigned = [max(0.0, (tasks[nid][1] - committed[nid]) * 1000) for nid in ids]
        log(f"submitted -> assigned: {spread(to_assigned)}")

        log(f"raw RabbitMQ: {args.rate}/s for {args.duration}s")
        raw = raw_round_trips(settings, args.rate, args.duration)
        log(f"raw publish -> consume: {spread(raw)}")

        token = password_token("school.admin", demo_password)
        task_ids = [tasks[nid][0] for nid in ids]
        log(f"deciding {len(task_ids)} tasks through the gateway, {args.concurrency} at a time")
        elapsed, latencies, statuses = decide_all(task_ids, token, args.concurrency)
        bad = sum(1 for s in statuses if s != 200)
        with approvals_db.connect() as conn:
            decided = conn.execute(
                sa.text("SELECT count(*) FROM review_tasks WHERE stage_index = 0 AND status = 'decided'")
            ).scalar_one()
            next_stage = conn.execute(
                sa.text("SELECT count(*) FROM review_tasks WHERE stage_index = 1 AND status = 'open'")
            ).scalar_one()
        log(f"decisions: {len(task_ids) / elapsed:.1f}/s, {bad} not 200; decided {decided}, next stage {next_stage}")
        if decided < len(task_ids) or next_stage < len(task_ids):
            bad = max(bad, len(task_ids) - min(decided, next_stage))

        to_assigned_p50, raw_p50 = percentile(to_assigned, 50), percentile(raw, 50)
        result = {
            "bench": "approvals",
            "decisions": len(task_ids),
            "decisions_per_s": round(len(task_ids) / elapsed, 1),
            "decision_latency_ms": {k: v for k, v in spread(latencies).items() if k != "n"},
            "decision_concurrency": args.concurrency,
            "decisions_non_200": bad,
            "load_rate_per_s": args.rate,
            "load_duration_s": args.duration,
            "submitted_to_first_task_ms": spread(to_assigned),
            "raw_rabbitmq_publish_to_consume_ms": spread(raw),
            "ratio_p50": round(to_assigned_p50 / raw_p50, 1) if raw_p50 else None,
            "relay_idle_seconds": settings.relay_idle_seconds,
            "prefetch": settings.prefetch,
            "policy": "jiaozuo-2022 (first stage: school unit opinion)",
            "gateway_changes": gateway.changes,
            "rate_limit": "disabled for the benchmark",
            "storage": {name: storage(url) for name, url in urls.items()},
            "db": "postgresql (databases " + ", ".join(DATABASES.values()) + ", created and dropped)",
            "vhost": f"{VHOST} (created and deleted)",
            "cpus": os.cpu_count(),
            "clean": bad == 0,
        }
        emit(result)
        return 0 if bad == 0 else 1
    except BenchError as exc:
        log(f"ERROR: {exc}")
        return 2
    finally:
        procs.stop_all()
        for engine in engines:
            engine.dispose()
        for db in created:
            try:
                drop_database(db)
            except Exception as exc:
                log(f"could not drop {db}: {exc}")
        if vhost_created:
            try:
                rabbitmqctl("delete_vhost", VHOST)
            except BenchError as exc:
                log(f"could not delete the vhost: {exc}")
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
