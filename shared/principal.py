"""Who is calling and what they were granted, without the web framework.

Service layers take a `Principal` to scope what a caller reaches; they must not need Flask for that, so the caller's
identity lives here and `shared.auth` (token verification, the request's principal) builds it from a verified token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.errors import NotFound
from shared.scope import is_grant_path, path_within

# The platform's roles: the vocabulary of every token's grants, which identity grants and every service checks.
ROLES = frozenset(
    {
        "platform_admin",
        "city_reviewer",
        "county_reviewer",
        "school_admin",
        "university_president",
        "university_office_meeting",
        "party_committee",
        "training_admin",
        "evaluator",
        "cio",
        "liaison",
        "auditor",
    }
)


@dataclass(frozen=True)
class Grant:
    role: str
    org_path: str


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (`sub` is the user id) or a service client, and what they were granted."""

    subject: str
    grants: tuple[Grant, ...] = ()
    client_id: str | None = None
    name: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def roles(self) -> set[str]:
        return {g.role for g in self.grants}

    def paths(self, *roles: str) -> list[str]:
        """The org subtrees where the caller holds any of `roles` (any role if none given)."""
        return sorted({g.org_path for g in self.grants if not roles or g.role in roles})

    def has_role(self, *roles: str) -> bool:
        return any(g.role in roles for g in self.grants)

    def can(self, org_path: str, *roles: str) -> bool:
        return any(path_within(org_path, p) for p in self.paths(*roles))

    def require_within(self, org_path: str | None, *roles: str, what: str = "record") -> None:
        """A record outside the caller's subtree does not exist for them: 404, never 403."""
        if org_path is None or not self.can(org_path, *roles):
            raise NotFound(f"No such {what}.")


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    grants = tuple(
        Grant(str(item[0]), str(item[1]))
        for item in claims.get("grants", [])
        if isinstance(item, list | tuple) and len(item) == 2 and is_grant_path(str(item[1]))
    )
    return Principal(
        subject=str(claims["sub"]),
        grants=grants,
        client_id=claims.get("client_id"),
        name=claims.get("name"),
        claims=claims,
    )
