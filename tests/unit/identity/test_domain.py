"""The identity domain: the org tree, grants and the events they raise."""

import pytest
from identity.domain import events
from identity.domain.model import DomainError, Org, OrgLevel, User


def tree() -> tuple[Org, Org, Org]:
    city = Org("4108", "焦作市教育局", OrgLevel.CITY)
    county = Org("410802", "解放区教育局", OrgLevel.COUNTY, city)
    school = Org("4108020001", "解放区第一实验小学", OrgLevel.SCHOOL, county)
    return city, county, school


def test_org_path_is_materialized_from_codes() -> None:
    _, county, school = tree()
    assert county.path == "/4108/410802"
    assert school.path == "/4108/410802/4108020001"
    assert school.parent_code == "410802"


def test_school_cannot_hold_a_county() -> None:
    _, _, school = tree()
    with pytest.raises(DomainError) as exc:
        Org("x1", "错误", OrgLevel.COUNTY, school)
    assert exc.value.field == "parent_code"


def test_university_holds_departments_only() -> None:
    uni = Org("10417", "宜春学院", OrgLevel.UNIVERSITY)
    Org("1041701", "信息中心", OrgLevel.DEPARTMENT, uni)
    with pytest.raises(DomainError):
        Org("1041702", "附属小学", OrgLevel.SCHOOL, uni)


def test_new_org_announces_itself() -> None:
    city, _, _ = tree()
    assert [type(e) for e in city.events] == [events.OrgUpserted]
    assert city.events[0].payload()["path"] == "/4108"


def test_bad_org_code_is_refused() -> None:
    with pytest.raises(DomainError) as exc:
        Org("41 08", "x", OrgLevel.CITY)
    assert exc.value.field == "code"


def test_grant_covers_org_path_and_is_idempotent() -> None:
    _, county, _ = tree()
    user = User("Reviewer", "审核员", org_code=county.code)
    assert user.username == "reviewer"
    first = user.grant("county_reviewer", county, by="admin")
    again = user.grant("county_reviewer", county, by="admin")
    assert first is again
    assert user.grant_pairs() == [("county_reviewer", "/4108/410802")]
    assert [e.event_type for e in user.events] == ["identity.user.provisioned", "identity.role.granted"]


def test_only_admin_and_auditor_are_platform_wide() -> None:
    user = User("someone", "某人")
    user.grant("auditor", None, by="admin")
    with pytest.raises(DomainError):
        user.grant("county_reviewer", None, by="admin")


def test_unknown_role_is_refused() -> None:
    _, county, _ = tree()
    with pytest.raises(DomainError) as exc:
        User("a", "甲").grant("king", county, by="admin")
    assert exc.value.field == "role"


def test_revoking_a_grant_raises_role_revoked() -> None:
    _, county, _ = tree()
    user = User("r", "审核员")
    grant = user.grant("county_reviewer", county, by="admin")
    user.revoke(grant.id, by="admin")
    assert user.grants == []
    assert user.events[-1].event_type == "identity.role.revoked"
    assert user.events[-1].payload()["org_path"] == "/4108/410802"


def test_profile_update_names_what_changed() -> None:
    user = User("t", "老师", phone="13800138000")
    user.update_profile(phone="13800138000")
    assert len(user.events) == 1
    user.update_profile(phone="13900139000", email="t@example.cn")
    assert user.events[-1].payload()["changed"] == ["email", "phone"]


def test_an_external_id_needs_the_provider_it_is_of() -> None:
    with pytest.raises(DomainError) as exc:
        User("li", "李老师", external_id="base-1")
    assert exc.value.field == "external_source"
    user = User("li", "李老师")
    assert user.link_external("city-oidc", "base-1") and not user.link_external("city-oidc", "base-1")
    assert (user.external_source, user.external_id) == ("city-oidc", "base-1")


def test_disabling_and_enabling_an_account_is_published_once() -> None:
    user = User("li", "李老师")
    user.events.clear()
    user.disable()
    user.disable()
    assert not user.is_active
    user.enable()
    changed = [e.changed for e in user.events if isinstance(e, events.UserUpdated)]
    assert changed == [["is_active"], ["is_active"]] and user.is_active
