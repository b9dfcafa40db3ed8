"""避免重复采集 (seed 004 乌教发〔2023〕97号): the directory keeps what the forms ask of a teacher (学历, 民族,
教龄, 现任行政职务, 专业技术职务, 政治面貌) from the digital base's imports and sign-in claims, and tells the other
services."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from flask.testing import FlaskClient
from identity.adapters.sso_config import parse_providers
from identity.bootstrap import Identity
from identity.service_layer import sso
from sqlalchemy import select

from shared.bus.tables import outbox
from tests.integration.identity.conftest import bearer

pytestmark = pytest.mark.integration

PROFILE_CSV = (
    "username,display_name,org_code,education,ethnicity,teaching_years,administrative_post,professional_title,"
    "political_status\n"
    "t.sun,孙老师,4108020001,本科,汉族,18,副校长,高级教师,中共党员\n"
)
PROVIDER = next(
    iter(
        parse_providers(
            {
                "providers": [
                    {
                        "id": "city-oidc",
                        "name": "数字基座",
                        "protocol": "oidc",
                        "issuer": "https://id.example.cn",
                        "client_id": "cio",
                        "mapping": {
                            "id": "base-with-profile",
                            "external_id": "sub",
                            "username": "preferred_username",
                            "profile": {
                                "display_name": "name",
                                "education": "xl",
                                "ethnicity": "mz",
                                "teaching_years": "jl",
                                "political_status": "zzmm",
                            },
                            "orgs": {"code": "org_code"},
                            "roles": [],
                        },
                        "org_scope": ["4108"],
                    }
                ]
            }
        ).values()
    )
)


def _events(service: Identity, event_type: str) -> list[dict[str, object]]:
    with service.session_factory() as session:
        rows = session.execute(select(outbox.c.body).where(outbox.c.type == event_type).order_by(outbox.c.created_at))
        return [json.loads(r[0]) for r in rows]


def test_避免重复采集_an_import_keeps_the_profile_the_forms_ask_for(
    client: FlaskClient, identity_service: Identity
) -> None:
    admin = {**bearer(client, "admin"), "Content-Type": "text/csv"}
    done = client.post("/api/users/import", data=PROFILE_CSV.encode(), headers=admin)
    assert done.status_code == 200, done.json
    [provisioned] = [
        e for e in _events(identity_service, "identity.user.provisioned") if e["data"]["user"]["username"] == "t.sun"
    ]
    assert provisioned["data"]["user"]["profile"] == {
        "education": "本科",
        "ethnicity": "汉族",
        "teaching_years": 18,  # counted today from the year teaching began, which is kept
        "teaching_since": dt.datetime.now(dt.UTC).year - 18,
        "administrative_post": "副校长",
        "professional_title": "高级教师",
        "political_status": "中共党员",
    }
    # a later import changes one field: the rest stays, and the change is published
    again = client.post(
        "/api/users/import",
        data="username,display_name,org_code,professional_title\nt.sun,孙老师,4108020001,正高级教师\n".encode(),
        headers=admin,
    )
    assert again.status_code == 200 and again.json["updated"] == 1
    updated = [
        e for e in _events(identity_service, "identity.user.updated") if e["data"]["user"]["username"] == "t.sun"
    ]
    assert updated[-1]["data"]["changed"] == ["profile"]
    assert updated[-1]["data"]["user"]["profile"]["professional_title"] == "正高级教师"
    assert updated[-1]["data"]["user"]["profile"]["education"] == "本科"
    # 教龄 is a number of years: a row that says otherwise is refused, naming the column
    bad = client.post(
        "/api/users/import",
        data="username,display_name,org_code,teaching_years\nt.sun,孙老师,4108020001,十八\n".encode(),
        headers=admin,
    )
    assert bad.status_code == 422 and bad.json["errors"][0]["column"] == "teaching_years"


def test_避免重复采集_sign_in_claims_fill_the_profile(identity_service: Identity) -> None:
    claims = {
        "sub": "base-777",
        "preferred_username": "zhou.teacher",
        "name": "周老师",
        "org_code": "4108020001",
        "xl": "研究生",
        "mz": "回族",
        "jl": "不详",  # not a number: left out, the sign-in goes on
        "zzmm": "群众",
    }
    uow = identity_service.uow()
    with uow:
        user, created = sso.provision_user(uow, PROVIDER, PROVIDER.mapping.apply(claims, PROVIDER.id))
        uow.commit()
    assert created
    assert user.profile == {"education": "研究生", "ethnicity": "回族", "political_status": "群众"}
    [event] = [
        e
        for e in _events(identity_service, "identity.user.provisioned")
        if e["data"]["user"]["user_id"] == str(user.id)
    ]
    assert event["data"]["user"]["profile"]["ethnicity"] == "回族"
