"""Seed rules that nominations keeps, through its API on a real PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import uuid

from flask.testing import FlaskClient
from nominations.bootstrap import Nominations
from nominations.service_layer.projections import on_appointment, on_appointment_ended

from shared import clock, directory
from shared.bus.envelope import CloudEvent
from tests.integration.nominations.conftest import HELAN_USER, SCHOOL, identity_event
from tests.integration.nominations.flow import open_round
from tests.tokens import TestIssuer

PRESIDENT = ("university_president", "/10417")
DEAN = uuid.UUID("00000000-0000-0000-0000-0000000000e5")
YICHUN_FORM = {
    "current_post": "教务处处长",
    "post_kind": "department_head",
    "political_status": "中共党员",
    "professional_title_grade": "正高级",
    "admin_rank": "县处级",
    "years_at_university": 12,
}


def academic_affairs_head(service: Nominations) -> None:
    """教务处 (a department org under 宜春学院) and its head, as identity's events tell nominations."""
    with service.uow() as uow:
        directory.apply(
            identity_event(
                "identity.org.upserted",
                {
                    "code": "10417-ACA",
                    "name": "教务处",
                    "level": "department",
                    "parent_code": "10417",
                    "path": "/10417/10417-ACA",
                },
            ),
            uow,
        )
        user = {
            "user_id": str(DEAN),
            "username": "aca.head",
            "display_name": "钱七",
            "org_code": "10417-ACA",
            "phone": "13800002222",
            "email": "aca@example.cn",
            "gender": "男",
            "birth_date": "1972-06-01",
            "is_active": True,
        }
        directory.apply(identity_event("identity.user.provisioned", {"user": user}), uow)
        uow.commit()


def test_职能部门负责人_the_head_of_academic_affairs_can_be_yichuns_candidate(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    """宜春学院 「CIO一般由…具备丰富教育管理经验的职能部门负责人（如教务处、研究生院、信息化管理部门等）担任」:
    the head belongs to 教务处, a department org under the university, and the nomination is the university's."""
    academic_affairs_head(service)
    round_ = open_round(client, issuer, policy="yichun-university", org="10417", grant=PRESIDENT)
    president = issuer.headers("president", PRESIDENT)

    listed = client.get(f"/api/nominations/candidates?org_code=10417&round_id={round_['id']}", headers=president)
    assert listed.status_code == 200, listed.json
    assert {(c["user_id"], c["org_code"]) for c in listed.json["items"]} >= {(str(DEAN), "10417-ACA")}
    # without the round the list is the unit's own people, as for a school
    alone = client.get("/api/nominations/candidates?org_code=10417", headers=president).json["items"]
    assert str(DEAN) not in {c["user_id"] for c in alone}

    # someone of another unit entirely is still refused, naming the field, and nothing is created
    other = client.post(
        "/api/nominations",
        json={"round_id": round_["id"], "school_org_code": "10417", "candidate_user_id": str(HELAN_USER)},
        headers=president,
    )
    assert other.status_code == 422 and other.json["errors"][0]["field"] == "candidate_user_id"

    created = client.post(
        "/api/nominations",
        json={
            "round_id": round_["id"],
            "school_org_code": "10417",
            "candidate_user_id": str(DEAN),
            "form": YICHUN_FORM,
        },
        headers=president,
    )
    assert created.status_code == 201, created.json
    assert created.json["candidate"]["display_name"] == "钱七"
    eligibility = client.get(f"/api/nominations/{created.json['id']}/eligibility", headers=president).json
    assert eligibility["eligible"] is True, eligibility


def test_候选人须为本单位人员_a_jiaozuo_school_still_takes_only_its_own_people(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    """Jiaozuo's policy names no subtree: a person of another org (even under the same city) is refused."""
    round_ = open_round(client, issuer)
    refused = client.post(
        "/api/nominations",
        json={"round_id": round_["id"], "school_org_code": "4108020001", "candidate_user_id": str(HELAN_USER)},
        headers=issuer.headers("school-admin", SCHOOL),
    )
    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "candidate_user_id"


def test_连任不超过2届_two_terms_years_ago_do_not_bar_a_new_nomination(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    """Terms counted from approvals' appointment events: 2012-2018 then a gap is no bar; two terms in a row up to
    now are (宜春学院 「连任不超过2届」)."""
    academic_affairs_head(service)
    round_ = open_round(client, issuer, policy="yichun-university", org="10417", grant=PRESIDENT)
    president = issuer.headers("president", PRESIDENT)
    created = client.post(
        "/api/nominations",
        json={
            "round_id": round_["id"],
            "school_org_code": "10417",
            "candidate_user_id": str(DEAN),
            "form": YICHUN_FORM,
        },
        headers=president,
    )
    assert created.status_code == 201, created.json
    url = f"/api/nominations/{created.json['id']}/eligibility"

    def appointed(appointment_id: str, term: int, starts: str, ends: str, ended: bool) -> None:
        data = {
            "appointment_id": appointment_id,
            "person_user_id": str(DEAN),
            "org_code": "10417",
            "org_path": "/10417",
            "term_number": term,
            "starts_on": starts,
            "ends_on": ends,
        }
        with service.uow() as uow:
            on_appointment(CloudEvent(type="approvals.appointment.made", source="/cio/approvals", data=data), uow)
            if ended:
                closed = {**data, "ended_on": ends}
                on_appointment_ended(CloudEvent("approvals.appointment.ended", "/cio/approvals", closed), uow)
            uow.commit()

    appointed("old-1", 1, "2012-09-01", "2015-08-31", ended=True)
    appointed("old-2", 2, "2015-09-01", "2018-08-31", ended=True)
    assert client.get(url, headers=president).json["eligible"] is True
    today = clock.today()
    first_start = today.replace(year=today.year - 3)
    appointed("now-1", 1, first_start.isoformat(), (today - dt.timedelta(days=1)).isoformat(), ended=True)
    appointed("now-2", 2, today.isoformat(), today.replace(year=today.year + 3).isoformat(), ended=False)
    result = client.get(url, headers=president).json
    assert [r["rule"] for r in result["reasons"]] == ["term_limit"]
