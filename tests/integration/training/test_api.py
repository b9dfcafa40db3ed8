"""The training API against PostgreSQL: scope, completions, certificates, verification and summaries."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from training.adapters.orm import attendance, certificates
from training.bootstrap import TrainingService

from shared.audit import audit_log
from shared.bus.tables import outbox
from tests.integration.training.conftest import CITY_ADMIN, COUNTY_ADMIN, OTHER_COUNTY_ADMIN, create_training, person
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


def outbox_events(service: TrainingService, type_: str) -> list[dict]:
    with service.session_factory() as session:
        rows = session.execute(select(outbox.c.body).where(outbox.c.type == type_).order_by(outbox.c.created_at))
        return [json.loads(r[0]) for r in rows]


def count(service: TrainingService, table: object) -> int:
    with service.session_factory() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_county_admin_cannot_record_or_read_outside_the_county(client: FlaskClient, issuer: TestIssuer) -> None:
    county = issuer.headers("admin-1", COUNTY_ADMIN)
    other = issuer.headers("admin-2", OTHER_COUNTY_ADMIN)
    training = create_training(client, county)
    assert training["organiser_org_path"] == "/4108/410802"

    refused = client.post(
        "/api/trainings",
        json={
            **{k: training[k] for k in ("title", "level", "kind", "starts_on", "ends_on", "hours", "centralized")},
            "organiser_org_code": "410821",
        },
        headers=county,
    )
    assert refused.status_code == 404
    assert refused.json["errors"][0]["field"] == "organiser_org_code"
    assert client.get(f"/api/trainings/{training['id']}", headers=other).status_code == 404
    assert client.get(f"/api/trainings/people/{person('zhao.gang')}/summary", headers=county).status_code == 404
    # enrolling someone from the other county is refused as "no such person", and nobody is enrolled
    enrol = client.post(
        f"/api/trainings/{training['id']}/enrolments",
        json={"person_user_ids": [person("wang.xiaoming"), person("zhao.gang")]},
        headers=county,
    )
    assert enrol.status_code == 422
    assert [e["field"] for e in enrol.json["errors"]] == ["person_user_ids.1"]
    assert client.get("/api/trainings", headers=other).json["items"] == []
    assert [t["id"] for t in client.get("/api/trainings", headers=county).json["items"]] == [training["id"]]
    assert client.get("/api/trainings").status_code == 401


def test_completion_issues_a_certificate_that_verifies_and_revokes(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    county = issuer.headers("admin-1", COUNTY_ADMIN)
    training = create_training(client, county)
    url = f"/api/trainings/{training['id']}"
    assert client.post(
        f"{url}/enrolments", json={"person_user_ids": [person("wang.xiaoming")]}, headers=county
    ).json == {"added": 1}
    done = client.post(
        f"{url}/completions",
        json={
            "items": [
                {
                    "person_user_id": person("wang.xiaoming"),
                    "hours": 24,
                    "completed_on": "2024-05-08",
                    "certificate_number": "JF-2024-001",
                },
                {"person_user_id": person("li.hua"), "hours": 20, "completed_on": "2024-05-08"},
            ]
        },
        headers=county,
    )
    assert done.status_code == 200, done.json
    assert done.json == {"written": 2, "unchanged": 0, "certificates": 1}

    completed = [e["data"] for e in outbox_events(training_service, "training.training.completed")]
    assert sorted(d["person_user_id"] for d in completed) == sorted([person("wang.xiaoming"), person("li.hua")])
    assert completed[0] | {"person_user_id": None, "hours": None} == {
        "training_id": training["id"],
        "person_user_id": None,
        "kind": "cio",
        "level": "county",
        "centralized": True,
        "hours": None,
        "completed_on": "2024-05-08",
        "year": 2024,
    }
    issued = outbox_events(training_service, "training.certificate.issued")
    assert len(issued) == 1
    cert_id = issued[0]["subject"]
    assert issued[0]["data"] == {
        "certificate_id": cert_id,
        "number": "JF-2024-001",
        "person_user_id": person("wang.xiaoming"),
        "person_name": "王晓明",
        "kind": "cio",
        "level": "county",
        "issuer": "解放区教育局",
        "issued_on": "2024-05-08",
        "expires_on": None,
        "training_id": training["id"],
    }
    # the same list again changes nothing
    again = client.post(
        f"{url}/completions",
        json={
            "items": [
                {
                    "person_user_id": person("wang.xiaoming"),
                    "hours": 24,
                    "completed_on": "2024-05-08",
                    "certificate_number": "JF-2024-001",
                }
            ]
        },
        headers=county,
    )
    assert again.json == {"written": 0, "unchanged": 1, "certificates": 0}

    verified = client.get("/api/certificates/JF-2024-001/verify")  # no token
    assert verified.status_code == 200
    assert verified.json["status"] == "valid" and verified.json["holder"] == "王*明"
    assert "person_user_id" not in verified.json and "王晓明" not in json.dumps(verified.json, ensure_ascii=False)

    other = issuer.headers("admin-2", OTHER_COUNTY_ADMIN)
    assert client.post(f"/api/certificates/{cert_id}/revoke", json={"reason": "x"}, headers=other).status_code == 404
    missing_reason = client.post(f"/api/certificates/{cert_id}/revoke", json={}, headers=county)
    assert missing_reason.status_code == 422 and missing_reason.json["errors"][0]["field"] == "reason"
    revoked = client.post(f"/api/certificates/{cert_id}/revoke", json={"reason": "培训记录有误"}, headers=county)
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    assert (
        client.post(f"/api/certificates/{cert_id}/revoke", json={"reason": "again"}, headers=county).status_code == 409
    )
    revocation = outbox_events(training_service, "training.certificate.revoked")
    assert [e["data"]["reason"] for e in revocation] == ["培训记录有误"]
    assert set(revocation[0]["data"]) == {
        "certificate_id",
        "number",
        "person_user_id",
        "kind",
        "level",
        "reason",
        "revoked_at",
    }
    assert client.get("/api/certificates/JF-2024-001/verify").json["status"] == "revoked"
    assert client.get("/api/certificates/NO-SUCH/verify").status_code == 404
    with training_service.session_factory() as session:
        actions = [r[0] for r in session.execute(select(audit_log.c.action).order_by(audit_log.c.id))]
    assert actions == [
        "training_created",
        "attendance_enrolled",
        "completions_recorded",
        "completions_recorded",
        "certificate_revoked",
    ]


def test_a_bad_completion_item_writes_nothing(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    county = issuer.headers("admin-1", COUNTY_ADMIN)
    training = create_training(client, county, hours=8)
    response = client.post(
        f"/api/trainings/{training['id']}/completions",
        json={
            "items": [
                {"person_user_id": person("wang.xiaoming"), "hours": 8, "completed_on": "2024-05-08"},
                {"person_user_id": person("li.hua"), "hours": 9, "completed_on": "2024-05-01"},
            ]
        },
        headers=county,
    )
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert sorted(e["field"] for e in response.json["errors"]) == ["items.1.completed_on", "items.1.hours"]
    assert count(training_service, attendance) == 0
    assert outbox_events(training_service, "training.training.completed") == []


def test_recorded_certificate_rules_name_the_field(client: FlaskClient, issuer: TestIssuer) -> None:
    county = issuer.headers("admin-1", COUNTY_ADMIN)
    body = {
        "number": "SJ-2023-17",
        "person_user_id": person("li.hua"),
        "kind": "informatization",
        "level": "provincial",
        "issuer": "河南省教育厅",
        "issued_on": "2023-11-02",
    }
    bad = client.post("/api/certificates", json={**body, "expires_on": "2023-01-01"}, headers=county)
    assert bad.status_code == 422 and [e["field"] for e in bad.json["errors"]] == ["expires_on"]
    bad_kind = client.post("/api/certificates", json={**body, "kind": "magic"}, headers=county)
    assert bad_kind.status_code == 422 and bad_kind.json["errors"][0]["field"] == "kind"
    created = client.post("/api/certificates", json={**body, "expires_on": "2027-11-01"}, headers=county)
    assert created.status_code == 201, created.json
    assert created.headers["Location"].endswith(created.json["id"])
    clash = client.post("/api/certificates", json={**body, "person_user_id": person("wang.xiaoming")}, headers=county)
    assert clash.status_code == 409
    outside = client.post(
        "/api/certificates", json={**body, "number": "X-1", "person_user_id": person("zhao.gang")}, headers=county
    )
    assert outside.status_code == 404


def test_summary_for_the_cio_and_reviewers_in_scope(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    county = issuer.headers("admin-1", COUNTY_ADMIN)
    first = create_training(client, county, hours=24)
    second = create_training(
        client,
        issuer.headers("admin-3", CITY_ADMIN),
        organiser_org_code="4108",
        level="city",
        kind="informatization",
        centralized=False,
        hours=6,
        starts_on="2024-09-01",
        ends_on="2024-09-01",
    )
    for training, hours, on in ((first, 24, "2024-05-08"), (second, 6, "2024-09-01")):
        response = client.post(
            f"/api/trainings/{training['id']}/completions",
            json={"items": [{"person_user_id": person("wang.xiaoming"), "hours": hours, "completed_on": on}]},
            headers=issuer.headers("admin-3", CITY_ADMIN),
        )
        assert response.status_code == 200, response.json
    me = issuer.headers(person("wang.xiaoming"), ("cio", "/4108/410802/4108020001"))
    summary = client.get(f"/api/trainings/people/{person('wang.xiaoming')}/summary", headers=me)
    assert summary.status_code == 200
    assert summary.json["years"] == [{"year": 2024, "hours": 30.0, "trainings": 2, "centralized": 1}]
    reviewer = issuer.headers("rev-1", ("county_reviewer", "/4108/410802"))
    assert client.get(f"/api/trainings/people/{person('wang.xiaoming')}/summary", headers=reviewer).status_code == 200
    stranger = issuer.headers("rev-2", ("county_reviewer", "/4108/410821"))
    assert client.get(f"/api/trainings/people/{person('wang.xiaoming')}/summary", headers=stranger).status_code == 404
    other_cio = issuer.headers(person("li.hua"), ("cio", "/4108/410802/4108020002"))
    assert client.get(f"/api/trainings/people/{person('wang.xiaoming')}/summary", headers=other_cio).status_code == 404
    assert count(training_service, certificates) == 0


def test_a_retried_creation_with_the_same_idempotency_key_creates_one_training(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    headers = issuer.headers("admin-1", COUNTY_ADMIN, **{"Idempotency-Key": "create-1"})
    first = create_training(client, headers)
    replay = client.post(
        "/api/trainings",
        json={
            "title": "2024年首席信息官集中培训",
            "level": "county",
            "kind": "cio",
            "organiser_org_code": "410802",
            "starts_on": "2024-05-06",
            "ends_on": "2024-05-08",
            "hours": 24,
            "centralized": True,
        },
        headers=headers,
    )
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json["id"] == first["id"]
    from training.adapters.orm import trainings

    assert count(training_service, trainings) == 1
    bad = client.post(
        "/api/trainings",
        json={"title": "", "level": "moon", "hours": -1},
        headers=issuer.headers("admin-1", COUNTY_ADMIN),
    )
    assert bad.status_code == 422
    assert {"title", "level", "hours", "kind", "organiser_org_code", "starts_on", "ends_on", "centralized"} <= {
        e["field"] for e in bad.json["errors"]
    }


def test_ones_own_standing_is_no_way_to_probe_another_schools_org(client: FlaskClient, issuer: TestIssuer) -> None:
    """A teacher with no reader role asks /api/training-compliance about their own standing; naming another
    school's org answers 404, as for any caller outside it (found by the authorization matrix: it was 200)."""
    me = issuer.headers(person("wang.xiaoming"))  # no grants: their own standing only
    assert client.get("/api/training-compliance?year=2026", headers=me).status_code == 200
    assert client.get("/api/training-compliance?year=2026&org=4108020001", headers=me).status_code == 200
    assert client.get("/api/training-compliance?year=2026&org=410802", headers=me).status_code == 200
    other = client.get("/api/training-compliance?year=2026&org=4108210001", headers=me)
    assert other.status_code == 404
    assert other.json["errors"] == [{"field": "org", "in": "query", "messages": ["not found"]}]
