"""Backups that restore (issue 20): after a journey across every service, `scripts/backup.py backup` dumps the
embedded databases `make run` uses, `restore` puts them into a fresh PostgreSQL, and the platform started on the
restored databases answers the same reads as the one the backup was taken from."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from governance.domain.scheduling import month_of, previous_month, reminder_due

from shared import clock
from shared.embedded_db import EmbeddedPostgres
from tests.conftest import ROOT, fresh_vhost
from tests.e2e.conftest import Stack, _run_processes, nginx_render, running_stack, token
from tests.e2e.test_cio_workflow_e2e import PNG
from tests.e2e.test_governance_work_e2e import DUE_DAY, REMINDER_DAYS, governance_check
from tests.helpers import wait_until
from tests.infrastructure import Infrastructure

pytestmark = pytest.mark.e2e

BACKUP = [sys.executable, str(ROOT / "scripts" / "backup.py")]
SERVICES = {"identity", "nominations", "approvals", "training", "notifications", "governance"}


class Client:
    def __init__(self, stack: Stack, username: str, password: str | None = None) -> None:
        access = token(stack, username, password) if password else token(stack, username)
        self.base = stack.gateway
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {access}"

    def call(self, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, f"{self.base}{path}", timeout=15, **kwargs)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response


def journey(stack: Stack) -> dict[str, str]:
    """A candidate known to identity and training, a round, a submitted nomination, the unit's approval and the
    county reviewer's task and notification: a fact in every service's database."""
    admin, school = Client(stack, "admin"), Client(stack, "school.admin")
    county, city, trainer = (
        Client(stack, "county.reviewer"),
        Client(stack, "city.reviewer"),
        Client(stack, "training.admin"),
    )
    username = f"wang.{uuid.uuid4().hex[:6]}"
    person = admin.call(
        "POST",
        "/api/users",
        expect=201,
        json={
            "username": username,
            "display_name": "王五",
            "org_code": "4108020001",
            "phone": "13900139000",
            "gender": "男",
            "birth_date": "1980-03-02",
        },
    ).json()
    number = f"JZ-CIO-{uuid.uuid4().hex[:6]}"
    certificate = {
        "number": number,
        "person_user_id": person["id"],
        "kind": "cio",
        "level": "city",
        "issuer": "焦作市教育局",
        "issued_on": "2026-06-01",
    }
    wait_until(
        lambda: trainer.call("POST", "/api/certificates", expect=None, json=certificate).status_code == 201,
        timeout=30,
        interval=0.3,
        message="training knows the candidate",
    )
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat()
    round_id = city.call(
        "POST",
        "/api/rounds",
        expect=201,
        json={"title": "备份演练批次", "policy_id": "jiaozuo-2022", "issuing_org_code": "4108", "deadline": deadline},
    ).json()["id"]

    def created() -> requests.Response | None:
        r = school.call(
            "POST",
            "/api/nominations",
            expect=None,
            json={"round_id": round_id, "school_org_code": "4108020001", "candidate_user_id": person["id"]},
            headers={"Idempotency-Key": f"create-{round_id}"},
        )
        return r if r.status_code == 201 else None

    nomination = wait_until(created, timeout=30, interval=0.3, message="nominations knows the candidate")
    nid, etag = nomination.json()["id"], nomination.headers["ETag"]
    form = {
        "education": "本科",
        "ethnicity": "汉族",
        "teaching_years": 20,
        "administrative_post": "校长",
        "professional_title": "高级教师",
        "postal_address": "焦作市解放区民主路1号",
        "work_achievements": "建成校园数据中台。",
        "post_kind": "principal",
        "years_in_it_management": 3,
    }
    etag = school.call("PATCH", f"/api/nominations/{nid}", json={"form": form}, headers={"If-Match": etag}).headers[
        "ETag"
    ]
    etag = school.call(
        "PUT", f"/api/nominations/{nid}/photo", data=PNG, headers={"If-Match": etag, "Content-Type": "image/png"}
    ).headers["ETag"]
    etag = school.call(
        "POST",
        f"/api/nominations/{nid}/attestation",
        json={"signer_name": "李老师", "confirm": True},
        headers={"If-Match": etag},
    ).headers["ETag"]
    wait_until(
        lambda: school.call("GET", f"/api/nominations/{nid}/eligibility").json()["eligible"],
        timeout=30,
        interval=0.3,
        message="the certificate reached nominations",
    )
    school.call("POST", f"/api/nominations/{nid}/submit", headers={"If-Match": etag})

    def task_of(client: Client) -> dict[str, Any] | None:
        items = client.call("GET", "/api/tasks").json()["items"]
        return next((t for t in items if t["nomination_id"] == nid), None)

    unit_task = wait_until(lambda: task_of(school), timeout=30, interval=0.3, message="the unit's task")
    school.call(
        "POST",
        f"/api/tasks/{unit_task['id']}/decision",
        json={
            "decision": "approve",
            "opinion": "同意推荐",
            "seal": {"unit_name": "解放区第一实验小学", "date": "2026-12-04"},
        },
    )
    wait_until(lambda: task_of(county), timeout=30, interval=0.3, message="the county's task")
    wait_until(
        lambda: any(m["kind"] == "task_assigned" for m in county.call("GET", "/api/inbox").json()["items"]),
        timeout=30,
        interval=0.3,
        message="the county reviewer's notification",
    )
    reminded(stack, county)
    return {"user": person["id"], "round": round_id, "nomination": nid, "certificate": number}


def reminded(stack: Stack, county: Client) -> None:
    """The county's 月调度 reminders due today are in its inbox (always the 催报 of last month, which it never
    reported), as the governance worker's check sends them. That check runs at the worker's start, when a new
    platform's governance does not know the districts yet, and then hourly; the platform started on the restored
    databases knows them at its start and would send them then, into the inbox the reads compare. So the check runs
    here, as the timer would within the hour, and the restored governance finds them sent."""
    today = clock.today()
    due = [
        m for m in (previous_month(month_of(today)), month_of(today)) if reminder_due(m, today, DUE_DAY, REMINDER_DAYS)
    ]

    def overview() -> list[dict[str, Any]]:
        params = {"month": due[0]}
        return list(county.call("GET", "/api/progress-reports/overview", params=params).json()["districts"])

    wait_until(overview, timeout=30, interval=0.3, message="governance knows the county's district")
    governance_check(stack, today)

    def reminders() -> list[dict[str, Any]]:
        items = county.call("GET", "/api/inbox", params={"limit": 100}).json()["items"]
        return [m for m in items if m["kind"] == "report_reminder"]

    wait_until(lambda: len(reminders()) == len(due), timeout=30, interval=0.3, message="the county's 月调度 reminders")


def reads(stack: Stack, ids: dict[str, str]) -> dict[str, Any]:
    """What each service answers about the journey, as its users read it."""
    admin, school = Client(stack, "admin"), Client(stack, "school.admin")
    county, trainer = Client(stack, "county.reviewer"), Client(stack, "training.admin")
    nid = ids["nomination"]
    return {
        "identity user": admin.call("GET", f"/api/users/{ids['user']}").json(),
        "nominations round": school.call("GET", f"/api/rounds/{ids['round']}").json(),
        "nominations nomination": county.call("GET", f"/api/nominations/{nid}").json(),
        "nominations history": county.call("GET", f"/api/nominations/{nid}/history").json(),
        "approvals tasks": county.call("GET", "/api/tasks").json(),
        "approvals cases": county.call("GET", "/api/cases").json(),
        "training certificate": trainer.call("GET", f"/api/certificates/{ids['certificate']}/verify").json(),
        "notifications inbox": county.call("GET", "/api/inbox").json(),
        "governance overview": county.call(
            "GET", "/api/progress-reports/overview", params={"month": previous_month(month_of(clock.today()))}
        ).json(),
    }


def backup_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BACKUP, *args], capture_output=True, text=True, cwd=ROOT, env=env, check=False)


@contextlib.contextmanager
def platform_on(infra: Infrastructure, run: Path, urls: dict[str, str], secret: str) -> Iterator[Stack]:
    """Every service's processes on databases that already exist (the restored ones), with a vhost of their own."""
    with fresh_vhost(infra) as amqp_url:
        processes = contextlib.contextmanager(_run_processes)
        extra = {"SIGNING_KEY_SECRET": secret}
        with processes(infra, amqp_url, run, urls, None, None, extra, nginx_render.LOCAL_PORTAL_DIR) as stack:
            yield stack


def test_backup_after_a_journey_restores_a_platform_that_answers_the_same(
    infra: Infrastructure, tmp_path: Path
) -> None:
    # The signing keys are stored encrypted with this secret: the restored identity is given the same one.
    secret = uuid.uuid4().hex
    original_dir, backup_dir = tmp_path / "original", tmp_path / "backup"
    with running_stack(infra, original_dir, extra_env={"SIGNING_KEY_SECRET": secret}) as original:
        ids = journey(original)
        made = backup_cli("--embedded-dir", str(original_dir / "postgres"), "backup", "--out", str(backup_dir))
        assert made.returncode == 0, made.stderr
        before = reads(original, ids)

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert set(manifest["services"]) == SERVICES and manifest["source"] == "embedded"
    for name, entry in manifest["services"].items():
        assert (backup_dir / entry["file"]).stat().st_size == entry["bytes"] > 0
        assert entry["alembic_heads"], f"{name} has no Alembic head in the manifest"
        assert entry["outbox"]["pending"] >= 0 and entry["server_version"].startswith("18")
    assert manifest["pg_dump"].startswith("pg_dump (PostgreSQL) 18")

    restored_dir = tmp_path / "restored"
    done = backup_cli("--embedded-dir", str(restored_dir / "postgres"), "restore", str(backup_dir))
    assert done.returncode == 0, done.stderr
    # A second restore onto the same databases would mix two states: refused, nothing touched.
    again = backup_cli("--embedded-dir", str(restored_dir / "postgres"), "restore", str(backup_dir))
    assert again.returncode == 1 and "already holds tables; restore with --clean" in again.stderr

    embedded = EmbeddedPostgres(restored_dir / "postgres").start()
    try:
        urls = {name: embedded.url(f"cio_{name}") for name in SERVICES}
        with platform_on(infra, restored_dir, urls, secret) as restored:
            wait_until(lambda: reads(restored, ids) == before, timeout=30, interval=1, message="the same reads")
    finally:
        embedded.stop()


def test_restore_refuses_a_dump_that_is_not_the_one_the_manifest_names(tmp_path: Path) -> None:
    (tmp_path / "identity.dump").write_bytes(b"PGDMP tampered")
    manifest = {
        "format": 1,
        "started_at": "2026-12-04T20:00:00+00:00",
        "services": {"identity": {"file": "identity.dump", "sha256": "0" * 64, "alembic_heads": ["0001"]}},
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    refused = backup_cli("--embedded-dir", str(tmp_path / "never-started"), "restore", str(tmp_path))
    assert refused.returncode == 1 and "SHA-256 differs" in refused.stderr
    assert not (tmp_path / "never-started").exists()


def test_restore_refuses_a_server_older_than_the_backup_before_touching_it(
    infra: Infrastructure, tmp_path: Path
) -> None:
    """pg_restore into an older major version fails half-way; the restore says so first and creates nothing."""
    dump = tmp_path / "identity.dump"
    dump.write_bytes(b"PGDMP from the future")
    entry = {"file": dump.name, "sha256": hashlib.sha256(dump.read_bytes()).hexdigest(), "server_version": "99.1"}
    manifest = {"format": 1, "started_at": "2026-12-04T20:00:00+00:00", "services": {"identity": entry}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    suffix = f"_refused_{uuid.uuid4().hex[:8]}"
    refused = backup_cli(
        "--database-suffix", suffix, "restore", str(tmp_path), env={**os.environ, "DATABASE_URL": infra.pg}
    )
    assert refused.returncode == 1
    assert "identity was backed up from PostgreSQL 99; it restores into 99 or newer, not" in refused.stderr
    with psycopg.connect(infra.pg) as conn:
        assert (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (f"cio_identity{suffix}",)).fetchone() is None
        )
