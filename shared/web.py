"""The Flask app factory every service uses: request ids, auth by default, metrics, errors, health, OpenAPI."""

from __future__ import annotations

import http
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, jsonify, request
from flask_smorest import Api, Blueprint
from flask_smorest.spec import prepare_response
from marshmallow import INCLUDE, Schema, fields

from shared.auth import TokenVerifier, bearer_token, is_public, public
from shared.errors import Unauthorized
from shared.health import Check, run_checks
from shared.logging import new_request_id, reset_request_id, set_request_id
from shared.metrics import HTTP_DURATION, HTTP_REQUESTS, render_latest
from shared.problems import PROBLEM_JSON, register_error_handlers

REQUEST_ID_HEADER = "X-Request-ID"


# Where the gateway serves swagger-ui-dist (deploy/nginx/render.py SWAGGER_UI_PATH), same origin as the docs.
SWAGGER_UI_URL = "/openapi/swagger-ui/"


class ProblemSchema(Schema):
    """What every error answer is: RFC 9457 problem+json (shared.problems.problem_response), with the request id,
    the bad fields (`errors`) and any extension members a handler adds (hence unknown members allowed)."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True, metadata={"example": "about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    request_id = fields.String()
    errors = fields.List(fields.Dict(), metadata={"description": "one entry per bad field or row"})


class ProblemApi(Api):
    """flask-smorest documents errors as its own JSON shape; ours are problem+json, so say so: every error
    response (each status and the default) is `application/problem+json` with ProblemSchema."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def create_service_app(
    *,
    service: str,
    title: str,
    version: str = "1.0.0",
    blueprints: Iterable[Blueprint],
    verifier: Callable[[], TokenVerifier],
    checks: dict[str, Check],
    config: dict[str, Any] | None = None,
) -> Flask:
    """Build the app; `verifier` is called on first use, so building the app opens no connection."""
    app = Flask(service)
    app.config.update(
        API_TITLE=title,
        API_VERSION=version,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=f"/openapi/{service}",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Swagger UI's own files come from the gateway (deploy/swagger-ui, pinned in its lock file), never a CDN:
        # the docs work on a network without internet. No online validator badge either (it calls out).
        OPENAPI_SWAGGER_UI_URL=SWAGGER_UI_URL,
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearer": []}],
        },
    )
    app.config.update(config or {})
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    api = ProblemApi(app)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    register_error_handlers(app)
    _install_request_hooks(app, verifier)
    _install_operational_routes(app, checks)
    app.extensions["cio_api"] = api
    return app


S = TypeVar("S")


def wired_service(name: str, kind: type[S]) -> S:
    """The wired service object (its unit of work, settings, clients) that `shared.service.create_app` keeps on the
    app under the service's name: how a view reaches it without anything built at import time."""
    found = current_app.extensions[name]
    assert isinstance(found, kind)
    return found


def _install_request_hooks(app: Flask, verifier: Callable[[], TokenVerifier]) -> None:
    @app.before_request
    def _start() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else new_request_id()
        g.request_id = request_id
        g.request_id_token = set_request_id(request_id)
        g.started = time.perf_counter()
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        if request.method == "OPTIONS" or (request.endpoint or "").startswith("api-docs.") or is_public(view):
            return
        token = bearer_token()
        if token is None:
            raise Unauthorized("A bearer token is required.", headers={"WWW-Authenticate": "Bearer"})
        g.principal = verifier().verify(token)

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        if route != "/metrics":
            HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
            started = g.get("started")
            if started is not None:
                HTTP_DURATION.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            reset_request_id(token)


def _install_operational_routes(app: Flask, checks: dict[str, Check]) -> None:
    @public
    def live() -> Response:
        return jsonify(status="ok")

    @public
    def ready() -> tuple[Response, int]:
        results = run_checks(checks)
        ok = all(v == "ok" for v in results.values())
        return jsonify(status="ok" if ok else "unavailable", checks=results), 200 if ok else 503

    @public
    def metrics() -> Response:
        body, content_type = render_latest()
        return Response(body, content_type=content_type)

    app.add_url_rule("/health/live", "health_live", live)
    app.add_url_rule("/health/ready", "health_ready", ready)
    app.add_url_rule("/metrics", "metrics", metrics)
