"""Workflow metrics of the nominations service (names pass `promtool check metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from nominations.domain.policy import Eligibility

SUBMISSIONS = Counter(
    "nominations_submissions_total",
    "Nominations submitted, by policy and kind (submitted/resubmitted).",
    ["policy", "kind"],
)
ELIGIBILITY_FAILURES = Counter(
    "nominations_eligibility_failures_total", "Submissions refused as ineligible, by policy rule.", ["rule"]
)
NOMINATIONS_BY_STATUS = Gauge(
    "nominations_nominations",
    "Nominations by round and status, counted by the worker.",
    ["round_id", "status"],
    multiprocess_mode="max",
)


def counted_pairs() -> set[tuple[str, str]]:
    """The (round_id, status) label pairs the gauge holds a value for."""
    return {
        (sample.labels["round_id"], sample.labels["status"])
        for family in NOMINATIONS_BY_STATUS.collect()
        for sample in family.samples
    }


def count_eligibility_failures(result: Eligibility) -> None:
    for reason in result.reasons:
        ELIGIBILITY_FAILURES.labels(reason.rule).inc()
