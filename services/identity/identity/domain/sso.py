"""Claim mapping: how an upstream identity (统一身份认证 user info) becomes our user, org and role grants.

A mapping is data (YAML under `identity/sso/mappings/`), so a new city's platform needs a new file, not
code. This module only interprets it; it knows no protocol, no HTTP and no database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()
_USERNAME_UNSAFE = re.compile(r"[^a-z0-9._@-]+")


class SignInRefused(Exception):
    """The upstream user cannot sign in here; `reason` is a stable code, the messages are for people."""

    def __init__(self, reason: str, zh: str, en: str, status: int = 403) -> None:
        super().__init__(en)
        self.reason = reason
        self.zh = zh
        self.en = en
        self.status = status


def lookup(claims: Any, path: str | None) -> Any:
    """The value at a dotted path (`data.user_org.0.org_code`); `_MISSING` when any step is absent."""
    if path is None or path == "":
        return claims
    value = claims
    for step in path.split("."):
        if isinstance(value, Mapping) and step in value:
            value = value[step]
        elif isinstance(value, Sequence) and not isinstance(value, str) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return _MISSING
    return value


def _text(value: Any) -> str | None:
    if value is _MISSING or value is None:
        return None
    if isinstance(value, list):  # CAS releases multi-valued attributes as lists
        value = value[0] if value else None
        if value is None:
            return None
    text = str(value).strip()
    return text or None


def _same(left: Any, right: Any) -> bool:
    """Upstream platforms send flags as true, 1, "1" or "true" interchangeably: compare as text."""
    if isinstance(left, list) and len(left) == 1:
        left = left[0]
    return str(left).strip().lower() == str(right).strip().lower()


@dataclass(frozen=True)
class Condition:
    """A test on the claims: `{claim, equals|in|not_in|exists}` or `{all|any: [...]}` or `{not: {...}}`."""

    spec: Mapping[str, Any]

    def holds(self, *scopes: Any) -> bool:
        spec = self.spec
        if "all" in spec:
            return all(Condition(s).holds(*scopes) for s in spec["all"])
        if "any" in spec:
            return any(Condition(s).holds(*scopes) for s in spec["any"])
        if "not" in spec:
            return not Condition(spec["not"]).holds(*scopes)
        value = _MISSING
        for scope in scopes:  # the org item first, then the whole user info
            value = lookup(scope, spec["claim"])
            if value is not _MISSING:
                break
        if "exists" in spec:
            return (value is not _MISSING and value is not None) == bool(spec["exists"])
        if value is _MISSING or value is None:
            return "not_in" in spec  # an absent claim is in no list, and equals nothing
        if "equals" in spec:
            return _same(value, spec["equals"])
        if "in" in spec:
            return any(_same(value, v) for v in spec["in"])
        if "not_in" in spec:
            return not any(_same(value, v) for v in spec["not_in"])
        return True


@dataclass(frozen=True)
class MappedOrg:
    code: str
    name: str | None
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class MappedIdentity:
    """What the mapping made of one sign-in: who, where, and which roles the mapping controls."""

    external_id: str
    username: str
    profile: dict[str, str | None]
    org: MappedOrg
    orgs: list[MappedOrg]
    roles: list[tuple[str, str]] = field(default_factory=list)  # (role, org code)


@dataclass(frozen=True)
class ClaimMapping:
    """One mapping document; see `identity/sso/mapping.schema.json` for its shape."""

    id: str
    external_id: str
    username: str | None
    profile: dict[str, str]
    active: Condition | None
    orgs_from: str | None
    org_code: str
    org_name: str | None
    org_parent: str | None
    level_claim: str | None
    level_map: dict[str, str]
    level_default: str
    primary: Condition | None
    roles: list[tuple[str, Condition | None]]

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ClaimMapping:
        orgs = doc["orgs"]
        level = orgs.get("level", {})
        return cls(
            id=doc["id"],
            external_id=doc["external_id"],
            username=doc.get("username"),
            profile=dict(doc.get("profile", {})),
            active=Condition(doc["active"]) if doc.get("active") else None,
            orgs_from=orgs.get("from"),
            org_code=orgs["code"],
            org_name=orgs.get("name"),
            org_parent=orgs.get("parent_code"),
            level_claim=level.get("claim"),
            level_map={str(k): v for k, v in level.get("map", {}).items()},
            level_default=level.get("default", "school"),
            primary=Condition(orgs["primary"]) if orgs.get("primary") else None,
            roles=[(r["role"], Condition(r["when"]) if r.get("when") else None) for r in doc.get("roles", [])],
        )

    def apply(self, claims: Mapping[str, Any], provider_id: str) -> MappedIdentity:
        """Map one user info; refuses (SignInRefused) a disabled account or one that maps to no org."""
        external_id = _text(lookup(claims, self.external_id))
        if not external_id:
            raise SignInRefused(
                "no_external_id",
                f"统一身份认证未返回用户标识（{self.external_id}），无法登录。",
                f"The identity provider sent no user identifier ({self.external_id}).",
                status=502,
            )
        if self.active is not None and not self.active.holds(claims):
            raise SignInRefused(
                "account_disabled",
                "您在统一身份认证平台的账号已停用，请联系所在单位管理员。",
                "Your account at the city's identity platform is disabled; ask your unit's administrator.",
            )
        items = self._org_items(claims)
        orgs: list[tuple[MappedOrg, Any]] = []
        for item in items:
            code = _text(lookup(item, self.org_code))
            if code:
                orgs.append((self._org(item, code), item))
        if not orgs:
            raise SignInRefused(
                "no_org",
                "统一身份认证中没有您的所在单位信息，无法对应到本平台的机构，请联系管理员。",
                "Your account carries no unit this platform knows, so it cannot be placed in an organisation; "
                "ask an administrator.",
            )
        primary = next((o for o, item in orgs if self.primary and self.primary.holds(item, claims)), orgs[0][0])
        roles: list[tuple[str, str]] = []
        for org, item in orgs:
            for role, when in self.roles:
                if (when is None or when.holds(item, claims)) and (role, org.code) not in roles:
                    roles.append((role, org.code))
        profile = {name: _text(lookup(claims, path)) for name, path in self.profile.items()}
        return MappedIdentity(
            external_id=external_id,
            username=self._username(claims, external_id, provider_id),
            profile=profile,
            org=primary,
            orgs=[o for o, _ in orgs],
            roles=roles,
        )

    def _org_items(self, claims: Mapping[str, Any]) -> list[Any]:
        if self.orgs_from is None:
            return [claims]
        found = lookup(claims, self.orgs_from)
        if isinstance(found, Mapping):
            return [found]
        if isinstance(found, list):
            return [i for i in found if isinstance(i, Mapping)]
        return []

    def _org(self, item: Any, code: str) -> MappedOrg:
        level = self.level_default
        if self.level_claim:
            raw = _text(lookup(item, self.level_claim))
            if raw is not None:
                level = self.level_map.get(raw, self.level_default)
        return MappedOrg(
            code=code,
            name=_text(lookup(item, self.org_name)) if self.org_name else None,
            level=level,
            parent_code=_text(lookup(item, self.org_parent)) if self.org_parent else None,
        )

    def _username(self, claims: Mapping[str, Any], external_id: str, provider_id: str) -> str:
        """`<upstream login>@<provider>`: never the same name as a local account, so no link by name."""
        base = _text(lookup(claims, self.username)) if self.username else None
        local = _USERNAME_UNSAFE.sub("-", (base or external_id).lower()).strip("-") or "user"
        suffix = "@" + _USERNAME_UNSAFE.sub("-", provider_id.lower())
        return local[: 64 - len(suffix)] + suffix
