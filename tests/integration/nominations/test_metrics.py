"""The workflow metrics of issue 3: submissions, eligibility failures by rule, nominations by round and status."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from nominations.bootstrap import Nominations
from nominations.entrypoints.timers import count_by_status
from prometheus_client import REGISTRY

from tests.integration.nominations.conftest import SCHOOL
from tests.integration.nominations.flow import create, fill_and_attest, give_certificate, open_round, submit
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_submissions_and_eligibility_failures_are_counted(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    submitted_before = _value("nominations_submissions_total", policy="jiaozuo-2022", kind="submitted")
    refused_before = _value("nominations_eligibility_failures_total", rule="qualification")
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    etag = fill_and_attest(client, issuer, created)
    assert submit(client, issuer, created.json["id"], etag).status_code == 422  # no certificate yet
    assert _value("nominations_eligibility_failures_total", rule="qualification") == refused_before + 1
    assert _value("nominations_submissions_total", policy="jiaozuo-2022", kind="submitted") == submitted_before
    give_certificate(service)
    assert submit(client, issuer, created.json["id"], etag).status_code == 200
    assert _value("nominations_submissions_total", policy="jiaozuo-2022", kind="submitted") == submitted_before + 1
    assert _value("nominations_eligibility_failures_total", rule="qualification") == refused_before + 1


def test_nominations_by_round_and_status_follow_the_table(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    count_by_status(service)
    assert _value("nominations_nominations", round_id=round_["id"], status="draft") == 1
    withdrawn = client.post(
        f"/api/nominations/{created.json['id']}/withdraw",
        headers=issuer.headers("s", SCHOOL, **{"If-Match": created.headers["ETag"]}),
    )
    assert withdrawn.status_code == 200
    count_by_status(service)
    # The draft moved on: its pair drops to 0 instead of keeping its last count.
    assert _value("nominations_nominations", round_id=round_["id"], status="draft") == 0
    assert _value("nominations_nominations", round_id=round_["id"], status="withdrawn") == 1
