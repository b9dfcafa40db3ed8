"""What the approvals handlers do alike: report a domain refusal as the API does, commit without a 500 on a
collision, find a record only within the caller's scope, and audit a change against the record it is about.

One place for each, so that every handler words a refusal, a 404 and an audit row the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from approvals.domain.evaluation import Evaluation, Rectification
from approvals.domain.model import Appointment, DomainError, OrgNode, ReviewCase, ReviewTask, now
from approvals.domain.publication import Publication
from approvals.service_layer.unit_of_work import ApprovalsUnitOfWork
from shared.errors import Conflict, NotFound, ProblemError, Unprocessable, field_error
from shared.pagination import decode_cursor
from shared.principal import Principal


def problem_of(exc: DomainError, prefix: str = "") -> ProblemError:
    """A domain refusal as the API reports it (409 for a state conflict, 422 for a rule)."""
    errors = [field_error(prefix + (exc.field or "_schema"), exc.message)]
    if exc.status == 409:
        return Conflict(exc.message, errors=errors)
    return Unprocessable(exc.message, errors=errors)


@contextmanager
def refusals(
    as_problem: Callable[[DomainError], ProblemError] = problem_of, undo: Callable[[], None] | None = None
) -> Iterator[None]:
    """A rule refusing the change inside the block is the API's problem (`as_problem`); `undo`, when given, first
    throws away what the block changed."""
    try:
        yield
    except DomainError as exc:
        if undo is not None:
            undo()
        raise as_problem(exc) from exc


@contextmanager
def collisions() -> Iterator[None]:
    """A concurrent writer got there first (at commit or at an earlier flush): 409, never 500."""
    try:
        yield
    except StaleDataError as exc:
        raise Conflict("Someone else changed this record at the same time; read it again.") from exc
    except IntegrityError as exc:
        raise Conflict("The change collides with another record (one active appointment per org).") from exc


def commit(uow: ApprovalsUnitOfWork) -> None:
    with collisions():
        uow.commit()


def in_batches(
    uow_factory: Callable[[], ApprovalsUnitOfWork],
    batch: int,
    work: Callable[[ApprovalsUnitOfWork, dt.datetime], Sized],
) -> int:
    """A worker timer's sweep: `work` takes up to `batch` records in a unit of work of its own (committed, so a
    long sweep holds no lock for long), until it finds fewer; returns how many it found in all."""
    total = 0
    while True:
        with uow_factory() as uow:
            found = work(uow, now())
            uow.commit()
        total += len(found)
        if len(found) < batch:
            return total


def query_filters(args: dict[str, Any], *names: str) -> dict[str, Any]:
    """A listing's filters: the query's arguments of these names, None where not given."""
    return {name: args.get(name) for name in names}


def page_window(args: dict[str, Any]) -> dict[str, Any]:
    """Where a listing's page starts (the query's cursor) and how many rows to read: one more than the page, which
    tells whether another page follows."""
    return {"after": decode_cursor(args.get("cursor")), "limit": args["limit"] + 1}


class Scoped(Protocol):
    org_path: str


S = TypeVar("S", bound=Scoped)


def in_scope(record: S | None, principal: Principal, name: str) -> S:
    """The record, when the caller's grants reach its org; a record outside their subtree does not exist for them
    (404 `No such <name>.`)."""
    if record is None or not principal.can(record.org_path):
        raise NotFound(f"No such {name}.")
    return record


@dataclass(frozen=True)
class Target:
    """What an audit row is about (`<kind>:<id>`, whose history lists it) and the org path that scopes it."""

    kind: str
    id: Any
    org_path: str | None


# a record's type → (its target kind, the attribute naming it, the attribute of its scope); a task's rows are its case's
_TARGETS: dict[type, tuple[str, str, str]] = {
    Appointment: ("appointment", "id", "org_path"),
    ReviewCase: ("case", "id", "school_org_path"),
    ReviewTask: ("case", "case_id", "school_org_path"),
    Evaluation: ("evaluation", "id", "org_path"),
    Rectification: ("rectification", "id", "org_path"),
    Publication: ("publication", "id", "publisher_org_path"),
    OrgNode: ("org", "code", "path"),
}


def audit(
    uow: ApprovalsUnitOfWork, action: str, actor: str | None, record: Any, details: dict[str, Any] | None = None
) -> None:
    """Audit a change to `record` (a `Target`, or an aggregate that names its own): the record is the target and its
    org path the scope, so the auditors of the school and of the bureaus above it find the row, and the record's
    history lists it."""
    if not isinstance(record, Target):
        kind, key, scope = _TARGETS[type(record)]
        record = Target(kind, getattr(record, key), getattr(record, scope))
    uow.audit(action, actor=actor, target=f"{record.kind}:{record.id}", org_path=record.org_path, details=details)
