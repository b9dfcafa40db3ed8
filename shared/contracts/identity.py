"""Events the identity service publishes: people, orgs and role grants; every other service keeps a projection of
the directory from them.

Identity consumes `approvals.appointment.made` / `.renewed` (grant `cio` at the appointment's org, source `system`)
and `approvals.appointment.ended` / `.revoked` (revoke that grant).
"""

from __future__ import annotations

from typing import Any, ClassVar

from shared.contracts.base import EventContract

# The profile keys a user's events carry (避免重复采集: 学历, 民族, 教龄, 现任行政职务, 专业技术职务, 政治面貌):
# identity keeps them, the forms elsewhere prefill from them; one list, so a key added here reaches both.
PROFILE_KEYS = (
    "education",
    "ethnicity",
    "teaching_years",
    "administrative_post",
    "professional_title",
    "political_status",
)


class UserProvisioned(EventContract):
    """`user`: {user_id, username, display_name, org_code, phone, email, gender, birth_date, external_id, locale,
    is_active, profile}; `profile`: `education` 学历, `ethnicity` 民族, `teaching_years` 教龄,
    `administrative_post` 现任行政职务, `professional_title` 专业技术职务, `political_status` 政治面貌, each only
    when known. The subject is the user id."""

    event_type: ClassVar[str] = "identity.user.provisioned"
    user: dict[str, Any]

    @property
    def subject(self) -> str:
        return str(self.user["user_id"])


class UserUpdated(UserProvisioned):
    """`user` as in `identity.user.provisioned`, `changed`: the names of the fields that changed."""

    event_type: ClassVar[str] = "identity.user.updated"
    changed: list[str]


class OrgUpserted(EventContract):
    """An org of the directory; `level`: city/county/school/university/department; `path` its materialized path."""

    event_type: ClassVar[str] = "identity.org.upserted"
    subject_field: ClassVar[str | None] = "code"
    code: str
    name: str
    level: str
    parent_code: str | None
    path: str


class GrantChanged(EventContract):
    """What a grant event names: the grant, its holder, the role and the org it holds it at."""

    subject_field: ClassVar[str | None] = "user_id"
    grant_id: str
    user_id: str
    role: str
    org_code: str | None
    org_path: str


class RoleGranted(GrantChanged):
    """`source`: manual, import, system, or sso:<provider id> for grants a sign-in mapping controls."""

    event_type: ClassVar[str] = "identity.role.granted"
    source: str
    granted_by: str | None


class RoleRevoked(GrantChanged):
    """A grant withdrawn (by `revoked_by`, None when the system did it)."""

    event_type: ClassVar[str] = "identity.role.revoked"
    revoked_by: str | None
