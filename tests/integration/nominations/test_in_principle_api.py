"""Issue 17 item 8 through nominations' API on PostgreSQL: a Helan school whose CIO is not its legal
representative (「原则上由学校法定代表人担任」) states why on the form and submits; the county reviewer sees the
rule flagged with the reason in the eligibility payload, and the submitted event carries it to approvals."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from nominations.bootstrap import Nominations
from sqlalchemy import select

from shared.bus.tables import outbox
from tests.integration.nominations.conftest import HELAN_USER
from tests.integration.nominations.flow import PNG, open_round
from tests.tokens import TestIssuer

HELAN_COUNTY = ("county_reviewer", "/640122")
HELAN_SCHOOL = ("school_admin", "/640122/6401220001")
REASON = "校长（法定代表人）挂职交流一年，经班子研究由分管信息化的副校长担任"
HELAN_FORM = {
    "political_status": "中共党员",
    "highest_education": "本科",
    "graduating_school": "宁夏大学",
    "major": "教育技术学",
    "position": "副校长",
    "work_history": "2010年起任教，2019年起分管学校信息化工作。",
    "is_legal_representative": False,
}


def test_原则上由学校法定代表人担任_the_exception_is_stated_submitted_and_flagged_to_the_county(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    round_ = open_round(client, issuer, policy="helan-2024", org="640122", grant=HELAN_COUNTY)
    school = issuer.headers("school-admin", HELAN_SCHOOL)
    created = client.post(
        "/api/nominations",
        json={"round_id": round_["id"], "school_org_code": "6401220001", "candidate_user_id": str(HELAN_USER)},
        headers=school,
    )
    assert created.status_code == 201, created.json
    nid, etag = created.json["id"], created.headers["ETag"]

    # without the reason the form is incomplete, naming the declared field
    patched = client.patch(f"/api/nominations/{nid}", json={"form": HELAN_FORM}, headers={**school, "If-Match": etag})
    assert patched.status_code == 200, patched.json
    photo = client.put(
        f"/api/nominations/{nid}/photo",
        data=PNG,
        content_type="image/png",
        headers={**school, "If-Match": patched.headers["ETag"]},
    )
    attested = client.post(
        f"/api/nominations/{nid}/attestation",
        json={"signer_name": "王五", "confirm": True},
        headers={**school, "If-Match": photo.headers["ETag"]},
    )
    refused = client.post(f"/api/nominations/{nid}/submit", headers={**school, "If-Match": attested.headers["ETag"]})
    assert refused.status_code == 422
    assert "form.exception_reason" in {e["field"] for e in refused.json["errors"]}

    stated = client.patch(
        f"/api/nominations/{nid}",
        json={"form": {**HELAN_FORM, "exception_reason": REASON}},
        headers={**school, "If-Match": attested.headers["ETag"]},
    )
    assert stated.status_code == 200, stated.json
    attested = client.post(  # a changed form is attested again
        f"/api/nominations/{nid}/attestation",
        json={"signer_name": "王五", "confirm": True},
        headers={**school, "If-Match": stated.headers["ETag"]},
    )
    submitted = client.post(f"/api/nominations/{nid}/submit", headers={**school, "If-Match": attested.headers["ETag"]})
    assert submitted.status_code == 200, submitted.json

    seen = client.get(f"/api/nominations/{nid}/eligibility", headers=issuer.headers("county", HELAN_COUNTY))
    assert seen.status_code == 200 and seen.json["eligible"] is True
    assert [(w["rule"], w["exception_reason"]) for w in seen.json["warnings"]] == [("legal_representative", REASON)]

    with service.session_factory() as session:
        (body,) = session.execute(select(outbox.c.body).where(outbox.c.type == "nominations.nomination.submitted"))
    warnings = json.loads(body[0])["data"]["eligibility"]["warnings"]
    assert warnings == [
        {
            "rule": "legal_representative",
            "message_zh": "首席信息官原则上由学校法定代表人担任",
            "exception_reason": REASON,
        }
    ]
