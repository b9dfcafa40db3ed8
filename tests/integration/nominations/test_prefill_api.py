"""避免重复采集 (seed 004): the 推荐表 takes what the directory keeps of the candidate (学历, 民族, 教龄, 职务, 职称
from identity's profile), and a new round starts from the unit's previous form."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from nominations.bootstrap import Nominations

from shared import directory
from tests.integration.nominations.conftest import CANDIDATE, OTHER_SCHOOL, SCHOOL, identity_event
from tests.integration.nominations.flow import JIAOZUO_FORM, create, fill_and_attest, open_round
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration

PROFILE = {
    "education": "研究生",
    "ethnicity": "回族",
    "teaching_years": 21,
    "administrative_post": "校长",
    "professional_title": "正高级教师",
    "political_status": "中共党员",
}


def profile_known(service: Nominations) -> None:
    """identity.user.updated as identity publishes it after an import from the digital base."""
    user = {
        "user_id": str(CANDIDATE),
        "username": "zhang.san",
        "display_name": "张三",
        "org_code": "4108020001",
        "phone": "13800008000",
        "email": "zhang.san@example.cn",
        "gender": "男",
        "birth_date": "1980-05-01",
        "is_active": True,
        "profile": PROFILE,
    }
    with service.uow() as uow:
        directory.apply(identity_event("identity.user.updated", {"user": user, "changed": ["profile"]}), uow)
        uow.commit()


def test_避免重复采集_the_form_takes_the_directorys_profile_of_the_candidate(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    profile_known(service)
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    assert created.status_code == 201, created.json
    form = created.json["form"]
    assert (
        form["education"],
        form["ethnicity"],
        form["teaching_years"],
        form["administrative_post"],
        form["professional_title"],
    ) == ("研究生", "回族", 21, "校长", "正高级教师")
    # typed again differently, it is refused: the directory is the one place it is kept
    retyped = client.patch(
        f"/api/nominations/{created.json['id']}",
        json={"form": {"education": "本科"}},
        headers=issuer.headers("school-admin", SCHOOL, **{"If-Match": created.headers["ETag"]}),
    )
    assert retyped.status_code == 422 and retyped.json["errors"][0]["field"] == "form.education"
    # a school that cannot see the nomination learns nothing of the profile
    assert (
        client.get(f"/api/nominations/{created.json['id']}", headers=issuer.headers("x", OTHER_SCHOOL)).status_code
        == 404
    )


def test_避免重复采集_a_new_round_starts_from_the_units_previous_form(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    first = open_round(client, issuer)
    earlier = create(client, issuer, first["id"])
    fill_and_attest(client, issuer, earlier)
    second = open_round(client, issuer)
    h = issuer.headers("school-admin", SCHOOL)

    offered = client.get(
        "/api/nominations/previous", query_string={"org_code": "4108020001", "round_id": second["id"]}, headers=h
    )
    assert offered.status_code == 200, offered.json
    assert (offered.json["nomination_id"], offered.json["round_id"]) == (earlier.json["id"], first["id"])
    # another unit's administrator is not offered this unit's form
    other = client.get(
        "/api/nominations/previous",
        query_string={"org_code": "4108020001", "round_id": second["id"]},
        headers=issuer.headers("x", OTHER_SCHOOL),
    )
    assert other.status_code == 404

    started = client.post(
        "/api/nominations",
        json={"round_id": second["id"], "school_org_code": "4108020001", "start_from": earlier.json["id"]},
        headers=h,
    )
    assert started.status_code == 201, started.json
    body = started.json
    assert body["candidate_user_id"] == str(CANDIDATE)  # still the unit's: chosen again
    for name in ("work_achievements", "postal_address", "honours", "post_kind", "years_in_it_management"):
        assert body["form"][name] == JIAOZUO_FORM[name], name
    # a new signature and a new photo: the earlier ones vouched for the earlier form
    assert body["attested_at"] is None and body["photo_sha256"] is None
    history = client.get(f"/api/nominations/{body['id']}/history", headers=h).json["items"]
    assert any(h["action"] == "started_from" and h["details"]["nomination_id"] == earlier.json["id"] for h in history)


def test_教龄_published_last_year_is_prefilled_one_year_more(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    """identity published 教龄 22 a year ago (teaching began 23 years before this year): the form says 23."""
    this_year = dt.datetime.now(dt.UTC).year
    last_year = {**PROFILE, "teaching_years": 22, "teaching_since": this_year - 23}
    user = {
        "user_id": str(CANDIDATE),
        "username": "zhang.san",
        "display_name": "张三",
        "org_code": "4108020001",
        "is_active": True,
        "profile": last_year,
    }
    with service.uow() as uow:
        directory.apply(identity_event("identity.user.updated", {"user": user, "changed": ["profile"]}), uow)
        uow.commit()
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    assert created.status_code == 201, created.json
    assert created.json["form"]["teaching_years"] == 23
