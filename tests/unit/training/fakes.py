"""Training's fake unit of work: trainings, attendance and certificates in memory, and the people and orgs
identity announced."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from training.domain.model import Attendance, Certificate
from training.service_layer.unit_of_work import OrgRef, Person

from tests.unit.fakes import FakeRepository, FakeUnitOfWork


class FakeAttendance(FakeRepository):
    def for_people(self, training_id: uuid.UUID, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Attendance]:
        wanted = set(person_ids)
        return {
            a.person_user_id: self._saw(a)
            for a in self.items.values()
            if a.training_id == training_id and a.person_user_id in wanted
        }


class FakeCertificates(FakeRepository):
    def by_number(self, number: str) -> Certificate | None:
        found = next((c for c in self.items.values() if c.number == number), None)
        return None if found is None else self._saw(found)

    def by_numbers(self, numbers: Sequence[str]) -> dict[str, Certificate]:
        return {c.number: c for c in self.items.values() if c.number in set(numbers)}


class FakePeople:
    def __init__(self, people: Sequence[Person], orgs: Sequence[OrgRef]) -> None:
        self.people = {p.user_id: p for p in people}
        self.orgs = {o.code: o for o in orgs}

    def get(self, user_id: uuid.UUID) -> Person | None:
        return self.people.get(user_id)

    def find(
        self, user_ids: Sequence[uuid.UUID], usernames: Sequence[str]
    ) -> tuple[dict[uuid.UUID, Person], dict[str, Person]]:
        by_id = {i: self.people[i] for i in user_ids if i in self.people}
        by_name = {p.username: p for p in self.people.values() if p.username in set(usernames)}
        return by_id, by_name

    def org(self, code: str) -> OrgRef | None:
        return self.orgs.get(code)


class FakeTrainingUnitOfWork(FakeUnitOfWork):
    def __init__(self, people: Sequence[Person] = (), orgs: Sequence[OrgRef] = ()) -> None:
        super().__init__()
        self.trainings = FakeRepository()
        self.attendance = FakeAttendance()
        self.certificates = FakeCertificates()
        self.people = FakePeople(people, orgs)
