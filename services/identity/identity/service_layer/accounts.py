"""Ending access: disabling and enabling accounts (停用/启用) and signing out everywhere.

A disabled account cannot sign in (password, refresh, SSO) and everything it holds ends at once: browser
sessions, every refresh-token family (SSO `mode=token` ones too), and identity refuses its access tokens. The
other services verify tokens on their own, so an access token already out there runs to its (short) expiry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from identity.domain.model import User
from identity.service_layer.directory import ADMIN, user_in_scope
from identity.service_layer.sso import Sso, end_user_sessions
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from shared.errors import Conflict, field_error
from shared.principal import Principal


@dataclass(frozen=True)
class SignedOut:
    sessions_ended: int
    refresh_token_families_revoked: int


def disable_user(uow: IdentityUnitOfWork, sso: Sso, actor: Principal, user_id: uuid.UUID, ip: str | None) -> User:
    """An administrator over the user's org disables the account; 404 outside their subtree."""
    with uow:
        user = user_in_scope(uow, actor, user_id, ADMIN)
        if str(user.id) == actor.subject:
            # Locking oneself out needs another administrator to undo; refuse rather than strand the platform.
            raise Conflict("You cannot disable your own account.", errors=[field_error("user_id", "is you")])
        user.disable()
        ended, families = end_user_sessions(uow, sso, [user.id], "user_disabled")
        uow.audit(
            "user_disabled",
            actor=actor.subject,
            target=str(user.id),
            details={"sessions_ended": ended, "refresh_families_revoked": families},
            ip=ip,
        )
        uow.commit()
        return user


def enable_user(uow: IdentityUnitOfWork, actor: Principal, user_id: uuid.UUID, ip: str | None) -> User:
    with uow:
        user = user_in_scope(uow, actor, user_id, ADMIN)
        user.enable()
        uow.audit("user_enabled", actor=actor.subject, target=str(user.id), ip=ip)
        uow.commit()
        return user


def sign_out_everywhere(uow: IdentityUnitOfWork, sso: Sso, actor: Principal, ip: str | None) -> SignedOut:
    """The caller ends all their sessions and refresh tokens (a lost phone, a shared computer)."""
    try:
        user_id = uuid.UUID(actor.subject)
    except ValueError:
        return SignedOut(0, 0)  # a service client holds no sessions or refresh tokens
    with uow:
        ended, families = end_user_sessions(uow, sso, [user_id], "sign_out_everywhere")
        uow.audit(
            "sign_out_everywhere",
            actor=actor.subject,
            target=actor.subject,
            details={"sessions_ended": ended, "refresh_families_revoked": families},
            ip=ip,
        )
        uow.commit()
    return SignedOut(ended, families)
