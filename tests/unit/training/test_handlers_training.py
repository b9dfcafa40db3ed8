"""Trainings, enrolment and certificates, handled against a fake unit of work (nothing starts)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from training.domain.model import Certificate, TrainingKind, TrainingLevel
from training.service_layer.certificates import revoke_certificate, verify
from training.service_layer.trainings import CreateTraining, create_training, enrol
from training.service_layer.unit_of_work import OrgRef, Person

from shared.errors import Conflict, NotFound, Unprocessable
from shared.principal import Grant, Principal
from tests.unit.training.fakes import FakeTrainingUnitOfWork

CITY = OrgRef("4108", "焦作市教育局", "city", "/4108")
COUNTY = OrgRef("410802", "解放区教体局", "county", "/4108/410802")
SCHOOL_PATH = "/4108/410802/4108020001"
ELSEWHERE = OrgRef("4101", "郑州市教育局", "city", "/4101")

CITY_ADMIN = Principal("city-admin", (Grant("training_admin", CITY.path),))
COUNTY_ADMIN = Principal("county-admin", (Grant("training_admin", COUNTY.path),))

HEADMASTER = Person(uuid.uuid4(), "wang.fang", "王芳", "4108020001", SCHOOL_PATH, True)
DEPUTY = Person(uuid.uuid4(), "zhao.lei", "赵磊", "4108020001", SCHOOL_PATH, True)
OUTSIDER = Person(uuid.uuid4(), "sun.li", "孙丽", "41010001", "/4101/41010001", True)


def training_office() -> FakeTrainingUnitOfWork:
    return FakeTrainingUnitOfWork([HEADMASTER, DEPUTY, OUTSIDER], [CITY, COUNTY, ELSEWHERE])


def cio_training(organiser: OrgRef = CITY) -> CreateTraining:
    """焦教文〔2022〕60号: 参加过国家、省、市、县举办的首席信息官（CIO）培训并取得合格证者."""
    return CreateTraining(
        title="首席信息官（CIO）专题培训",
        level="city",
        kind="cio",
        organiser_org_code=organiser.code,
        starts_on=dt.date(2026, 7, 6),
        ends_on=dt.date(2026, 7, 10),
        hours=40,
        centralized=True,
    )


def test_a_city_cio_training_is_organised_in_the_administrators_scope() -> None:
    uow = training_office()

    training = create_training(uow, CITY_ADMIN, cio_training())

    assert uow.committed
    assert training.organiser_org_path == "/4108"
    assert training.organiser_name == "焦作市教育局"
    assert uow.trainings.items[training.id] is training
    assert uow.audited_actions() == ["training_created"]


def test_an_administrator_cannot_organise_for_another_city() -> None:
    uow = training_office()

    with pytest.raises(NotFound):
        create_training(uow, COUNTY_ADMIN, cio_training(ELSEWHERE))
    assert not uow.committed


def test_a_training_that_ends_before_it_starts_is_refused() -> None:
    uow = training_office()
    backwards = CreateTraining(**{**cio_training().__dict__, "ends_on": dt.date(2026, 7, 1)})

    with pytest.raises(Unprocessable):
        create_training(uow, CITY_ADMIN, backwards)
    assert not uow.committed


def test_enrolling_again_adds_only_the_new_people() -> None:
    uow = training_office()
    training = create_training(uow, CITY_ADMIN, cio_training())

    assert enrol(uow, CITY_ADMIN, training.id, [HEADMASTER.user_id]) == 1
    assert enrol(uow, CITY_ADMIN, training.id, [HEADMASTER.user_id, DEPUTY.user_id]) == 1
    assert sorted(a.person_user_id for a in uow.attendance.items.values()) == sorted(
        [HEADMASTER.user_id, DEPUTY.user_id]
    )


def test_one_person_outside_the_scope_enrols_nobody() -> None:
    """报名 is all or nothing."""
    uow = training_office()
    training = create_training(uow, CITY_ADMIN, cio_training())
    uow.committed = False

    with pytest.raises(Unprocessable) as refused:
        enrol(uow, CITY_ADMIN, training.id, [HEADMASTER.user_id, OUTSIDER.user_id])

    assert [e["field"] for e in refused.value.errors] == ["person_user_ids.1"]
    assert uow.attendance.items == {}
    assert not uow.committed


def issued(number: str = "JZ-CIO-2026-0001") -> Certificate:
    cert = Certificate(
        number=number,
        person_user_id=HEADMASTER.user_id,
        person_name=HEADMASTER.display_name,
        person_org_path=SCHOOL_PATH,
        kind=TrainingKind.CIO,
        level=TrainingLevel.CITY,
        issuer="焦作市教育局",
        issued_on=dt.date(2026, 7, 10),
        expires_on=None,
        training_id=None,
        recorded_by="city-admin",
    )
    cert.events.clear()
    return cert


def test_a_revoked_certificate_is_announced_so_it_stops_qualifying() -> None:
    uow = training_office()
    cert = issued()
    uow.certificates.add(cert)

    revoke_certificate(uow, COUNTY_ADMIN, cert.id, "证书信息有误")

    assert uow.committed
    assert uow.event_types() == ["training.certificate.revoked"]
    assert uow.audited[0][1]["details"] == {"reason": "证书信息有误"}


def test_a_certificate_is_revoked_once() -> None:
    uow = training_office()
    cert = issued()
    uow.certificates.add(cert)
    revoke_certificate(uow, COUNTY_ADMIN, cert.id, "证书信息有误")
    uow.committed = False

    with pytest.raises(Conflict):
        revoke_certificate(uow, COUNTY_ADMIN, cert.id, "again")
    assert not uow.committed


def test_verification_shows_the_holder_masked_and_the_standing() -> None:
    """证书查验: anyone may check a printed certificate; the name is masked."""
    uow = training_office()
    cert = issued()
    uow.certificates.add(cert)

    answer = verify(uow, " JZ-CIO-2026-0001 ", today=dt.date(2026, 12, 1))

    assert answer["holder"] == "王*"
    assert answer["status"] == "valid"
    assert not uow.committed
