"""What every service's domain model builds on: pure Python, no infrastructure, so domain modules may import it."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """A rule of the domain refused the change; `field` names the input it is about. A service's domain subclasses
    it for what its API reports besides (a status, several problems, the Chinese wording)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class OrgNode:
    """An org of a service's local projection of identity's tree: its code, name, level (city, county, school,
    university, department…) and materialised path."""

    code: str
    name: str
    level: str
    path: str
