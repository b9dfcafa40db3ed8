"""Tables of the identity database and the imperative mapping of the domain classes onto them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from identity.domain.model import Org, OrgLevel, RoleGrant, User
from shared import db
from shared.db import AggregateMapping, map_imperatively_once
from shared.persistence import TS, mapped_metadata

metadata, mapper_registry = mapped_metadata()

orgs = sa.Table(
    "orgs",
    metadata,
    db.id_column(),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("level", db.enum_type(OrgLevel, 16), nullable=False),
    sa.Column("parent_code", sa.String(32), sa.ForeignKey("orgs.code")),
    sa.Column("path", sa.String(400), nullable=False, unique=True),
    *db.timestamps(),
)

users = sa.Table(
    "users",
    metadata,
    db.id_column(),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("org_code", sa.String(32), sa.ForeignKey("orgs.code")),
    sa.Column("phone", sa.String(32)),
    sa.Column("email", sa.String(254)),
    sa.Column("gender", sa.String(16)),
    sa.Column("birth_date", sa.Date),
    sa.Column("external_id", sa.String(128)),
    sa.Column("external_source", sa.String(32), comment="the provider the external id is of"),
    sa.Column("locale", sa.String(16), nullable=False, default="zh-CN"),
    sa.Column("password_hash", sa.String(255)),
    sa.Column("is_active", sa.Boolean, nullable=False, default=True),
    *db.timestamps(),
    sa.Column("profile", sa.JSON, comment="学历, 民族, 教龄, 职务, 职称, 政治面貌: what the forms prefill"),
    sa.UniqueConstraint("external_source", "external_id", name="uq_users_external_source"),
)

role_grants = sa.Table(
    "role_grants",
    metadata,
    db.id_column(),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("org_code", sa.String(32), sa.ForeignKey("orgs.code")),
    sa.Column("org_path", sa.String(400), nullable=False, index=True),
    sa.Column("source", sa.String(40), nullable=False, default="manual", comment="manual, import, sso:<provider>"),
    sa.Column("granted_by", sa.String(64)),
    db.created_at_column(),
    sa.UniqueConstraint("user_id", "role", "org_path", name="uq_role_grants_user_role_path"),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False, comment="next, active or retired"),
    sa.Column("private_key", sa.Text, nullable=False, comment="PEM, encrypted with SIGNING_KEY_SECRET"),
    sa.Column("public_jwk", sa.JSON, nullable=False),
    db.created_at_column(),
    sa.Column("activated_at", TS),
    sa.Column("retired_at", TS),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True, comment="SHA-256 of the token"),
    sa.Column("family_id", sa.Uuid, nullable=False, index=True),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("issued_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("used_at", TS),
    sa.Column("revoked_at", TS),
)

oauth_clients = sa.Table(
    "oauth_clients",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("grants", sa.JSON, nullable=False, comment="[[role, org_path], ...] put in its tokens"),
    sa.Column("is_active", sa.Boolean, nullable=False, default=True),
    db.created_at_column(),
)

login_throttle = sa.Table(
    "login_throttle",
    metadata,
    sa.Column("username_key", sa.String(64), primary_key=True, comment="SHA-256 of the lower-cased username"),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("window_started_at", TS, nullable=False),
    sa.Column("locked_until", TS),
)

# -- single sign-on with the city digital base -------------------------------------------------------
external_identities = sa.Table(
    "external_identities",
    metadata,
    sa.Column("provider", sa.String(32), primary_key=True),
    sa.Column("subject", sa.String(128), primary_key=True, comment="the upstream user id (sub, CAS user, userId)"),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    db.created_at_column(),
    sa.Column("last_sign_in_at", TS, nullable=False),
)

sso_login_states = sa.Table(
    "sso_login_states",
    metadata,
    sa.Column("state", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("return_to", sa.String(500), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False, comment="session (cookie) or token (API client)"),
    db.created_at_column(),
    sa.Column("expires_at", TS, nullable=False, index=True),
    sa.Column("used_at", TS),
)

sso_sessions = sa.Table(
    "sso_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True, comment="SHA-256 of the session cookie"),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("upstream_subject", sa.String(128), nullable=False),
    sa.Column("upstream_session", sa.String(128), comment="OIDC sid, or the CAS service ticket's SHA-256"),
    sa.Column("id_token", sa.Text, comment="kept as id_token_hint for RP-initiated logout"),
    db.created_at_column(),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("ended_at", TS),
    sa.Column("end_reason", sa.String(32)),
    sa.Column("ip", sa.String(64)),
    sa.Index("ix_sso_sessions_upstream", "provider", "upstream_session"),
    sa.Index("ix_sso_sessions_subject", "provider", "upstream_subject"),
)

# OIDC back-channel logout tokens already acted on (their `jti`), kept until they expire: a replay is refused.
sso_logout_tokens = sa.Table(
    "sso_logout_tokens",
    metadata,
    sa.Column("provider", sa.String(32), primary_key=True),
    sa.Column("jti", sa.String(128), primary_key=True),
    sa.Column("expires_at", TS, nullable=False, index=True),
)


def start_mappers() -> None:
    """Map the domain classes once per process; safe to call again."""
    map_imperatively_once(
        mapper_registry,
        AggregateMapping(Org, orgs),
        AggregateMapping(RoleGrant, role_grants, raises_events=False),
        AggregateMapping(
            User,
            users,
            properties=lambda: {
                "grants": relationship(
                    RoleGrant, cascade="all, delete-orphan", lazy="selectin", order_by=role_grants.c.created_at
                )
            },
        ),
    )
