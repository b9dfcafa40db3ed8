"""Single sign-on with the city education digital base (统一身份认证、单点登录).

A sign-in starts here (state, nonce and PKCE verifier kept server-side, single use), goes to the upstream
provider, and comes back to the callback: the protocol client checks what the upstream sent, the claim
mapping says who the user is, where and with which roles, and just-in-time provisioning creates or links
the user (by external id, never by name) and keeps the mapped grants in step while hand-given grants stay.
The result is a browser session (an opaque cookie the gateway exchanges for a short-lived access token on
each request, so ending the session takes effect at once) or, for API clients, our tokens.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import unicodedata
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from identity.adapters.keys import KeyRing
from identity.adapters.metrics import ACTIVE_SESSIONS, SESSIONS_ENDED, SIGN_INS
from identity.adapters.orm import external_identities, sso_login_states, sso_logout_tokens, sso_sessions, users
from identity.adapters.sso_config import ProviderConfig
from identity.adapters.upstream import CasClient, OAuth2VariantClient, OidcClient, UpstreamError
from identity.domain.model import DomainError, Org, OrgLevel, User, clean_profile
from identity.domain.sso import MappedIdentity, MappedOrg, SignInRefused
from identity.service_layer.tokens import (
    LocalSignInRefused,
    TokenPolicy,
    TokenResponse,
    issue_access_token,
    issue_user_tokens,
    local_account,
    revoke_refresh_tokens,
    sha256_hex,
)
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from shared.errors import ProblemError
from shared.scope import path_within

log = logging.getLogger(__name__)

# Ended and expired sessions stay this long for the operators' questions; the audit trail keeps the sign-ins.
SESSION_RETENTION = dt.timedelta(days=30)

LOGIN_STATE_TTL = dt.timedelta(minutes=10)
MODES = ("session", "token")
# The `provider` of a browser session opened with a local account's password (no upstream to sign out of).
LOCAL_PROVIDER = "local"


class SsoError(ProblemError):
    """A sign-in that cannot go on, explained in Chinese and English, with a stable `reason`."""

    def __init__(self, reason: str, zh: str, en: str, status: int) -> None:
        super().__init__(en, status=status, title="Sign-in failed / 登录失败", reason=reason, detail_zh=zh)
        self.reason = reason
        self.zh = zh
        self.en = en


def _refusal(exc: SignInRefused) -> SsoError:
    return SsoError(exc.reason, exc.zh, exc.en, exc.status)


STATE_MISMATCH = (
    "state_mismatch",
    "登录请求已失效或不是从本浏览器发起的，请重新登录。",
    "This sign-in has expired, was already used, or was not started in this browser; sign in again.",
    400,
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# A path segment, query or fragment character that needs no quoting (RFC 3986 pchar plus "/", "?" and "%",
# which keeps the percent-escapes the caller already made).
_RETURN_TO_SAFE = "/:@!$&'()*+,;=-._~%"
MAX_RETURN_TO = 500


def safe_return_to(value: str | None) -> str:
    """Only a path on this platform, rebuilt from its parts; anything else is "/".

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so `/\t/evil.example` or
    `/\\evil.example` would leave as `//evil.example` (another site); a raw newline would split the Location
    header. So: no control characters or backslashes (also percent-encoded), no scheme or host,
    a path that starts with exactly one slash, and the result quoted again before it becomes a header.
    """
    if not value or len(value) > MAX_RETURN_TO:
        return "/"
    decoded = urllib.parse.unquote(value)
    if any(c == "\\" or unicodedata.category(c) == "Cc" for c in value + decoded):
        return "/"
    parts = urllib.parse.urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return "/"
    if parts.path.startswith("//") or decoded.startswith("//"):
        return "/"
    rebuilt = urllib.parse.urlunsplit(
        (
            "",
            "",
            urllib.parse.quote(parts.path, safe=_RETURN_TO_SAFE),
            urllib.parse.quote(parts.query, safe=_RETURN_TO_SAFE + "?"),
            urllib.parse.quote(parts.fragment, safe=_RETURN_TO_SAFE + "?"),
        )
    )
    return rebuilt if rebuilt.startswith("/") and not rebuilt.startswith("//") else "/"


@dataclass
class Sso:
    """The configured providers and what a sign-in needs; one per process (bootstrap builds it)."""

    providers: dict[str, ProviderConfig]
    keyring: KeyRing
    policy: TokenPolicy
    public_base_url: str
    session_ttl: dt.timedelta = dt.timedelta(hours=8)
    clients: dict[str, OidcClient | CasClient | OAuth2VariantClient] = field(default_factory=dict)
    _minted: dict[str, tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for pid, provider in self.providers.items():
            if pid in self.clients:
                continue
            if provider.protocol == "oidc":
                self.clients[pid] = OidcClient(provider)
            elif provider.protocol == "cas":
                self.clients[pid] = CasClient(provider)
            else:
                self.clients[pid] = OAuth2VariantClient(provider)

    def provider(self, provider_id: str) -> ProviderConfig:
        provider = self.providers.get(provider_id)
        if provider is None:
            raise SsoError(
                "unknown_provider",
                "没有这个统一身份认证入口。",
                f"No sign-in provider {provider_id!r} is configured.",
                404,
            )
        return provider

    def callback_url(self, provider_id: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/sso/{provider_id}/callback"

    @property
    def secure_cookies(self) -> bool:
        return self.public_base_url.startswith("https://")


# -- starting a sign-in ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginStart:
    redirect_url: str
    state: str


def begin_login(uow: IdentityUnitOfWork, sso: Sso, provider_id: str, *, return_to: str | None, mode: str) -> LoginStart:
    """Remember state, nonce and PKCE verifier for ten minutes and send the user to the upstream."""
    provider = sso.provider(provider_id)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    client = sso.clients[provider_id]
    try:
        if isinstance(client, OidcClient):
            url = client.authorization_url(sso.callback_url(provider_id), state, nonce, verifier)
        elif isinstance(client, OAuth2VariantClient):
            challenge = create_s256_code_challenge(verifier) if provider.pkce else None
            url = client.authorization_url(sso.callback_url(provider_id), state, challenge)
        else:
            # CAS has no state parameter: the state travels in the service URL and comes back with the ticket.
            url = client.login_url(_cas_service(sso, provider_id, state))
    except UpstreamError as exc:
        SIGN_INS.labels(provider_id, exc.reason).inc()
        raise _refusal(exc) from exc
    now = _now()
    with uow:  # spent states are dropped by the worker's housekeeping timer
        uow.session.execute(
            sso_login_states.insert().values(
                state=state,
                provider=provider_id,
                nonce=nonce,
                code_verifier=verifier,
                return_to=safe_return_to(return_to),
                mode=mode if mode in MODES else "session",
                created_at=now,
                expires_at=now + LOGIN_STATE_TTL,
            )
        )
        uow.commit()
    return LoginStart(url, state)


def _cas_service(sso: Sso, provider_id: str, state: str) -> str:
    return f"{sso.callback_url(provider_id)}?state={state}"


# -- the callback ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginResult:
    user_id: uuid.UUID
    return_to: str
    mode: str
    session_cookie: str | None = None
    tokens: TokenResponse | None = None


@dataclass(frozen=True)
class Upstream:
    """What the upstream said about the user, whatever the protocol."""

    claims: dict[str, Any]
    subject: str | None = None  # None: the mapping's external id (the OAuth2 variants name no subject)
    session: str | None = None  # OIDC sid / CAS ticket hash, for single logout
    id_token: str | None = None


def _claim_state(uow: IdentityUnitOfWork, provider_id: str, state: str | None, bound_state: str | None) -> Any:
    """Spend the login state: it must exist, be this provider's, unexpired, unused and this browser's."""
    if not state or not bound_state or not secrets.compare_digest(state, bound_state):
        raise SsoError(*STATE_MISMATCH)
    with uow:
        query = select(sso_login_states).where(sso_login_states.c.state == state)
        query = query.with_for_update()
        row = uow.session.execute(query).one_or_none()
        if row is None or row.provider != provider_id or row.used_at is not None or row.expires_at < _now():
            raise SsoError(*STATE_MISMATCH)
        uow.session.execute(update(sso_login_states).where(sso_login_states.c.state == state).values(used_at=_now()))
        uow.commit()
        return row


def complete_login(
    uow: IdentityUnitOfWork,
    sso: Sso,
    provider_id: str,
    params: Mapping[str, str],
    *,
    bound_state: str | None,
    ip: str | None,
) -> LoginResult:
    """Finish a sign-in from the upstream's redirect; every refusal is counted, audited and explained."""
    provider = sso.provider(provider_id)
    try:
        if params.get("error"):
            raise _denied(params)
        state_row = _claim_state(uow, provider_id, params.get("state"), bound_state)
        upstream = _fetch_upstream(sso, provider, state_row, params)
        mapped = provider.mapping.apply(upstream.claims, provider_id)
        try:
            result = _sign_in(uow, sso, provider, mapped, upstream, state_row, ip)
        except IntegrityError:
            # The same person's first sign-in in two tabs at once: the other one created the user or org;
            # once more finds them.
            result = _sign_in(uow, sso, provider, mapped, upstream, state_row, ip)
    except (SignInRefused, SsoError) as exc:
        error = exc if isinstance(exc, SsoError) else _refusal(exc)
        SIGN_INS.labels(provider_id, error.reason).inc()
        log.warning("sso sign-in refused", extra={"provider": provider_id, "reason": error.reason})
        with uow:
            uow.audit("sso_login", actor=None, target=provider_id, outcome=error.reason, ip=ip)
            uow.commit()
        raise error from exc
    SIGN_INS.labels(provider_id, "ok").inc()
    # Checked again on the way out: a state row written before this check was tightened is no 500 either.
    return replace(result, return_to=safe_return_to(result.return_to))


def _denied(params: Mapping[str, str]) -> SsoError:
    if params.get("error") == "access_denied":
        return SsoError(
            "user_denied",
            "您在统一身份认证平台取消了授权，未能登录本平台。",
            "You declined to share your account with this platform at the identity platform, so you are not signed in.",
            403,
        )
    return SsoError(
        "upstream_error",
        f"统一身份认证平台未能完成登录（{params.get('error')}），请稍后再试。",
        f"The identity platform could not complete the sign-in ({params.get('error')}); try again later.",
        502,
    )


def _fetch_upstream(sso: Sso, provider: ProviderConfig, state_row: Any, params: Mapping[str, str]) -> Upstream:
    client = sso.clients[provider.id]
    redirect_uri = sso.callback_url(provider.id)
    if isinstance(client, CasClient):
        ticket = params.get("ticket")
        if not ticket:
            raise SsoError("missing_ticket", "缺少登录票据，请重新登录。", "The sign-in ticket is missing.", 400)
        info = client.validate(ticket, _cas_service(sso, provider.id, state_row.state))
        return Upstream(info, str(info["user"]), session=sha256_hex(ticket))
    code = params.get("code")
    if not code:
        raise SsoError("missing_code", "缺少授权码，请重新登录。", "The authorization code is missing.", 400)
    if isinstance(client, OidcClient):
        if params.get("iss") and params["iss"] != provider.issuer:  # RFC 9207: a mix-up with another provider
            raise UpstreamError(
                "invalid_response",
                "登录应答来自另一个身份认证平台，请重新登录。",
                "The sign-in answer came from another identity provider; sign in again.",
                401,
            )
        token = client.exchange(code, redirect_uri, state_row.code_verifier)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise UpstreamError(
                "invalid_response", "统一身份认证平台未返回身份令牌。", "The identity platform sent no id_token.", 502
            )
        claims = client.verify_id_token(id_token, state_row.nonce)
        if token.get("access_token"):
            claims = {**claims, **client.userinfo(str(token["access_token"]), str(claims["sub"]))}
        return Upstream(claims, str(claims["sub"]), session=claims.get("sid"), id_token=id_token)
    access_token = client.exchange(code, redirect_uri, state_row.code_verifier if provider.pkce else None)
    return Upstream(client.userinfo(access_token))  # its subject is the mapped external id


def _sign_in(
    uow: IdentityUnitOfWork,
    sso: Sso,
    provider: ProviderConfig,
    mapped: MappedIdentity,
    upstream: Upstream,
    state_row: Any,
    ip: str | None,
) -> LoginResult:
    with uow:
        user, created = provision_user(uow, provider, mapped)
        now = _now()
        result: LoginResult
        cookie = secrets.token_urlsafe(32)
        session = {
            "id_hash": sha256_hex(cookie),
            "user_id": user.id,
            "provider": provider.id,
            "upstream_subject": (upstream.subject or mapped.external_id)[:128],
            "upstream_session": (upstream.session or None) and str(upstream.session)[:128],
            "created_at": now,
            "expires_at": now + sso.session_ttl,
            "ip": ip,
        }
        if state_row.mode == "token":
            tokens = issue_user_tokens(uow, sso.keyring, sso.policy, user)
            # No browser session (the cookie is never handed out, so the row is born ended), but the upstream
            # session is remembered: its single logout (CAS ticket, OIDC sid) then finds the user and revokes
            # these refresh tokens too.
            uow.session.execute(sso_sessions.insert().values(**session, ended_at=now, end_reason="tokens_issued"))
            result = LoginResult(user.id, state_row.return_to, "token", tokens=tokens)
        else:
            uow.session.execute(sso_sessions.insert().values(**session, id_token=upstream.id_token))
            result = LoginResult(user.id, state_row.return_to, "session", session_cookie=cookie)
        uow.audit(
            "sso_login",
            actor=user.username,
            target=str(user.id),
            details={"provider": provider.id, "provisioned": created, "mode": state_row.mode},
            ip=ip,
        )
        uow.commit()
        return result


# -- just-in-time provisioning --------------------------------------------------------------------
def provision_user(uow: IdentityUnitOfWork, provider: ProviderConfig, mapped: MappedIdentity) -> tuple[User, bool]:
    """Create or link the user by external id and bring profile and mapped grants up to date (inside the
    caller's unit of work; True when the user is new)."""
    now = _now()
    link = uow.session.execute(
        select(external_identities.c.user_id).where(
            external_identities.c.provider == provider.id, external_identities.c.subject == mapped.external_id
        )
    ).scalar_one_or_none()
    user = uow.users.get(link) if link is not None else None
    if user is None and provider.link_by_external_id:
        # Staff imported from the digital base carry its user id: sign-in links to them (避免重复采集). Only
        # an id of this very provider (another provider's subject may be the same string), and never an
        # account with a password: whoever set that password would share the account with the person.
        found = uow.session.execute(
            select(users.c.id).where(
                users.c.external_source == provider.id,
                users.c.external_id == mapped.external_id,
                users.c.password_hash.is_(None),
            )
        ).scalar_one_or_none()
        user = uow.users.get(found) if found is not None else None
    scope = [o.path for o in uow.orgs.by_codes(list(provider.org_scope)).values()]
    orgs = {o.code: _ensure_org(uow, provider, o, scope) for o in mapped.orgs}
    home = orgs[mapped.org.code]
    profile = {k: v for k, v in mapped.profile.items() if v is not None}
    created = user is None
    if user is None:
        keep_id = provider.link_by_external_id and not _external_id_taken(uow, provider, mapped)
        user = User(
            _free_username(uow, mapped.username),
            profile.get("display_name") or mapped.external_id,
            org_code=home.code,
            phone=profile.get("phone"),
            email=profile.get("email"),
            gender=profile.get("gender"),
            profile=_directory_profile(profile),
            external_id=mapped.external_id if keep_id else None,
            external_source=provider.id if keep_id else None,
        )
        uow.users.add(user)
    elif not user.is_active:
        raise SignInRefused(
            "account_disabled",
            "您在本平台的账号已停用，请联系管理员。",
            "Your account on this platform is disabled; ask an administrator.",
        )
    else:
        user.update_profile(
            **{k: v for k, v in profile.items() if k != "birth_date" and k not in User.PROFILE_KEYS},
            profile=_directory_profile(profile),
            org_code=home.code,
        )
    if link is None:
        uow.session.execute(
            external_identities.insert().values(
                provider=provider.id, subject=mapped.external_id, user_id=user.id, created_at=now, last_sign_in_at=now
            )
        )
    else:
        uow.session.execute(
            update(external_identities)
            .where(external_identities.c.provider == provider.id, external_identities.c.subject == mapped.external_id)
            .values(last_sign_in_at=now)
        )
    _sync_grants(uow, provider, user, [(role, orgs[code]) for role, code in mapped.roles])
    return user, created


def _external_id_taken(uow: IdentityUnitOfWork, provider: ProviderConfig, mapped: MappedIdentity) -> bool:
    taken = select(users.c.id).where(users.c.external_source == provider.id, users.c.external_id == mapped.external_id)
    return uow.session.execute(taken).first() is not None


def _free_username(uow: IdentityUnitOfWork, wanted: str) -> str:
    """The mapped username, or with a short suffix when someone holds it already."""
    candidate = wanted
    while uow.users.by_username(candidate) is not None:
        local, _, domain = wanted.partition("@")
        tail = "-" + secrets.token_hex(3)
        candidate = f"{local[: 63 - len(domain) - len(tail)]}{tail}@{domain}"
    return candidate


def _out_of_scope(mapped: MappedOrg) -> SignInRefused:
    return SignInRefused(
        "org_out_of_scope",
        f"统一身份认证给出的单位（{mapped.name or mapped.code}）不在该入口可登录的范围内，请联系管理员。",
        f"The unit the identity provider names ({mapped.name or mapped.code}) is outside what this provider may "
        "sign users in to; ask an administrator.",
    )


def _ensure_org(uow: IdentityUnitOfWork, provider: ProviderConfig, mapped: MappedOrg, scope: list[str]) -> Org:
    """The org a sign-in places the user in: inside the provider's subtrees (`org_scope`) and of the level the
    upstream says, so a city's code sent as a school does not make a school administrator of the whole city."""
    org = uow.orgs.get(mapped.code)
    if org is not None:
        if not any(path_within(org.path, root) for root in scope) or org.level.value != mapped.level:
            raise _out_of_scope(mapped)
        return org
    no_org = SignInRefused(
        "no_org",
        f"您的所在单位（{mapped.name or mapped.code}）不在本平台的机构目录中，请联系管理员。",
        f"Your unit ({mapped.name or mapped.code}) is not in this platform's organisation tree; ask an administrator.",
    )
    if not provider.create_orgs:
        raise no_org
    # The upstream's own parent when it names one (an unknown one is refused, never guessed); else the
    # provider's default parent (a county base that only sends school codes).
    parent_code = mapped.parent_code or provider.default_parent_code
    parent = uow.orgs.get(parent_code) if parent_code else None
    if parent is None:
        raise no_org
    if not any(path_within(parent.path, root) for root in scope):
        raise _out_of_scope(mapped)
    try:
        org = Org(mapped.code, mapped.name or mapped.code, OrgLevel(mapped.level), parent)
    except (DomainError, ValueError) as exc:
        raise no_org from exc
    uow.orgs.add(org)
    uow.audit("org_created", actor=f"sso:{provider.id}", target=org.code, details={"path": org.path})
    return org


def _sync_grants(uow: IdentityUnitOfWork, provider: ProviderConfig, user: User, wanted: list[tuple[str, Org]]) -> None:
    """The mapping controls the grants it gave (source `sso:<provider>`); grants given by hand stay."""
    source = f"sso:{provider.id}"
    wanted_keys = {(role, org.path) for role, org in wanted}
    for grant in list(user.grants):
        if grant.source == source and (grant.role, grant.org_path) not in wanted_keys:
            user.revoke(grant.id, by=source)
            uow.audit(
                "role_revoked",
                actor=source,
                target=str(user.id),
                details={"role": grant.role, "org_path": grant.org_path},
            )
    held = {(g.role, g.org_path) for g in user.grants}
    for role, org in wanted:
        if (role, org.path) not in held:
            user.grant(role, org, by=source, source=source)
            uow.audit("role_granted", actor=source, target=str(user.id), details={"role": role, "org_path": org.path})


# -- local accounts in the browser --------------------------------------------------------------------
def _wrong_password() -> SsoError:
    return SsoError(
        "invalid_credentials",
        "用户名或密码错误。",
        "The username or password is wrong.",
        401,
    )


def _locked(policy: TokenPolicy) -> SsoError:
    minutes = int(policy.lock_for.total_seconds() // 60)
    return SsoError(
        "account_locked",
        f"登录失败次数过多，该账号已暂时锁定，请 {minutes} 分钟后再试。",
        f"Too many failed sign-ins: this account is locked; try again in {minutes} minutes.",
        423,
    )


def password_session(uow: IdentityUnitOfWork, sso: Sso, username: str, password: str, ip: str | None) -> str:
    """Open the same browser session single sign-on opens, for a local account; the password grant's failure
    count and lockout apply. Answers the session cookie's value (only its hash is kept)."""
    with uow:
        try:
            user = local_account(uow, sso.policy, username, password, ip)
        except LocalSignInRefused as exc:
            raise (_locked(sso.policy) if exc.locked else _wrong_password()) from exc
        cookie = secrets.token_urlsafe(32)
        now = _now()
        uow.session.execute(
            sso_sessions.insert().values(
                id_hash=sha256_hex(cookie),
                user_id=user.id,
                provider=LOCAL_PROVIDER,
                upstream_subject=str(user.id),
                created_at=now,
                expires_at=now + sso.session_ttl,
                ip=ip,
            )
        )
        uow.audit("login", actor=user.username, target=str(user.id), details={"mode": "session"}, ip=ip)
        uow.commit()
    return cookie


# -- sessions -------------------------------------------------------------------------------------
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def cross_site_write(sso: Sso, method: str | None, origin: str | None) -> bool:
    """A state-changing request carried by the session cookie from another site's page (CSRF): SameSite=Lax
    already keeps the cookie off most of them; the Origin check covers sibling sites of the same domain."""
    if (method or "GET").upper() in SAFE_METHODS or not origin:
        return False
    ours = urllib.parse.urlsplit(sso.public_base_url)
    theirs = urllib.parse.urlsplit(origin)
    return (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc)


def ours(sso: Sso, url: str | None) -> bool:
    """`url` (an Origin or Referer) is of this platform's own origin."""
    if not url:
        return False
    mine = urllib.parse.urlsplit(sso.public_base_url)
    theirs = urllib.parse.urlsplit(url)
    return (theirs.scheme, theirs.netloc) == (mine.scheme, mine.netloc)


def same_site_navigation(sso: Sso, fetch_site: str | None, origin: str | None, referer: str | None) -> bool:
    """A request the user made on our pages (or typed), not one another site's page set off: current browsers
    say so in Sec-Fetch-Site; without it, an Origin or Referer of ours counts, and nothing is not enough."""
    if fetch_site:
        return fetch_site in ("same-origin", "none")
    return ours(sso, origin) if origin else ours(sso, referer)


def session_access_token(uow: IdentityUnitOfWork, sso: Sso, cookie: str) -> str | None:
    """The access token for a live browser session (reused until a minute before it expires), else None."""
    id_hash = sha256_hex(cookie)
    now = _now()
    with uow:
        row = uow.session.execute(select(sso_sessions).where(sso_sessions.c.id_hash == id_hash)).one_or_none()
        if row is None or row.ended_at is not None or row.expires_at <= now:
            return None
        with sso._lock:
            cached = sso._minted.get(id_hash)
        if cached and cached[1] - 60 > now.timestamp():
            return cached[0]
        user = uow.users.get(row.user_id)
        if user is None or not user.is_active:
            return None
        token = issue_access_token(
            sso.keyring,
            sso.policy,
            subject=str(user.id),
            grants=user.grant_pairs(),
            name=user.display_name,
            org_code=user.org_code,
            username=user.username,
            idp=None if row.provider == LOCAL_PROVIDER else row.provider,
        )
    with sso._lock:
        if len(sso._minted) > 10_000:
            sso._minted.clear()
        sso._minted[id_hash] = (token.access_token, now.timestamp() + token.expires_in)
    return token.access_token


def _end_sessions(uow: IdentityUnitOfWork, sso: Sso, condition: Any, reason: str) -> int:
    hashes = list(
        uow.session.execute(
            select(sso_sessions.c.id_hash).where(condition, sso_sessions.c.ended_at.is_(None))
        ).scalars()
    )
    if hashes:
        uow.session.execute(
            update(sso_sessions).where(sso_sessions.c.id_hash.in_(hashes)).values(ended_at=_now(), end_reason=reason)
        )
    with sso._lock:
        for id_hash in hashes:
            sso._minted.pop(id_hash, None)
    SESSIONS_ENDED.labels(reason).inc(len(hashes))
    return len(hashes)


def end_user_sessions(uow: IdentityUnitOfWork, sso: Sso, user_ids: list[uuid.UUID], reason: str) -> tuple[int, int]:
    """Sign these users out everywhere, inside the caller's unit of work: every browser session ends (and its
    cached access token is forgotten) and every refresh-token family is revoked, including those an SSO
    `mode=token` sign-in handed out. Access tokens already issued run out within their 15 minutes, but the
    session swap and the refresh grant refuse from now on. Answers (sessions ended, families revoked)."""
    if not user_ids:
        return 0, 0
    ended = _end_sessions(uow, sso, sso_sessions.c.user_id.in_(user_ids), reason)
    return ended, revoke_refresh_tokens(uow, user_ids)


def _users_of_sessions(uow: IdentityUnitOfWork, condition: Any) -> list[uuid.UUID]:
    return list(uow.session.execute(select(sso_sessions.c.user_id).where(condition).distinct()).scalars())


@dataclass(frozen=True)
class Logout:
    ended: bool
    upstream_logout_url: str | None


def logout(uow: IdentityUnitOfWork, sso: Sso, cookie: str | None, ip: str | None) -> Logout:
    """End our session; hand back the upstream's logout URL where it has one (RP-initiated logout)."""
    if not cookie:
        return Logout(False, None)
    with uow:
        row = uow.session.execute(
            select(sso_sessions).where(sso_sessions.c.id_hash == sha256_hex(cookie))
        ).one_or_none()
        if row is None:
            return Logout(False, None)
        ended, families = end_user_sessions(uow, sso, [row.user_id], "logout")
        uow.audit(
            "sso_logout",
            actor=str(row.user_id),
            target=row.provider,
            details={"sessions_ended": ended, "refresh_families_revoked": families},
            ip=ip,
        )
        uow.commit()
    upstream_url = None
    provider = sso.providers.get(row.provider)
    client = sso.clients.get(row.provider)
    after = f"{sso.public_base_url.rstrip('/')}/"
    if provider is not None and isinstance(client, OidcClient):
        upstream_url = client.end_session_url(row.id_token, after)
    elif provider is not None and isinstance(client, CasClient):
        upstream_url = client.logout_url(after)
    return Logout(True, upstream_url)


def backchannel_logout(uow: IdentityUnitOfWork, sso: Sso, provider_id: str, logout_token: str) -> int:
    """OIDC back-channel logout: the upstream tells us a session ended there; end ours that match."""
    provider = sso.provider(provider_id)
    client = sso.clients[provider_id]
    if not isinstance(client, OidcClient):
        raise SsoError(
            "unsupported", "该入口不支持此注销方式。", "This provider does not use back-channel logout.", 400
        )
    try:
        claims = client.verify_logout_token(logout_token)
    except UpstreamError as exc:
        log.warning("back-channel logout refused", extra={"provider": provider_id, "reason": exc.reason})
        raise SsoError("invalid_logout_token", exc.zh, exc.en, 400) from exc
    with uow:
        _spend_logout_token(uow, provider.id, claims)
        # The person signed out upstream: every session and token family of theirs ends here, found by the
        # upstream session (sid) and by the subject's link, so `mode=token` sign-ins (no session row) end too.
        user_ids = set(_users_of_sessions(uow, _upstream_session_matches(provider.id, claims)))
        if claims.get("sub"):
            linked = uow.session.execute(
                select(external_identities.c.user_id).where(
                    external_identities.c.provider == provider.id, external_identities.c.subject == str(claims["sub"])
                )
            ).scalars()
            user_ids.update(linked)
        ended, families = end_user_sessions(uow, sso, sorted(user_ids), "backchannel_logout")
        uow.audit(
            "sso_backchannel_logout",
            actor=f"sso:{provider_id}",
            target=str(claims.get("sub")),
            details={"ended": ended, "refresh_families_revoked": families},
        )
        uow.commit()
    return ended


def _upstream_session_matches(provider_id: str, claims: Mapping[str, Any]) -> Any:
    matches = []
    if claims.get("sid"):
        matches.append(sso_sessions.c.upstream_session == str(claims["sid"]))
    if claims.get("sub"):
        matches.append(sso_sessions.c.upstream_subject == str(claims["sub"]))
    return (sso_sessions.c.provider == provider_id) & or_(*matches)


def _spend_logout_token(uow: IdentityUnitOfWork, provider_id: str, claims: Mapping[str, Any]) -> None:
    """A logout token acts once (its `jti`, kept until it expires): a captured one replayed later is refused."""
    jti = str(claims["jti"])[:128]
    seen = uow.session.execute(
        select(sso_logout_tokens.c.jti).where(
            sso_logout_tokens.c.provider == provider_id, sso_logout_tokens.c.jti == jti
        )
    ).first()
    if seen is not None:
        raise SsoError(
            "replayed_logout_token",
            "该注销通知已处理过。",
            "This logout token was already used.",
            400,
        )
    expires = dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC)
    uow.session.execute(sso_logout_tokens.insert().values(provider=provider_id, jti=jti, expires_at=expires))


def cas_single_logout(uow: IdentityUnitOfWork, sso: Sso, provider_id: str, logout_request: str) -> int:
    """CAS single logout: the server POSTs the service ticket of the session that ended there."""
    provider = sso.provider(provider_id)
    ticket = CasClient.session_index(logout_request)
    if provider.protocol != "cas" or not ticket:
        raise SsoError("invalid_logout_request", "注销请求无效。", "The logout request is not valid.", 400)
    with uow:
        user_ids = _users_of_sessions(
            uow, (sso_sessions.c.provider == provider.id) & (sso_sessions.c.upstream_session == sha256_hex(ticket))
        )
        ended, families = end_user_sessions(uow, sso, user_ids, "cas_single_logout")
        uow.audit(
            "sso_single_logout",
            actor=f"sso:{provider_id}",
            target=None,
            details={"ended": ended, "refresh_families_revoked": families},
        )
        uow.commit()
    return ended


def housekeeping(uow: IdentityUnitOfWork, now: dt.datetime | None = None) -> int:
    """The worker's timer: drop spent login states and long-gone sessions, count the live ones."""
    now = now or _now()
    with uow:
        uow.session.execute(delete(sso_login_states).where(sso_login_states.c.expires_at < now))
        uow.session.execute(delete(sso_logout_tokens).where(sso_logout_tokens.c.expires_at < now))
        purge = delete(sso_sessions).where(
            or_(sso_sessions.c.ended_at < now - SESSION_RETENTION, sso_sessions.c.expires_at < now - SESSION_RETENTION)
        )
        gone = cast(CursorResult[Any], uow.session.execute(purge)).rowcount
        live = uow.session.execute(
            select(func.count()).where(sso_sessions.c.ended_at.is_(None), sso_sessions.c.expires_at > now)
        ).scalar_one()
        uow.commit()
    ACTIVE_SESSIONS.set(live)
    return int(gone or 0)


def _directory_profile(claims_profile: dict[str, Any]) -> dict[str, Any]:
    """学历, 民族, 教龄, 职务, 职称, 政治面貌 the base released; a malformed one (教龄 not a number) is left out
    rather than refusing the sign-in."""
    out: dict[str, Any] = {}
    for key in User.PROFILE_KEYS:
        if claims_profile.get(key) is None:
            continue
        try:
            out.update(clean_profile({key: claims_profile[key]}))
        except DomainError:
            log.warning("sign-in claim left out of the profile", extra={"claim": key})
    return out
