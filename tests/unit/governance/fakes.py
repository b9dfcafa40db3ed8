"""Governance's fake unit of work: the city platform's catalogue, plans and application systems in memory, and the
orgs identity announced (the directory)."""

from __future__ import annotations

from collections.abc import Sequence

from governance.domain.model import Acceptance, CatalogueEntry, OrgNode

from shared.scope import path_within
from tests.unit.fakes import FakeRepository, FakeUnitOfWork


class FakeCatalogue(FakeRepository):
    def covering(self, unit_path: str) -> list[CatalogueEntry]:
        return [e for e in self.items.values() if e.active and path_within(unit_path, e.org_path)]


class FakePlans(FakeRepository):
    def __init__(self) -> None:
        super().__init__()
        self.acceptance_records: list[Acceptance] = []

    def add_acceptance(self, acceptance: Acceptance) -> None:
        self.acceptance_records.append(acceptance)


class FakeOrgs:
    def __init__(self, orgs: Sequence[OrgNode]) -> None:
        self.orgs = {o.code: o for o in orgs}

    def get(self, code: str) -> OrgNode | None:
        return self.orgs.get(code)

    def on_path(self, path: str) -> list[OrgNode]:
        return sorted((o for o in self.orgs.values() if path_within(path, o.path)), key=lambda o: len(o.path))


class FakeGovernanceUnitOfWork(FakeUnitOfWork):
    def __init__(self, orgs: Sequence[OrgNode] = ()) -> None:
        super().__init__()
        self.catalogue = FakeCatalogue()
        self.plans = FakePlans()
        self.applications = FakeRepository()
        self.orgs = FakeOrgs(orgs)
