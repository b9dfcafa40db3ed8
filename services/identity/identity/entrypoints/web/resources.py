"""The identity API: token endpoint and JWKS, /api/me, organisations, users and grants."""

from __future__ import annotations

import base64
import binascii
import urllib.parse
import uuid
from typing import Any

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from identity.adapters.metrics import TOKENS_ISSUED
from identity.entrypoints.web.context import client_ip, identity
from identity.entrypoints.web.schemas import (
    GrantSchema,
    ImportReportSchema,
    JwksSchema,
    MaskedUserSchema,
    MeSchema,
    OrgListArgs,
    OrgPage,
    OrgSchema,
    SessionRequest,
    SignedOutSchema,
    TokenRequest,
    TokenResponseSchema,
    UserListArgs,
    UserPage,
    UserSchema,
)
from identity.entrypoints.web.sso import no_store, refuse_cross_site_write, set_session_cookie, signing_on
from identity.service_layer import accounts, directory, sso, tokens
from shared import files
from shared.audit_listing import audit_blueprint
from shared.auth import current_principal, public
from shared.errors import ProblemError, Unprocessable, field_error, flatten_marshmallow
from shared.views import Handlers

auth_blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Tokens and signing keys")
me_blp = Blueprint("me", __name__, url_prefix="/api/me", description="The signed-in caller")
orgs_blp = Blueprint("orgs", __name__, url_prefix="/api/orgs", description="Organisations (机构)")
users_blp = Blueprint("users", __name__, url_prefix="/api/users", description="Users and role grants")

handlers = Handlers(identity)


def _basic_credentials() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)


# Built once: a marshmallow schema deep-copies its fields when instantiated (2 ms a request under load); loading
# with one instance from several threads is safe.
_TOKEN_REQUEST = TokenRequest()


@auth_blp.route("/token")
class Token(MethodView):
    @public
    @auth_blp.doc(
        requestBody={"content": {"application/x-www-form-urlencoded": {"schema": TokenRequest}}},
        description="OAuth 2.0 token endpoint (RFC 6749): password, refresh_token, client_credentials.",
    )
    @auth_blp.response(200, TokenResponseSchema)
    def post(self) -> Any:
        try:
            form = _TOKEN_REQUEST.load(request.form.to_dict())
        except ValidationError as exc:
            raise tokens.OAuthError(
                "invalid_request",
                "Some parameters are missing or invalid.",
                errors=flatten_marshmallow({"form": exc.normalized_messages()}),
            ) from exc
        service = identity()
        grant = form["grant_type"]
        if grant == "password":
            if not form.get("username") or not form.get("password"):
                raise tokens.OAuthError("invalid_request", "username and password are required.")
            result = tokens.password_grant(
                service.uow(),
                service.keyring,
                service.policy,
                form["username"],
                form["password"],
                client_ip(),
            )
        elif grant == "refresh_token":
            if not form.get("refresh_token"):
                raise tokens.OAuthError("invalid_request", "refresh_token is required.")
            result = tokens.refresh_grant(
                service.uow(), service.keyring, service.policy, form["refresh_token"], client_ip()
            )
        else:
            credentials = _basic_credentials() or (form.get("client_id", ""), form.get("client_secret", ""))
            if not credentials[0] or not credentials[1]:
                raise tokens.OAuthError("invalid_client", "Client authentication is required.", status=401)
            result = tokens.client_credentials_grant(service.uow(), service.keyring, service.policy, *credentials)
        TOKENS_ISSUED.labels(grant).inc()
        return no_store(jsonify(result.as_dict()))


@auth_blp.route("/session")
class PasswordSession(MethodView):
    @public
    @auth_blp.doc(
        requestBody={"content": {"application/json": {"schema": SessionRequest}}},
        responses={
            "204": {"description": "Signed in: the `cio_session` cookie is set (HttpOnly; no token in the body)."},
            "400": {"description": "username or password missing"},
            "401": {"description": "wrong username or password"},
            "403": {"description": "from another site's page"},
            "423": {"description": "locked after repeated failures"},
        },
        description="The portal's sign-in with a local account: opens the same browser session single sign-on "
        "opens (end it with POST /sso/logout), with the token endpoint's lockout and rate limit. Problems carry "
        "`detail_zh` beside the English `detail`.",
    )
    def post(self) -> Any:
        refuse_cross_site_write()
        try:
            form = SessionRequest().load(request.get_json(silent=True) or {})
        except ValidationError as exc:
            raise ProblemError(
                "username and password are required.",
                errors=flatten_marshmallow({"json": exc.normalized_messages()}),
                status=400,
                title="Sign-in failed / 登录失败",
                reason="invalid_request",
                detail_zh="请输入用户名和密码。",
            ) from exc
        cookie = signing_on(sso.password_session, form["username"], form["password"], client_ip())
        response = Response(status=204, headers={"Cache-Control": "no-store"})
        set_session_cookie(response, cookie)
        return response


@auth_blp.route("/.well-known/jwks.json")
class Jwks(MethodView):
    @public
    @auth_blp.doc(description="The public keys that verify access tokens (active, next and recently retired).")
    @auth_blp.response(200, JwksSchema)
    def get(self) -> Any:
        response = jsonify(identity().keyring.jwks())
        response.headers["Cache-Control"] = "public, max-age=300"
        return response


@me_blp.route("")
class Me(MethodView):
    @me_blp.response(200, MeSchema)
    def get(self) -> Any:
        """Who the token says the caller is: its grants (with each org's code and name, for the portal's org
        picker) are what every service will apply until it expires."""
        return handlers.call(directory.whoami)


@me_blp.route("/sign-out-everywhere")
class SignOutEverywhere(MethodView):
    @me_blp.response(200, SignedOutSchema)
    def post(self) -> Any:
        """End every session and refresh token of the caller (all browsers and apps)."""
        return signing_on(accounts.sign_out_everywhere, current_principal(), client_ip())


@orgs_blp.route("")
class Orgs(MethodView):
    get = handlers.listing(orgs_blp, OrgListArgs, OrgPage, directory.list_orgs, lambda o: o.path)

    @orgs_blp.arguments(OrgSchema)
    @orgs_blp.response(201, OrgSchema)
    def post(self, data: dict[str, Any]) -> Any:
        cmd = directory.CreateOrg(data["code"], data["name"], data["level"].value, data.get("parent_code"))
        return handlers.call(directory.create_org, cmd)


@orgs_blp.route("/import")
class OrgImport(MethodView):
    @orgs_blp.doc(description="CSV `code,name,level,parent_code` as the request body (text/csv) or a `file` upload.")
    @orgs_blp.response(200, ImportReportSchema)
    def post(self) -> Any:
        return handlers.call(directory.import_orgs, _uploaded_csv()).as_dict()


handlers.route(orgs_blp, "/<string:code>", "OrgByCode", OrgSchema, directory.get_org)


def _uploaded_csv() -> bytes:
    _, content = files.received("file")
    if not content:
        raise Unprocessable(
            "Send the CSV as the body or as a `file` form field.",
            errors=[field_error("file", "required", "body")],
        )
    return content


@users_blp.route("")
class Users(MethodView):
    get = handlers.listing(users_blp, UserListArgs, UserPage, directory.list_users, lambda u: u.username)

    post = handlers.view(
        users_blp, UserSchema, directory.create_user, body=UserSchema, command=directory.CreateUser, status=201
    )


@users_blp.route("/import")
class UserImport(MethodView):
    @users_blp.doc(
        description="CSV `username,display_name,org_code[,phone,email,gender,birth_date,external_id,"
        "external_source,roles,education,ethnicity,teaching_years,administrative_post,professional_title,"
        "political_status]` (the last six: 学历, 民族, 教龄, 现任行政职务, 专业技术职务, 政治面貌, which the forms "
        "prefill); only users already in your subtree are updated; external ids need platform_admin at /."
    )
    @users_blp.response(200, ImportReportSchema)
    def post(self) -> Any:
        return handlers.call(directory.import_users, _uploaded_csv()).as_dict()


handlers.route(users_blp, "/<uuid:user_id>", "UserById", MaskedUserSchema, directory.get_user)


@users_blp.route("/<uuid:user_id>/disable")
class DisableUser(MethodView):
    @users_blp.response(200, MaskedUserSchema)
    def post(self, user_id: uuid.UUID) -> Any:
        """停用: the account can no longer sign in and all its sessions and refresh tokens end (audited)."""
        return signing_on(accounts.disable_user, current_principal(), user_id, client_ip())


@users_blp.route("/<uuid:user_id>/enable")
class EnableUser(MethodView):
    @users_blp.response(200, MaskedUserSchema)
    def post(self, user_id: uuid.UUID) -> Any:
        """启用: the account may sign in again (audited)."""
        return handlers.call(accounts.enable_user, user_id, client_ip())


@users_blp.route("/<uuid:user_id>/grants")
class UserGrants(MethodView):
    @users_blp.response(200, GrantSchema(many=True))
    def get(self, user_id: uuid.UUID) -> Any:
        return handlers.call(directory.get_user, user_id).grants

    @users_blp.arguments(GrantSchema)
    @users_blp.response(201, GrantSchema)
    def post(self, data: dict[str, Any], user_id: uuid.UUID) -> Any:
        _user, grant = handlers.call(directory.grant_role, user_id, data["role"], data.get("org_code"))
        return grant


@users_blp.route("/<uuid:user_id>/grants/<uuid:grant_id>")
class UserGrant(MethodView):
    @users_blp.response(204)
    def delete(self, user_id: uuid.UUID, grant_id: uuid.UUID) -> None:
        handlers.call(directory.revoke_role, user_id, grant_id)


from identity.entrypoints.web.sso import sso_blp  # noqa: E402 - the /sso routes live beside these

# GET /api/audit/identity: the audit listing every service serves the same way (shared/audit.py).
BLUEPRINTS = [auth_blp, me_blp, orgs_blp, users_blp, sso_blp, audit_blueprint("identity", with_ip=True)]
