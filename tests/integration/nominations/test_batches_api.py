"""报送 through the nominations API on a real PostgreSQL database: seed 001 「于2022年10月10日前将焦作市首席教育
信息官推荐表、汇总表各1份，报送至市教育局」. The approvals service's decisions arrive as its events, applied by the
same handler the worker runs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from nominations.bootstrap import Nominations
from nominations.service_layer.projections import on_review_decided

from shared.bus.envelope import CloudEvent
from shared.bus.tables import outbox
from tests.integration.nominations.conftest import CITY, COUNTY, OTHER_COUNTY, SCHOOL
from tests.integration.nominations.flow import create, fill_and_attest, give_certificate, submit
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration

NOTICE = {
    "document_number": "焦教文〔2022〕60号",
    "text": "请各县（市、区）、各学校…于2022年10月10日前将焦作市首席教育信息官推荐表、汇总表各1份，报送至市教育局",
    "contacts": [{"name": "秦杰", "phone": "2992820"}, {"name": "崔杰", "phone": "2992808"}],
    "attachments": [{"title": "焦作市首席教育信息官推荐表"}, {"title": "焦作市首席教育信息官汇总表"}],
}


def _decided(nid: str, round_id: str, stage: int, decision: str, outcome: str) -> CloudEvent:
    return CloudEvent(
        type="approvals.review.decided",
        source="/cio/approvals",
        subject=str(uuid.uuid4()),
        data={
            "case_id": str(uuid.uuid4()),
            "task_id": str(uuid.uuid4()),
            "nomination_id": nid,
            "round_id": round_id,
            "school_org_path": "/4108/410802/4108020001",
            "stage_index": stage,
            "stage_key": ["unit", "county_review", "city_review"][stage],
            "stage_name": ["所在单位意见", "县（市、区）教育行政部门审核意见", "市教育局审核意见"][stage],
            "decision": decision,
            "opinion": "同意",
            "decided_by": "reviewer",
            "decided_at": dt.datetime.now(dt.UTC).isoformat(),
            "outcome": outcome,
        },
    )


def _outbox(service: Nominations, event_type: str) -> list[dict[str, Any]]:
    with service.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.body).where(outbox.c.type == event_type)).scalars()
        return [json.loads(b) for b in rows]


def _round(client: FlaskClient, issuer: TestIssuer, county_days: float = 20) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    response = client.post(
        "/api/rounds",
        json={
            "title": "2022年焦作市首席教育信息官推荐",
            "policy_id": "jiaozuo-2022",
            "issuing_org_code": "4108",
            "deadline": (now + dt.timedelta(days=10)).isoformat(),
            "notice": NOTICE,
            "level_deadlines": {"county": (now + dt.timedelta(days=county_days)).isoformat()},
        },
        headers=issuer.headers("bureau", CITY),
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert isinstance(body, dict)
    return body


def test_报送至市教育局_the_county_sends_its_approved_forms_summary_and_opinion_in_one_act(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    round_ = _round(client, issuer)
    assert round_["notice"]["document_number"] == "焦教文〔2022〕60号"
    assert [c["name"] for c in round_["notice"]["contacts"]] == ["秦杰", "崔杰"]
    assert list(round_["level_deadlines"]) == ["county"]
    assert dt.datetime.fromisoformat(round_["level_deadlines"]["county"]) > dt.datetime.fromisoformat(
        round_["deadline"]
    )
    (opened,) = _outbox(service, "nominations.round.opened")
    assert opened["data"]["notice"]["document_number"] == "焦教文〔2022〕60号"
    # a school sees the notice of its city's round
    seen = client.get(f"/api/rounds/{round_['id']}", headers=issuer.headers("school-admin", SCHOOL)).json
    assert seen["notice"]["attachments"][0]["title"] == "焦作市首席教育信息官推荐表"

    give_certificate(service)
    created = create(client, issuer, round_["id"])
    nid = created.json["id"]
    assert submit(client, issuer, nid, fill_and_attest(client, issuer, created)).status_code == 200
    county = issuer.headers("county", COUNTY)

    # nothing approved by the county yet: nothing to send, and nothing is recorded
    early = client.post(
        f"/api/rounds/{round_['id']}/batches", json={"org_code": "410802", "opinion": "同意"}, headers=county
    )
    assert early.status_code == 422, early.json
    assert [e["field"] for e in early.json["errors"]] == ["nominations"]

    with service.uow() as uow:
        on_review_decided(_decided(nid, round_["id"], 0, "approve", "in_review"), uow)
        on_review_decided(_decided(nid, round_["id"], 1, "approve", "in_review"), uow)
        uow.commit()

    # another county's reviewer cannot send for this county; the opinion is required
    other = issuer.headers("other-county", OTHER_COUNTY)
    refused = client.post(
        f"/api/rounds/{round_['id']}/batches", json={"org_code": "410802", "opinion": "同意"}, headers=other
    )
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "org_code"
    blank = client.post(
        f"/api/rounds/{round_['id']}/batches", json={"org_code": "410802", "opinion": ""}, headers=county
    )
    assert blank.status_code == 422 and "opinion" in json.dumps(blank.json)

    sent = client.post(
        f"/api/rounds/{round_['id']}/batches",
        json={"org_code": "410802", "opinion": "经审核，同意推荐"},
        headers=county,
    )
    assert sent.status_code == 201, sent.json
    batch = sent.json
    assert [n["nomination_id"] for n in batch["nominations"]] == [nid]
    assert batch["to_role"] == "city_reviewer" and batch["to_org_path"] == "/4108"
    assert batch["opinion"] == "经审核，同意推荐" and batch["left_out"] == []
    (event,) = _outbox(service, "nominations.batch.submitted")
    assert event["data"]["nomination_ids"] == [nid] and event["data"]["to_org_path"] == "/4108"

    # one act: a second send is a conflict
    again = client.post(
        f"/api/rounds/{round_['id']}/batches", json={"org_code": "410802", "opinion": "再次"}, headers=county
    )
    assert again.status_code == 409 and again.json["errors"][0]["field"] == "org_code"

    # the city sees the batches per county: 解放区 sent, 修武县 not yet
    overview = client.get(f"/api/rounds/{round_['id']}/batches", headers=issuer.headers("city", CITY)).json
    assert [(u["org_code"], u["batch_id"]) for u in overview["units"]] == [("410802", batch["id"]), ("410821", None)]
    assert [b["id"] for b in overview["items"]] == [batch["id"]]
    # the other county sees neither the batch nor the first county
    theirs = client.get(f"/api/rounds/{round_['id']}/batches", headers=other).json
    assert theirs["items"] == [] and [u["org_code"] for u in theirs["units"]] == ["410821"]

    # the batch's 汇总表, masked unless revealed; a school cannot read it (404)
    table = client.get(
        f"/api/rounds/{round_['id']}/batches/{batch['id']}/summary", headers=issuer.headers("city", CITY)
    )
    assert table.status_code == 200 and table.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(table.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["县（市、区）", "单位名称"] and len(rows) == 2
    assert rows[1][0] == "解放区教育局" and "138****8000" in rows[1]
    hidden = client.get(
        f"/api/rounds/{round_['id']}/batches/{batch['id']}/summary", headers=issuer.headers("school-admin", SCHOOL)
    )
    assert hidden.status_code == 404


def test_报送至市教育局_after_the_county_deadline_the_batch_is_refused(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    round_ = _round(client, issuer, county_days=20)
    # the county's deadline passed (moved into the past in the database, as time would)
    with service.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE rounds SET level_deadlines = :d WHERE id = :id"),
            {"d": json.dumps({"county": "2022-10-10T00:00:00+00:00"}), "id": round_["id"]},
        )
    give_certificate(service)
    created = create(client, issuer, round_["id"])
    nid = created.json["id"]
    assert submit(client, issuer, nid, fill_and_attest(client, issuer, created)).status_code == 200
    with service.uow() as uow:
        on_review_decided(_decided(nid, round_["id"], 0, "approve", "in_review"), uow)
        on_review_decided(_decided(nid, round_["id"], 1, "approve", "in_review"), uow)
        uow.commit()
    late = client.post(
        f"/api/rounds/{round_['id']}/batches",
        json={"org_code": "410802", "opinion": "同意"},
        headers=issuer.headers("county", COUNTY),
    )
    assert late.status_code == 409 and late.json["errors"][0]["field"] == "deadline"
    assert _outbox(service, "nominations.batch.submitted") == []
