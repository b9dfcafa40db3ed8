"""HTTP conventions shared by every service: ETag / If-Match for updates, Idempotency-Key for creating POSTs.

Idempotency: the first request with a key claims it (a row committed before the handler runs), the
handler runs, and its 2xx answer is stored; a retry with the same key and the same request gets the
stored answer, a retry with a different request gets 422, a retry while the first is still running 409.
A failed first attempt releases the key so the client can try again.

The claim, the store and the release are one statement each on an autocommit connection (no BEGIN, no
COMMIT round trip): the claim is `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired`, which takes a free key
or one older than KEEP_IDEMPOTENCY_KEYS in one go, so expired keys are purged only once a minute per process
instead of before every claim.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Response, current_app, make_response, request
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from shared.auth import current_principal
from shared.bus.tables import bus_metadata
from shared.db import UtcDateTime
from shared.errors import Conflict, Unprocessable, field_error
from shared.etags import etag_for, if_match_tags, require_current

IDEMPOTENCY_HEADER = "Idempotency-Key"
KEEP_IDEMPOTENCY_KEYS = dt.timedelta(hours=24)
PURGE_EVERY_SECONDS = 60.0
# A claim still without an answer after this long belongs to a request that died (its worker killed, the database
# gone before the release): no request outlives gunicorn's `timeout` (30 s) or nginx's proxy_read_timeout (60 s),
# so after that the key is free again and a retry runs, instead of answering 409 for the key's whole life.
IN_PROGRESS_LEASE = dt.timedelta(seconds=90)
_purge_lock = threading.Lock()
_last_purge = -PURGE_EVERY_SECONDS

idempotency_keys = sa.Table(
    "idempotency_keys",
    bus_metadata,
    sa.Column("caller", sa.String(100), primary_key=True),
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False, comment="SHA-256 of method, path and body"),
    sa.Column("status", sa.Integer, comment="null while the first request runs"),
    sa.Column("body", sa.Text),
    sa.Column("headers", sa.JSON),
    sa.Column("created_at", UtcDateTime(), nullable=False, index=True),
)

F = TypeVar("F", bound=Callable[..., Any])


# -- ETag / If-Match -----------------------------------------------------------------------------
def require_if_match(current_version: int | str) -> None:
    """Updates must name the version they were based on: none is 428, a stale one 412."""
    require_current(request_if_match(), current_version)


def request_if_match() -> set[str]:
    """The ETags the request's If-Match names (428 without one)."""
    return if_match_tags(request.headers.get("If-Match"))


def with_etag(response: Response, version: int | str) -> Response:
    response.headers["ETag"] = etag_for(version)
    return response


def json_response(body: Any, version: int | None = None, status: int = 200, location: str | None = None) -> Response:
    """A full JSON response, as Idempotency-Key stores and replays it: with its ETag when the record has a version,
    Location for a creation."""
    response = current_app.response_class(current_app.json.dumps(body), status=status, mimetype="application/json")
    if location:
        response.headers["Location"] = location
    return with_etag(response, version) if version is not None else response


# -- Idempotency-Key -----------------------------------------------------------------------------
def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update(request.get_data())
    return digest.hexdigest()


def idempotent(session_factory: Callable[[], Callable[[], Session]]) -> Callable[[F], F]:
    """Decorate a creating POST view. `session_factory()` returns the service's session maker at request time."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get(IDEMPOTENCY_HEADER)
            if not key:
                return view(*args, **kwargs)
            if len(key) > 100:
                raise Unprocessable(errors=[field_error(IDEMPOTENCY_HEADER, "at most 100 characters", "header")])
            caller = current_principal().subject
            fingerprint = _fingerprint()
            make_session = session_factory()
            replay = _claim(make_session, caller, key, fingerprint)
            if replay is not None:
                return replay
            try:
                response = make_response(view(*args, **kwargs))
            except BaseException:
                _release(make_session, caller, key)
                raise
            if 200 <= response.status_code < 300:
                _store(make_session, caller, key, response)
            else:
                _release(make_session, caller, key)
            return response

        return wrapper  # type: ignore[return-value]

    return decorate


def _autocommit(make_session: Callable[[], Session]) -> Connection:
    """A pooled connection of the service's engine in autocommit: each statement is its own transaction."""
    with make_session() as session:
        bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _purge_expired(conn: Connection, now: dt.datetime) -> None:
    """Forget keys older than KEEP_IDEMPOTENCY_KEYS, at most once a minute per process."""
    global _last_purge
    with _purge_lock:
        if time.monotonic() - _last_purge < PURGE_EVERY_SECONDS:
            return
        _last_purge = time.monotonic()
    conn.execute(idempotency_keys.delete().where(idempotency_keys.c.created_at < now - KEEP_IDEMPOTENCY_KEYS))


def _claim(make_session: Callable[[], Session], caller: str, key: str, fingerprint: str) -> Response | None:
    now = dt.datetime.now(dt.UTC)
    expired = now - KEEP_IDEMPOTENCY_KEYS
    claim = (
        postgresql.insert(idempotency_keys)
        .values(caller=caller, key=key, fingerprint=fingerprint, created_at=now)
        .on_conflict_do_update(
            index_elements=[idempotency_keys.c.caller, idempotency_keys.c.key],
            set_={"fingerprint": fingerprint, "status": None, "body": None, "headers": None, "created_at": now},
            # a key past its life is free again, and so is one whose request died before answering
            where=sa.or_(
                idempotency_keys.c.created_at < expired,
                sa.and_(idempotency_keys.c.status.is_(None), idempotency_keys.c.created_at < now - IN_PROGRESS_LEASE),
            ),
        )
        .returning(idempotency_keys.c.key)
    )
    with _autocommit(make_session) as conn:
        _purge_expired(conn, now)
        if conn.execute(claim).first() is not None:
            return None
        row = conn.execute(
            sa.select(idempotency_keys).where(idempotency_keys.c.caller == caller, idempotency_keys.c.key == key)
        ).one()
    if row.fingerprint != fingerprint:
        raise Unprocessable(
            "This Idempotency-Key was used for a different request.",
            errors=[field_error(IDEMPOTENCY_HEADER, "reused with a different request", "header")],
        )
    if row.status is None:
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
    response = current_app.response_class(row.body, status=row.status, mimetype="application/json")
    for name, value in (row.headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _store(make_session: Callable[[], Session], caller: str, key: str, response: Response) -> None:
    kept = {h: response.headers[h] for h in ("Location", "ETag") if h in response.headers}
    with _autocommit(make_session) as conn:
        conn.execute(
            idempotency_keys.update()
            .where(idempotency_keys.c.caller == caller, idempotency_keys.c.key == key)
            .values(status=response.status_code, body=response.get_data(as_text=True), headers=kept)
        )


def _release(make_session: Callable[[], Session], caller: str, key: str) -> None:
    with _autocommit(make_session) as conn:
        conn.execute(
            idempotency_keys.delete().where(idempotency_keys.c.caller == caller, idempotency_keys.c.key == key)
        )
