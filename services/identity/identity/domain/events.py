"""Events the identity service publishes (their contracts are shared.contracts.identity), built from the domain's
users, orgs and grants; other services keep projections of people and grants from them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from identity.domain.profile import profile_as_of
from shared.contracts import identity as contracts

if TYPE_CHECKING:
    from identity.domain.model import Org, RoleGrant, User


def _user_data(user: User) -> dict[str, Any]:
    return {
        "user_id": str(user.id),
        "username": user.username,
        "display_name": user.display_name,
        "org_code": user.org_code,
        "phone": user.phone,
        "email": user.email,
        "gender": user.gender,
        "birth_date": user.birth_date.isoformat() if user.birth_date else None,
        "external_id": user.external_id,
        "locale": user.locale,
        "is_active": user.is_active,
        # 学历, 民族, 教龄, 职务, 职称, 政治面貌 (the forms prefill them)
        "profile": profile_as_of(user.profile, dt.datetime.now(dt.UTC).date()),
    }


class UserProvisioned(contracts.UserProvisioned):
    @classmethod
    def of(cls, user: User) -> UserProvisioned:
        return cls(user=_user_data(user))


class UserUpdated(contracts.UserUpdated):
    @classmethod
    def of(cls, user: User, changed: list[str]) -> UserUpdated:
        return cls(user=_user_data(user), changed=changed)


class OrgUpserted(contracts.OrgUpserted):
    @classmethod
    def of(cls, org: Org) -> OrgUpserted:
        return cls(code=org.code, name=org.name, level=org.level.value, parent_code=org.parent_code, path=org.path)


def _grant_data(user: User, grant: RoleGrant) -> dict[str, Any]:
    return {
        "grant_id": str(grant.id),
        "user_id": str(user.id),
        "role": grant.role,
        "org_code": grant.org_code,
        "org_path": grant.org_path,
    }


class RoleGranted(contracts.RoleGranted):
    @classmethod
    def of(cls, user: User, grant: RoleGrant) -> RoleGranted:
        return cls(**_grant_data(user, grant), source=grant.source, granted_by=grant.granted_by)


class RoleRevoked(contracts.RoleRevoked):
    @classmethod
    def of(cls, user: User, grant: RoleGrant, by: str | None) -> RoleRevoked:
        return cls(**_grant_data(user, grant), revoked_by=by)
