"""Bus benchmark: N events through outbox -> relay -> RabbitMQ -> idempotent consumer, vs raw pika.

Pipeline (the project's code, unchanged):
  1. N outbox rows written with SqlAlchemyUnitOfWork.publish + commit, `--per-tx` events per
     transaction (timed on its own: outbox_write_eps);
  2. an EventConsumer (shared.bus.consumer) in a thread, whose handler inserts one effect row in
     the consumer's transaction (with the inbox row);
  3. an OutboxRelay (shared.bus.relay) in a thread; the clock runs from starting the relay until
     all N effect rows are committed: pipeline_eps.
Then the same again, with fresh events and empty tables, for a set-wise handler (a shared.bus.consumer.BatchHandler
inserting the effect rows of a run of deliveries in one executemany, as notifications' handler does):
pipeline_batch_handler_eps. The headline `ratio` is the per-event handler's; `ratio_batch_handler` shows what the bus
itself carries once a handler's own statements no longer dominate.
Baseline, same broker, same vhost, same message bodies: ConfirmingPublisher (shared.bus.publisher,
the relay's own batched confirms) publishing N persistent messages to a plain durable queue in
batches of the relay's batch size, while a pika consumer with the same prefetch acks each one;
clock from the first publish to the last ack: raw_pika_eps.

Uses a PostgreSQL database `cio_bench_bus` (created, dropped), the RabbitMQ vhost `cio-bench`
(created with rabbitmqctl if missing, left in place) and queue/exchange names unique to the run
(deleted at the end). Prints one JSON line on stdout; progress goes to stderr.

  .venv/bin/python -m bench.bus [--events 5000] [--per-tx 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from typing import Any

import pika
import sqlalchemy as sa
from sqlalchemy import Engine

from bench.benchlib import BenchError, create_database, drop_database, emit, log, postgres_reachable
from shared.bus.consumer import BatchHandler, EventConsumer, Handler
from shared.bus.envelope import CloudEvent
from shared.bus.publisher import ConfirmingPublisher, OutgoingMessage, connect
from shared.bus.relay import OutboxRelay
from shared.bus.tables import OUTBOX_SENT, bus_metadata, inbox, outbox
from shared.bus.topology import QueueSpec
from shared.config import BusSettings
from shared.db import SqlAlchemyUnitOfWork, make_engine, make_session_factory

DB_NAME = "cio_bench_bus"
VHOST = "cio-bench"
EVENT_TYPE = "bench.effect.requested"
BROKER = os.environ.get("BENCH_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")

effect_metadata = sa.MetaData()
effects = sa.Table(
    "bench_effect",
    effect_metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)


def amqp_url() -> str:
    return f"{BROKER}/{urllib.parse.quote(VHOST, safe='')}"


def ensure_vhost() -> None:
    """Create the vhost once with rabbitmqctl; skipped when it already answers."""
    params = pika.URLParameters(amqp_url())
    params.connection_attempts = 1
    pika_log = logging.getLogger("pika")
    level = pika_log.level
    pika_log.setLevel(logging.CRITICAL)  # a missing vhost is expected the first time: no traceback
    try:
        pika.BlockingConnection(params).close()
        return
    except pika.exceptions.ProbableAccessDeniedError:
        pass
    except pika.exceptions.AMQPConnectionError as exc:
        if "vhost" not in str(exc).lower() and "access" not in str(exc).lower():
            raise BenchError(f"RabbitMQ is not reachable at {BROKER}: {exc!r}") from exc
    finally:
        pika_log.setLevel(level)
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    if not os.path.exists(ctl):
        raise BenchError(f"vhost {VHOST} is missing and rabbitmqctl is not available to create it")
    log(f"creating RabbitMQ vhost {VHOST}")
    for argv in ([ctl, "add_vhost", VHOST], [ctl, "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"]):
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0 and "already" not in (done.stdout + done.stderr):
            raise BenchError(f"{' '.join(argv)} failed: {done.stderr or done.stdout}")


def make_events(count: int) -> list[CloudEvent]:
    return [
        CloudEvent(
            type=EVENT_TYPE,
            source="/cio/bench",
            subject=f"bench/{i}",
            data={"n": i, "org_code": "4108020001", "note": "benchmark event of a typical size"},
        )
        for i in range(count)
    ]


def write_outbox(engine: Engine, events: list[CloudEvent], per_tx: int) -> float:
    session_factory = make_session_factory(engine)
    started = time.perf_counter()
    for start in range(0, len(events), per_tx):
        with SqlAlchemyUnitOfWork(session_factory, source="/cio/bench") as uow:
            uow.publish(*events[start : start + per_tx])
            uow.commit()
    return time.perf_counter() - started


def count_rows(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _effect(event: CloudEvent) -> dict[str, Any]:
    return {"event_id": event.id, "n": int(event.data["n"]), "applied_at": dt.datetime.now(dt.UTC)}


def apply_one(event: CloudEvent, uow: Any) -> None:
    """The per-event handler: one INSERT of the effect row for each delivery."""
    uow.session.execute(effects.insert().values(**_effect(event)))


def apply_many(events: list[CloudEvent], uow: Any) -> None:
    """The set-wise handler: the effect rows of a run of deliveries in one executemany."""
    uow.session.execute(effects.insert(), [_effect(event) for event in events])


def reset_tables(engine: Engine) -> None:
    """Empty the outbox, the inbox and the effects between the two pipeline runs."""
    with engine.begin() as conn:
        for table in (effects, inbox, outbox):
            conn.execute(table.delete())


def run_pipeline(
    settings: BusSettings, engine: Engine, spec: QueueSpec, n: int, timeout: float, handler: Handler
) -> float:
    session_factory = make_session_factory(engine)
    consumer = EventConsumer(
        settings,
        spec,
        {EVENT_TYPE: handler},
        lambda: SqlAlchemyUnitOfWork(session_factory, source="/cio/bench"),
    )
    relay = OutboxRelay(settings, session_factory)
    stop = threading.Event()
    threads = [
        threading.Thread(target=consumer.run, args=(stop,), name="bench-consumer", daemon=True),
        threading.Thread(target=relay.run, args=(stop,), name="bench-relay", daemon=True),
    ]
    try:
        threads[0].start()
        if not consumer.connected.wait(15):
            raise BenchError("the consumer did not connect to RabbitMQ within 15 s")
        started = time.perf_counter()
        threads[1].start()
        deadline = started + timeout
        done = 0
        while done < n:
            if time.perf_counter() > deadline:
                raise BenchError(f"pipeline: only {done} of {n} effects after {timeout:.0f}s")
            time.sleep(0.01)
            done = count_rows(engine, effects)
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        for thread in threads:
            if thread.ident is not None:
                thread.join(timeout=15)
    with engine.connect() as conn:
        sent = conn.execute(sa.select(sa.func.count()).where(outbox.c.status == OUTBOX_SENT)).scalar_one()
        seen = conn.execute(sa.select(sa.func.count()).select_from(inbox)).scalar_one()
    if sent != n or seen != n or done != n:
        raise BenchError(f"pipeline counts are off: outbox sent {sent}, inbox {seen}, effects {done}, expected {n}")
    return elapsed


def run_raw(settings: BusSettings, queue: str, bodies: list[bytes], timeout: float) -> float:
    """ConfirmingPublisher to a plain queue (batches of relay_batch_size) + a consumer acking each."""
    n = len(bodies)
    setup = connect(settings.amqp_url, "bench-raw-setup")
    setup.channel().queue_declare(queue, durable=True)
    setup.close()

    received = 0
    ready = threading.Event()
    finished = threading.Event()
    errors: list[BaseException] = []

    def consume() -> None:
        nonlocal received
        try:
            connection = connect(settings.amqp_url, "bench-raw-consumer")
            channel = connection.channel()
            channel.basic_qos(prefetch_count=settings.prefetch)

            def on_message(ch: Any, method: Any, _props: Any, _body: bytes) -> None:
                nonlocal received
                ch.basic_ack(method.delivery_tag)
                received += 1

            channel.basic_consume(queue, on_message, auto_ack=False)
            ready.set()
            deadline = time.monotonic() + timeout
            while received < n and time.monotonic() < deadline:
                connection.process_data_events(time_limit=0.05)
            connection.close()
        except BaseException as exc:
            errors.append(exc)
        finally:
            ready.set()
            finished.set()

    thread = threading.Thread(target=consume, name="bench-raw-consumer", daemon=True)
    thread.start()
    ready.wait(15)
    if errors:
        raise BenchError(f"raw consumer failed: {errors[0]!r}")
    connection = connect(settings.amqp_url, "bench-raw-publisher")
    try:
        publisher = ConfirmingPublisher(connection, "")
        started = time.perf_counter()
        batch = settings.relay_batch_size
        for start in range(0, n, batch):
            messages = [
                OutgoingMessage(uuid.uuid4().hex, queue, body) for body in bodies[start : start + batch]
            ]  # routing key = queue name on the default exchange
            _confirmed, failed = publisher.publish_batch(messages, timeout=settings.confirm_timeout_seconds)
            if failed:
                raise BenchError(f"raw publish: {len(failed)} messages not confirmed")
        finished.wait(timeout)
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
        thread.join(timeout=15)
    if errors:
        raise BenchError(f"raw consumer failed: {errors[0]!r}")
    if received != n:
        raise BenchError(f"raw: only {received} of {n} messages consumed within {timeout:.0f}s")
    return elapsed


def cleanup_broker(settings: BusSettings, queues: list[str]) -> None:
    try:
        connection = connect(settings.amqp_url, "bench-cleanup")
        channel = connection.channel()
        for queue in queues:
            channel.queue_delete(queue)
        channel.exchange_delete(settings.exchange)
        connection.close()
    except Exception as exc:
        log(f"could not delete the bench queues/exchange in vhost {VHOST}: {exc!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--per-tx", type=int, default=100, help="events per outbox transaction")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed for each phase")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    if not postgres_reachable():
        raise SystemExit("bench/bus.py needs PostgreSQL (BENCH_PG_ADMIN_URL, default postgres@127.0.0.1:5432)")
    run_id = uuid.uuid4().hex[:8]
    settings = BusSettings(amqp_url=amqp_url(), exchange=f"cio.bench.{run_id}")
    spec = QueueSpec(name=f"bench-{run_id}.effects", bindings=["bench.#"])
    raw_queue = f"bench-{run_id}.raw"
    engine: Engine | None = None
    created_db = False
    try:
        ensure_vhost()
        database_url = create_database(DB_NAME)
        created_db = True
        engine = make_engine(database_url)
        bus_metadata.create_all(engine)
        effect_metadata.create_all(engine)

        events = make_events(args.events)
        bodies = [e.to_json() for e in events]
        log(f"{args.events} events, {len(bodies[0])} bytes each; broker vhost {VHOST}, exchange {settings.exchange}")

        raw_s = run_raw(settings, raw_queue, bodies, args.timeout)
        log(f"raw pika: {raw_s:.3f}s")
        write_s = write_outbox(engine, events, args.per_tx)
        log(f"outbox writes: {write_s:.3f}s")
        pipeline_s = run_pipeline(settings, engine, spec, args.events, args.timeout, apply_one)
        log(f"pipeline: {pipeline_s:.3f}s")
        reset_tables(engine)
        write_outbox(engine, make_events(args.events), args.per_tx)
        batch_s = run_pipeline(settings, engine, spec, args.events, args.timeout, BatchHandler(apply_many))
        log(f"pipeline with a set-wise handler: {batch_s:.3f}s")

        pipeline_eps = args.events / pipeline_s
        raw_eps = args.events / raw_s
        emit(
            {
                "bench": "bus",
                "events": args.events,
                "pipeline_eps": round(pipeline_eps, 1),
                "raw_pika_eps": round(raw_eps, 1),
                "ratio": round(pipeline_eps / raw_eps, 4),
                "pipeline_batch_handler_eps": round(args.events / batch_s, 1),
                "ratio_batch_handler": round(args.events / batch_s / raw_eps, 4),
                "outbox_write_eps": round(args.events / write_s, 1),
                "pipeline_s": round(pipeline_s, 3),
                "pipeline_batch_handler_s": round(batch_s, 3),
                "raw_pika_s": round(raw_s, 3),
                "outbox_write_s": round(write_s, 3),
                "events_per_tx": args.per_tx,
                "message_bytes": len(bodies[0]),
                "prefetch": settings.prefetch,
                "relay_batch_size": settings.relay_batch_size,
                "queue_type": "quorum" if settings.quorum_queues else "classic",
                "db": f"postgresql (database {DB_NAME}, created and dropped)",
                "vhost": VHOST,
                "cpus": os.cpu_count(),
            }
        )
        return 0
    except BenchError as exc:
        log(f"ERROR: {exc}")
        return 2
    finally:
        cleanup_broker(settings, [spec.name, spec.retry, spec.parking, raw_queue])
        if engine is not None:
            engine.dispose()
        if created_db:
            try:
                drop_database(DB_NAME)
            except Exception as exc:
                log(f"could not drop {DB_NAME}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
