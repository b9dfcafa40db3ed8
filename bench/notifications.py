"""Notifications benchmark: `nominations.nomination.submitted` from a producer's outbox, relayed to
RabbitMQ, consumed by the notifications worker (the real process, `notifications.entrypoints.worker`)
and fanned out to the county reviewers' inboxes; against the raw RabbitMQ round trip in the same run.

Setup (all created for the run, all removed after it, also on error or Ctrl-C):
  - RabbitMQ vhost `cio-bench-notifications` (rabbitmqctl add_vhost / delete_vhost);
  - PostgreSQL `cio_bench_notifications` (the worker's, migrated with the service's Alembic scripts and
    seeded with an identity projection: city 4108, county 410802 with `--reviewers` county reviewers
    and 20 schools, a second county with 2 reviewers who must receive nothing) and
    `cio_bench_notif_producer` (the producer's outbox: shared.bus outbox + OutboxRelay, as the
    nominations service has it);
  - the worker as a child process on the metrics port 18305, reading those through its environment.

Phases:
  1. raw RabbitMQ: round-trip latency of single persistent messages published with confirms
     (ConfirmingPublisher, batches of 1) at `--rate` per second to a plain queue and consumed by a
     pika consumer (publish call -> on_message), and the raw throughput as bench/bus.py measures it;
  2. steady load: one nomination.submitted per producer transaction at `--rate` per second for
     `--duration` seconds; latency = the inbox row's created_at (written in the worker's consumer
     transaction) minus the producer's commit time, per reviewer row: p50/p99;
  3. fan-out throughput: `--events` events written to the outbox first, then the relay started; clock
     until every reviewer's inbox row exists: events/s and inbox messages/s.
Every event must end with exactly one row per reviewer of its county and none elsewhere.

  .venv/bin/python -m bench.notifications [--rate 40] [--duration 15] [--events 2000] [--reviewers 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from bench.benchlib import (
    BenchError,
    Processes,
    bench_tempdir,
    create_database,
    drop_database,
    emit,
    ensure_ports_free,
    log,
    postgres_reachable,
    storage,
    wait_http,
)
from bench.bus import run_raw
from shared.bus.envelope import CloudEvent
from shared.bus.publisher import ConfirmingPublisher, OutgoingMessage, connect
from shared.bus.relay import OutboxRelay
from shared.bus.tables import bus_metadata
from shared.config import BusSettings
from shared.db import SqlAlchemyUnitOfWork, make_engine, make_session_factory
from shared.migrations import service_dir, upgrade

VHOST = "cio-bench-notifications"
DB_WORKER = "cio_bench_notifications"
DB_PRODUCER = "cio_bench_notif_producer"
METRICS_PORT = 18305
BROKER = os.environ.get("BENCH_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
CITY, COUNTY, OTHER_COUNTY = "/4108", "/4108/410802", "/4108/410821"
SCHOOLS = [f"41080200{n:02d}" for n in range(1, 21)]


def amqp_url() -> str:
    return f"{BROKER}/{urllib.parse.quote(VHOST, safe='')}"


def rabbitmqctl(*args: str, ok_if: str = "") -> None:
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    if not os.path.exists(ctl):
        raise BenchError("rabbitmqctl is needed to create the benchmark's own vhost")
    done = subprocess.run([ctl, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0 and not (ok_if and ok_if in (done.stdout + done.stderr)):
        raise BenchError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr or done.stdout}")


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return round(ordered[index], 2)


# -- the identity projection ----------------------------------------------------------------------
def seed(engine: Engine, reviewers: int) -> tuple[set[str], set[str]]:
    """Orgs, users and grants as the worker would have projected them from identity's events."""
    from shared.directory import directory_grants, directory_orgs, directory_users

    now = dt.datetime.now(dt.UTC)
    orgs: list[dict[str, Any]] = [
        {"code": "4108", "name": "焦作市教育局", "path": CITY, "level": "city", "parent_code": None},
        {"code": "410802", "name": "解放区教育局", "path": COUNTY, "level": "county", "parent_code": "4108"},
        {"code": "410821", "name": "修武县教育局", "path": OTHER_COUNTY, "level": "county", "parent_code": "4108"},
        *(
            {"code": code, "name": f"解放区第{i + 1}小学", "path": f"{COUNTY}/{code}", "level": "school"}
            | {"parent_code": "410802"}
            for i, code in enumerate(SCHOOLS)
        ),
    ]
    ours = {f"bench-county-{i}" for i in range(reviewers)}
    others = {f"bench-other-{i}" for i in range(2)}
    users, grants = [], []
    for user_id in sorted(ours | others):
        path = COUNTY if user_id in ours else OTHER_COUNTY
        # no e-mail or phone: every delivery but the inbox is `skipped`, so the SMTP/SMS senders stay idle
        users.append(
            {
                "user_id": user_id,
                "display_name": user_id,
                "email": None,
                "phone": None,
                "locale": "zh-CN",
                "org_code": path.rsplit("/", 1)[1],
                "is_active": True,
                "updated_at": now,
            }
        )
        grants.append({"grant_id": f"g-{user_id}", "user_id": user_id, "role": "county_reviewer", "org_path": path})
    with engine.begin() as conn:
        conn.execute(directory_orgs.insert(), orgs)
        conn.execute(directory_users.insert(), users)
        conn.execute(directory_grants.insert(), grants)
    return ours, others


def submitted(n: int) -> CloudEvent:
    code = SCHOOLS[n % len(SCHOOLS)]
    nomination_id = str(uuid.uuid4())
    return CloudEvent(
        type="nominations.nomination.submitted",
        source="/cio/nominations",
        subject=nomination_id,
        data={
            "nomination_id": nomination_id,
            "round_id": "bench-round",
            "policy_id": "jiaozuo-2022",
            "school_org_code": code,
            "school_org_path": f"{COUNTY}/{code}",
            "school_name": f"解放区第{n % len(SCHOOLS) + 1}小学",
            "candidate_user_id": f"bench-candidate-{n}",
            "candidate_name": "张三",
            "submitted_by": "bench-school-admin",
            "submitted_at": dt.datetime.now(dt.UTC).isoformat(),
            "revision": 1,
            "form": {"note": "a form of a typical size is not needed: the worker does not read it"},
        },
    )


# -- the raw broker round trip --------------------------------------------------------------------
def raw_latency(settings: BusSettings, queue: str, rate: float, duration: float) -> list[float]:
    """Milliseconds from the confirmed publish call to the consumer's on_message, at `rate` per second."""
    setup = connect(settings.amqp_url, "bench-notif-raw-setup")
    setup.channel().queue_declare(queue, durable=True)
    setup.close()
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    ready, done = threading.Event(), threading.Event()
    total = int(rate * duration)

    def consume() -> None:
        connection = connect(settings.amqp_url, "bench-notif-raw-consumer")
        channel = connection.channel()
        channel.basic_qos(prefetch_count=settings.prefetch)

        def on_message(ch: Any, method: Any, _props: Any, body: bytes) -> None:
            latencies.append((time.time() - sent_at[json.loads(body)["id"]]) * 1000)
            ch.basic_ack(method.delivery_tag)

        channel.basic_consume(queue, on_message)
        ready.set()
        deadline = time.monotonic() + duration + 60
        while len(latencies) < total and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.01)
        connection.close()
        done.set()

    thread = threading.Thread(target=consume, name="bench-raw-latency", daemon=True)
    thread.start()
    ready.wait(15)
    connection = connect(settings.amqp_url, "bench-notif-raw-publisher")
    publisher = ConfirmingPublisher(connection, "")
    started = time.perf_counter()
    for i in range(total):
        time.sleep(max(0.0, started + i / rate - time.perf_counter()))
        event = submitted(i)
        sent_at[event.id] = time.time()
        _ok, failed = publisher.publish_batch([OutgoingMessage(event.id, queue, event.to_json())], timeout=10)
        if failed:
            raise BenchError("raw publish not confirmed")
    done.wait(duration + 60)
    connection.close()
    thread.join(timeout=10)
    if len(latencies) != total:
        raise BenchError(f"raw latency: {len(latencies)} of {total} messages came back")
    return latencies


# -- the pipeline ---------------------------------------------------------------------------------
class Producer:
    """The nominations side: events committed to its outbox, relayed by the project's OutboxRelay."""

    def __init__(self, settings: BusSettings, engine: Engine) -> None:
        self.settings = settings
        self.session_factory = make_session_factory(engine)
        self.committed_at: dict[str, float] = {}
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def commit(self, events: Sequence[CloudEvent]) -> None:
        with SqlAlchemyUnitOfWork(self.session_factory, source="/cio/nominations") as uow:
            uow.publish(*events)
            uow.commit()
        now = time.time()
        for event in events:
            self.committed_at[str(event.data["nomination_id"])] = now

    def start_relay(self) -> None:
        relay = OutboxRelay(self.settings, self.session_factory)
        self.thread = threading.Thread(target=relay.run, args=(self.stop,), name="bench-relay", daemon=True)
        self.thread.start()

    def stop_relay(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=15)


def inbox_count(engine: Engine) -> int:
    from notifications.adapters.orm import messages

    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one())


def wait_for_rows(engine: Engine, expected: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    count = inbox_count(engine)
    while count < expected:
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: only {count} of {expected} inbox rows after {timeout:.0f}s")
        time.sleep(0.02)
        count = inbox_count(engine)


def rows_of(engine: Engine, nomination_ids: set[str]) -> list[tuple[str, str, dt.datetime]]:
    from notifications.adapters.orm import messages

    with engine.connect() as conn:
        rows = conn.execute(sa.select(messages.c.recipient_id, messages.c.data, messages.c.created_at))
        found = [(r.recipient_id, str(r.data["nomination_id"]), r.created_at) for r in rows]
    return [r for r in found if r[1] in nomination_ids]


def check_fanout(rows: list[tuple[str, str, dt.datetime]], ids: set[str], reviewers: set[str]) -> None:
    """Exactly one row per (event, reviewer of the county), nobody else."""
    pairs = [(n, r) for r, n, _ in rows]
    if len(pairs) != len(set(pairs)) or {r for _, r in pairs} != reviewers or len(pairs) != len(ids) * len(reviewers):
        raise BenchError(f"fan-out is wrong: {len(pairs)} rows for {len(ids)} events x {len(reviewers)} reviewers")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=40.0, help="events per second at steady load")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of steady load")
    parser.add_argument("--events", type=int, default=2000, help="events of the throughput phase")
    parser.add_argument("--reviewers", type=int, default=3, help="county reviewers (inbox rows per event)")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with the worker's log")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if not postgres_reachable():
        raise SystemExit("bench/notifications.py needs PostgreSQL (BENCH_PG_ADMIN_URL)")

    run_id = uuid.uuid4().hex[:8]
    settings = BusSettings(amqp_url=amqp_url(), exchange="cio.events")
    raw_queue = f"bench-{run_id}.raw"
    tmp = bench_tempdir("cio-bench-notifications-")
    engines: list[Engine] = []
    producer: Producer | None = None
    made_vhost = made_dbs = False
    procs = Processes(tmp)
    try:
        ensure_ports_free(METRICS_PORT)
        rabbitmqctl("add_vhost", VHOST, ok_if="already")
        made_vhost = True
        rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")
        worker_url = create_database(DB_WORKER)
        producer_url = create_database(DB_PRODUCER)
        made_dbs = True
        upgrade(service_dir("notifications"), worker_url)
        worker_engine, producer_engine = make_engine(worker_url), make_engine(producer_url)
        engines += [worker_engine, producer_engine]
        bus_metadata.create_all(producer_engine)
        reviewers, _others = seed(worker_engine, args.reviewers)

        env = {
            **os.environ,
            "NOTIFICATIONS_DATABASE_URL": worker_url,
            "AMQP_URL": settings.amqp_url,
            "BUS_EXCHANGE": settings.exchange,
            "WORKER_METRICS_PORT": str(METRICS_PORT),
            "LOG_LEVEL": "WARNING",
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # one process: in-memory metrics
        procs.start("notifications-worker", [sys.executable, "-m", "notifications.entrypoints.worker"], env=env)
        wait_http(f"http://127.0.0.1:{METRICS_PORT}/health/ready", timeout=60)

        # 1. raw broker
        log(f"raw RabbitMQ round trip at {args.rate}/s for {args.duration}s")
        raw_ms = raw_latency(settings, raw_queue, args.rate, args.duration)
        raw_bodies = [submitted(i).to_json() for i in range(args.events)]
        raw_s = run_raw(settings, raw_queue, raw_bodies, args.timeout)

        # 2. steady load
        producer = Producer(settings, producer_engine)
        producer.start_relay()
        warm = [submitted(i) for i in range(20)]
        producer.commit(warm)
        wait_for_rows(worker_engine, len(warm) * len(reviewers), 60, "warm-up")
        total = int(args.rate * args.duration)
        log(f"steady load: {total} events at {args.rate}/s, one per producer transaction")
        steady: set[str] = set()
        started = time.perf_counter()
        for i in range(total):
            time.sleep(max(0.0, started + i / args.rate - time.perf_counter()))
            event = submitted(i)
            producer.commit([event])
            steady.add(str(event.data["nomination_id"]))
        offered = total / (time.perf_counter() - started)
        wait_for_rows(worker_engine, (len(warm) + total) * len(reviewers), args.timeout, "steady load")
        rows = rows_of(worker_engine, steady)
        check_fanout(rows, steady, reviewers)
        latencies = [(at.timestamp() - producer.committed_at[n]) * 1000 for _r, n, at in rows]
        producer.stop_relay()

        # 3. throughput
        log(f"throughput: {args.events} events in the outbox, then the relay")
        burst = [submitted(i) for i in range(args.events)]
        for start in range(0, len(burst), 100):
            producer.commit(burst[start : start + 100])
        before = inbox_count(worker_engine)
        producer = Producer(settings, producer_engine)
        started = time.perf_counter()
        producer.start_relay()
        wait_for_rows(worker_engine, before + args.events * len(reviewers), args.timeout, "throughput")
        burst_s = time.perf_counter() - started
        burst_ids = {str(e.data["nomination_id"]) for e in burst}
        check_fanout(rows_of(worker_engine, burst_ids), burst_ids, reviewers)

        events_per_s = args.events / burst_s
        raw_eps = args.events / raw_s
        emit(
            {
                "bench": "notifications",
                "fanout_events_per_s": round(events_per_s, 1),
                "fanout_inbox_messages_per_s": round(events_per_s * len(reviewers), 1),
                "raw_rabbitmq_eps": round(raw_eps, 1),
                "throughput_ratio": round(events_per_s / raw_eps, 4),
                "latency_commit_to_inbox_ms": {
                    "p50": percentile(latencies, 50),
                    "p99": percentile(latencies, 99),
                    "max": round(max(latencies), 2),
                },
                "raw_rabbitmq_round_trip_ms": {
                    "p50": percentile(raw_ms, 50),
                    "p99": percentile(raw_ms, 99),
                    "max": round(max(raw_ms), 2),
                },
                "steady_rate_per_s": round(offered, 1),
                "steady_events": total,
                "throughput_events": args.events,
                "reviewers_per_event": len(reviewers),
                "inbox_rows_checked": len(rows) + args.events * len(reviewers),
                "relay_idle_seconds": settings.relay_idle_seconds,
                "relay_batch_size": settings.relay_batch_size,
                "prefetch": settings.prefetch,
                "worker": "python -m notifications.entrypoints.worker (child process)",
                "storage": storage(worker_url),
                "db": f"postgresql ({DB_WORKER}, {DB_PRODUCER}: created and dropped)",
                "vhost": f"{VHOST} (created and deleted)",
                "cpus": os.cpu_count(),
            }
        )
        return 0
    except BenchError as exc:
        log(f"ERROR: {exc}")
        for child in procs.children:
            log(f"{child.name} log tail:\n{child.tail()}")
        return 2
    finally:
        if producer is not None:
            producer.stop_relay()
        procs.stop_all()
        for engine in engines:
            engine.dispose()
        if made_vhost:
            try:
                rabbitmqctl("delete_vhost", VHOST)
            except BenchError as exc:
                log(f"could not delete vhost {VHOST}: {exc}")
        if made_dbs:
            for name in (DB_WORKER, DB_PRODUCER):
                try:
                    drop_database(name)
                except Exception as exc:
                    log(f"could not drop {name}: {exc}")
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept {tmp}")


if __name__ == "__main__":
    sys.exit(main())
