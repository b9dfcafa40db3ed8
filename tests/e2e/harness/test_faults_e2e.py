"""Faults with nothing lost (issue 14), the short version of bench/faults.py (the same code): 100 submissions
from school to appointment while the stack's broker connections are closed, a gunicorn worker and the bus
worker of every service are killed -9, and the stack's PostgreSQL restarts, once each. Then every submitted
nomination has exactly one case, every final approval one appointment and one cio grant, no inbox message is
doubled, nothing is parked without a reason, and no answer was a 5xx but a 503 during an outage, a request in
flight on the gunicorn worker killed -9 included (the gateway answers an upstream that dropped the connection
with 503 and Retry-After; the driver re-reads before it retries, and the counts show nothing lost or doubled)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from bench import faults

pytestmark = pytest.mark.e2e

SUBMISSIONS = int(os.environ.get("FAULTS_SUBMISSIONS", "100"))


def test_nothing_is_lost_or_doubled_while_the_broker_processes_and_database_fail() -> None:
    with faults.faults_stack(keep=False) as (stack, run_dir):
        result = faults.run_faults(stack, run_dir, SUBMISSIONS, workers=6, outage=5.0, rounds=1)
    print(json.dumps(result, ensure_ascii=False), file=sys.stderr)
    assert {f["fault"] for f in result["faults"]} == {
        "rabbitmq_connections_closed",
        "web_worker_killed",
        "worker_killed_and_restarted",
        "postgres_restarted",
    }, result["faults"]
    assert result["driver_failures"] == 0, result["driver_failure_examples"]
    assert result["submitted"] == SUBMISSIONS
    assert result["nominations_submitted"] == SUBMISSIONS
    assert result["final_approvals"] == SUBMISSIONS
    assert result["lost"] == 0, result
    assert result["doubled"] == 0, result
    assert result["parked_without_reason"] == 0, result
    # 503 while something was down, and no 502 (not even for requests in flight on a worker killed -9).
    assert result["unexpected_5xx"] == 0, result["server_error_examples"]
