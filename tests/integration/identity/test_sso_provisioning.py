"""Just-in-time provisioning and SSO housekeeping on PostgreSQL: link by external id, never by name."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from identity.adapters.orm import sso_login_states, sso_sessions
from identity.adapters.sso_config import parse_providers
from identity.bootstrap import Identity
from identity.service_layer import directory, sso
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from shared.principal import principal_from_claims

pytestmark = pytest.mark.integration

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
                        "mapping": "standard-oidc",
                        "org_scope": ["4108"],
                    }
                ]
            }
        ).values()
    )
)
ADMIN = principal_from_claims({"sub": "admin-1", "grants": [["platform_admin", "/"]]})
CAS = next(
    iter(
        parse_providers(
            {
                "providers": [
                    {
                        "id": "city-cas",
                        "name": "数字基座 CAS",
                        "protocol": "cas",
                        "server_url": "https://cas.example.cn/cas",
                        "mapping": {
                            "id": "cas-login-name",
                            "external_id": "user",
                            "orgs": {"code": "org_code"},
                            "roles": [{"role": "school_admin"}],
                        },
                        "org_scope": ["4108"],
                    }
                ]
            }
        ).values()
    )
)


def _mapped(external_id: str, username: str = "zhangming", name: str = "张明") -> sso.MappedIdentity:
    claims = {
        "sub": external_id,
        "preferred_username": username,
        "name": name,
        "org_code": "4108020001",
        "identity_type": "teacher",
        "is_principal": True,
    }
    return PROVIDER.mapping.apply(claims, PROVIDER.id)


def _user_count(service: Identity) -> int:
    from identity.adapters.orm import users

    with service.session_factory() as session:
        return int(session.execute(select(func.count()).select_from(users)).scalar_one())


def test_a_user_imported_from_the_base_is_linked_by_external_id(identity_service: Identity) -> None:
    imported = directory.create_user(
        identity_service.uow(),
        ADMIN,
        directory.CreateUser("li.teacher", "李老师", "4108020001", external_id="base-501", external_source="city-oidc"),
    )
    before = _user_count(identity_service)
    uow = identity_service.uow()
    with uow:
        user, created = sso.provision_user(uow, PROVIDER, _mapped("base-501", name="李明"))
        uow.commit()
    assert (user.id, created) == (imported.id, False)
    assert _user_count(identity_service) == before
    assert user.display_name == "李明"  # the base's current name wins
    assert ("school_admin", "/4108/410802/4108020001") in user.grant_pairs()


def test_the_same_name_with_another_external_id_is_another_user(identity_service: Identity) -> None:
    uow = identity_service.uow()
    with uow:
        first, _ = sso.provision_user(uow, PROVIDER, _mapped("base-601", username="wang"))
        uow.commit()
    uow = identity_service.uow()
    with uow:
        second, created = sso.provision_user(uow, PROVIDER, _mapped("base-602", username="wang"))
        uow.commit()
    assert created and second.id != first.id
    assert first.username == "wang@city-oidc"
    assert second.username.startswith("wang-") and second.username.endswith("@city-oidc")


def test_housekeeping_drops_spent_states_and_old_sessions_and_counts_live_ones(identity_service: Identity) -> None:
    now = dt.datetime.now(dt.UTC)
    uow = identity_service.uow()
    with uow:
        user, _ = sso.provision_user(uow, PROVIDER, _mapped("base-701"))
        uow.commit()
    with identity_service.session_factory() as session, session.begin():
        for state, expires in (("old", now - dt.timedelta(minutes=1)), ("fresh", now + dt.timedelta(minutes=5))):
            session.execute(
                sso_login_states.insert().values(
                    state=state,
                    provider="city-oidc",
                    nonce="n",
                    code_verifier="v",
                    return_to="/",
                    mode="session",
                    created_at=now,
                    expires_at=expires,
                )
            )
        for ended, expires in (
            (None, now + dt.timedelta(hours=1)),  # live
            (now - dt.timedelta(days=1), now + dt.timedelta(hours=1)),  # ended recently: kept a while
            (now - dt.timedelta(days=40), now - dt.timedelta(days=40)),  # long gone: dropped
        ):
            session.execute(
                sso_sessions.insert().values(
                    id_hash=uuid.uuid4().hex,
                    user_id=user.id,
                    provider="city-oidc",
                    upstream_subject="base-701",
                    created_at=now,
                    expires_at=expires,
                    ended_at=ended,
                )
            )
    assert sso.housekeeping(identity_service.uow(), now) == 1
    with identity_service.session_factory() as session:
        states = list(session.execute(select(sso_login_states.c.state)).scalars())
        sessions = session.execute(select(func.count()).select_from(sso_sessions)).scalar_one()
    assert states == ["fresh"] and sessions == 2
    assert REGISTRY.get_sample_value("identity_sso_active_sessions") == 1


def _provision(service: Identity, provider: object, mapped: sso.MappedIdentity) -> tuple[object, bool]:
    uow = service.uow()
    with uow:
        user, created = sso.provision_user(uow, provider, mapped)  # type: ignore[arg-type]
        uow.commit()
    return user, created


def test_a_cas_login_name_equal_to_an_oidc_subject_is_not_that_oidc_user(identity_service: Identity) -> None:
    oidc_user, _ = _provision(identity_service, PROVIDER, _mapped("zhangsan"))
    cas_user, created = _provision(
        identity_service, CAS, CAS.mapping.apply({"user": "zhangsan", "org_code": "4108210001"}, CAS.id)
    )
    assert created and cas_user.id != oidc_user.id  # type: ignore[attr-defined]


def test_an_account_with_a_password_is_never_linked_by_external_id(identity_service: Identity) -> None:
    planted = directory.create_user(
        identity_service.uow(),
        ADMIN,
        directory.CreateUser(
            "planted",
            "张明",
            "4108020001",
            external_id="base-801",
            external_source="city-oidc",
            password="a-password-someone-knows",
        ),
    )
    user, created = _provision(identity_service, PROVIDER, _mapped("base-801"))
    assert created and user.id != planted.id  # type: ignore[attr-defined]


def test_an_external_id_of_another_source_is_not_linked(identity_service: Identity) -> None:
    other = directory.create_user(
        identity_service.uow(),
        ADMIN,
        directory.CreateUser("cas.only", "王五", "4108020001", external_id="base-802", external_source="city-cas"),
    )
    user, created = _provision(identity_service, PROVIDER, _mapped("base-802"))
    assert created and user.id != other.id  # type: ignore[attr-defined]


def test_only_a_platform_wide_admin_sets_an_external_id_and_it_is_audited(identity_service: Identity) -> None:
    from shared.audit import audit_log
    from shared.errors import Forbidden

    school_admin = principal_from_claims(
        {"sub": "school-admin-1", "grants": [["platform_admin", "/4108/410802/4108020001"]]}
    )
    with pytest.raises(Forbidden):
        directory.create_user(
            identity_service.uow(),
            school_admin,
            directory.CreateUser("plant", "张明", "4108020001", external_id="base-803", external_source="city-oidc"),
        )
    made = directory.create_user(
        identity_service.uow(),
        ADMIN,
        directory.CreateUser("linked", "张明", "4108020001", external_id="base-803", external_source="city-oidc"),
    )
    with identity_service.session_factory() as session:
        audited = session.execute(
            select(audit_log.c.actor, audit_log.c.details).where(
                audit_log.c.action == "external_id_set", audit_log.c.target == str(made.id)
            )
        ).one()
    assert audited.actor == "admin-1"
    assert audited.details == {"external_source": "city-oidc", "external_id": "base-803"}


def test_a_city_code_sent_as_a_school_is_refused(identity_service: Identity) -> None:
    """The base says the user's school is 4108 (焦作市教育局, a city): no school_admin over the whole city."""
    claims = {"sub": "base-901", "name": "张明", "org_code": "4108", "identity_type": "teacher", "is_principal": True}
    with pytest.raises(sso.SignInRefused) as refused:
        _provision(identity_service, PROVIDER, PROVIDER.mapping.apply(claims, PROVIDER.id))
    assert refused.value.reason == "org_out_of_scope"


def test_an_org_outside_the_providers_subtree_is_refused(identity_service: Identity) -> None:
    """A 焦作 provider naming a school of 乌海 (1503) signs nobody in there."""
    claims = {"sub": "base-902", "name": "张明", "org_code": "1503020001", "identity_type": "teacher"}
    with pytest.raises(sso.SignInRefused) as refused:
        _provision(identity_service, PROVIDER, PROVIDER.mapping.apply(claims, PROVIDER.id))
    assert refused.value.reason == "org_out_of_scope"
    unknown = {**claims, "sub": "base-903", "org_code": "1503029999", "parent_org_code": "150302"}
    with pytest.raises(sso.SignInRefused) as refused:
        _provision(identity_service, PROVIDER, PROVIDER.mapping.apply(unknown, PROVIDER.id))
    assert refused.value.reason == "org_out_of_scope"  # nor is a new school created there


def test_a_mapped_level_that_matches_the_org_signs_in(identity_service: Identity) -> None:
    claims = {"sub": "base-904", "name": "李四", "org_code": "410802", "org_level": "county"}
    user, created = _provision(identity_service, PROVIDER, PROVIDER.mapping.apply(claims, PROVIDER.id))
    assert created and user.org_code == "410802"  # type: ignore[attr-defined]
