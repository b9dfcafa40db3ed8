"""The identity worker's key-rotation timer: the same rotation as `cli rotate-keys`, on schedule, and never a key
that signs before verifiers can have fetched it (the next key must be older than their JWKS cache)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from identity.adapters.metrics import KEY_ROTATIONS
from identity.adapters.orm import signing_keys
from identity.bootstrap import Identity
from identity.entrypoints.timers import key_rotation_timer, rotate_keys_when_due
from sqlalchemy import select, update

from tests.helpers import wait_until

pytestmark = pytest.mark.integration

A_DAY = dt.timedelta(days=1)


def statuses(service: Identity) -> dict[str, list[str]]:
    with service.session_factory() as session:
        rows = session.execute(select(signing_keys.c.kid, signing_keys.c.status).order_by(signing_keys.c.kid)).all()
    found: dict[str, list[str]] = {}
    for kid, status in rows:
        found.setdefault(status, []).append(kid)
    return found


def age_keys(service: Identity, *, active_by: dt.timedelta, next_by: dt.timedelta) -> None:
    now = dt.datetime.now(dt.UTC)
    with service.session_factory() as session, session.begin():
        session.execute(
            update(signing_keys).where(signing_keys.c.status == "active").values(activated_at=now - active_by)
        )
        session.execute(update(signing_keys).where(signing_keys.c.status == "next").values(created_at=now - next_by))


def too_early_count() -> float:
    return KEY_ROTATIONS.labels("too_early")._value.get()


def test_a_key_that_has_not_signed_for_the_period_is_not_rotated(identity_service: Identity) -> None:
    before = statuses(identity_service)
    assert rotate_keys_when_due(identity_service, A_DAY) is None
    assert statuses(identity_service) == before


def test_a_due_rotation_waits_while_the_next_key_is_younger_than_the_jwks_cache(identity_service: Identity) -> None:
    cache = dt.timedelta(seconds=identity_service.settings.auth.jwks_cache_seconds)
    age_keys(identity_service, active_by=2 * A_DAY, next_by=cache)  # published, but a verifier may not have it yet
    before, postponed = statuses(identity_service), too_early_count()

    assert rotate_keys_when_due(identity_service, A_DAY) is None
    assert statuses(identity_service) == before
    assert too_early_count() == postponed + 1


def test_the_timer_promotes_the_published_next_key_and_publishes_a_new_one(identity_service: Identity) -> None:
    cache = dt.timedelta(seconds=identity_service.settings.auth.jwks_cache_seconds)
    age_keys(identity_service, active_by=2 * A_DAY, next_by=cache + dt.timedelta(seconds=61))
    before = statuses(identity_service)
    [old_active], [published_next] = before["active"], before["next"]

    timer = key_rotation_timer(identity_service, every_seconds=int(A_DAY.total_seconds()))
    assert timer is not None and timer.interval == 3600  # checks hourly for a daily rotation
    stop = threading.Event()
    thread = threading.Thread(target=timer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: statuses(identity_service)["active"] == [published_next], timeout=10, message="rotation")
    finally:
        stop.set()
        thread.join(timeout=10)

    after = statuses(identity_service)
    assert after["retired"] == [old_active]  # still in the JWKS until its tokens expire
    [new_next] = after["next"]
    assert new_next not in before["active"] + before["next"]
    # The next check finds the new active key fresh: nothing more happens for a day.
    assert rotate_keys_when_due(identity_service, A_DAY) is None


def test_two_schedulers_due_at_once_rotate_once(identity_service: Identity) -> None:
    """The worker's timer and a CronJob (or two worker replicas) may fire together: one rotation, one next key."""
    cache = dt.timedelta(seconds=identity_service.settings.auth.jwks_cache_seconds)
    age_keys(identity_service, active_by=2 * A_DAY, next_by=cache + dt.timedelta(seconds=61))
    [published_next] = statuses(identity_service)["next"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: rotate_keys_when_due(identity_service, A_DAY), range(4)))

    assert sorted(results, key=str) == [published_next, None, None, None]
    after = statuses(identity_service)
    assert after["active"] == [published_next] and len(after["next"]) == 1 and len(after["retired"]) == 1


def test_a_period_of_zero_turns_the_timer_off(identity_service: Identity) -> None:
    assert key_rotation_timer(identity_service, every_seconds=0) is None
    short = key_rotation_timer(identity_service, every_seconds=5)
    assert short is not None and short.interval == 1.0
