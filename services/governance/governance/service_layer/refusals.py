"""How governance's command handlers report a refusal: a domain rule's (422, or 409 for a state conflict) and a
concurrent writer's that got there first (409: the versioned aggregates' UPDATE found another version)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm.exc import StaleDataError

from governance.domain.model import DomainError
from shared.errors import Conflict, ProblemError, field_error, refused


def problem_of(exc: DomainError) -> ProblemError:
    if exc.status == 409:
        return Conflict(exc.message, errors=[field_error(exc.field or "_schema", exc.message)])
    return refused(exc)


@contextmanager
def refusals(what: str) -> Iterator[None]:
    """Around a handler's unit of work: its refusals as the API reports them; `what` names the record changed."""
    try:
        yield
    except DomainError as exc:
        raise problem_of(exc) from exc
    except StaleDataError as exc:
        raise Conflict(f"Someone else changed this {what} at the same time; read it again.") from exc
