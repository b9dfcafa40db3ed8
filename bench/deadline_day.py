"""Deadline-day load test: many schools sign in, fill in and submit their 推荐表 while reviewers decide, all through
the gateway, for a fixed time, with Locust (headless); then the same with two instances of every web and worker.

Starts, on its own ports, databases and RabbitMQ vhost, and stops again (also on error or Ctrl-C):
  - identity, nominations, approvals and notifications, each as `make run` runs them: web under gunicorn with
    deploy/gunicorn/gunicorn.conf.py and the worker (outbox relay, consumers, timers), `--instances` copies of
    each (1, then 2 with the default `--instances 1,2`), every copy on its own ports, the copies of one service
    sharing its database (relays share the outbox with FOR UPDATE SKIP LOCKED, consumers compete on one queue);
  - the gateway: deploy/nginx/render.py's local config with its upstreams pointed at the copies (one `server`
    line per copy), `limit_req` lines removed (they would measure the limiter).
Training is not started: the candidates' city-level CIO certificates are written into nominations' projection
with nominations' own consumer handler, as the training service's events would.

Seeded through the gateway as the demo platform administrator: `--schools` schools under 解放区 (POST
/api/orgs/import) with one administrator (school_admin) and one candidate each (POST /api/users/import); the
administrators' password is set in identity's table to one argon2id hash of a random password (hashing it per
account would take minutes; verifying it costs what any sign-in costs). The demo 焦作市教育局审核员 opens a
jiaozuo-2022 round. The load (bench/locust_deadline_day.py, Locust's FastHttpUser): `--users` school users,
each taking one school after another: password grant, draft (Idempotency-Key), photo, attestation, submit, wait
for the 所在单位意见 task, approve it; `--reviewers` users as the demo 解放区 county reviewer approve the county
stage's tasks as they arrive. `--duration` seconds, after `--users` ramped up at `--spawn-rate`.

Figures per run: `submissions_per_s` (submits answered 200 / duration), Locust's p50/p99 and failures per step,
and `cpu_seconds` per process group over the measured window (psutil: each process tree we started; PostgreSQL
and RabbitMQ are the machine's shared servers, all of their processes; `other` = the machine's busy time minus
all of those: other users of the machine and the kernel). After the load, the run waits for the bus to drain and
checks that nothing was processed twice: every submitted nomination has exactly one review case and one
所在单位意见 task, the relays' `bus_messages_published_total` for submissions equals the submitted count (no row
published by two relays), and every consumer's `duplicate` outcomes are reported.

Prints one JSON line; exit 0 when clean (no failed request, every check held), 1 otherwise, 2 when setup failed.

  .venv/bin/python -m bench.deadline_day [--instances 1,2] [--schools 3000] [--users 40] [--reviewers 2]
                                         [--duration 60] [--spawn-rate 20] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

from bench.benchlib import (
    PYTHON,
    ROOT,
    BenchError,
    Child,
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
    start_gateway,
    start_gunicorn,
    wait_http,
)
from bench.nominations import PNG, SUBMIT_FORM

SERVICES = ("identity", "nominations", "approvals", "notifications")
LOCAL_WEB_PORTS = {"identity": 8101, "nominations": 8102, "approvals": 8103, "notifications": 8105}
GATEWAY_PORT = 18070
BASE_PORT = 18140  # web 1814x/1815x, worker metrics 1816x/1817x: service index x, instance 0 or 1
VHOST = "cio-bench-deadline"
BROKER = os.environ.get("BENCH_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
COUNTY = ("410802", "解放区教育局")
LOCUSTFILE = ROOT / "bench" / "locust_deadline_day.py"
STEPS = (
    "sign_in",
    "create",
    "photo",
    "attest",
    "submit",
    "unit_tasks",
    "unit_task_visible",
    "unit_decision",
    "county_tasks",
    "county_decision",
)


def web_port(service: str, instance: int) -> int:
    return BASE_PORT + 10 * instance + SERVICES.index(service)


def worker_port(service: str, instance: int) -> int:
    return BASE_PORT + 20 + 10 * instance + SERVICES.index(service)


def db_name(service: str) -> str:
    return f"cio_bench_dd_{service}"


# -- the broker's vhost ---------------------------------------------------------------------------
def rabbitmqctl(*args: str, check: bool = True) -> None:
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    done = subprocess.run([ctl, "-q", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise BenchError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr or done.stdout}")


# -- the stack ------------------------------------------------------------------------------------
class Stack:
    def __init__(self, tmp: Path, instances: int, password: str) -> None:
        self.tmp, self.instances, self.password = tmp, instances, password
        self.procs = Processes(tmp)
        self.urls: dict[str, str] = {}
        self.engines: dict[str, sa.Engine] = {}
        self.groups: dict[str, list[Child]] = {}
        self.gateway_changes: list[str] = []
        self.signing_secret = secrets.token_hex(16)

    def start(self) -> None:
        rabbitmqctl("delete_vhost", VHOST, check=False)
        rabbitmqctl("add_vhost", VHOST)
        rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")
        common = {
            **os.environ,
            "AMQP_URL": f"{BROKER}/{urllib.parse.quote(VHOST, safe='')}",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{GATEWAY_PORT}",
            "DEMO_PASSWORD": self.password,
            "SIGNING_KEY_SECRET": self.signing_secret,
            "LOG_LEVEL": "WARNING",
        }
        for service in SERVICES:
            self.urls[service] = create_database(db_name(service))
            self.engines[service] = sa.create_engine(self.urls[service], pool_size=2)
        envs = {s: {**common, "SERVICE_NAME": s, "DATABASE_URL": self.urls[s]} for s in SERVICES}
        for service in SERVICES:
            subprocess.run(
                [PYTHON, "-m", f"{service}.entrypoints.cli", "migrate"],
                env=envs[service],
                check=True,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
        subprocess.run(
            [PYTHON, "-m", "identity.entrypoints.cli", "seed-demo"],
            env=envs["identity"],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for service in SERVICES:
            for i in range(self.instances):
                name = f"{service}-web-{i + 1}"
                app = f"{service}.entrypoints.web:create_app()"
                child = start_gunicorn(self.procs, name, app, web_port(service, i), envs[service], self.tmp / name)
                self.groups.setdefault(f"{service}-web", []).append(child)
                wenv = {
                    **envs[service],
                    "WORKER_METRICS_PORT": str(worker_port(service, i)),
                    "PROMETHEUS_MULTIPROC_DIR": str(self.tmp / f"{service}-worker-{i + 1}"),
                }
                (self.tmp / f"{service}-worker-{i + 1}").mkdir()
                worker = self.procs.start(
                    f"{service}-worker-{i + 1}", [PYTHON, "-m", f"{service}.entrypoints.worker"], env=wenv
                )
                self.groups.setdefault(f"{service}-worker", []).append(worker)
        gateway = render_gateway(
            self.tmp / "nginx", GATEWAY_PORT, {LOCAL_WEB_PORTS[s]: web_port(s, 0) for s in SERVICES}
        )
        text = gateway.conf.read_text()
        for service in SERVICES:
            first = f"        server 127.0.0.1:{web_port(service, 0)};\n"
            more = "".join(f"        server 127.0.0.1:{web_port(service, i)};\n" for i in range(1, self.instances))
            if first not in text:
                raise BenchError(f"no upstream line {first.strip()!r} in the gateway copy")
            text = text.replace(first, first + more)
        gateway.conf.write_text(text)
        self.gateway_changes = [*gateway.changes, f"{self.instances} server line(s) per service upstream"]
        self.groups["gateway"] = [start_gateway(self.procs, gateway, GATEWAY_PORT)]
        for service in SERVICES:
            for i in range(self.instances):
                wait_http(f"http://127.0.0.1:{web_port(service, i)}/health/ready", timeout=90)
                wait_http(f"http://127.0.0.1:{worker_port(service, i)}/health/ready", timeout=90)

    def stop(self) -> None:
        self.procs.stop_all()
        for engine in self.engines.values():
            engine.dispose()
        for service in SERVICES:
            try:
                drop_database(db_name(service))
            except Exception as exc:
                log(f"could not drop {db_name(service)}: {exc}")
        rabbitmqctl("delete_vhost", VHOST, check=False)

    def scalar(self, service: str, sql: str, **params: Any) -> Any:
        with self.engines[service].connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()

    def worker_metric(self, service: str, name: str, **labels: str) -> float:
        """The sum over the service's worker copies of one counter's samples matching `labels`."""
        total = 0.0
        for i in range(self.instances):
            _, raw = http_request(f"http://127.0.0.1:{worker_port(service, i)}/metrics")
            for line in raw.decode().splitlines():
                if not line.startswith(name + "{"):
                    continue
                found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
                if all(found.get(k) == v for k, v in labels.items()):
                    total += float(line.rsplit(" ", 1)[1])
        return total


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")


def gateway_call(path: str, token: str | None, body: bytes | None, content_type: str) -> Any:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, raw = http_request(f"http://127.0.0.1:{GATEWAY_PORT}{path}", data=body, headers=headers, timeout=300)
    if status not in (200, 201):
        raise BenchError(f"POST {path} answered {status}: {raw[:300]!r}")
    return json.loads(raw)


def password_token(username: str, password: str) -> str:
    form = urllib.parse.urlencode({"grant_type": "password", "username": username, "password": password}).encode()
    return str(gateway_call("/api/auth/token", None, form, "application/x-www-form-urlencoded")["access_token"])


# -- seeding --------------------------------------------------------------------------------------
def seed(stack: Stack, schools: int) -> dict[str, Any]:
    from identity.adapters.passwords import hash_password

    admin = password_token("admin", stack.password)
    county_code, county_name = COUNTY
    codes = [f"{county_code}{9000 + i:04d}" if i < 1000 else f"{county_code}{i:06d}" for i in range(schools)]
    orgs = "code,name,level,parent_code\n" + "".join(
        f"{c},基准第{i}学校,school,{county_code}\n" for i, c in enumerate(codes)
    )
    gateway_call("/api/orgs/import", admin, orgs.encode(), "text/csv")
    users = "username,display_name,org_code,phone,email,gender,birth_date,roles\n"
    for i, code in enumerate(codes):
        users += f"dd.admin.{code},校长{i},{code},,,,,school_admin\n"
        users += f"dd.cio.{code},首席信息官{i},{code},13800008000,c{i}@example.cn,男,1978-05-04,\n"
    lines = users.splitlines()
    for start in range(0, len(lines) - 1, 500):  # the import takes all rows or none: in slices
        chunk = "\n".join([lines[0], *lines[1 + start : 1 + start + 500]]) + "\n"
        gateway_call("/api/users/import", admin, chunk.encode(), "text/csv")
    with stack.engines["identity"].begin() as conn:
        conn.execute(
            sa.text("UPDATE users SET password_hash = :h WHERE username LIKE 'dd.admin.%'"),
            {"h": hash_password(stack.password)},
        )
        ids = dict(conn.execute(sa.text("SELECT username, id FROM users WHERE username LIKE 'dd.cio.%'")).all())
    log("waiting for the directory to reach nominations, approvals and notifications over the bus")
    for service, table, count in (
        ("nominations", "directory_users", 2 * schools),
        ("approvals", "directory_orgs", schools),
        ("notifications", "directory_users", 2 * schools),
    ):
        wait_for(
            lambda s=service, t=table, n=count: stack.scalar(s, f"SELECT count(*) FROM {t}") >= n,  # noqa: S608
            300,
            f"{service}'s {table}",
        )
    _certificates(stack, ids)
    city = password_token("city.reviewer", stack.password)
    deadline = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 30 * 86400))
    body = {
        "title": "截止日压力测试批次",
        "policy_id": "jiaozuo-2022",
        "issuing_org_code": "4108",
        "deadline": deadline,
    }
    round_id = gateway_call("/api/rounds", city, json.dumps(body, ensure_ascii=False).encode(), "application/json")[
        "id"
    ]
    wait_for(
        lambda: stack.scalar("approvals", "SELECT count(*) FROM rounds WHERE round_id = :r", r=round_id) == 1,
        60,
        "the round at approvals",
    )
    return {
        "round_id": round_id,
        "schools": [
            {
                "code": c,
                "name": f"基准第{i}学校",
                "admin": f"dd.admin.{c}",
                "candidate_user_id": str(ids[f"dd.cio.{c}"]),
            }
            for i, c in enumerate(codes)
        ],
        "form": SUBMIT_FORM,
        "photo_hex": PNG.hex(),
        "county_reviewer": "county.reviewer",
        "county_name": county_name,
    }


def signed_in_earlier(stack: Stack, usernames: list[str]) -> dict[str, str]:
    """Access tokens for accounts that signed in before the measured window ("earlier that day"): what identity's
    password grant returns, made with identity's own code and key ring from its database (the same `kid`, claims
    and grants), without paying the argon2id check again for each of thousands of schools in the setup."""
    from identity.bootstrap import bootstrap
    from identity.service_layer.tokens import issue_access_token

    from shared.config import load_settings

    saved = os.environ.get("SIGNING_KEY_SECRET"), os.environ.get("PUBLIC_BASE_URL")
    os.environ["SIGNING_KEY_SECRET"] = stack.signing_secret
    os.environ["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{GATEWAY_PORT}"
    try:
        service = bootstrap(load_settings("identity", database_url=stack.urls["identity"]))
    finally:
        for name, value in zip(("SIGNING_KEY_SECRET", "PUBLIC_BASE_URL"), saved, strict=True):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    tokens: dict[str, str] = {}
    try:
        with service.uow() as uow:
            for username in usernames:
                user = uow.users.by_username(username)
                assert user is not None, username
                tokens[username] = issue_access_token(
                    service.keyring,
                    service.policy,
                    subject=str(user.id),
                    grants=user.grant_pairs(),
                    name=user.display_name,
                    org_code=user.org_code,
                    username=user.username,
                ).access_token
    finally:
        service.engine.dispose()
    return tokens


def _certificates(stack: Stack, ids: dict[str, Any]) -> None:
    """What training's `training.certificate.issued` would project: a city-level CIO certificate per candidate."""
    from nominations.bootstrap import bootstrap
    from nominations.service_layer.projections import on_certificate_issued

    from shared.bus.envelope import CloudEvent
    from shared.config import load_settings

    service = bootstrap(load_settings("nominations", database_url=stack.urls["nominations"]))
    try:
        with service.uow() as uow:
            for n, user_id in enumerate(ids.values()):
                data = {
                    "certificate_id": str(uuid.uuid4()),
                    "number": f"JZ-CIO-DD-{n:05d}",
                    "person_user_id": str(user_id),
                    "kind": "cio",
                    "level": "city",
                    "issuer": "焦作市教育局",
                    "issued_on": "2026-01-10",
                    "expires_on": None,
                }
                on_certificate_issued(
                    CloudEvent(type="training.certificate.issued", source="/cio/training", data=data), uow
                )
            uow.commit()
    finally:
        service.engine.dispose()


# -- CPU ------------------------------------------------------------------------------------------
def _tree_cpu(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            with_times = proc.cpu_times()
            total += with_times.user + with_times.system + with_times.children_user + with_times.children_system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def _named_cpu(*names: str) -> float:
    total = 0.0
    for proc in psutil.process_iter(["name", "cpu_times"]):
        times = proc.info["cpu_times"]
        if proc.info["name"] in names and times is not None:
            # children_*: backends that exited and were reaped by the postmaster count too
            total += times.user + times.system + times.children_user + times.children_system
    return total


def transactions_snapshot(stack: Stack) -> dict[str, int]:
    """Each service database's committed and rolled-back transactions so far (pg_stat_database). A backend
    reports its counts when a transaction ends but at most once a second, and an idle one within 10 s
    (PostgreSQL 15), so a snapshot waits that long first: it then holds every transaction before it."""
    time.sleep(11)
    with stack.engines["identity"].connect() as conn:
        rows = conn.execute(
            sa.text("SELECT datname, xact_commit + xact_rollback FROM pg_stat_database WHERE datname = ANY(:names)"),
            {"names": [db_name(s) for s in SERVICES]},
        ).all()
    return {str(name): int(count) for name, count in rows}


def cpu_snapshot(stack: Stack) -> dict[str, float]:
    snap = {group: sum(_tree_cpu(c.proc.pid) for c in children) for group, children in stack.groups.items()}
    snap["postgresql (all, shared)"] = _named_cpu("postgres", "postmaster")
    snap["rabbitmq (all, shared)"] = _named_cpu("beam.smp", "erl_child_setup", "inet_gethost", "epmd")
    times = psutil.cpu_times()
    snap["_machine_busy"] = sum(times) - times.idle - getattr(times, "iowait", 0.0)
    return snap


def per_submission(
    platform_cpu: float, before: dict[str, int], after: dict[str, int], submitted: int, in_db: int
) -> dict[str, Any]:
    """What one submission's whole journey (its requests, the reviewers' decisions on it, the events it causes in
    every service) cost the platform, and the ceiling that cost puts on this machine: at `cpu_s` CPU-seconds a
    submission, `cpus` cores carry at most `cpus / cpu_s` submissions a second whatever else is tuned."""
    transactions = {service: after.get(db_name(service), 0) - before.get(db_name(service), 0) for service in SERVICES}
    if not submitted:
        return {"transactions": transactions}
    cpu_s = platform_cpu / submitted
    return {
        "cpu_s": round(cpu_s, 3),
        "machine_ceiling_submissions_per_s": round((os.cpu_count() or 1) / cpu_s, 1),
        # every transaction of the window, from the drained bus included, over the submissions that caused them
        "transactions": {s: round(n / max(in_db, 1), 1) for s, n in transactions.items()},
        "transactions_total": round(sum(transactions.values()) / max(in_db, 1), 1),
    }


# -- one run --------------------------------------------------------------------------------------
def run_once(args: argparse.Namespace, instances: int) -> dict[str, Any]:
    tmp = bench_tempdir(f"cio-bench-deadline-{instances}-")
    password = secrets.token_urlsafe(16)
    stack = Stack(tmp, instances, password)
    try:
        stack.start()
        log(f"seeding {args.schools} schools")
        plan = seed(stack, args.schools)
        plan["reviewers"] = args.reviewers
        if args.signed_in_earlier:
            minted = signed_in_earlier(stack, [school["admin"] for school in plan["schools"]])
            for school in plan["schools"]:
                school["token"] = minted[school["admin"]]
        plan_path = tmp / "plan.json"
        plan_path.write_text(json.dumps(plan, ensure_ascii=False))
        env = {**os.environ, "DEADLINE_DAY_PLAN": str(plan_path), "DEADLINE_DAY_PASSWORD": password}
        command = [
            str(Path(PYTHON).with_name("locust")),
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--users",
            str(args.users + args.reviewers),
            "--spawn-rate",
            str(args.spawn_rate),
            "--run-time",
            f"{args.duration}s",
            "--host",
            f"http://127.0.0.1:{GATEWAY_PORT}",
            "--csv",
            str(tmp / "locust"),
            "--only-summary",
            "--stop-timeout",
            "10",
            "--loglevel",
            "WARNING",
        ]
        log(f"{instances} instance(s): {args.users} school users + {args.reviewers} reviewers for {args.duration}s")
        locust_log = (tmp / "locust.log").open("w")
        transactions_before = transactions_snapshot(stack)
        _rusage_children_since({})  # what earlier children (migrations, seeding) spent is not the load's
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=locust_log, stderr=subprocess.STDOUT)
        before = cpu_snapshot(stack)
        started = time.monotonic()
        proc.wait(timeout=args.duration + 120)
        elapsed = time.monotonic() - started
        after = cpu_snapshot(stack)
        locust_log.close()
        locust_cpu = _rusage_children_since(before)
        stats = _read_stats(tmp / "locust_stats.csv")
        submitted_ok = stats.get("submit", {}).get("requests", 0) - stats.get("submit", {}).get("failures", 0)

        log("load over; waiting for the bus to drain")
        nominations_submitted = stack.scalar(
            "nominations",
            "SELECT count(*) FROM nominations WHERE round_id = :r AND status <> 'draft'",
            r=plan["round_id"],
        )
        try:
            wait_for(
                lambda: stack.scalar("approvals", "SELECT count(*) FROM review_cases") >= nominations_submitted,
                120,
                "cases",
            )
        except BenchError as exc:
            log(str(exc))
        checks = {
            "nominations_submitted_in_db": nominations_submitted,
            "review_cases": stack.scalar("approvals", "SELECT count(*) FROM review_cases"),
            "review_cases_distinct_nominations": stack.scalar(
                "approvals", "SELECT count(DISTINCT nomination_id) FROM review_cases"
            ),
            "unit_tasks": stack.scalar("approvals", "SELECT count(*) FROM review_tasks WHERE stage_index = 0"),
            "unit_tasks_distinct_cases": stack.scalar(
                "approvals", "SELECT count(DISTINCT case_id) FROM review_tasks WHERE stage_index = 0"
            ),
            "submitted_events_published": stack.worker_metric(
                "nominations", "bus_messages_published_total", type="nominations.nomination.submitted"
            ),
            "submitted_events_in_outbox": stack.scalar(
                "nominations", "SELECT count(*) FROM outbox WHERE type = 'nominations.nomination.submitted'"
            ),
            "consumer_duplicates": {
                s: stack.worker_metric(s, "bus_messages_consumed_total", outcome="duplicate") for s in SERVICES
            },
            "consumer_processed": {
                s: stack.worker_metric(s, "bus_messages_consumed_total", outcome="processed") for s in SERVICES
            },
        }
        transactions_after = transactions_snapshot(stack)  # after the drain: the submissions' events are applied
        cpu = {k: round(after[k] - before[k], 1) for k in before if not k.startswith("_") and k in after}
        platform_cpu = sum(cpu.values())  # the services, the gateway, PostgreSQL and RabbitMQ: not Locust nor others
        cpu["locust (load generator)"] = locust_cpu
        busy = after["_machine_busy"] - before["_machine_busy"]
        cpu["other (machine busy time not listed above)"] = round(busy - sum(cpu.values()), 1)
        failures = sum(s["failures"] for s in stats.values())
        clean = (
            failures == 0
            and proc.returncode in (0, 1)
            and checks["review_cases"] == checks["review_cases_distinct_nominations"] == nominations_submitted
            and checks["unit_tasks"] == checks["unit_tasks_distinct_cases"] == nominations_submitted
            and checks["submitted_events_published"] == checks["submitted_events_in_outbox"] == nominations_submitted
        )
        return {
            "instances": instances,
            "duration_s": round(elapsed, 1),
            "submissions": submitted_ok,
            "submissions_per_s": round(submitted_ok / args.duration, 1),
            "steps": {name: stats[name] for name in STEPS if name in stats},
            "requests_per_s": round(
                sum(s["requests"] for s in stats.values() if s["type"] != "WAIT") / args.duration, 1
            ),
            "failures": failures,
            "failure_samples": _failures(tmp / "locust_failures.csv"),
            "cpu_seconds": cpu,
            "machine_busy_cpu_s": round(busy, 1),
            "per_submission": per_submission(
                platform_cpu, transactions_before, transactions_after, submitted_ok, nominations_submitted
            ),
            "checks": checks,
            "gateway_changes": stack.gateway_changes,
            "clean": clean,
        }
    finally:
        stack.stop()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


_children_cpu_at_start = 0.0


def _rusage_children_since(_: dict[str, float]) -> float:
    """CPU of the finished locust child (reaped by wait(), so it is in RUSAGE_CHILDREN now)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    global _children_cpu_at_start
    spent, _children_cpu_at_start = total - _children_cpu_at_start, total
    return round(spent, 1)


def _read_stats(path: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                continue
            out[row["Name"]] = {
                "type": row["Type"],
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"] or 0),
                "p99_ms": float(row["99%"] or 0),
                "max_ms": round(float(row["Max Response Time"] or 0), 1),
            }
    return out


def _failures(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [f"{r['Name']} x{r['Occurrences']}: {r['Error'][:160]}" for r in csv.DictReader(handle)][:5]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", default="1,2", help="comma-separated: one run per count (default 1,2)")
    parser.add_argument("--schools", type=int, default=3000)
    parser.add_argument("--users", type=int, default=40, help="concurrent school users")
    parser.add_argument("--reviewers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument(
        "--signed-in-earlier",
        action="store_true",
        help="schools come with the access token an earlier sign-in gave them (no password grant in the window)",
    )
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    counts = [int(n) for n in args.instances.split(",")]
    if not postgres_reachable():
        return 2
    ports = [GATEWAY_PORT] + [p(s, i) for s in SERVICES for i in range(max(counts)) for p in (web_port, worker_port)]
    try:
        ensure_ports_free(*ports)
        runs = {str(n): run_once(args, n) for n in counts}
    except BenchError as exc:
        log(f"setup failed: {exc}")
        return 2
    result: dict[str, Any] = {
        "bench": "deadline_day",
        "cpus": os.cpu_count(),
        "how": "Locust FastHttpUser, headless, through the gateway; runs one after another on fresh databases",
        "schools_seeded": args.schools,
        "school_users": args.users,
        "reviewer_users": args.reviewers,
        "sign_in": "before the window (tokens identity issued with its key ring, as an earlier sign-in would have)"
        if args.signed_in_earlier
        else "in the window: every school's administrator signs in with the password grant (argon2id)",
        "gunicorn": {
            "config": "deploy/gunicorn/gunicorn.conf.py",
            "workers": int(os.environ.get("WEB_CONCURRENCY", "2")),
            "threads": int(os.environ.get("WEB_THREADS", "4")),
            "worker_class": os.environ.get("WEB_WORKER_CLASS", "gthread"),
        },
        "rate_limit": "disabled for the benchmark",
        "runs": runs,
        "goal": {"submissions_per_s": 100, "p99_ms": 500, "failures": 0},
    }
    if "1" in runs and "2" in runs:
        result["scale_out_ratio_2_to_1"] = round(
            runs["2"]["submissions_per_s"] / max(runs["1"]["submissions_per_s"], 0.1), 2
        )
    result["clean"] = all(r["clean"] for r in runs.values())
    emit(result)
    return 0 if result["clean"] else 1


if __name__ == "__main__":
    sys.exit(main())
