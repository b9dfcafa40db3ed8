"""Organisations, users and role grants, handled against a fake unit of work (nothing starts)."""

from __future__ import annotations

import uuid

import pytest
from identity.domain.model import Org, OrgLevel, User
from identity.service_layer.accounts import enable_user
from identity.service_layer.appointments import grant_cio_on_appointment, revoke_cio_when_appointment_ends
from identity.service_layer.directory import CreateOrg, create_org, grant_role, revoke_role

from shared.bus.envelope import CloudEvent
from shared.errors import Conflict, NotFound, Unprocessable
from shared.principal import Grant, Principal
from tests.unit.identity.fakes import FakeIdentityUnitOfWork

CITY = Org("4108", "焦作市教育局", OrgLevel.CITY)
COUNTY = Org("410802", "解放区教体局", OrgLevel.COUNTY, CITY)
SCHOOL = Org("4108020001", "焦作市解放区实验小学", OrgLevel.SCHOOL, COUNTY)
OTHER_CITY = Org("4101", "郑州市教育局", OrgLevel.CITY)

ROOT_ADMIN = Principal("admin", (Grant("platform_admin", "/"),))
COUNTY_ADMIN = Principal("county-admin", (Grant("platform_admin", COUNTY.path),))


def directory(*users: User) -> FakeIdentityUnitOfWork:
    orgs = [Org(o.code, o.name, o.level) for o in (CITY, OTHER_CITY)]
    county = Org(COUNTY.code, COUNTY.name, COUNTY.level, orgs[0])
    school = Org(SCHOOL.code, SCHOOL.name, SCHOOL.level, county)
    uow = FakeIdentityUnitOfWork([*orgs, county, school], list(users))
    for org in uow.orgs.items.values():
        org.events.clear()
    for user in users:
        user.events.clear()
    return uow


def teacher(org: Org = SCHOOL, username: str = "zhang.wei") -> User:
    return User(username, "张伟", org_code=org.code)


def test_an_org_created_under_its_parent_is_announced_and_audited() -> None:
    uow = directory()

    org = create_org(uow, ROOT_ADMIN, CreateOrg("4108020002", "解放区第二小学", "school", parent_code=COUNTY.code))

    assert org.path == "/4108/410802/4108020002"
    assert uow.committed
    assert uow.event_types() == ["identity.org.upserted"]
    assert uow.audited_actions() == ["org_created"]


def test_an_org_code_is_used_once() -> None:
    uow = directory()

    with pytest.raises(Conflict):
        create_org(uow, ROOT_ADMIN, CreateOrg(SCHOOL.code, "重名学校", "school", parent_code=COUNTY.code))
    assert not uow.committed


def test_a_school_cannot_hold_a_county() -> None:
    uow = directory()

    with pytest.raises(Unprocessable):
        create_org(uow, ROOT_ADMIN, CreateOrg("x1", "错层", "county", parent_code=SCHOOL.code))
    assert not uow.committed


def test_an_administrator_creates_orgs_only_within_their_subtree() -> None:
    uow = directory()

    with pytest.raises(NotFound):
        create_org(uow, COUNTY_ADMIN, CreateOrg("41010001", "郑州学校", "school", parent_code=OTHER_CITY.code))
    assert not uow.committed


def test_a_granted_role_is_announced_with_its_org_path() -> None:
    user = teacher()
    uow = directory(user)

    _, grant = grant_role(uow, COUNTY_ADMIN, user.id, "school_admin", SCHOOL.code)

    assert grant.org_path == "/4108/410802/4108020001"
    assert uow.event_types() == ["identity.role.granted"]
    assert uow.audited[0] == (
        "role_granted",
        {
            "actor": "county-admin",
            "target": str(user.id),
            "details": {"role": "school_admin", "org_path": grant.org_path},
        },
    )


def test_a_user_outside_the_administrators_subtree_does_not_exist_for_them() -> None:
    stranger = teacher(OTHER_CITY, "li.na")
    uow = directory(stranger)

    with pytest.raises(NotFound):
        grant_role(uow, COUNTY_ADMIN, stranger.id, "school_admin", OTHER_CITY.code)
    assert not uow.committed


def test_a_revoked_grant_is_announced() -> None:
    user = teacher()
    uow = directory(user)
    _, grant = grant_role(uow, COUNTY_ADMIN, user.id, "school_admin", SCHOOL.code)
    uow.events.clear()

    revoke_role(uow, COUNTY_ADMIN, user.id, grant.id)

    assert uow.event_types() == ["identity.role.revoked"]
    assert uow.get_user(user.id).grants == []


def test_enabling_an_active_account_changes_nothing_but_is_audited() -> None:
    user = teacher()
    uow = directory(user)

    enable_user(uow, COUNTY_ADMIN, user.id, ip=None)

    assert uow.committed
    assert uow.events == []
    assert uow.audited_actions() == ["user_enabled"]


def appointment_event(kind: str, user: User, org: Org = SCHOOL) -> CloudEvent:
    data = {"person_user_id": str(user.id), "org_code": org.code, "appointment_id": str(uuid.uuid4())}
    return CloudEvent(type=f"approvals.appointment.{kind}", source="/cio/approvals", data=data)


def test_the_appointed_cio_holds_the_cio_role_at_the_school() -> None:
    """焦教文〔2022〕60号: 首席信息官（CIO）由学校主要负责人担任 — the role follows the appointment (聘任)."""
    user = teacher()
    uow = directory(user)

    with uow:
        grant_cio_on_appointment(appointment_event("made", user), uow)
        uow.commit()

    assert [(g.role, g.org_path, g.source) for g in uow.get_user(user.id).grants] == [("cio", SCHOOL.path, "system")]
    assert uow.event_types() == ["identity.role.granted"]


def test_an_appointment_for_someone_never_provisioned_grants_nothing() -> None:
    uow = directory()

    with uow:
        grant_cio_on_appointment(appointment_event("made", teacher()), uow)
        uow.commit()

    assert uow.events == []
    assert uow.audited == []


def test_the_cio_role_goes_when_the_appointment_ends() -> None:
    user = teacher()
    uow = directory(user)
    with uow:
        grant_cio_on_appointment(appointment_event("made", user), uow)
        uow.commit()
    uow.events.clear()

    with uow:
        revoke_cio_when_appointment_ends(appointment_event("ended", user), uow)
        uow.commit()

    assert uow.get_user(user.id).grants == []
    assert uow.event_types() == ["identity.role.revoked"]
    assert uow.audited_actions()[-1] == "role_revoked"


def test_a_cio_role_granted_by_hand_outlives_the_appointment() -> None:
    user = teacher()
    uow = directory(user)
    grant_role(uow, COUNTY_ADMIN, user.id, "cio", SCHOOL.code)  # given by hand: not the appointment's to take
    with uow:
        grant_cio_on_appointment(appointment_event("made", user), uow)
        uow.commit()
    uow.events.clear()

    with uow:
        revoke_cio_when_appointment_ends(appointment_event("ended", user), uow)
        uow.commit()

    assert [(g.role, g.source) for g in uow.get_user(user.id).grants] == [("cio", "manual")]
    assert uow.events == []
