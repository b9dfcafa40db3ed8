"""Request and response schemas of the identity API (they generate its OpenAPI document)."""

from __future__ import annotations

import datetime as dt

from marshmallow import Schema, fields, validate

from identity.domain.model import ROLES, OrgLevel
from identity.domain.profile import profile_as_of
from shared.pagination import PageArgs, page_schema


def mask_phone(value: str | None) -> str | None:
    """138****8000, as bureaus print them."""
    if not value:
        return value
    return value[:3] + "****" + value[-4:] if len(value) >= 7 else "****"


def mask_email(value: str | None) -> str | None:
    if not value or "@" not in value:
        return value
    name, domain = value.split("@", 1)
    return f"{name[:1]}***@{domain}"


class TokenRequest(Schema):
    grant_type = fields.String(
        required=True, validate=validate.OneOf(["password", "refresh_token", "client_credentials"])
    )
    username = fields.String(validate=validate.Length(max=64))
    password = fields.String(validate=validate.Length(max=256))
    refresh_token = fields.String(validate=validate.Length(max=256))
    client_id = fields.String(validate=validate.Length(max=64))
    client_secret = fields.String(validate=validate.Length(max=256))
    scope = fields.String()


class SessionRequest(Schema):
    """A local account's sign-in from the portal's page (JSON)."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class TokenResponseSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)
    refresh_token = fields.String()


class JwksSchema(Schema):
    """RFC 7517 JSON Web Key Set: the ES256 public keys (kty, crv, x, y, kid, use, alg) that verify tokens."""

    keys = fields.List(fields.Dict(), required=True)


class OrgSchema(Schema):
    id = fields.UUID(dump_only=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    level = fields.Enum(OrgLevel, by_value=True, required=True)
    parent_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    path = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class OrgListArgs(PageArgs):
    level = fields.Enum(OrgLevel, by_value=True)
    parent_code = fields.String()


OrgPage = page_schema(OrgSchema, "OrgPage")


class GrantSchema(Schema):
    id = fields.UUID(dump_only=True)
    role = fields.String(required=True, validate=validate.OneOf(sorted(ROLES)))
    org_code = fields.String(load_default=None, allow_none=True)
    org_path = fields.String(dump_only=True)
    source = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class UserSchema(Schema):
    """A user; phone and e-mail are masked unless the caller administers the user's org or is the user."""

    id = fields.UUID(dump_only=True)
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    org_code = fields.String(required=True)
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^1\d{10}$", error="11 digits starting with 1"))
    email = fields.Email(allow_none=True)
    gender = fields.String(allow_none=True, validate=validate.OneOf(["男", "女", "male", "female"]))
    birth_date = fields.Date(allow_none=True)
    external_id = fields.String(allow_none=True, validate=validate.Length(max=128))
    external_source = fields.String(allow_none=True, validate=validate.Length(max=32))
    locale = fields.String(load_default="zh-CN", validate=validate.OneOf(["zh-CN", "en"]))
    password = fields.String(load_only=True, validate=validate.Length(min=12, max=256))
    is_active = fields.Boolean(dump_only=True)
    grants = fields.List(fields.Nested(GrantSchema), dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    profile = fields.Function(
        lambda u: profile_as_of(u.profile, dt.datetime.now(dt.UTC).date()),
        dump_only=True,
        metadata={
            "type": "object",
            "additionalProperties": {},
            "description": "学历 education, 民族 ethnicity, 教龄 teaching_years (counted today from teaching_since, "
            "the year teaching began), 现任行政职务 administrative_post, 专业技术职务 professional_title, 政治面貌 "
            "political_status: from imports and sign-in claims",
        },
    )


class MaskedUserSchema(UserSchema):
    phone = fields.Function(lambda u: mask_phone(u.phone))  # type: ignore[assignment]
    email = fields.Function(lambda u: mask_email(u.email))  # type: ignore[assignment]
    birth_date = fields.Function(lambda u: None)  # type: ignore[assignment]
    profile = fields.Function(lambda u: None)


class UserListArgs(PageArgs):
    org_code = fields.String()
    q = fields.String(validate=validate.Length(max=50))


UserPage = page_schema(MaskedUserSchema, "UserPage")


class MeGrantSchema(Schema):
    role = fields.String(required=True)
    org_path = fields.String(required=True, metadata={"description": "`/` for a platform-wide grant"})
    org_code = fields.String(allow_none=True, metadata={"description": "null for a platform-wide grant"})
    org_name = fields.String(allow_none=True)


class MeSchema(Schema):
    id = fields.String()
    username = fields.String(allow_none=True)
    display_name = fields.String(allow_none=True)
    org_code = fields.String(allow_none=True)
    client_id = fields.String(allow_none=True)
    sso = fields.Boolean(
        required=True, metadata={"description": "the browser session came from single sign-on (sign-out goes upstream)"}
    )
    sso_provider = fields.String(allow_none=True, metadata={"description": "that provider's id, else null"})
    grants = fields.List(fields.Nested(MeGrantSchema))


class ImportReportSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    errors = fields.List(fields.Dict())


class SignedOutSchema(Schema):
    sessions_ended = fields.Integer(required=True)
    refresh_token_families_revoked = fields.Integer(required=True)
