"""`/sso/…`: sign-in through the city digital base (OIDC, CAS, OAuth2 variants), sessions and single logout.

Browser flow: `GET /sso/<provider>/login?return_to=/…` → upstream → `GET /sso/<provider>/callback` →
session cookie + redirect to `return_to`. API clients add `mode=token` and get our tokens as JSON from
the callback. The gateway calls `GET /sso/session` for requests that carry the session cookie and no
bearer token, and forwards the access token it answers with.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from flask import Response, jsonify, redirect, request
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.wrappers import Response as BaseResponse

from identity.entrypoints.web.context import client_ip, identity
from identity.service_layer import sso
from shared.auth import public
from shared.errors import Forbidden
from shared.logging import get_request_id
from shared.problems import problem_response

SESSION_COOKIE = "cio_session"
STATE_COOKIE = "cio_sso_state"
ACCESS_TOKEN_HEADER = "X-Access-Token"

sso_blp = Blueprint("sso", __name__, url_prefix="/sso", description="Single sign-on with the city digital base")

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R", bound=BaseResponse)


def signing_on(handler: Callable[Concatenate[Any, sso.Sso, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`handler(unit of work, sign-on settings, *args, **kwargs)`: how every sign-on and session handler is called."""
    service = identity()
    return handler(service.uow(), service.sso, *args, **kwargs)


def no_store(response: R) -> R:
    """Sign-in answers (tokens, cookies, redirects carrying state, their error pages) are never kept by a cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def set_session_cookie(response: BaseResponse, cookie: str) -> None:
    """The browser session's cookie, the same whichever way the session was opened: script-proof (HttpOnly),
    not sent by cross-site subrequests or posts (SameSite=Lax), https-only behind https, as long as the session."""
    service = identity()
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(service.sso.session_ttl.total_seconds()),
        path="/",
        httponly=True,
        secure=service.sso.secure_cookies,
        samesite="Lax",
    )


def refuse_cross_site_write() -> None:
    """A write from another site's page (the Origin check the gateway applies to session-carrying API calls),
    for the routes the gateway lets through without a session: signing in and out."""
    if sso.cross_site_write(identity().sso, request.method, request.headers.get("Origin")):
        raise Forbidden("Not allowed from another site's page.", detail_zh="不允许从其他网站的页面发起此操作。")


def _html_page(body: str, status: int) -> Response:
    return no_store(Response(body, status=status, content_type="text/html; charset=utf-8"))


def _wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "application/problem+json", "text/html"])
    return best == "text/html"


def _error_page(error: sso.SsoError) -> Response:
    """What a person sees in the browser when sign-in fails: what happened, in both languages, and a way on."""
    body = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>登录失败 / Sign-in failed</title></head>
<body>
<h1>登录失败</h1><p>{html.escape(error.zh)}</p>
<h2>Sign-in failed</h2><p>{html.escape(error.en)}</p>
<p><a href="/">返回首页 / Back to the start page</a></p>
<p><small>请求编号 / Request id: {html.escape(get_request_id() or "")}</small></p>
</body></html>"""
    return _html_page(body, error.status)


@sso_blp.errorhandler(sso.SsoError)
def _sso_error(error: sso.SsoError) -> Any:
    if _wants_html():
        return _error_page(error)
    return no_store(problem_response(error.status, error.title, error.detail, **error.extensions))


@sso_blp.route("/providers")
class Providers(MethodView):
    @public
    @sso_blp.doc(description="The sign-in providers configured here, for a login page.")
    def get(self) -> Any:
        return jsonify(
            items=[
                {"id": p.id, "name": p.name, "protocol": p.protocol, "login_url": f"/sso/{p.id}/login"}
                for p in identity().sso.providers.values()
            ]
        )


@sso_blp.route("/<string:provider_id>/login")
class Login(MethodView):
    @public
    @sso_blp.doc(
        description="Start a sign-in: redirects to the upstream. `return_to` is a path here; `mode=token` makes "
        "the callback answer with tokens (API clients) instead of a session cookie."
    )
    def get(self, provider_id: str) -> Any:
        start = signing_on(
            sso.begin_login,
            provider_id,
            return_to=request.args.get("return_to"),
            mode=request.args.get("mode", "session"),
        )
        response = redirect(start.redirect_url, code=302)
        # Binds the sign-in to this browser: a callback carrying someone else's state is refused.
        response.set_cookie(
            STATE_COOKIE,
            start.state,
            max_age=int(sso.LOGIN_STATE_TTL.total_seconds()),
            path="/sso/",
            httponly=True,
            secure=identity().sso.secure_cookies,
            samesite="Lax",
        )
        return no_store(response)


@sso_blp.route("/<string:provider_id>/callback")
class Callback(MethodView):
    @public
    @sso_blp.doc(description="Where the upstream sends the user back (OIDC/OAuth2 `code`+`state`, CAS `ticket`).")
    def get(self, provider_id: str) -> Any:
        result = signing_on(
            sso.complete_login,
            provider_id,
            request.args.to_dict(),
            bound_state=request.cookies.get(STATE_COOKIE),
            ip=client_ip(),
        )
        response: BaseResponse
        if result.tokens is not None:
            response = jsonify(result.tokens.as_dict())
        else:
            response = redirect(result.return_to, code=302)
            set_session_cookie(response, result.session_cookie or "")
        response.delete_cookie(STATE_COOKIE, path="/sso/")
        return no_store(response)

    @public
    @sso_blp.doc(description="CAS single logout: the CAS server POSTs `logoutRequest` to the service URL.")
    def post(self, provider_id: str) -> Any:
        ended = signing_on(sso.cas_single_logout, provider_id, request.form.get("logoutRequest", ""))
        return jsonify(ended=ended)


@sso_blp.route("/<string:provider_id>/backchannel-logout")
class BackchannelLogout(MethodView):
    @public
    @sso_blp.doc(description="OIDC Back-Channel Logout 1.0: a `logout_token` from the upstream ends our sessions.")
    def post(self, provider_id: str) -> Any:
        signing_on(sso.backchannel_logout, provider_id, request.form.get("logout_token", ""))
        return no_store(Response(status=200))


@sso_blp.route("/session")
class Session(MethodView):
    @public
    @sso_blp.doc(
        description="For the gateway: 204 with the access token in `X-Access-Token` for a live session cookie; "
        "204 clearing the cookie when the session ended or expired; 403 for a state-changing request from another "
        "site's page."
    )
    def get(self) -> Any:
        if sso.cross_site_write(
            identity().sso, request.headers.get("X-Original-Method"), request.headers.get("Origin")
        ):
            return Response(status=403, headers={"Cache-Control": "no-store"})
        cookie = request.cookies.get(SESSION_COOKIE)
        token = signing_on(sso.session_access_token, cookie) if cookie else None
        if token is None:
            # An ended or unknown session: the request goes on without a token (public paths still answer,
            # the others say a sign-in is needed) and the browser drops the dead cookie.
            response = Response(status=204, headers={"Cache-Control": "no-store"})
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        return Response(status=204, headers={ACCESS_TOKEN_HEADER: token, "Cache-Control": "no-store"})


def _confirm_sign_out_page() -> Response:
    """A sign-out link followed from another site ends nothing: the person confirms with a POST from here."""
    body = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>退出登录 / Sign out</title></head>
<body>
<form method="post" action="/sso/logout">
<p>确定要退出登录吗？ / Do you want to sign out?</p>
<button type="submit">退出登录 / Sign out</button>
</form>
<p><a href="/">返回首页 / Back to the start page</a></p>
</body></html>"""
    return _html_page(body, 200)


@sso_blp.route("/logout")
class SignOut(MethodView):
    @public
    @sso_blp.doc(
        description="End the session (opened by single sign-on or by a local account's password) and every other "
        "session and refresh token of the user; answers where to go to sign out upstream too (`upstream_logout_url`, "
        "null for a local account; a form post from our page is redirected there). Refused (403) from another "
        "site's page."
    )
    def post(self) -> Any:
        refuse_cross_site_write()
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            raise Forbidden("Not allowed from another site's page.", detail_zh="不允许从其他网站的页面发起此操作。")
        result = self._end()
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return self._clear(redirect(result.upstream_logout_url or "/", code=303))
        response = jsonify(logged_out=result.ended, upstream_logout_url=result.upstream_logout_url)
        return self._clear(response)

    @public
    @sso_blp.doc(
        description="From our own pages: end the session and redirect to the upstream's logout (or the start "
        "page). Followed from another site, it ends nothing and asks for a confirming POST."
    )
    def get(self) -> Any:
        service = identity()
        headers = request.headers
        if not sso.same_site_navigation(
            service.sso, headers.get("Sec-Fetch-Site"), headers.get("Origin"), headers.get("Referer")
        ):
            return _confirm_sign_out_page()
        result = self._end()
        return self._clear(redirect(result.upstream_logout_url or "/", code=302))

    def _end(self) -> sso.Logout:
        return signing_on(sso.logout, request.cookies.get(SESSION_COOKIE), client_ip())

    def _clear(self, response: BaseResponse) -> BaseResponse:
        response.delete_cookie(SESSION_COOKIE, path="/")
        return no_store(response)
