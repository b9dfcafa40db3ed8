"""deploy/CAPACITY.md: its figures are derived from the committed benchmark lines by deploy/capacity.py, and the
derivation uses what the benches measured (a faster bench gives fewer pods; more schools give more)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from deploy import capacity

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_capacity_md_is_derived_from_the_committed_benchmarks() -> None:
    assert capacity.main(["--check"]) == 0, "run `python deploy/capacity.py`"


def test_every_benchmark_the_sizes_rest_on_is_committed_clean_and_measured_on_two_cores() -> None:
    bench = capacity.load_bench()
    assert set(bench) == {"http", "bus", "nominations", "approvals", "notifications"}
    for name, line in bench.items():
        assert line.get("cpus") == 2, name
        assert line.get("clean", True) is True, name
    text = (REPO_ROOT / "deploy" / "CAPACITY.md").read_text(encoding="utf-8")
    m = capacity.measured(bench)
    assert f"| {m.nominations_per_s} /s |" in text and f"| {m.decisions_per_s} /s |" in text


def test_the_sizes_follow_the_measurements_and_the_number_of_schools() -> None:
    bench = capacity.load_bench()
    m, w = capacity.measured(bench), capacity.Workload()
    city, country = capacity.plan(2_000, m, w), capacity.plan(500_000, m, w)
    assert country["requests_per_s"] == pytest.approx(city["requests_per_s"] * 250)
    assert country["db_nominations"] == pytest.approx(city["db_nominations"] * 250)
    assert country["pods"]["nominations-web"] >= city["pods"]["nominations-web"]
    faster = dataclasses.replace(m, nominations_per_s=m.nominations_per_s * 4)
    assert capacity.plan(500_000, faster, w)["pods"]["nominations-web"] < country["pods"]["nominations-web"]


def test_the_committed_lines_are_what_the_benches_print() -> None:
    """One JSON object a line, each naming its bench, as bench/benchlib.emit writes them."""
    for line in (REPO_ROOT / "deploy" / "capacity" / "bench.jsonl").read_text(encoding="utf-8").splitlines():
        result = json.loads(line)
        assert isinstance(result, dict) and result["bench"]
