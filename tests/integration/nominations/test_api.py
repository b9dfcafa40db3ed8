"""The nominations API against PostgreSQL: rounds, the form, submit with eligibility, scope, lists, exports."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from nominations.adapters.orm import nomination_history
from nominations.bootstrap import Nominations
from openpyxl import load_workbook

from shared import directory
from shared.audit import audit_log
from shared.bus.envelope import CloudEvent
from shared.bus.tables import outbox
from tests.integration.nominations.conftest import (
    CANDIDATE,
    CITY,
    COUNTY,
    OTHER_COUNTY,
    OTHER_SCHOOL,
    OTHER_SCHOOL_USER,
    SCHOOL,
)
from tests.integration.nominations.flow import (
    JIAOZUO_FORM,
    create,
    fill_and_attest,
    give_certificate,
    open_round,
    submit,
)
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


def _outbox(service: Nominations, event_type: str) -> list[dict[str, Any]]:
    with service.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.body).where(outbox.c.type == event_type)).scalars()
        return [json.loads(b) for b in rows]


def test_policies_are_served(client: FlaskClient, issuer: TestIssuer) -> None:
    h = issuer.headers("u", SCHOOL)
    listed = client.get("/api/policies", headers=h)
    assert [p["id"] for p in listed.json["items"]] == ["helan-2024", "jiaozuo-2022", "yichun-university"]
    one = client.get("/api/policies/yichun-university", headers=h).json
    assert one["term"]["max_consecutive_terms"] == 2
    assert client.get("/api/policies/nowhere", headers=h).status_code == 404
    assert client.get("/api/policies").status_code == 401


def test_opening_a_round_publishes_the_policy_snapshot(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    round_ = open_round(client, issuer)
    (event,) = _outbox(service, "nominations.round.opened")
    assert event["subject"] == round_["id"]
    assert [s["role"] for s in event["data"]["policy"]["approval"]["stages"]] == [
        "school_admin",
        "county_reviewer",
        "city_reviewer",
    ]
    assert event["data"]["issuing_org_path"] == "/4108"


def test_a_school_cannot_open_a_round_and_bad_input_names_fields(client: FlaskClient, issuer: TestIssuer) -> None:
    r = client.post(
        "/api/rounds",
        json={
            "title": "x",
            "policy_id": "jiaozuo-2022",
            "issuing_org_code": "4108",
            "deadline": "2099-01-01T00:00:00+08:00",
        },
        headers=issuer.headers("s", SCHOOL),
    )
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "issuing_org_code"
    r = client.post("/api/rounds", json={"title": "", "deadline": "soon"}, headers=issuer.headers("c", CITY))
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} >= {"title", "deadline", "policy_id", "issuing_org_code"}


def test_happy_path_submit_writes_the_form_snapshot(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    give_certificate(service)
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    assert created.status_code == 201, created.json
    assert created.json["form"]["name"] == "张三" and created.json["form"]["unit_name"] == "解放区第一实验小学"
    etag = fill_and_attest(client, issuer, created)
    submitted = submit(client, issuer, created.json["id"], etag)
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["status"] == "submitted"
    (event,) = _outbox(service, "nominations.nomination.submitted")
    data = event["data"]
    assert data["revision"] == 1 and data["school_org_path"] == "/4108/410802/4108020001"
    assert data["candidate_user_id"] == str(CANDIDATE) and data["candidate_name"] == "张三"
    assert data["form"]["work_achievements"] == JIAOZUO_FORM["work_achievements"]
    assert data["form"]["honours"][0]["granted_by"] == "焦作市教育局"
    history = client.get(f"/api/nominations/{created.json['id']}/history", headers=issuer.headers("s", SCHOOL)).json
    assert [h["action"] for h in history["items"]] == [
        "created",
        "candidate_chosen",
        "form_filled",
        "photo_attached",
        "attested",
        "submitted",
    ]
    assert all(h["actor"] == "school-admin" for h in history["items"])


def test_ineligible_submit_is_422_with_reasons_and_writes_nothing(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    etag = fill_and_attest(client, issuer, created)
    refused = submit(client, issuer, created.json["id"], etag)
    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "eligibility.qualification"
    assert "2 years of IT management not met" in refused.json["errors"][0]["messages"][0]
    assert refused.json["eligibility"]["reasons"][0]["message_zh"].startswith("未取得")
    assert _outbox(service, "nominations.nomination.submitted") == []
    again = client.get(f"/api/nominations/{created.json['id']}", headers=issuer.headers("s", SCHOOL))
    assert again.json["status"] == "draft" and again.headers["ETag"] == etag
    on_demand = client.get(f"/api/nominations/{created.json['id']}/eligibility", headers=issuer.headers("s", SCHOOL))
    assert on_demand.json["eligible"] is False


def test_other_school_and_other_county_get_404(client: FlaskClient, issuer: TestIssuer) -> None:
    round_ = open_round(client, issuer)
    nid = create(client, issuer, round_["id"]).json["id"]
    for grant in (OTHER_SCHOOL, OTHER_COUNTY):
        h = issuer.headers("outsider", grant)
        assert client.get(f"/api/nominations/{nid}", headers=h).status_code == 404
        assert client.get(f"/api/nominations/{nid}/eligibility", headers=h).status_code == 404
        assert client.post(f"/api/nominations/{nid}/submit", headers={**h, "If-Match": "*"}).status_code == 404
        assert client.get("/api/nominations", headers=h).json["items"] == []
    county = client.get(f"/api/nominations/{nid}", headers=issuer.headers("county", COUNTY))
    assert county.status_code == 200
    # A reviewer in the chain may read; cannot edit (the school's nominator does).
    r = client.patch(
        f"/api/nominations/{nid}",
        json={"form": {"education": "硕士"}},
        headers=issuer.headers("county", COUNTY, **{"If-Match": "*"}),
    )
    assert r.status_code == 404


def test_stale_if_match_is_412_and_missing_is_428(client: FlaskClient, issuer: TestIssuer) -> None:
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    nid, etag = created.json["id"], created.headers["ETag"]
    h = issuer.headers("s", SCHOOL)
    assert (
        client.patch(
            f"/api/nominations/{nid}", json={"form": {"education": "本科"}}, headers={**h, "If-Match": etag}
        ).status_code
        == 200
    )
    stale = client.patch(
        f"/api/nominations/{nid}", json={"form": {"education": "硕士"}}, headers={**h, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert client.patch(f"/api/nominations/{nid}", json={"form": {"education": "硕士"}}, headers=h).status_code == 428


def test_same_idempotency_key_creates_one_nomination(client: FlaskClient, issuer: TestIssuer) -> None:
    round_ = open_round(client, issuer)
    first = create(client, issuer, round_["id"], **{"Idempotency-Key": "k-1"})
    second = create(client, issuer, round_["id"], **{"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true" and second.json["id"] == first.json["id"]
    assert len(client.get("/api/nominations", headers=issuer.headers("s", SCHOOL)).json["items"]) == 1
    # Without the key, a second live nomination for the school is a conflict.
    assert create(client, issuer, round_["id"]).status_code == 409


def test_submit_after_the_deadline_is_refused(client: FlaskClient, issuer: TestIssuer, service: Nominations) -> None:
    give_certificate(service)
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    etag = fill_and_attest(client, issuer, created)
    with service.engine.begin() as conn:
        conn.execute(sa.text("UPDATE rounds SET deadline = now() - interval '1 minute'"))
    late = submit(client, issuer, created.json["id"], etag)
    assert late.status_code == 409 and "deadline" in late.json["detail"]


def test_form_limits_are_problem_json_per_field(client: FlaskClient, issuer: TestIssuer) -> None:
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    r = client.patch(
        f"/api/nominations/{created.json['id']}",
        json={"form": {"work_achievements": "字" * 2001, "honours": [{"award_name": "x"}], "mobile": "13900000000"}},
        headers=issuer.headers("s", SCHOOL, **{"If-Match": created.headers["ETag"]}),
    )
    assert r.status_code == 422 and r.headers["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in r.json["errors"]} == {
        "form.work_achievements",
        "form.honours.0.awarded_on",
        "form.honours.0.granted_by",
        "form.mobile",
    }


def test_photo_must_be_an_image(client: FlaskClient, issuer: TestIssuer) -> None:
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    r = client.put(
        f"/api/nominations/{created.json['id']}/photo",
        data=b"<svg/>",
        content_type="image/png",
        headers=issuer.headers("s", SCHOOL, **{"If-Match": created.headers["ETag"]}),
    )
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "photo"


def test_list_is_keyset_paginated_scoped_and_masked(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    other = client.post(
        "/api/nominations",
        json={"round_id": round_["id"], "school_org_code": "4108020002"},
        headers=issuer.headers("s2", ("school_admin", "/4108/410802/4108020002")),
    )
    assert other.status_code == 201
    h = issuer.headers("city", CITY)
    first = client.get("/api/nominations?limit=1", headers=h).json
    second = client.get(f"/api/nominations?limit=1&cursor={first['next_cursor']}", headers=h).json
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {created.json["id"], other.json["id"]}
    assert second["next_cursor"] is None
    masked = next(i for i in (first["items"] + second["items"]) if i["id"] == created.json["id"])
    assert masked["form"]["mobile"] == "138****8000" and masked["masked"] is True
    by_org = client.get("/api/nominations?org_code=4108020002", headers=h).json["items"]
    assert [i["id"] for i in by_org] == [other.json["id"]]
    assert client.get("/api/nominations?status=submitted", headers=h).json["items"] == []
    assert client.get("/api/nominations", headers=issuer.headers("c", COUNTY)).json["items"] != []


def test_summary_table_csv_and_xlsx(client: FlaskClient, issuer: TestIssuer, service: Nominations) -> None:
    give_certificate(service)
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    submit(client, issuer, created.json["id"], fill_and_attest(client, issuer, created))
    h = issuer.headers("city", CITY)
    response = client.get(f"/api/rounds/{round_['id']}/summary?format=csv", headers=h)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["县（市、区）", "单位名称", "姓名"]
    assert rows[1][:3] == ["解放区教育局", "解放区第一实验小学", "张三"]
    assert "138****8000" in rows[1] and "1980-**-**" in rows[1]
    # 导出完整个人信息 asks why: without a reason the export is refused, naming the field.
    refused = client.get(f"/api/rounds/{round_['id']}/summary?format=xlsx&reveal=true", headers=h)
    assert refused.status_code == 422 and [e["field"] for e in refused.json["errors"]] == ["reason"]
    xlsx = client.get(f"/api/rounds/{round_['id']}/summary?format=xlsx&reveal=true&reason=汇总上报省厅", headers=h)
    sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(values) == 2 and values[0][-1] == "状态" and values[1][-1] == "已提交"
    assert "13800008000" in values[1]
    with service.engine.connect() as conn:
        exports = conn.execute(
            sa.select(audit_log.c.details).where(audit_log.c.action == "summary.personal_export")
        ).scalars()
        assert [d["reason"] for d in exports] == ["汇总上报省厅"]
    # Another county's reviewer sees an empty table, not another county's rows.
    other = client.get(f"/api/rounds/{round_['id']}/summary", headers=issuer.headers("c2", OTHER_COUNTY))
    assert len(list(csv.reader(io.StringIO(other.get_data(as_text=True))))) == 1


def test_progress_shows_each_school_of_the_round_in_scope_and_who_has_not_submitted(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    """按县（市、区）汇总: the bureau sees every school of the round, with or without a nomination."""
    give_certificate(service)
    round_ = open_round(client, issuer)
    url = f"/api/rounds/{round_['id']}/progress"
    before = client.get(url, headers=issuer.headers("city", CITY)).json
    assert [(u["org_code"], u["county_name"], u["status"]) for u in before["units"]] == [
        ("4108020001", "解放区教育局", None),
        ("4108020002", "解放区教育局", None),
        ("4108210001", "修武县教育局", None),
    ]
    assert before["counts"] == {"none": 3}

    created = create(client, issuer, round_["id"])
    submit(client, issuer, created.json["id"], fill_and_attest(client, issuer, created))
    after = client.get(url, headers=issuer.headers("city", CITY)).json
    first = after["units"][0]
    assert (first["nomination_id"], first["status"], first["candidate_name"]) == (
        created.json["id"],
        "submitted",
        "张三",
    )
    assert after["counts"] == {"submitted": 1, "none": 2}
    # A county sees its own schools only; another county none of 解放区's; a school only itself.
    county = client.get(url, headers=issuer.headers("c", COUNTY)).json
    assert [u["org_code"] for u in county["units"]] == ["4108020001", "4108020002"]
    other = client.get(url, headers=issuer.headers("c2", OTHER_COUNTY)).json
    assert [(u["org_code"], u["status"]) for u in other["units"]] == [("4108210001", None)]
    school = client.get(url, headers=issuer.headers("s", OTHER_SCHOOL)).json
    assert [u["org_code"] for u in school["units"]] == ["4108210001"]
    # A round of another region is a 404, not an empty list.
    helan = open_round(client, issuer, policy="helan-2024", org="640122", grant=("county_reviewer", "/640122"))
    assert client.get(f"/api/rounds/{helan['id']}/progress", headers=issuer.headers("c", COUNTY)).status_code == 404


def test_progress_pages_the_units_and_its_figures_cover_every_unit(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    """A city has thousands of schools: the units come a page at a time (by path, filtered by the body above them and
    by status), while the counts and 按县（市、区）汇总 cover every unit of the round in scope."""
    give_certificate(service)
    round_ = open_round(client, issuer)
    url = f"/api/rounds/{round_['id']}/progress"
    city = issuer.headers("city", CITY)
    first = client.get(url, query_string={"limit": 2}, headers=city).json
    assert [u["org_code"] for u in first["units"]] == ["4108020001", "4108020002"]
    assert first["next_cursor"]
    rest = client.get(url, query_string={"limit": 2, "cursor": first["next_cursor"]}, headers=city).json
    assert ([u["org_code"] for u in rest["units"]], rest["next_cursor"]) == (["4108210001"], None)
    for answer in (first, rest):
        assert answer["counts"] == {"none": 3}
        assert [(c["county_name"], c["units"], c["counts"]) for c in answer["by_county"]] == [
            ("解放区教育局", 2, {"none": 2}),
            ("修武县教育局", 1, {"none": 1}),
        ]

    created = create(client, issuer, round_["id"])
    submit(client, issuer, created.json["id"], fill_and_attest(client, issuer, created))
    county_code = first["units"][0]["county_code"]
    filtered = client.get(url, query_string={"county_code": county_code, "status": "none"}, headers=city).json
    assert [u["org_code"] for u in filtered["units"]] == ["4108020002"]
    assert filtered["counts"] == {"submitted": 1, "none": 2}  # the figures stay those of every unit
    assert filtered["by_county"][0]["counts"] == {"submitted": 1, "none": 1}
    bad = client.get(url, query_string={"status": "lost", "limit": 0}, headers=city)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json["errors"]} >= {"status", "limit"}


def test_coverage_counts_the_schools_with_a_cio_in_office(
    service: Nominations, client: FlaskClient, issuer: TestIssuer
) -> None:
    """覆盖率: schools in scope with an appointment in force; an ended or revoked one does not count."""
    from nominations.service_layer.projections import on_appointment, on_appointment_revoked

    def appointment(event_type: str, appointment_id: str, org_code: str, org_path: str) -> CloudEvent:
        data = {"appointment_id": appointment_id, "person_user_id": str(CANDIDATE), "org_code": org_code}
        return CloudEvent(type=event_type, source="/cio/approvals", data={**data, "org_path": org_path})

    with service.uow() as uow:
        on_appointment(appointment("approvals.appointment.made", "a1", "4108020001", "/4108/410802/4108020001"), uow)
        on_appointment(appointment("approvals.appointment.made", "a2", "4108210001", "/4108/410821/4108210001"), uow)
        on_appointment_revoked(
            appointment("approvals.appointment.revoked", "a2", "4108210001", "/4108/410821/4108210001"), uow
        )
        uow.commit()
    city = client.get("/api/nominations/coverage", headers=issuer.headers("city", CITY)).json
    assert (city["units"], city["appointed"]) == (3, 1)
    assert [(r["org_name"], r["units"], r["appointed"]) for r in city["by_parent"]] == [
        ("解放区教育局", 2, 1),
        ("修武县教育局", 1, 0),
    ]
    # The bodies a page at a time (a province's grant reaches hundreds); the totals stay those of every unit.
    first = client.get("/api/nominations/coverage?limit=1", headers=issuer.headers("city", CITY)).json
    assert ([r["org_name"] for r in first["by_parent"]], first["units"], first["appointed"]) == (["解放区教育局"], 3, 1)
    rest = client.get(
        "/api/nominations/coverage",
        query_string={"limit": 1, "cursor": first["next_cursor"]},
        headers=issuer.headers("city", CITY),
    ).json
    assert ([r["org_name"] for r in rest["by_parent"]], rest["next_cursor"]) == (["修武县教育局"], None)
    county = client.get("/api/nominations/coverage", headers=issuer.headers("c", OTHER_COUNTY)).json
    assert (county["units"], county["appointed"]) == (1, 0)
    one = client.get("/api/nominations/coverage?org_code=410802", headers=issuer.headers("city", CITY)).json
    assert (one["units"], one["appointed"]) == (2, 1)
    # An org outside the caller's scope is a 404, not an empty answer.
    assert (
        client.get("/api/nominations/coverage?org_code=410802", headers=issuer.headers("c", OTHER_COUNTY)).status_code
        == 404
    )


def test_closing_by_hand_and_by_the_deadline_timer(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    from nominations.service_layer.common import now_utc
    from nominations.service_layer.rounds import close_due_rounds

    manual = open_round(client, issuer)
    etag = client.get(f"/api/rounds/{manual['id']}", headers=issuer.headers("c", CITY)).headers["ETag"]
    closed = client.post(f"/api/rounds/{manual['id']}/close", headers=issuer.headers("c", CITY, **{"If-Match": etag}))
    assert closed.status_code == 200 and closed.json["close_reason"] == "manual"
    timed = open_round(client, issuer, days=0.0001)
    # Its deadline is ~9 s away: the timer is run with the clock moved on, not slept for.
    assert close_due_rounds(service.uow, now_utc()) == 0
    future = now_utc().replace(year=now_utc().year + 1)
    assert close_due_rounds(service.uow, future) == 1
    assert close_due_rounds(service.uow, future) == 0
    reasons = sorted(e["data"]["reason"] for e in _outbox(service, "nominations.round.closed"))
    assert reasons == ["deadline", "manual"]
    assert client.get(f"/api/rounds/{timed['id']}", headers=issuer.headers("s", SCHOOL)).json["status"] == "closed"
    assert create(client, issuer, timed["id"]).status_code == 409


def test_history_rows_are_committed_with_the_change(
    service: Nominations, client: FlaskClient, issuer: TestIssuer
) -> None:
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    client.patch(
        f"/api/nominations/{created.json['id']}",
        json={"form": {"teaching_years": -1}},
        headers=issuer.headers("s", SCHOOL, **{"If-Match": created.headers["ETag"]}),
    )
    with service.engine.connect() as conn:
        actions = conn.execute(sa.select(nomination_history.c.action)).scalars().all()
    assert actions == ["created", "candidate_chosen"]


def test_openapi_document_lists_the_paths(client: FlaskClient) -> None:
    spec = client.get("/openapi/nominations/openapi.json").json
    assert {"/api/policies", "/api/rounds/{round_id}/summary", "/api/nominations/{nomination_id}/submit"} <= set(
        spec["paths"]
    )


def test_yichun_term_limit_reads_appointments_from_the_projection(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    from nominations.service_layer.projections import on_appointment

    from shared.bus.envelope import CloudEvent

    president = ("university_president", "/10417")
    person = "00000000-0000-0000-0000-0000000000d4"
    user = {
        "user_id": person,
        "username": "vp",
        "display_name": "赵六",
        "org_code": "10417",
        "phone": "13800001111",
        "email": "vp@example.cn",
        "gender": "女",
        "birth_date": "1970-01-01",
        "is_active": True,
    }
    with service.uow() as uow:
        directory.apply(CloudEvent(type="identity.user.provisioned", source="/cio/identity", data={"user": user}), uow)
        uow.commit()
    round_ = open_round(client, issuer, policy="yichun-university", org="10417", grant=president)
    form = {
        "current_post": "副校长",
        "post_kind": "vice_president",
        "political_status": "中共党员",
        "professional_title_grade": "正高级",
        "admin_rank": "县处级",
        "years_at_university": 10,
    }
    created = client.post(
        "/api/nominations",
        json={"round_id": round_["id"], "school_org_code": "10417", "candidate_user_id": person, "form": form},
        headers=issuer.headers("president", president),
    )
    assert created.status_code == 201, created.json
    url = f"/api/nominations/{created.json['id']}/eligibility"
    assert client.get(url, headers=issuer.headers("president", president)).json["eligible"] is True
    for term in (1, 2):
        data = {
            "appointment_id": f"a{term}",
            "person_user_id": person,
            "org_code": "10417",
            "org_path": "/10417",
            "term_number": term,
            "starts_on": f"20{17 + 3 * term}-01-01",
            "ends_on": None,
        }
        with service.uow() as uow:
            on_appointment(CloudEvent(type="approvals.appointment.made", source="/cio/approvals", data=data), uow)
            uow.commit()
    result = client.get(url, headers=issuer.headers("president", president)).json
    assert [r["rule"] for r in result["reasons"]] == ["term_limit"]


def test_summary_xlsx_has_one_row_per_nomination_with_the_policy_columns(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    give_certificate(service)
    round_ = open_round(client, issuer)
    submitted = create(client, issuer, round_["id"])
    assert submit(client, issuer, submitted.json["id"], fill_and_attest(client, issuer, submitted)).status_code == 200
    draft = client.post(
        "/api/nominations",
        json={"round_id": round_["id"], "school_org_code": "4108020002", "form": {"education": "硕士"}},
        headers=issuer.headers("s2", ("school_admin", "/4108/410802/4108020002")),
    )
    assert draft.status_code == 201
    withdrawn = client.post(
        "/api/nominations",
        json={"round_id": round_["id"], "school_org_code": "4108210001", "candidate_user_id": str(OTHER_SCHOOL_USER)},
        headers=issuer.headers("s3", OTHER_SCHOOL),
    )
    assert withdrawn.status_code == 201
    gone = client.post(
        f"/api/nominations/{withdrawn.json['id']}/withdraw",
        headers=issuer.headers("s3", OTHER_SCHOOL, **{"If-Match": withdrawn.headers["ETag"]}),
    )
    assert gone.status_code == 200

    policy = service.catalog.get("jiaozuo-2022")
    assert policy is not None
    header = [c["label_zh"] for c in policy.summary_columns]

    def table(grant: tuple[str, str]) -> list[list[Any]]:
        response = client.get(f"/api/rounds/{round_['id']}/summary?format=xlsx", headers=issuer.headers("r", grant))
        assert response.status_code == 200
        assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert "attachment" in response.headers["Content-Disposition"]
        workbook = load_workbook(io.BytesIO(response.data), read_only=True)
        assert workbook.active is not None and workbook.active.title == "焦作市首席教育信息官推荐表汇总表"
        return [["" if v is None else v for v in row] for row in workbook.active.iter_rows(values_only=True)]

    # One row per live nomination of the subtree (the withdrawn one is not reported), the policy's columns
    # in the policy's order, personal data masked.
    city = table(CITY)
    assert city[0] == header
    assert city[1:] == [
        [
            "解放区教育局",
            "解放区第一实验小学",
            "张三",
            "男",
            "1980-**-**",
            "本科",
            "校长",
            "高级教师",
            "138****8000",
            "已提交",
        ],
        ["解放区教育局", "解放区育才中学", "", "", "", "硕士", "", "", "", "草稿"],
    ]
    assert table(COUNTY) == city
    assert table(OTHER_COUNTY) == [header]


def test_lists_mask_by_the_rounds_policy_snapshot(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    filled = client.patch(
        f"/api/nominations/{created.json['id']}",
        json={"form": {"education": "博士研究生"}},
        headers=issuer.headers("s", SCHOOL, **{"If-Match": created.headers["ETag"]}),
    )
    assert filled.status_code == 200
    # The round's snapshot marks 学历 as personal; the policy file on disk does not.
    policy = service.catalog.get("jiaozuo-2022")
    assert policy is not None
    index = [f.name for f in policy.fields].index("education")
    with service.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE rounds SET policy = jsonb_set(policy, :path, 'true') WHERE id = :id"),
            {"path": f"{{form,fields,{index},personal}}", "id": round_["id"]},
        )
    (item,) = client.get("/api/nominations", headers=issuer.headers("c", CITY)).json["items"]
    assert item["form"]["education"] == "博士研究生"[:6] + "****"
    assert item["form"]["mobile"] == "138****8000"


def test_an_unmasked_summary_covers_only_where_the_role_needs_personal_data(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    round_ = open_round(client, issuer)
    assert create(client, issuer, round_["id"]).status_code == 201
    url = f"/api/rounds/{round_['id']}/summary?format=csv"
    # An auditor of the city who also reviews another county: masked rows of the city, full data of nothing here.
    h = issuer.headers("two-hats", ("auditor", "/4108"), OTHER_COUNTY)
    masked = list(csv.reader(io.StringIO(client.get(url, headers=h).get_data(as_text=True).lstrip("\ufeff"))))
    assert len(masked) == 2 and "138****8000" in masked[1]
    revealed = client.get(f"{url}&reveal=true&reason=核对", headers=h)
    assert revealed.status_code == 200
    assert len(list(csv.reader(io.StringIO(revealed.get_data(as_text=True))))) == 1  # the header only
    auditor = issuer.headers("a", ("auditor", "/4108"))
    assert client.get(f"{url}&reveal=true&reason=核对", headers=auditor).status_code == 404


def test_racing_creations_for_one_unit_are_one_nomination_and_a_409(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    """Both requests pass the "already nominated?" check; the partial unique index decides, and the loser is a
    409 like the sequential case, not a 500."""
    import threading
    import uuid

    from nominations.adapters.orm import nominations

    from tests.helpers import wait_until

    round_ = open_round(client, issuer)
    now = sa.func.now()
    first = service.engine.connect()
    transaction = first.begin()
    first.execute(
        nominations.insert().values(
            id=uuid.uuid4(),
            round_id=uuid.UUID(round_["id"]),
            policy_id="jiaozuo-2022",
            school_org_code="4108020001",
            school_org_path="/4108/410802/4108020001",
            school_name="解放区第一实验小学",
            candidate={},
            form={},
            status="draft",
            revision=0,
            created_by="the-other-request",
            created_at=now,
            updated_at=now,
            version=1,
        )
    )
    answers: list[Any] = []
    racer = threading.Thread(target=lambda: answers.append(create(client, issuer, round_["id"])))
    racer.start()
    try:

        def blocked_on_the_index() -> bool:
            with service.engine.connect() as conn:
                waiting = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                ).scalar_one()
            return bool(waiting)

        wait_until(blocked_on_the_index, timeout=15, message="the second insert waiting on the unique index")
        transaction.commit()
    finally:
        first.close()
        racer.join(timeout=15)
    (answer,) = answers
    assert answer.status_code == 409, answer.json
    assert answer.json["errors"][0]["field"] == "school_org_code"
    with service.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(nominations)).scalar_one() == 1


def test_the_candidate_is_picked_among_the_units_users_from_identity(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    h = issuer.headers("s", SCHOOL)
    listed = client.get("/api/nominations/candidates?org_code=4108020001", headers=h)
    assert listed.status_code == 200
    assert listed.json["items"] == [
        {
            "user_id": str(CANDIDATE),
            "org_code": "4108020001",
            "display_name": "张三",
            "gender": "男",
            "phone": "138****8000",
            "email": "z***@example.cn",
        }
    ]
    assert client.get("/api/nominations/candidates?org_code=4108210001", headers=h).status_code == 404
    round_ = open_round(client, issuer)
    stranger = client.post(
        "/api/nominations",
        json={"round_id": round_["id"], "school_org_code": "4108020001", "candidate_user_id": str(OTHER_SCHOOL_USER)},
        headers=h,
    )
    assert stranger.status_code == 422 and stranger.json["errors"][0]["field"] == "candidate_user_id"
    # Choosing one of the unit's own users fills the form's directory fields (避免重复采集).
    created = create(client, issuer, round_["id"])
    form = created.json["form"]
    prefilled = (form["name"], form["gender"], form["birth_date"], form["mobile"])
    assert prefilled == ("张三", "男", "1980-05-01", "13800008000")
    assert created.json["candidate"]["username"] == "zhang.san"
