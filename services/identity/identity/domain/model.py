"""Organisations, users and role grants: who may act where.

Pure Python: the adapters map these classes to tables, nothing here knows about them.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field
from typing import Any

from identity.domain import events
from identity.domain.profile import TEACHING_SINCE
from shared.clock import now as now
from shared.contracts.identity import PROFILE_KEYS
from shared.domain import DomainError as DomainError
from shared.principal import ROLES as ROLES


class OrgLevel(enum.StrEnum):
    CITY = "city"
    COUNTY = "county"
    SCHOOL = "school"
    UNIVERSITY = "university"
    DEPARTMENT = "department"


# Which level may sit under which: a city holds counties (and schools run by the city itself),
# a county holds schools, a university holds departments.
ALLOWED_CHILDREN: dict[OrgLevel, set[OrgLevel]] = {
    OrgLevel.CITY: {OrgLevel.COUNTY, OrgLevel.SCHOOL, OrgLevel.UNIVERSITY},
    OrgLevel.COUNTY: {OrgLevel.SCHOOL},
    OrgLevel.SCHOOL: set(),
    OrgLevel.UNIVERSITY: {OrgLevel.DEPARTMENT},
    OrgLevel.DEPARTMENT: set(),
}

PLATFORM_PATH = "/"


def valid_code(code: str) -> bool:
    return 0 < len(code) <= 32 and all(c.isalnum() or c in "-_" for c in code)


class Org:
    """An organisation in the tree (教育局, 学校, 高校, 院系) with a stable code and materialized path."""

    def __init__(self, code: str, name: str, level: OrgLevel, parent: Org | None = None) -> None:
        if not valid_code(code):
            raise DomainError("An org code is 1–32 letters, digits, '-' or '_'.", "code")
        if not name.strip():
            raise DomainError("An org needs a name.", "name")
        if parent is not None and level not in ALLOWED_CHILDREN[parent.level]:
            raise DomainError(f"A {level.value} cannot sit under a {parent.level.value}.", "parent_code")
        self.id: uuid.UUID = uuid.uuid4()
        self.code: str = code
        self.name: str = name.strip()
        self.level: OrgLevel = level
        self.parent_code: str | None = parent.code if parent else None
        self.path: str = f"{parent.path}/{code}" if parent else f"/{code}"
        self.created_at = now()
        self.updated_at = self.created_at
        self.events: list[Any] = [events.OrgUpserted.of(self)]

    def rename(self, name: str) -> None:
        if name.strip() and name.strip() != self.name:
            self.name = name.strip()
            self.updated_at = now()
            self.events.append(events.OrgUpserted.of(self))


@dataclass
class RoleGrant:
    """A role held at an org; it covers the org's whole subtree."""

    user_id: uuid.UUID
    role: str
    org_code: str | None
    org_path: str
    source: str = "manual"
    granted_by: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    created_at: dt.datetime = field(default_factory=now)


MAX_TEACHING_YEARS = 60


def _whole_number(value: Any, field_name: str, message: str) -> int:
    if isinstance(value, bool):
        raise DomainError(message, field_name)
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise DomainError(message, field_name) from exc


def clean_profile(values: dict[str, Any], today: dt.date | None = None) -> dict[str, Any]:
    """The known profile keys with a value (text trimmed); others dropped. 教龄 comes as `teaching_years` (a whole
    number 0–60, as imports and the base's claims give it, counted to `today`) or as `teaching_since` (the year
    teaching began) and is kept as `teaching_since`."""
    year = (today or now().date()).year
    out: dict[str, Any] = {}
    for key in (TEACHING_SINCE, *User.PROFILE_KEYS):
        value = values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if key == TEACHING_SINCE:
            since = _whole_number(value, key, "The year teaching began is a year.")
            if not year - MAX_TEACHING_YEARS <= since <= year:
                raise DomainError(f"The year teaching began is {year - MAX_TEACHING_YEARS}–{year}.", key)
            out[TEACHING_SINCE] = since
        elif key == "teaching_years":
            years = _whole_number(value, key, "教龄 is a whole number of years.")
            if not 0 <= years <= MAX_TEACHING_YEARS:
                raise DomainError(f"教龄 is 0–{MAX_TEACHING_YEARS} years.", "teaching_years")
            out[TEACHING_SINCE] = year - years
        else:
            text = str(value).strip()
            if len(text) > 100:
                raise DomainError(f"{key} is at most 100 characters.", key)
            out[key] = text
    return out


class User:
    """A person who signs in; personal data is kept once here (避免重复采集) and shared by events."""

    PROFILE_FIELDS = ("display_name", "phone", "email", "gender", "birth_date", "org_code", "locale", "profile")
    # 避免重复采集: what the forms ask of a teacher, kept here from imports and sign-in claims (学历, 民族, 教龄,
    # 现任行政职务, 专业技术职务, 政治面貌) and prefilled by the forms;
    # the list is the one the user events carry (shared.contracts.identity)
    PROFILE_KEYS = PROFILE_KEYS

    def __init__(
        self,
        username: str,
        display_name: str,
        *,
        org_code: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        gender: str | None = None,
        birth_date: dt.date | None = None,
        external_id: str | None = None,
        external_source: str | None = None,
        locale: str = "zh-CN",
        password_hash: str | None = None,
        profile: dict[str, Any] | None = None,
    ) -> None:
        if not username or len(username) > 64 or not all(c.isalnum() or c in "._-@" for c in username):
            raise DomainError("A username is 1–64 letters, digits, '.', '_', '-' or '@'.", "username")
        if not display_name.strip():
            raise DomainError("A user needs a name.", "display_name")
        if bool(external_id) != bool(external_source):
            # An upstream user id means nothing without the provider that issued it: the same string may be
            # a CAS login name at one provider and an OIDC subject at another.
            raise DomainError("An external id needs the provider it is of (external_source).", "external_source")
        self.id = uuid.uuid4()
        self.username = username.lower()
        self.display_name = display_name.strip()
        self.org_code = org_code
        self.phone = phone
        self.email = email
        self.gender = gender
        self.birth_date = birth_date
        self.external_id = external_id
        self.external_source = external_source
        self.locale = locale
        self.password_hash = password_hash
        self.profile: dict[str, Any] = clean_profile(profile or {})
        self.is_active = True
        self.created_at = now()
        self.updated_at = self.created_at
        self.grants: list[RoleGrant] = []
        self.events: list[Any] = [events.UserProvisioned.of(self)]

    def update_profile(self, **changes: Any) -> None:
        """New values of the profile fields; `profile` (学历, 民族, …) is merged: a key not given keeps its value."""
        if "profile" in changes:
            changes["profile"] = {**(self.profile or {}), **clean_profile(changes["profile"] or {})}
        changed = {k: v for k, v in changes.items() if k in self.PROFILE_FIELDS and getattr(self, k) != v}
        if not changed:
            return
        for key, value in changed.items():
            setattr(self, key, value)
        self.updated_at = now()
        self.events.append(events.UserUpdated.of(self, sorted(changed)))

    def link_external(self, source: str, external_id: str) -> bool:
        """Say which upstream user (of which provider) this account is, for sign-in to link; True if it changed."""
        if not source or not external_id:
            raise DomainError("An external id needs the provider it is of (external_source).", "external_source")
        if (self.external_source, self.external_id) == (source, external_id):
            return False
        self.external_source, self.external_id = source, external_id
        self.updated_at = now()
        self.events.append(events.UserUpdated.of(self, ["external_id"]))
        return True

    def disable(self) -> None:
        """停用: the account can no longer sign in; its sessions and tokens are ended by the handler."""
        if self.is_active:
            self.is_active = False
            self.updated_at = now()
            self.events.append(events.UserUpdated.of(self, ["is_active"]))

    def enable(self) -> None:
        if not self.is_active:
            self.is_active = True
            self.updated_at = now()
            self.events.append(events.UserUpdated.of(self, ["is_active"]))

    def grant(self, role: str, org: Org | None, *, by: str | None, source: str = "manual") -> RoleGrant:
        """Grant `role` at `org` (None = the whole platform, only for platform_admin and auditor)."""
        if role not in ROLES:
            raise DomainError(f"Unknown role {role!r}.", "role")
        if org is None and role not in {"platform_admin", "auditor"}:
            raise DomainError("Only platform_admin and auditor may be granted platform-wide.", "org_code")
        path = org.path if org else PLATFORM_PATH
        for existing in self.grants:
            if existing.role == role and existing.org_path == path:
                return existing
        grant = RoleGrant(self.id, role, org.code if org else None, path, source=source, granted_by=by)
        self.grants.append(grant)
        self.events.append(events.RoleGranted.of(self, grant))
        return grant

    def revoke(self, grant_id: uuid.UUID, *, by: str | None) -> RoleGrant:
        for grant in self.grants:
            if grant.id == grant_id:
                self.grants.remove(grant)
                self.events.append(events.RoleRevoked.of(self, grant, by))
                return grant
        raise DomainError("No such grant.", "grant_id")

    def grant_pairs(self) -> list[tuple[str, str]]:
        return sorted((g.role, g.org_path) for g in self.grants)
