"""证明材料 on the 推荐表 through the nominations API on PostgreSQL: seed 001 「特殊情况下经学校班子研究授权，由单位
副职领导担任」 (the minutes uploaded, required for a deputy) and 「取得合格证者」 (a certificate claimed on the form,
counted once training confirms it)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from nominations.bootstrap import Nominations
from nominations.service_layer.projections import on_certificate_issued

from shared.bus.tables import outbox
from tests.integration.nominations.conftest import CANDIDATE, COUNTY, OTHER_COUNTY, SCHOOL
from tests.integration.nominations.flow import (
    JIAOZUO_FORM,
    certificate_event,
    create,
    fill_and_attest,
    give_certificate,
    open_round,
    submit,
)
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration

MINUTES = "%PDF-1.4\n% 2022-08-30 校务会议纪要\n%%EOF\n".encode()


def _outbox(service: Nominations, event_type: str) -> list[dict[str, Any]]:
    with service.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.body).where(outbox.c.type == event_type)).scalars()
        return [json.loads(b) for b in rows]


def test_经学校班子研究授权_a_deputy_is_submitted_with_the_minutes_the_reviewers_read(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    give_certificate(service)
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    nid = created.json["id"]
    h = issuer.headers("school-admin", SCHOOL)
    deputy = {
        **JIAOZUO_FORM,
        "post_kind": "deputy",
        "leadership_authorization": True,
        "authorization_record": "2022年8月30日校务会议，纪要〔2022〕7号",
    }
    etag = fill_and_attest(client, issuer, created)
    filled = client.patch(f"/api/nominations/{nid}", json={"form": deputy}, headers={**h, "If-Match": etag})
    assert filled.status_code == 200, filled.json
    etag = client.post(
        f"/api/nominations/{nid}/attestation",
        json={"signer_name": "张三", "confirm": True},
        headers={**h, "If-Match": filled.headers["ETag"]},
    ).headers["ETag"]
    missing = submit(client, issuer, nid, etag)
    assert missing.status_code == 422
    assert "evidence.leadership_minutes" in {e["field"] for e in missing.json["errors"]}

    # a file that is not a PDF or an image, or a kind the form does not take, is refused
    current = client.get(f"/api/nominations/{nid}", headers=h)
    fake = client.put(
        f"/api/nominations/{nid}/evidence/leadership_minutes",
        data=b"MZ\x90\x00",
        content_type="application/pdf",
        headers={**h, "If-Match": current.headers["ETag"]},
    )
    assert fake.status_code == 422 and fake.json["errors"][0]["field"] == "file"
    unknown = client.put(
        f"/api/nominations/{nid}/evidence/diploma",
        data=MINUTES,
        content_type="application/pdf",
        headers={**h, "If-Match": current.headers["ETag"]},
    )
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "kind"

    uploaded = client.put(
        f"/api/nominations/{nid}/evidence/leadership_minutes",
        data={"file": (io.BytesIO(MINUTES), "校务会议纪要.pdf")},
        content_type="multipart/form-data",
        headers={**h, "If-Match": current.headers["ETag"]},
    )
    assert uploaded.status_code == 200, uploaded.json
    # the upload changed the form: it is attested again before it goes
    etag = client.post(
        f"/api/nominations/{nid}/attestation",
        json={"signer_name": "张三", "confirm": True},
        headers={**h, "If-Match": uploaded.headers["ETag"]},
    ).headers["ETag"]
    assert submit(client, issuer, nid, etag).status_code == 200

    # the county's reviewer sees and reads the minutes; another county does not see the nomination at all
    county = issuer.headers("county", COUNTY)
    listed = client.get(f"/api/nominations/{nid}/evidence", headers=county).json
    assert [(e["kind"], e["filename"], e["content_type"]) for e in listed["items"]] == [
        ("leadership_minutes", "校务会议纪要.pdf", "application/pdf")
    ]
    read = client.get(f"/api/nominations/{nid}/evidence/leadership_minutes", headers=county)
    assert read.status_code == 200 and read.data == MINUTES
    assert client.get(f"/api/nominations/{nid}/evidence", headers=issuer.headers("x", OTHER_COUNTY)).status_code == 404


def test_取得合格证者_a_certificate_claimed_on_the_form_counts_once_training_confirms_it(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    nid = created.json["id"]
    h = issuer.headers("school-admin", SCHOOL)
    etag = fill_and_attest(client, issuer, created)
    # no certificate in training's records: not eligible, for that reason only
    before = client.get(f"/api/nominations/{nid}/eligibility", headers=h).json
    assert before["eligible"] is False and [r["rule"] for r in before["reasons"]] == ["qualification"]
    claim = {
        "number": "HN-CIO-2021-0042",
        "kind": "cio",
        "level": "provincial",
        "issuer": "河南省教育厅",
        "issued_on": "2021-07-01",
    }
    claimed = client.post(f"/api/nominations/{nid}/certificate-claim", json=claim, headers={**h, "If-Match": etag})
    assert claimed.status_code == 200, claimed.json
    [event] = _outbox(service, "nominations.certificate.claimed")
    assert (event["data"]["number"], event["data"]["person_user_id"], event["data"]["school_org_path"]) == (
        "HN-CIO-2021-0042",
        str(CANDIDATE),
        "/4108/410802/4108020001",
    )
    assert client.get(f"/api/nominations/{nid}/evidence", headers=h).json["certificate_claim"]["status"] == "pending"

    # training's administrator confirmed it: training.certificate.issued reaches the projection
    confirmed = certificate_event(kind="cio", level="provincial")
    confirmed.data["number"] = "HN-CIO-2021-0042"
    with service.uow() as uow:
        on_certificate_issued(confirmed, uow)
        uow.commit()
    assert client.get(f"/api/nominations/{nid}/evidence", headers=h).json["certificate_claim"]["status"] == "confirmed"
    assert client.get(f"/api/nominations/{nid}/eligibility", headers=h).json["eligible"] is True
    # the same number again is refused: training's records hold it now
    current = client.get(f"/api/nominations/{nid}", headers=h)
    again = client.post(
        f"/api/nominations/{nid}/certificate-claim", json=claim, headers={**h, "If-Match": current.headers["ETag"]}
    )
    assert again.status_code == 409 and again.json["errors"][0]["field"] == "number"
