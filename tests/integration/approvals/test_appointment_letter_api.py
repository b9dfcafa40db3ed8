"""聘任文件 / 聘书 through the approvals API on a real PostgreSQL database: 贺兰 「由学校提名，由教育体育局发文聘任」,
「每届任期一般不少于3年」 chosen at the final approval."""

from __future__ import annotations

import io

from approvals.bootstrap import Approvals
from flask.testing import FlaskClient
from pypdf import PdfReader

from tests.integration.approvals.conftest import (
    HELAN,
    HELAN_COUNTY,
    HELAN_SCHOOL,
    Feed,
    outbox_events,
    round_opened,
    submitted,
)
from tests.integration.approvals.test_reviews_api import decide, inbox
from tests.tokens import TestIssuer

COUNTY = ("county_reviewer", HELAN_COUNTY)


def test_由教育体育局发文聘任_the_county_chooses_five_years_and_prints_the_letter(
    client: FlaskClient, issuer: TestIssuer, feed: Feed, approvals_service: Approvals
) -> None:
    opened = round_opened(HELAN, issuing_org_code="640122", issuing_org_path=HELAN_COUNTY)
    feed(opened, submitted(opened.data["round_id"], HELAN_SCHOOL, policy_id="helan-2024"))
    [unit] = inbox(client, issuer, "sa", ("school_admin", HELAN_SCHOOL))
    assert decide(client, issuer, "sa", ("school_admin", HELAN_SCHOOL), unit["id"], opinion="同意").status_code == 200
    [task] = inbox(client, issuer, "county", COUNTY)
    final = {"opinion": "同意聘任", "document_number": "贺教体发〔2024〕12号", "starts_on": "2024-09-01"}

    short = decide(client, issuer, "county", COUNTY, task["id"], term_years=2, **final)
    assert short.status_code == 422 and short.json["errors"][0]["field"] == "term_years"
    assert outbox_events(approvals_service, "approvals.appointment.made") == []

    made = decide(client, issuer, "county", COUNTY, task["id"], term_years=5, **final)
    assert made.status_code == 200, made.json
    [event] = outbox_events(approvals_service, "approvals.appointment.made")
    assert (event["data"]["starts_on"], event["data"]["ends_on"]) == ("2024-09-01", "2029-08-31")

    appointment_id = made.json["appointment_id"]
    letter = client.get(f"/api/appointments/{appointment_id}/letter.pdf", headers=issuer.headers("county", COUNTY))
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(letter.data))
    text = "".join("".join((page.extract_text() or "").split()) for page in reader.pages)
    assert len(reader.pages) == 2  # 聘任文件, then 聘书
    for expected in (
        "贺兰县教育体育局文件",
        "贺教体发〔2024〕12号",
        "贺兰县第一小学首席信息官",
        "任期5年",
        "2029年8月31日",
        "聘书",
    ):
        assert expected in text, expected
    # the school sees its own appointment's letter; another county's reviewer does not see it at all
    assert (
        client.get(
            f"/api/appointments/{appointment_id}/letter.pdf",
            headers=issuer.headers("sa", ("school_admin", HELAN_SCHOOL)),
        ).status_code
        == 200
    )
    stranger = client.get(
        f"/api/appointments/{appointment_id}/letter.pdf",
        headers=issuer.headers("x", ("county_reviewer", "/4108/410802")),
    )
    assert stranger.status_code == 404
