"""The identity worker's timers: tidy single sign-on state (spent login states, long-ended sessions) and rotate the
signing keys on schedule."""

from __future__ import annotations

import datetime as dt
import logging

from identity.adapters import keys
from identity.adapters.metrics import KEY_ROTATIONS
from identity.bootstrap import Identity
from identity.config import IdentityEnvironment
from identity.service_layer import sso
from shared.config import read_environment
from shared.worker import PeriodicTask

SSO_HOUSEKEEPING_SECONDS = 300

log = logging.getLogger(__name__)


def rotate_keys_when_due(service: Identity, every: dt.timedelta) -> str | None:
    """The same rotation as `cli rotate-keys`, when the active key has signed for `every`: the next key, published
    at the previous rotation, becomes active only once it is older than the verifiers' JWKS cache."""
    min_next_age = dt.timedelta(seconds=service.settings.auth.jwks_cache_seconds + 60)
    try:
        with service.session_factory() as session, session.begin():
            kid = keys.rotate_if_due(session, service.signing_secret, every=every, min_next_age=min_next_age)
    except keys.RotationTooEarly as exc:
        KEY_ROTATIONS.labels("too_early").inc()
        log.warning("signing key rotation postponed", extra={"reason": str(exc)})
        return None
    if kid is not None:
        KEY_ROTATIONS.labels("rotated").inc()
        log.info("signing key rotated", extra={"kid": kid})
    return kid


def key_rotation_timer(service: Identity, every_seconds: int) -> PeriodicTask | None:
    """A timer that checks every tenth of the period (at most hourly) whether the active key is due; how long a key
    signs before it rotates is SIGNING_KEY_ROTATION_SECONDS, 0 turns the timer off (Kubernetes runs a CronJob)."""
    if every_seconds <= 0:
        return None
    every = dt.timedelta(seconds=every_seconds)
    check = min(3600.0, max(1.0, every_seconds / 10))
    return PeriodicTask("key-rotation", check, lambda: rotate_keys_when_due(service, every))


def timers(service: Identity) -> list[PeriodicTask]:
    housekeeping = PeriodicTask("sso-housekeeping", SSO_HOUSEKEEPING_SECONDS, lambda: sso.housekeeping(service.uow()))
    rotation = key_rotation_timer(service, read_environment(IdentityEnvironment).signing_key_rotation_seconds)
    return [housekeeping] if rotation is None else [housekeeping, rotation]
