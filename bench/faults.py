"""Faults with nothing lost (issue 14): drives `--submissions` nominations (default 1,000) through the gateway,
from school to appointment, while the platform's parts fail, then counts what came out. The county approves every
school's form, sends its one batch (报送至市教育局), then the city decides each form.

The stack is the e2e suite's (tests/e2e/conftest.py running_stack): every service's web (gunicorn) and worker,
the nginx gateway, the embedded PostgreSQL the stack owns, and a RabbitMQ vhost of its own on the shared server.
The driver connects from 127.0.0.2, which this stack's gateway does not rate limit. It behaves as a careful
client: it retries a 502/503/504 or a broken connection, sends Idempotency-Key on creation, and after an answer
it did not read (a retried write) re-reads the record before going on.

Faults, one after the other while submissions and decisions are in flight (`--rounds` times each):
  - RabbitMQ: every connection of the stack's vhost is closed (`rabbitmqctl close_all_connections --vhost`),
    which publishers and consumers see as a broker restart. The shared server itself is NOT restarted: other
    stacks use it. The JSON says so (`rabbitmq_fault`).
  - kill -9 of one gunicorn worker process of each service's web (its master starts another) and of each
    service's worker process (started again here, as a supervisor would).
  - PostgreSQL (the stack's embedded server): `pg_ctl restart -m fast` (every connection cut; `--outage` is
    the grace after each fault during which a 503 counts as expected).

After recovery it counts, from the services' databases and the broker: every submitted nomination has exactly
one case; every final approval exactly one appointment and one `cio` grant; one inbox message per (event,
recipient); parked messages and those without an `x-error` reason; and every answer the driver got, 5xx split
into 503 during a fault window and anything else. One JSON line on stdout:

  .venv/bin/python -m bench.faults [--submissions 1000] [--workers 6] [--outage 5] [--rounds 1] [--keep]

tests/e2e/harness/test_faults_e2e.py runs the same code with 100 submissions and one round of faults.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pika
import psutil
import psycopg
import requests

from bench.benchlib import emit, log
from shared.embedded_db import EmbeddedPostgres
from tests import infrastructure
from tests.e2e.conftest import DEMO_PASSWORD, Stack, running_stack
from tests.e2e.harness.authz import UNLIMITED_CLIENT, unlimited_session

SERVICES = ("identity", "nominations", "approvals", "training", "notifications", "governance")
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAFElEQVR4nGM8ISfHwMDAxMDAgKAAFEoBCqHkTQMAAAAASUVORK5CYII="
)
RETRYABLE = (502, 503, 504)
COUNTY = ("410802", "/4108/410802")
FORM = {
    "education": "本科",
    "ethnicity": "汉族",
    "teaching_years": 20,
    "administrative_post": "副校长",
    "professional_title": "高级教师",
    "postal_address": "焦作市解放区民主路1号",
    "work_achievements": "推进智慧校园建设。",
    "post_kind": "principal",
    "years_in_it_management": 3,
}


# -- the client's view: every answer, and when the faults were ------------------------------------------------


@dataclass
class Ledger:
    windows: list[tuple[float, float, str]] = field(default_factory=list)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    server_errors: list[dict[str, Any]] = field(default_factory=list)
    connection_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def in_fault(self, at: float) -> bool:
        return any(start <= at <= end for start, end, _ in self.windows)

    def record(self, method: str, url: str, status: int | None, at: float) -> None:
        with self.lock:
            if status is None:
                self.connection_errors += 1
                return
            self.statuses[status] += 1
            if status >= 500:
                self.server_errors.append({"status": status, "at": at, "method": method, "path": url.split("/", 3)[-1]})

    def summary(self, grace: float) -> dict[str, Any]:
        """5xx by kind: a 503 during any fault (and `grace` after it) is the platform saying "retry", including
        a request in flight on a gunicorn worker killed -9 (the gateway answers an upstream that dropped the
        connection with 503 and Retry-After; the client cannot know whether it was done, so it re-reads before
        retrying). Anything else, a 502 included, is unexpected."""

        def during(e: dict[str, Any]) -> bool:
            return any(start <= e["at"] <= end + grace for start, end, _name in self.windows)

        def kind(e: dict[str, Any]) -> str:
            if e["status"] == 503 and during(e):
                return "503_during_fault"
            return f"{e['status']}_{'during' if during(e) else 'outside'}_fault"

        expected = ("503_during_fault",)
        by = collections.Counter(kind(e) for e in self.server_errors)
        first = self.windows[0][0] if self.windows else 0.0
        return {
            "answers": dict(sorted((str(k), v) for k, v in self.statuses.items())),
            "server_errors": dict(by),
            "unexpected_5xx": sum(v for k, v in by.items() if k not in expected),
            "server_error_examples": [
                {**e, "at": round(e["at"] - first, 2), "kind": kind(e)}
                for e in self.server_errors
                if e["status"] != 503
            ][:10],
            "connection_errors": self.connection_errors,
        }


class Driver:
    """A signed-in account that retries what a careful client retries."""

    def __init__(self, stack: Stack, ledger: Ledger, username: str, password: str = DEMO_PASSWORD) -> None:
        self.base = stack.gateway
        self.ledger = ledger
        self.session = unlimited_session()
        self.username, self.password = username, password
        self.session.headers["Authorization"] = f"Bearer {self._token()}"

    def _token(self) -> str:
        def attempt() -> requests.Response:
            return self.session.post(
                f"{self.base}/api/auth/token",
                data={"grant_type": "password", "username": self.username, "password": self.password},
                timeout=30,
            )

        response = self._retry("POST", f"{self.base}/api/auth/token", attempt)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def _retry(self, method: str, url: str, attempt: Callable[[], requests.Response], deadline: float = 180) -> Any:
        end = time.monotonic() + deadline
        while True:
            try:
                response = attempt()
            except requests.RequestException:
                self.ledger.record(method, url, None, time.time())
                response = None
            if response is not None:  # when the answer came: a request in flight at a fault is answered after it
                self.ledger.record(method, url, response.status_code, time.time())
                if response.status_code not in RETRYABLE:
                    return response
            if time.monotonic() > end:
                raise RuntimeError(f"{method} {url}: still failing after {deadline}s")
            time.sleep(0.5)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"{self.base}{path}"
        response = self._retry(method, url, lambda: self.session.request(method, url, timeout=30, **kwargs))
        if response.status_code == 401:  # the access token ran out during a long run: sign in again
            self.session.headers["Authorization"] = f"Bearer {self._token()}"
            response = self._retry(method, url, lambda: self.session.request(method, url, timeout=30, **kwargs))
        return response


def until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.3)


# -- setup: schools, their administrators, candidates with certificates, a round -----------------------------


@dataclass
class School:
    index: int
    code: str
    path: str
    admin_username: str
    candidate_id: str = ""
    nomination_id: str = ""
    submitted: bool = False
    county_approved: bool = False
    appointed: bool = False


def setup(stack: Stack, ledger: Ledger, count: int, workers: int) -> tuple[list[School], str]:
    admin = Driver(stack, ledger, "admin")
    trainer = Driver(stack, ledger, "training.admin")
    city = Driver(stack, ledger, "city.reviewer")
    run = uuid.uuid4().hex[:4]
    # Schools 4108029000-4108029999 of 解放区 (the demo's are 41080200xx); the stack's databases are its own.
    schools = [
        School(i, f"4108029{i:03d}", f"{COUNTY[1]}/4108029{i:03d}", f"fault.{run}.{i:04d}") for i in range(count)
    ]

    def one(school: School) -> None:
        created = admin.call(
            "POST",
            "/api/orgs",
            json={
                "code": school.code,
                "name": f"故障演练学校{school.index:04d}",
                "level": "school",
                "parent_code": COUNTY[0],
            },
        )
        assert created.status_code in (201, 409), created.text
        user = admin.call(
            "POST",
            "/api/users",
            json={
                "username": school.admin_username,
                "display_name": f"校长{school.index:04d}",
                "org_code": school.code,
                "password": DEMO_PASSWORD,
            },
        )
        assert user.status_code == 201, user.text
        grant = admin.call(
            "POST", f"/api/users/{user.json()['id']}/grants", json={"role": "school_admin", "org_code": school.code}
        )
        assert grant.status_code == 201, grant.text
        candidate = admin.call(
            "POST",
            "/api/users",
            json={
                "username": f"{school.admin_username}.cio",
                "display_name": f"候选人{school.index:04d}",
                "org_code": school.code,
                "phone": "13800138000",
                "email": "candidate@example.cn",
                "gender": "女",
                "birth_date": "1980-03-08",
                "password": DEMO_PASSWORD,
            },
        )
        assert candidate.status_code == 201, candidate.text
        school.candidate_id = candidate.json()["id"]

        def certified() -> bool:
            r = trainer.call(
                "POST",
                "/api/certificates",
                json={
                    "number": f"JZ-FAULT-{run}-{school.index:04d}",
                    "person_user_id": school.candidate_id,
                    "kind": "cio",
                    "level": "city",
                    "issuer": "焦作市教育局",
                    "issued_on": "2026-06-01",
                },
            )
            return r.status_code in (201, 409)

        until(certified, 120, "training knows the candidate")

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, schools))
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat()
    round_ = city.call(
        "POST",
        "/api/rounds",
        json={"title": f"故障演练{run}", "policy_id": "jiaozuo-2022", "issuing_org_code": "4108", "deadline": deadline},
    )
    assert round_.status_code == 201, round_.text
    return schools, str(round_.json()["id"])


# -- the journey of one school, written to survive any answer it did not read ---------------------------------


def _etag(driver: Driver, nid: str) -> tuple[str, dict[str, Any]]:
    r = driver.call("GET", f"/api/nominations/{nid}")
    assert r.status_code == 200, r.text
    return r.headers["ETag"], r.json()


def submit(stack: Stack, ledger: Ledger, school: School, round_id: str) -> None:
    driver = Driver(stack, ledger, school.admin_username)

    def created() -> requests.Response | None:
        r = driver.call(
            "POST",
            "/api/nominations",
            json={"round_id": round_id, "school_org_code": school.code, "candidate_user_id": school.candidate_id},
            headers={"Idempotency-Key": f"fault-{round_id}-{school.code}"},
        )
        return r if r.status_code in (200, 201) else None

    school.nomination_id = until(created, 120, "nominations knows the school and candidate").json()["id"]
    nid = school.nomination_id
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("PATCH", "", {"json": {"form": FORM}}),
        ("PUT", "/photo", {"data": PNG, "headers": {"Content-Type": "image/png"}}),
        ("POST", "/attestation", {"json": {"signer_name": "王老师", "confirm": True}}),
    ]
    for method, suffix, kwargs in steps:
        for _ in range(10):
            etag, _body = _etag(driver, nid)
            headers = {**kwargs.get("headers", {}), "If-Match": etag}
            r = driver.call(method, f"/api/nominations/{nid}{suffix}", **{**kwargs, "headers": headers})
            if r.status_code in (200, 201):
                break
            assert r.status_code in (409, 412), f"{method} {suffix}: {r.status_code} {r.text}"
    until(lambda: driver.call("GET", f"/api/nominations/{nid}/eligibility").json().get("eligible"), 120, "eligible")
    for _ in range(20):
        etag, body = _etag(driver, nid)
        if body["status"] != "draft":
            break
        r = driver.call("POST", f"/api/nominations/{nid}/submit", headers={"If-Match": etag})
        if r.status_code == 200:
            break
        assert r.status_code in (409, 412), f"submit: {r.status_code} {r.text}"
    school.submitted = True


def _decide_open_task(driver: Driver, school: School, body: dict[str, Any], stage_key: str) -> None:
    """Decide the school's open task of `stage_key` (waiting until it is there and, at a stage that awaits the
    county's batch, released)."""

    def open_task() -> dict[str, Any] | None:
        r = driver.call("GET", "/api/tasks", params={"school_org_path": school.path, "status": "open"})
        items = r.json()["items"] if r.status_code == 200 else []
        task = next((t for t in items if t["nomination_id"] == school.nomination_id), None)
        if task is None or task["stage_key"] != stage_key or task.get("awaiting_batch"):
            return None
        return task

    task = until(open_task, 180, f"the open {stage_key} task of {school.code}")
    r = driver.call("POST", f"/api/tasks/{task['id']}/decision", json=body)
    # 409: a retried decision that had been recorded (or the task moved on): the next stage's task shows it.
    assert r.status_code in (200, 409), f"decision: {r.status_code} {r.text}"


def decide_below_the_city(drivers: dict[str, Driver], school: School, today: str) -> None:
    """The unit's opinion and the county's review of this school's case."""
    unit = {"decision": "approve", "opinion": "同意推荐", "seal": {"unit_name": "学校", "date": today}}
    _decide_open_task(drivers[school.admin_username], school, unit, "unit")
    county = {"decision": "approve", "opinion": "符合条件", "seal": {"unit_name": "解放区教育局", "date": today}}
    _decide_open_task(drivers["county.reviewer"], school, county, "county_review")
    school.county_approved = True


def _county_approval_known(county: Driver, nomination_id: str) -> bool:
    """Nominations has heard of the county's approval (its history holds the county_review stage's approve)."""
    r = county.call("GET", f"/api/nominations/{nomination_id}/history")
    if r.status_code != 200:
        return False
    return any(
        line["action"].startswith("review_")
        and (line.get("details") or {}).get("stage_key") == "county_review"
        and (line.get("details") or {}).get("decision") == "approve"
        for line in r.json()["items"]
    )


def send_the_batch(county: Driver, round_id: str, schools: list[School]) -> None:
    """报送至市教育局 (「推荐表、汇总表各1份」): the county sends one batch of every form it approved, once nominations
    knows each approval (a form left out of the one batch would never reach the city). A retried send that had
    been recorded answers 409 (already sent)."""
    for school in schools:
        until(lambda s=school: _county_approval_known(county, s.nomination_id), 180, f"{school.code}'s county approval")
    r = county.call(
        "POST", f"/api/rounds/{round_id}/batches", json={"org_code": COUNTY[0], "opinion": "经审核，同意推荐"}
    )
    assert r.status_code in (201, 409), f"batch: {r.status_code} {r.text}"
    if r.status_code == 201:
        sent = {n["nomination_id"] for n in r.json()["nominations"]}
        missing = [s.code for s in schools if s.nomination_id not in sent]
        assert not missing, f"the batch left out {missing}"


def decide_at_the_city(drivers: dict[str, Driver], school: School, today: str) -> None:
    """The city's appointment, once the county's batch holds the form."""
    body = {
        "decision": "approve",
        "opinion": "同意聘任",
        "seal": {"unit_name": "焦作市教育局", "date": today},
        "document_number": f"焦教文〔2026〕{school.index}号",
    }
    _decide_open_task(drivers["city.reviewer"], school, body, "city_review")
    school.appointed = True


# -- the faults -----------------------------------------------------------------------------------------------


def close_broker_connections(stack: Stack) -> str:
    vhost = urllib.parse.unquote(stack.amqp_url.rsplit("/", 1)[-1])
    subprocess.run(
        ["rabbitmqctl", "-q", "close_all_connections", "--vhost", vhost, "--limit", "10000", "faults: closed"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return vhost


def kill_web_workers(stack: Stack) -> list[int]:
    killed = []
    for service in SERVICES:
        master = psutil.Process(stack.processes[f"{service}-web"].pid)
        children = master.children()
        if children:
            children[0].send_signal(signal.SIGKILL)
            killed.append(children[0].pid)
    return killed


def kill_and_restart_workers(stack: Stack, logs: Path) -> list[int]:
    killed = []
    for service in SERVICES:
        name = f"{service}-worker"
        proc = stack.processes[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        killed.append(proc.pid)
        command, env = stack.commands[name]
        out = (logs / f"{name}.restarted.log").open("ab")
        stack.processes[name] = subprocess.Popen(
            command, env=env, cwd=Path(__file__).resolve().parents[1], stdout=out, stderr=subprocess.STDOUT
        )
    return killed


def restart_postgres(run_dir: Path) -> None:
    """`pg_ctl restart -m fast` of the stack's server (its own options kept): every connection is cut, and the
    services answer without a database until it is back."""
    server = EmbeddedPostgres(run_dir / "postgres").start()  # the stack's server: attaches, does not start another
    server._pg_ctl("restart", "-m", "fast")


def inject(
    stack: Stack, ledger: Ledger, run_dir: Path, outage: float, rounds: int, go: threading.Event, done: threading.Event
) -> list[dict[str, Any]]:
    """Each fault once per round, spread over the run; returns what was done, with its time window."""
    events: list[dict[str, Any]] = []
    go.wait()
    for _ in range(rounds):
        for name, act in (
            ("rabbitmq_connections_closed", lambda: close_broker_connections(stack)),
            ("web_worker_killed", lambda: kill_web_workers(stack)),
            ("worker_killed_and_restarted", lambda: kill_and_restart_workers(stack, stack.logs)),
            ("postgres_restarted", lambda: restart_postgres(run_dir)),
        ):
            if done.wait(3):
                return events
            start = time.time()
            detail = act()
            end = time.time()
            ledger.windows.append((start, end, name))
            events.append({"fault": name, "seconds": round(end - start, 2), "detail": detail})
            log(f"fault: {name} ({end - start:.1f}s)")
    return events


# -- counting -------------------------------------------------------------------------------------------------


def _db(stack: Stack, service: str) -> psycopg.Connection[Any]:
    return psycopg.connect(stack.envs[service]["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1))


def count(stack: Stack, schools: list[School], round_id: str) -> dict[str, Any]:
    with _db(stack, "nominations") as conn:
        submitted = {
            str(r[0])
            for r in conn.execute(
                "SELECT id FROM nominations WHERE round_id = %s AND status <> 'draft'", (round_id,)
            ).fetchall()
        }
    with _db(stack, "approvals") as conn:
        cases = collections.Counter(
            str(r[0]) for r in conn.execute("SELECT nomination_id FROM review_cases").fetchall()
        )
        approved = {
            str(r[0])
            for r in conn.execute("SELECT nomination_id FROM review_cases WHERE status = 'approved'").fetchall()
        }
        appointments = collections.Counter(
            str(r[0]) for r in conn.execute("SELECT nomination_id FROM appointments").fetchall()
        )
        people = {
            str(r[0]): str(r[1])
            for r in conn.execute("SELECT nomination_id, person_user_id FROM appointments").fetchall()
        }
    with _db(stack, "identity") as conn:
        cio_grants = collections.Counter(
            str(r[0]) for r in conn.execute("SELECT user_id FROM role_grants WHERE role = 'cio'").fetchall()
        )
    with _db(stack, "notifications") as conn:
        doubled_messages = conn.execute(
            "SELECT count(*) FROM (SELECT event_id, recipient_id FROM messages GROUP BY 1, 2 HAVING count(*) > 1) d"
        ).fetchone()[0]  # type: ignore[index]
        messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]  # type: ignore[index]
    mine = {s.nomination_id for s in schools if s.nomination_id}
    return {
        "nominations_submitted": len(submitted & mine),
        "cases_lost": sum(1 for n in submitted & mine if cases[n] == 0),
        "cases_doubled": sum(1 for n in submitted & mine if cases[n] > 1),
        "final_approvals": len(approved & mine),
        "appointments_lost": sum(1 for n in approved & mine if appointments[n] == 0),
        "appointments_doubled": sum(1 for n in approved & mine if appointments[n] > 1),
        "cio_grants_lost": sum(1 for n in approved & mine if cio_grants[people.get(n, "")] == 0),
        "cio_grants_doubled": sum(1 for n in approved & mine if cio_grants[people.get(n, "")] > 1),
        "inbox_messages": messages,
        "inbox_messages_doubled": doubled_messages,
    }


def parked(stack: Stack) -> dict[str, int]:
    """Messages consumers gave up on (`<queue>.parking`), and those among them with no `x-error` reason."""
    vhost = urllib.parse.unquote(stack.amqp_url.rsplit("/", 1)[-1])
    listing = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages", "--no-table-headers"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    total = without_reason = 0
    connection = pika.BlockingConnection(pika.URLParameters(stack.amqp_url))
    try:
        channel = connection.channel()
        for line in listing.splitlines():
            name, _, messages = line.strip().rpartition("\t")
            if not name.endswith(".parking") or int(messages or 0) == 0:
                continue
            total += int(messages)
            tags = []
            for _ in range(int(messages)):
                method, properties, _body = channel.basic_get(name)
                if method is None:
                    break
                tags.append(method.delivery_tag)
                if not (properties.headers or {}).get("x-error"):
                    without_reason += 1
            for tag in tags:
                channel.basic_nack(tag, requeue=True)
    finally:
        connection.close()
    return {"parked": total, "parked_without_reason": without_reason}


# -- the run --------------------------------------------------------------------------------------------------


def run_faults(
    stack: Stack, run_dir: Path, submissions: int, workers: int, outage: float, rounds: int
) -> dict[str, Any]:
    ledger = Ledger()
    started = time.monotonic()
    log(f"setup: {submissions} schools, administrators, candidates, certificates")
    schools, round_id = setup(stack, ledger, submissions, workers)
    setup_seconds = time.monotonic() - started
    go, done = threading.Event(), threading.Event()
    faults: list[dict[str, Any]] = []
    injector = threading.Thread(
        target=lambda: faults.extend(inject(stack, ledger, run_dir, outage, rounds, go, done)), daemon=True
    )
    injector.start()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    drivers: dict[str, Driver] = {}
    drivers_lock = threading.Lock()
    failures: list[str] = []

    def journey(school: School) -> None:
        try:
            submit(stack, ledger, school, round_id)
            go.set()  # the faults begin once submissions are flowing
            with drivers_lock:
                for username in ("county.reviewer", "city.reviewer", school.admin_username):
                    if username not in drivers:
                        drivers[username] = Driver(stack, ledger, username)
            decide_below_the_city(drivers, school, today)
        except Exception as exc:
            failures.append(f"{school.code}: {type(exc).__name__}: {str(exc)[:200]}")

    def at_the_city(school: School) -> None:
        try:
            decide_at_the_city(drivers, school, today)
        except Exception as exc:
            failures.append(f"{school.code}: {type(exc).__name__}: {str(exc)[:200]}")

    drive_started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(journey, schools))
    # 报送: the county sends its one batch of what it approved; then the city decides each form
    approved = [s for s in schools if s.county_approved]
    if approved:
        try:
            send_the_batch(drivers["county.reviewer"], round_id, approved)
        except Exception as exc:
            failures.append(f"batch: {type(exc).__name__}: {str(exc)[:200]}")
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(at_the_city, approved))
    drive_seconds = time.monotonic() - drive_started
    done.set()
    go.set()
    injector.join(timeout=120)

    # Recovery: the bus drains; the counts settle (or the time runs out and what is missing is reported).
    def settled() -> dict[str, Any] | None:
        counts = count(stack, schools, round_id)
        pending = counts["final_approvals"] < sum(s.appointed for s in schools) or any(
            counts[k] for k in ("cases_lost", "appointments_lost", "cio_grants_lost")
        )
        return None if pending else counts

    with contextlib.suppress(RuntimeError):
        until(settled, 180, "the counts to settle")
    counts = count(stack, schools, round_id)
    lost = counts["cases_lost"] + counts["appointments_lost"] + counts["cio_grants_lost"]
    doubled = (
        counts["cases_doubled"]
        + counts["appointments_doubled"]
        + counts["cio_grants_doubled"]
        + counts["inbox_messages_doubled"]
    )
    return {
        "benchmark": "faults",
        "submissions": submissions,
        "submitted": sum(s.submitted for s in schools),
        "appointed_by_driver": sum(s.appointed for s in schools),
        **counts,
        **parked(stack),
        "lost": lost,
        "doubled": doubled,
        **ledger.summary(grace=outage + 10),
        "driver_failures": len(failures),
        "driver_failure_examples": failures[:5],
        "faults": faults,
        "rabbitmq_fault": "all connections of the stack's own vhost closed (rabbitmqctl close_all_connections "
        "--vhost), not a restart of the shared server",
        "postgres_fault": "the stack's embedded PostgreSQL restarted (pg_ctl restart -m fast)",
        "workers": workers,
        "setup_seconds": round(setup_seconds, 1),
        "drive_seconds": round(drive_seconds, 1),
        "cpus": os.cpu_count(),
    }


@contextlib.contextmanager
def faults_stack(keep: bool) -> Iterator[tuple[Stack, Path]]:
    infra = replace(
        infrastructure.local(os.environ),
        amqp=os.environ.get("BENCH_AMQP_BASE", infrastructure.LOCAL_AMQP),
        pg=os.environ.get("BENCH_PG_ADMIN_URL", infrastructure.LOCAL_PG),
    )
    tmp = Path(tempfile.mkdtemp(prefix="cio-faults-"))
    try:
        with running_stack(infra, tmp, unlimited_clients=(UNLIMITED_CLIENT,)) as stack:
            yield stack, tmp
    finally:
        if keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--outage", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.submissions <= 1000:
        parser.error("--submissions: 1 to 1000 (one school each, 4108029000-4108029999)")
    with faults_stack(args.keep) as (stack, run_dir):
        result = run_faults(stack, run_dir, args.submissions, args.workers, args.outage, args.rounds)
    emit(result)
    return 0 if result["lost"] == 0 and result["doubled"] == 0 and result["unexpected_5xx"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
