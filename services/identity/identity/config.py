"""identity's own environment variables (the common ones are shared.config.Environment)."""

from __future__ import annotations

from pydantic import Field

from shared.config import EnvironmentBase

DEFAULT_KEY_ROTATION_SECONDS = 30 * 24 * 3600


class IdentityEnvironment(EnvironmentBase):
    """Tokens, sign-in lock-out, the unified sign-on providers and the signing keys' rotation."""

    access_token_ttl_seconds: int = Field(900, gt=0, alias="ACCESS_TOKEN_TTL_SECONDS", description="access token life")
    refresh_token_ttl_days: int = Field(14, gt=0, alias="REFRESH_TOKEN_TTL_DAYS", description="refresh token life")
    login_max_failures: int = Field(
        5, ge=1, alias="LOGIN_MAX_FAILURES", description="failed sign-ins in a row before the account is locked"
    )
    login_lock_seconds: int = Field(900, ge=1, alias="LOGIN_LOCK_SECONDS", description="how long it stays locked")
    sso_providers_file: str | None = Field(
        None, alias="SSO_PROVIDERS_FILE", description="YAML of the unified sign-on (统一身份认证) providers"
    )
    sso_session_hours: float = Field(8, gt=0, alias="SSO_SESSION_HOURS", description="a browser session's life")
    signing_key_rotation_seconds: int = Field(
        DEFAULT_KEY_ROTATION_SECONDS,
        ge=0,
        alias="SIGNING_KEY_ROTATION_SECONDS",
        description="the signing key's age before the worker rotates it (0: never)",
    )
