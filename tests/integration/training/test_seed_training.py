"""Issue 17 item 7 on PostgreSQL: an appointment under Jiaozuo's policy (which sets no training requirement)
is never flagged by the yearly check while Helan's 「一般每年不少于1次集中培训」 is; a certificate of level
「自治区级」 is imported as provincial."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from training.adapters.orm import certificates
from training.bootstrap import TrainingService
from training.entrypoints.timers import requirement_check
from training.service_layer.projections import appointment_handlers

from shared.bus.envelope import CloudEvent
from shared.bus.tables import outbox
from tests.integration.training.conftest import CITY_ADMIN, COUNTY_ADMIN, person
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


def appointment_made(username: str, org_code: str, org_path: str, policy_requirement: dict[str, int]) -> CloudEvent:
    """`approvals.appointment.made` as approvals publishes it: the policy's training.requirement as it is."""
    return CloudEvent(
        "approvals.appointment.made",
        "/cio/approvals",
        {
            "appointment_id": str(uuid.uuid4()),
            "person_user_id": person(username),
            "person_name": username,
            "org_code": org_code,
            "org_path": org_path,
            "term_number": 1,
            "starts_on": "2026-01-01",
            "ends_on": None,
            "document_number": "文号〔2026〕1号",
            "training_requirement": policy_requirement,
        },
    )


def test_一般每年不少于1次集中培训_flags_only_the_cio_whose_policy_sets_it(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    handlers = appointment_handlers(training_service.rules.default_centralized_per_year)
    with training_service.uow() as uow:
        for event in (
            appointment_made("wang.xiaoming", "4108020001", "/4108/410802/4108020001", {}),  # Jiaozuo: none
            appointment_made("li.hua", "4108020002", "/4108/410802/4108020002", {"centralized_per_year": 1}),
        ):
            handlers[event.type](event, uow)
        uow.commit()
    month, day = training_service.rules.check_on
    assert requirement_check(training_service, dt.date(2026, month, day)) == 1
    with training_service.session_factory() as session:
        bodies = session.execute(select(outbox.c.body).where(outbox.c.type == "training.requirement.unmet"))
        flagged = [json.loads(r[0])["data"]["person_user_id"] for r in bodies]
    assert flagged == [person("li.hua")]
    report = client.get("/api/training-compliance?year=2026", headers=issuer.headers("a", CITY_ADMIN)).json
    standing = {i["person_user_id"]: (i["required"], i["meets"]) for i in report["items"]}
    assert standing == {person("wang.xiaoming"): (0, True), person("li.hua"): (1, False)}


def test_自治区级_certificates_are_imported_as_provincial(
    client: FlaskClient, issuer: TestIssuer, training_service: TrainingService
) -> None:
    content = (
        "证书编号,用户名,姓名,培训类别,培训级别,发证机构,发证日期,有效期至\n"
        "NX-2024-001,wang.xiaoming,王晓明,首席信息官培训,自治区级,宁夏回族自治区教育厅,2024-05-08,\n"
    ).encode()
    answer = client.post(
        "/api/certificates/imports",
        data={"file": (io.BytesIO(content), "certs.csv")},
        headers=issuer.headers("admin-1", COUNTY_ADMIN),
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201, answer.json
    with training_service.session_factory() as session:
        levels = session.execute(select(certificates.c.number, certificates.c.level)).all()
    assert [tuple(r) for r in levels] == [("NX-2024-001", "provincial")]
