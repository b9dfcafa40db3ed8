"""Events the identity service publishes; other services keep projections of people and grants from them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from identity.domain.profile import profile_as_of
from shared.events import DomainEvent

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


@dataclass
class UserProvisioned(DomainEvent):
    event_type: ClassVar[str] = "identity.user.provisioned"
    user: dict[str, Any]

    @property
    def subject(self) -> str:
        return str(self.user["user_id"])

    @classmethod
    def of(cls, user: User) -> UserProvisioned:
        return cls(_user_data(user))


@dataclass
class UserUpdated(DomainEvent):
    event_type: ClassVar[str] = "identity.user.updated"
    user: dict[str, Any]
    changed: list[str]

    @property
    def subject(self) -> str:
        return str(self.user["user_id"])

    @classmethod
    def of(cls, user: User, changed: list[str]) -> UserUpdated:
        return cls(_user_data(user), changed)


@dataclass
class OrgUpserted(DomainEvent):
    event_type: ClassVar[str] = "identity.org.upserted"
    code: str
    name: str
    level: str
    parent_code: str | None
    path: str

    @property
    def subject(self) -> str:
        return self.code

    @classmethod
    def of(cls, org: Org) -> OrgUpserted:
        return cls(org.code, org.name, org.level.value, org.parent_code, org.path)


@dataclass
class RoleGranted(DomainEvent):
    event_type: ClassVar[str] = "identity.role.granted"
    grant_id: str
    user_id: str
    role: str
    org_code: str | None
    org_path: str
    source: str
    granted_by: str | None

    @property
    def subject(self) -> str:
        return self.user_id

    @classmethod
    def of(cls, user: User, grant: RoleGrant) -> RoleGranted:
        return cls(
            str(grant.id),
            str(user.id),
            grant.role,
            grant.org_code,
            grant.org_path,
            grant.source,
            grant.granted_by,
        )


@dataclass
class RoleRevoked(DomainEvent):
    event_type: ClassVar[str] = "identity.role.revoked"
    grant_id: str
    user_id: str
    role: str
    org_code: str | None
    org_path: str
    revoked_by: str | None

    @property
    def subject(self) -> str:
        return self.user_id

    @classmethod
    def of(cls, user: User, grant: RoleGrant, by: str | None) -> RoleRevoked:
        return cls(str(grant.id), str(user.id), grant.role, grant.org_code, grant.org_path, by)
