"""A fake unit of work for the nominations handlers (cosmicpython's FakeUnitOfWork): repositories over lists and
dicts, an audit trail and an outbox in memory, so a handler's rules run without a database or a broker."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from nominations.domain.batches import Batch
from nominations.domain.model import Nomination, Round, RoundStatus, Status
from nominations.service_layer.common import within

from shared.errors import PreconditionFailed
from shared.events import DomainEvent
from shared.principal import Grant, Principal

# The Jiaozuo tree of the seed (焦教文〔2022〕60号): the city bureau, two county bureaus, their schools.
ORGS = [
    ("4108", "焦作市教育局", "city", None, "/4108"),
    ("410802", "解放区教育局", "county", "4108", "/4108/410802"),
    ("410821", "修武县教育局", "county", "4108", "/4108/410821"),
    ("4108020001", "解放区第一实验小学", "school", "410802", "/4108/410802/4108020001"),
    ("4108020002", "解放区育才中学", "school", "410802", "/4108/410802/4108020002"),
    ("4108210001", "修武县城关小学", "school", "410821", "/4108/410821/4108210001"),
]
CANDIDATE = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
CITY = Grant("city_reviewer", "/4108")
COUNTY = Grant("county_reviewer", "/4108/410802")
SCHOOL = Grant("school_admin", "/4108/410802/4108020001")


def principal(*grants: Grant, subject: str = "someone") -> Principal:
    return Principal(subject=subject, grants=grants)


def version_is(expected: int) -> Any:
    """What the API's If-Match check does: the version the caller read must still be the record's."""

    def check(current: int) -> None:
        if current != expected:
            raise PreconditionFailed("stale")

    return check


class FakeRounds:
    def __init__(self) -> None:
        self.items: dict[uuid.UUID, Round] = {}
        self.seen: list[Round] = []

    def add(self, round_: Round) -> None:
        self.items[round_.id] = round_
        self.seen.append(round_)

    def get(self, round_id: uuid.UUID, *, for_update: bool = False) -> Round | None:
        found = self.items.get(round_id)
        if found is not None:
            self.seen.append(found)
        return found

    def due_to_close(self, now: dt.datetime, limit: int = 100) -> list[uuid.UUID]:
        due = [r for r in self.items.values() if r.status == RoundStatus.OPEN and r.deadline <= now]
        return [r.id for r in sorted(due, key=lambda r: r.deadline)][:limit]

    def policies(self, round_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        return {i: self.items[i].policy for i in set(round_ids) if i in self.items}


class FakeNominations:
    def __init__(self) -> None:
        self.items: dict[uuid.UUID, Nomination] = {}
        self.seen: list[Nomination] = []
        self.photos: dict[uuid.UUID, tuple[str, bytes]] = {}
        self.evidence_files: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}

    def add(self, nomination: Nomination) -> None:
        self.items[nomination.id] = nomination
        self.seen.append(nomination)

    def get(self, nomination_id: uuid.UUID, *, for_update: bool = False, with_round: bool = False) -> Nomination | None:
        """`with_round` only saves the SQL repository a round trip: here the rounds are in memory already."""
        found = self.items.get(nomination_id)
        if found is not None:
            self.seen.append(found)
        return found

    def live_for_school(self, round_id: uuid.UUID, school_org_code: str) -> uuid.UUID | None:
        for n in self.items.values():
            if n.round_id == round_id and n.school_org_code == school_org_code and n.is_live:
                return n.id
        return None

    def latest_of_unit(self, school_org_code: str, *, excluding_round: uuid.UUID) -> Nomination | None:
        found = [
            n
            for n in self.items.values()
            if n.school_org_code == school_org_code and n.round_id != excluding_round and n.status != Status.WITHDRAWN
        ]
        return max(found, key=lambda n: n.created_at, default=None)

    def of_round_within(self, round_id: uuid.UUID, org_path: str) -> list[Nomination]:
        found = [n for n in self.items.values() if n.round_id == round_id and within(n.school_org_path, org_path)]
        return sorted(found, key=lambda n: n.school_org_path)

    def stream_for_summary(
        self, round_id: uuid.UUID, paths: Sequence[str], batch: int = 1000, only: Sequence[uuid.UUID] | None = None
    ) -> Iterator[Nomination]:
        for n in sorted(self.items.values(), key=lambda n: (n.school_org_path, n.id)):
            in_scope = any(within(n.school_org_path, p) for p in paths) and (only is None or n.id in only)
            if n.round_id == round_id and n.status != Status.WITHDRAWN and in_scope:
                yield n

    def history(self, nomination_id: uuid.UUID) -> list[dict[str, Any]]:
        changes = self.items[nomination_id].changes
        return [
            {
                "id": i,
                "nomination_id": nomination_id,
                "at": c.at,
                "actor": c.actor,
                "action": c.action,
                "details": c.details,
            }
            for i, c in enumerate(changes, 1)
        ]

    def put_photo(
        self, nomination_id: uuid.UUID, content_type: str, sha256: str, data: bytes, now: dt.datetime
    ) -> None:
        self.photos[nomination_id] = (content_type, data)

    def photo(self, nomination_id: uuid.UUID) -> tuple[str, bytes] | None:
        return self.photos.get(nomination_id)

    def put_evidence(
        self, nomination_id: uuid.UUID, kind: str, file: dict[str, Any], actor: str, now: dt.datetime
    ) -> None:
        self.evidence_files[(nomination_id, kind)] = {**file, "kind": kind, "uploaded_by": actor, "uploaded_at": now}

    def evidence_list(self, nomination_id: uuid.UUID) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in f.items() if k != "data"}
            for (owner, _kind), f in sorted(self.evidence_files.items())
            if owner == nomination_id
        ]


class FakeBatches:
    def __init__(self) -> None:
        self.items: dict[uuid.UUID, Batch] = {}
        self.seen: list[Batch] = []

    def add(self, batch: Batch) -> None:
        from nominations.adapters.repository import BatchExists

        if any(b.round_id == batch.round_id and b.org_code == batch.org_code for b in self.items.values()):
            raise BatchExists(batch.org_code)
        self.items[batch.id] = batch
        self.seen.append(batch)

    def get(self, batch_id: uuid.UUID) -> Batch | None:
        return self.items.get(batch_id)

    def of_round(self, round_id: uuid.UUID) -> list[Batch]:
        return sorted((b for b in self.items.values() if b.round_id == round_id), key=lambda b: b.org_path)


class FakeDirectory:
    """The projection of identity's orgs and users and of training's certificates, as the worker would fill it."""

    def __init__(self) -> None:
        self.orgs = {
            code: {"code": code, "name": name, "level": level, "parent_code": parent, "path": path}
            for code, name, level, parent, path in ORGS
        }
        self.users: dict[uuid.UUID, dict[str, Any]] = {}
        self.certificates: dict[uuid.UUID, list[tuple[str, str]]] = {}
        self.terms: dict[tuple[uuid.UUID, str], int] = {}

    def add_user(self, user_id: uuid.UUID, display_name: str, org_code: str, **profile: Any) -> None:
        self.users[user_id] = {
            "user_id": user_id,
            "username": display_name,
            "display_name": display_name,
            "org_code": org_code,
            "phone": "13800008000",
            "email": None,
            "gender": "男",
            "birth_date": dt.date(1980, 5, 1),
            "profile": profile,
            "is_active": True,
        }

    def org(self, code: str) -> dict[str, Any] | None:
        return self.orgs.get(code)

    def orgs_by_path(self, paths: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {o["path"]: o for o in self.orgs.values() if o["path"] in paths}

    def orgs_within(self, org_path: str, levels: Sequence[str]) -> list[dict[str, Any]]:
        found = [o for o in self.orgs.values() if within(o["path"], org_path) and o["level"] in levels]
        return sorted(found, key=lambda o: o["path"])

    def user(self, user_id: uuid.UUID) -> dict[str, Any] | None:
        return self.users.get(user_id)

    def users_of_org(self, org_code: str, limit: int = 500) -> list[dict[str, Any]]:
        return [u for u in self.users.values() if u["org_code"] == org_code and u["is_active"]][:limit]

    def certificate_numbers(self, person_user_id: uuid.UUID) -> set[str]:
        return set()

    def valid_certificates(self, person_user_id: uuid.UUID, today: dt.date) -> list[tuple[str, str]]:
        return list(self.certificates.get(person_user_id, []))

    def consecutive_terms(self, person_user_id: uuid.UUID, org_code: str, today: dt.date) -> int:
        return self.terms.get((person_user_id, org_code), 0)


class FakeUnitOfWork:
    """Commits count and publish the events of the aggregates the repositories saw; nothing is rolled back."""

    def __init__(self) -> None:
        self.rounds = FakeRounds()
        self.nominations = FakeNominations()
        self.batches = FakeBatches()
        self.directory = FakeDirectory()
        self.commits = 0
        self.outbox: list[DomainEvent] = []
        self.audit_trail: list[dict[str, Any]] = []

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *args: object) -> None:
        pass

    def commit(self) -> None:
        self.commits += 1
        for repository in (self.rounds, self.nominations, self.batches):
            for aggregate in repository.seen:  # seen twice is harmless: the events are taken once
                while aggregate.events:
                    self.outbox.append(aggregate.events.pop(0))

    def rollback(self) -> None:
        pass

    def audit(
        self,
        action: str,
        *,
        actor: str | None,
        target: str | None = None,
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
    ) -> None:
        self.audit_trail.append({"action": action, "actor": actor, "target": target, "details": details})

    def published(self) -> list[str]:
        return [e.event_type for e in self.outbox]
