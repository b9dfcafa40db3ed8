"""The notifications API: the caller's inbox, their preferences, and the delivery log for operators."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from notifications.bootstrap import Notifications
from notifications.entrypoints.web.schemas import (
    AlertmanagerPayload,
    AlertsReceived,
    DeliveryArgs,
    DeliveryPage,
    DeliverySchema,
    InboxArgs,
    InboxPage,
    MarkedSchema,
    MessageSchema,
    PreferencesSchema,
    PreferencesUpdate,
)
from notifications.service_layer import alerts, delivery, queries
from shared.audit_listing import audit_blueprint
from shared.auth import current_principal
from shared.errors import Forbidden
from shared.http import request_if_match, with_etag
from shared.pagination import decode_cursor, page
from shared.web import wired_service

inbox_blp = Blueprint("inbox", __name__, url_prefix="/api/inbox", description="The caller's messages (站内信)")
prefs_blp = Blueprint("preferences", __name__, url_prefix="/api/preferences", description="Channels per kind")
deliveries_blp = Blueprint("deliveries", __name__, url_prefix="/api/deliveries", description="Delivery log")
# Not routed by the gateway: Alertmanager posts here directly, inside the network (deploy/alertmanager/).
alerts_blp = Blueprint("alerts", __name__, url_prefix="/api/alerts", description="Alertmanager's webhook")

OPERATOR_ROLES = ("platform_admin", "auditor")
# The role of Alertmanager's service client (identity: create-client alertmanager ... --grant alertmanager:/);
# it may post alerts and nothing else.
ALERT_SOURCE_ROLE = "alertmanager"


def service() -> Notifications:
    return wired_service("notifications", Notifications)


def _cursor_key(row: dict[str, Any]) -> list[str]:
    return [row["created_at"].isoformat(), str(row["id"])]


def _operator_paths(*roles: str) -> list[str]:
    principal = current_principal()
    if not principal.has_role(*roles):
        raise Forbidden(f"One of these roles is required: {', '.join(roles)}.")
    return principal.paths(*roles)


@inbox_blp.route("")
class Inbox(MethodView):
    @inbox_blp.arguments(InboxArgs, location="query")
    @inbox_blp.response(200, InboxPage)
    def get(self, args: dict[str, Any]) -> Any:
        """The caller's messages, newest first, with the unread count."""
        items, unread = queries.inbox_page(
            service().uow(),
            current_principal().subject,
            unread_only=args["unread"],
            after=decode_cursor(args["cursor"]),
            limit=args["limit"],
        )
        return {**page(items, args["limit"], _cursor_key), "unread_count": unread}


@inbox_blp.route("/<uuid:message_id>")
class InboxMessage(MethodView):
    @inbox_blp.response(200, MessageSchema)
    def get(self, message_id: uuid.UUID) -> Any:
        return queries.get_message(service().uow(), current_principal().subject, message_id)


@inbox_blp.route("/<uuid:message_id>/read")
class ReadMessage(MethodView):
    @inbox_blp.response(200, MarkedSchema)
    def post(self, message_id: uuid.UUID) -> Any:
        """Mark one of the caller's messages read (again is harmless)."""
        user = current_principal().subject
        marked = queries.mark_read(service().uow(), user, message_id)
        _, unread = queries.inbox_page(service().uow(), user, unread_only=True, after=None, limit=0)
        return {"marked": marked, "unread_count": unread}


@inbox_blp.route("/read-all")
class ReadAll(MethodView):
    @inbox_blp.response(200, MarkedSchema)
    def post(self) -> Any:
        marked = queries.mark_read(service().uow(), current_principal().subject, None)
        return {"marked": marked, "unread_count": 0}


@prefs_blp.route("")
class Preferences(MethodView):
    @prefs_blp.response(200, PreferencesSchema)
    def get(self) -> Any:
        """Effective channels per kind, the channels mandatory kinds keep, robot addresses (secrets hidden)."""
        view = queries.preferences_view(service().rulebook.kinds, service().uow(), current_principal().subject)
        return with_etag(_json(view), view["version"])

    @prefs_blp.arguments(PreferencesUpdate)
    @prefs_blp.response(200, PreferencesSchema)
    def put(self, body: dict[str, Any]) -> Any:
        """Replace the channel choices; needs If-Match; a mandatory kind cannot be switched off (422)."""
        tags = request_if_match()
        user = current_principal().subject
        kinds = service().rulebook.kinds
        digest = queries.DigestChoice(body["digest"], body["digest_time"], body["digest_timezone"])
        queries.update_preferences(
            kinds,
            service().uow(),
            user,
            tags,
            body["channels"],
            body["robots"],
            digest,
            webhook_problem=service().outbound.problem_with,
        )
        view = queries.preferences_view(service().rulebook.kinds, service().uow(), user)
        return with_etag(_json(view), view["version"])


def _json(view: dict[str, Any]) -> Any:
    from flask import jsonify

    return jsonify(PreferencesSchema().dump(view))


@deliveries_blp.route("")
class Deliveries(MethodView):
    @deliveries_blp.arguments(DeliveryArgs, location="query")
    @deliveries_blp.response(200, DeliveryPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Operators (platform_admin, auditor): every delivery in their scope, with status, attempts, last error."""
        paths = _operator_paths(*OPERATOR_ROLES)
        items = queries.deliveries_page(
            service().uow(),
            paths,
            status=args.get("status"),
            channel=args.get("channel"),
            after=decode_cursor(args["cursor"]),
            limit=args["limit"],
        )
        return page(items, args["limit"], _cursor_key)


@deliveries_blp.route("/<uuid:delivery_id>")
class Delivery(MethodView):
    @deliveries_blp.response(200, DeliverySchema)
    def get(self, delivery_id: uuid.UUID) -> Any:
        return queries.get_delivery(service().uow(), _operator_paths(*OPERATOR_ROLES), delivery_id)


@deliveries_blp.route("/<uuid:delivery_id>/retry")
class RetryDelivery(MethodView):
    @deliveries_blp.response(200, DeliverySchema)
    def post(self, delivery_id: uuid.UUID) -> Any:
        """platform_admin: send a dead delivery again (attempts start over); audited. The auditor only reads."""
        paths = _operator_paths("platform_admin")
        return delivery.retry_delivery(service().uow(), delivery_id, current_principal().subject, paths)


@alerts_blp.route("/alertmanager")
class AlertmanagerWebhook(MethodView):
    @alerts_blp.arguments(AlertmanagerPayload)
    @alerts_blp.response(200, AlertsReceived)
    def post(self, body: dict[str, Any]) -> Any:
        """Alertmanager's webhook: each alert (firing or resolved) into the platform operators' inbox.

        Needs the `alertmanager` role at the platform root (Alertmanager's client-credentials token)."""
        principal = current_principal()
        if not principal.can(alerts.PLATFORM_PATH, ALERT_SOURCE_ROLE):
            raise Forbidden(f"The {ALERT_SOURCE_ROLE} role at {alerts.PLATFORM_PATH} is required.")
        created = alerts.record_alerts(service().uow(), service().notifier, body["alerts"])
        return {"received": len(body["alerts"]), "messages": created}


# GET /api/audit/notifications: the audit listing every service serves the same way (shared/audit.py).
BLUEPRINTS = [inbox_blp, prefs_blp, deliveries_blp, alerts_blp, audit_blueprint("notifications")]
