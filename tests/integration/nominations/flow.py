"""Steps of the Jiaozuo happy path through the API, shared by the API and bus tests."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

from flask.testing import FlaskClient
from nominations.bootstrap import Nominations
from nominations.service_layer.projections import on_certificate_issued

from shared.bus.envelope import CloudEvent
from tests.integration.nominations.conftest import CANDIDATE, CITY, SCHOOL
from tests.tokens import TestIssuer

# A real 2×3 PNG: the service reads an upload's size from its header and refuses what it cannot read.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAFElEQVR4nGM8ISfHwMDAxMDAgKAAFEoBCqHkTQMAAAAASUVORK5CYII="
)
JIAOZUO_FORM = {
    "education": "本科",
    "ethnicity": "汉族",
    "teaching_years": 20,
    "administrative_post": "校长",
    "professional_title": "高级教师",
    "postal_address": "焦作市解放区民主路1号",
    "honours": [{"award_name": "市级优秀教师", "awarded_on": "2021-09-10", "granted_by": "焦作市教育局"}],
    "work_achievements": "推进智慧校园建设。",
    "post_kind": "principal",
    "years_in_it_management": 3,
}


def certificate_event(kind: str = "cio", level: str = "city", person: uuid.UUID = CANDIDATE) -> CloudEvent:
    return CloudEvent(
        type="training.certificate.issued",
        source="/cio/training",
        data={
            "certificate_id": str(uuid.uuid4()),
            "number": f"CIO-{uuid.uuid4().hex[:6]}",
            "person_user_id": str(person),
            "person_name": "张三",
            "kind": kind,
            "level": level,
            "issuer": "焦作市教育局",
            "issued_on": "2022-06-01",
            "expires_on": None,
            "training_id": str(uuid.uuid4()),
        },
    )


def give_certificate(service: Nominations, **kwargs: Any) -> CloudEvent:
    event = certificate_event(**kwargs)
    with service.uow() as uow:
        on_certificate_issued(event, uow)
        uow.commit()
    return event


def open_round(
    client: FlaskClient,
    issuer: TestIssuer,
    *,
    policy: str = "jiaozuo-2022",
    org: str = "4108",
    grant: tuple[str, str] = CITY,
    days: float = 30,
) -> dict[str, Any]:
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()
    response = client.post(
        "/api/rounds",
        json={"title": "2022年首席信息官推荐", "policy_id": policy, "issuing_org_code": org, "deadline": deadline},
        headers=issuer.headers("bureau", grant),
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert isinstance(body, dict)
    return body


def create(client: FlaskClient, issuer: TestIssuer, round_id: str, **headers: str) -> Any:
    return client.post(
        "/api/nominations",
        json={"round_id": round_id, "school_org_code": "4108020001", "candidate_user_id": str(CANDIDATE)},
        headers=issuer.headers("school-admin", SCHOOL, **headers),
    )


def fill_and_attest(client: FlaskClient, issuer: TestIssuer, nomination: Any) -> str:
    """Fill the form, upload the photo, attest; returns the ETag to submit with."""
    nid, etag = nomination.json["id"], nomination.headers["ETag"]
    h = issuer.headers("school-admin", SCHOOL)
    r = client.patch(f"/api/nominations/{nid}", json={"form": JIAOZUO_FORM}, headers={**h, "If-Match": etag})
    assert r.status_code == 200, r.json
    r = client.put(
        f"/api/nominations/{nid}/photo",
        data=PNG,
        content_type="image/png",
        headers={**h, "If-Match": r.headers["ETag"]},
    )
    assert r.status_code == 200, r.json
    r = client.post(
        f"/api/nominations/{nid}/attestation",
        json={"signer_name": "张三", "confirm": True},
        headers={**h, "If-Match": r.headers["ETag"]},
    )
    assert r.status_code == 200, r.json
    return str(r.headers["ETag"])


def submit(client: FlaskClient, issuer: TestIssuer, nid: str, etag: str) -> Any:
    return client.post(
        f"/api/nominations/{nid}/submit", headers=issuer.headers("school-admin", SCHOOL, **{"If-Match": etag})
    )
