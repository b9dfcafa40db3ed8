"""Nominations benchmark: the list endpoint's p50 at 1,000 and 100,000 nominations, and the summary export's
peak memory growth at 50,000 rows.

Starts on its own database (`cio_bench_nominations`, created and dropped) and stops again:
  - migrates it with the service's Alembic migrations and seeds the directory (city, counties) and two rounds;
  - seeds nominations directly into the database (1,000, measures; then up to 100,000, measures);
  - calls `GET /api/nominations` in process through the Flask app (the whole view, auth and query path, no
    network), as a city reviewer (the whole table in scope) and a county reviewer (a tenth of it);
  - streams the 汇总表 of a 50,000-row round as CSV and as XLSX in a fresh child process and reports its peak
    RSS growth over the RSS after start-up.
Not measured here (yet): draft creation + submit throughput through the gateway against the hello baseline.

  .venv/bin/python bench/nominations.py [--requests 200] [--big 100000] [--export-rows 50000]
"""

# ruff: noqa: E402 - the sys.path fix below must run before any other import
from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

import argparse
import datetime as dt
import json
import statistics
import subprocess
import time
import uuid
from dataclasses import replace
from typing import Any

from bench.benchlib import PYTHON, ROOT, BenchError, create_database, drop_database, emit, log, postgres_reachable

DB_NAME = "cio_bench_nominations"
COUNTIES = 10
CITY = ("city_reviewer", "/4108")
COUNTY = ("county_reviewer", "/4108/410800")


def _service(database_url: str) -> Any:
    from nominations.bootstrap import bootstrap

    from shared.config import load_settings
    from tests.tokens import ISSUER, TestIssuer

    settings = load_settings("nominations")
    settings = replace(settings, database_url=database_url, auth=replace(settings.auth, issuer=ISSUER, jwks_url="-"))
    issuer = TestIssuer()
    return bootstrap(settings, verifier=issuer.verifier()), issuer


def _seed_directory_and_rounds(service: Any) -> list[uuid.UUID]:
    from nominations.domain.model import Round
    from nominations.service_layer.projections import on_org

    from shared.bus.envelope import CloudEvent

    policy = service.catalog.get("jiaozuo-2022")
    now = dt.datetime.now(dt.UTC)
    with service.uow() as uow:
        orgs = [("4108", "焦作市教育局", "city", None, "/4108")] + [
            (f"4108{i:02d}", f"第{i}区教育局", "county", "4108", f"/4108/4108{i:02d}") for i in range(COUNTIES)
        ]
        for code, name, level, parent, path in orgs:
            data = {"code": code, "name": name, "level": level, "parent_code": parent, "path": path}
            on_org(CloudEvent(type="identity.org.upserted", source="/cio/identity", data=data), uow)
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
            uow.rounds.save(round_)
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


def _p50(client: Any, issuer: Any, grant: tuple[str, str], requests: int, query: str = "") -> dict[str, Any]:
    headers = issuer.headers("bench", grant)
    url = f"/api/nominations?limit=20{query}"
    for _ in range(10):
        assert client.get(url, headers=headers).status_code == 200
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200 or len(response.json["items"]) != 20:
            raise BenchError(f"list answered {response.status_code}: {response.data[:300]!r}")
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(len(times) * 0.95)], 2)}


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
        [PYTHON, __file__, "--export-child", database_url, str(round_id), fmt],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        raise BenchError(f"export child failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="list requests per measurement")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--export-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        _export_child(*args.export_child)
        return 0
    if not postgres_reachable():
        log("ERROR: PostgreSQL is needed (BENCH_PG_ADMIN_URL)")
        return 2
    from shared.migrations import service_dir, upgrade

    database_url = create_database(DB_NAME)
    service = None
    try:
        upgrade(service_dir("nominations"), database_url)
        service, issuer = _service(database_url)
        from nominations.entrypoints.web import create_app

        client = create_app(service).test_client()
        round_ids = _seed_directory_and_rounds(service)
        log(f"seeding {args.small} nominations")
        _seed_nominations(service, round_ids, 0, args.small)
        small = {
            "city": _p50(client, issuer, CITY, args.requests),
            "county": _p50(client, issuer, COUNTY, args.requests),
            "county_round": _p50(client, issuer, COUNTY, args.requests, f"&round_id={round_ids[0]}"),
        }
        log(f"seeding up to {args.big} nominations")
        t0 = time.perf_counter()
        _seed_nominations(service, round_ids, args.small, args.big)
        seed_s = time.perf_counter() - t0
        big = {
            "city": _p50(client, issuer, CITY, args.requests),
            "county": _p50(client, issuer, COUNTY, args.requests),
            "county_round": _p50(client, issuer, COUNTY, args.requests, f"&round_id={round_ids[0]}"),
        }
        log("exporting the summary table")
        export_rows = args.big // 2
        exports = {fmt: _export(database_url, round_ids[0], fmt) for fmt in ("csv", "xlsx")}
        ratios = {k: round(big[k]["p50_ms"] / small[k]["p50_ms"], 2) for k in small}
        result = {
            "bench": "nominations",
            "db": f"postgresql (database {DB_NAME}, created and dropped)",
            "cpus": os.cpu_count(),
            "how": "in-process Flask test client (view + auth + query, no network), limit=20, first page",
            f"list_at_{args.small}": small,
            f"list_at_{args.big}": big,
            "list_p50_ratio_big_to_small": ratios,
            "list_target_met": all(r <= 1.5 for r in ratios.values()),
            "seed_s": round(seed_s, 1),
            "export_rows": export_rows,
            "export": exports,
            "export_target_met": all(e["peak_rss_growth_mb"] <= 100 for e in exports.values()),
            "not_measured": "draft creation + submit throughput through the gateway vs hello",
        }
        result["clean"] = exports["csv"].get("rows") == export_rows and all(
            e["status"] == 200 for e in exports.values()
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
