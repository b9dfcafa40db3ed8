"""合格证 claimed on a 推荐表 (seed 001 「参加过国家、省、市、县举办的首席信息官（CIO）培训并取得合格证者」): training's
administrator confirms it (the certificate is recorded and published) or rejects it with a reason."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from training.bootstrap import TrainingService

from shared.bus.envelope import CloudEvent
from shared.bus.tables import outbox
from tests.integration.training.conftest import (
    COUNTY_ADMIN,
    OTHER_COUNTY_ADMIN,
    PEOPLE,
    apply_events,
)
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


def claimed(number: str, nomination_id: str | None = None) -> CloudEvent:
    person, name, _org = PEOPLE["wang.xiaoming"]
    return CloudEvent(
        "nominations.certificate.claimed",
        "/cio/nominations",
        {
            "claim_id": str(uuid.uuid4()),
            "nomination_id": nomination_id or str(uuid.uuid4()),
            "round_id": str(uuid.uuid4()),
            "person_user_id": str(person),
            "person_name": name,
            "school_org_code": "4108020001",
            "school_org_path": "/4108/410802/4108020001",
            "number": number,
            "kind": "cio",
            "level": "provincial",
            "issuer": "河南省教育厅",
            "issued_on": "2021-07-01",
            "claimed_by": "school-admin",
            "claimed_at": "2022-09-01T08:00:00+00:00",
        },
    )


def _outbox(service: TrainingService, event_type: str) -> list[dict[str, Any]]:
    with service.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.body).where(outbox.c.type == event_type)).scalars()
        return [json.loads(b) for b in rows]


def test_取得合格证者_a_claimed_certificate_confirmed_by_the_training_administrator_is_recorded(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    apply_events(training_service, [claimed("HN-CIO-2021-0042")])
    admin = issuer.headers("admin", COUNTY_ADMIN)
    [claim] = client.get("/api/certificates/claims", headers=admin).json["items"]
    assert (claim["status"], claim["number"], claim["person_name"]) == ("pending", "HN-CIO-2021-0042", "王晓明")
    # another county's administrator sees none of it and cannot decide it
    other = issuer.headers("other", OTHER_COUNTY_ADMIN)
    assert client.get("/api/certificates/claims", headers=other).json["items"] == []
    refused = client.post(
        f"/api/certificates/claims/{claim['id']}/decision", json={"decision": "confirm"}, headers=other
    )
    assert refused.status_code == 404

    confirmed = client.post(
        f"/api/certificates/claims/{claim['id']}/decision", json={"decision": "confirm"}, headers=admin
    )
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["status"] == "confirmed" and confirmed.json["certificate_id"]
    [issued] = _outbox(training_service, "training.certificate.issued")
    assert (issued["data"]["number"], issued["data"]["level"], issued["data"]["kind"]) == (
        "HN-CIO-2021-0042",
        "provincial",
        "cio",
    )
    again = client.post(
        f"/api/certificates/claims/{claim['id']}/decision", json={"decision": "reject", "note": "x"}, headers=admin
    )
    assert again.status_code == 409


def test_取得合格证者_a_claim_the_administrator_cannot_confirm_is_rejected_with_its_reason(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    nomination_id = str(uuid.uuid4())
    apply_events(training_service, [claimed("HN-0001", nomination_id), claimed("HN-0002", nomination_id)])
    admin = issuer.headers("admin", COUNTY_ADMIN)
    listed = client.get("/api/certificates/claims", headers=admin).json["items"]
    # the form's newer claim supersedes the older one
    assert {c["number"]: c["status"] for c in listed} == {"HN-0001": "superseded", "HN-0002": "pending"}
    [pending] = [c for c in listed if c["status"] == "pending"]
    silent = client.post(
        f"/api/certificates/claims/{pending['id']}/decision", json={"decision": "reject"}, headers=admin
    )
    assert silent.status_code == 422 and silent.json["errors"][0]["field"] == "note"
    rejected = client.post(
        f"/api/certificates/claims/{pending['id']}/decision",
        json={"decision": "reject", "note": "发证机构查无此证"},
        headers=admin,
    )
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    [event] = _outbox(training_service, "training.certificate.claim_rejected")
    assert (event["data"]["school_org_path"], event["data"]["note"]) == ("/4108/410802/4108020001", "发证机构查无此证")
    assert _outbox(training_service, "training.certificate.issued") == []
