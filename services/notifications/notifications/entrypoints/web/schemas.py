"""Request and response schemas of the notifications API (they generate its OpenAPI document)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from notifications.domain.model import CHANNELS, DIGEST_MODES, ROBOT_FIELDS, DeliveryStatus
from shared.pagination import PageArgs, page_schema


class InboxArgs(PageArgs):
    unread = fields.Boolean(load_default=False, metadata={"description": "only unread messages"})


class MessageSchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    event_type = fields.String()
    subject = fields.String()
    body = fields.String()
    locale = fields.String()
    data = fields.Dict()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


InboxPage = page_schema(MessageSchema, "InboxPage", unread_count=fields.Integer())


class MarkedSchema(Schema):
    marked = fields.Integer()
    unread_count = fields.Integer()


class PreferencesSchema(Schema):
    channels = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    mandatory = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), dump_only=True)
    robots = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))
    digest = fields.String(
        metadata={
            "description": "off, or daily: e-mail of kinds that are not mandatory is "
            "collected and sent as one digest a day"
        }
    )
    digest_time = fields.String(metadata={"description": "local send time of the digest, HH:MM"})
    digest_timezone = fields.String(metadata={"description": "IANA time zone of digest_time"})
    version = fields.Integer(dump_only=True)


class PreferencesUpdate(Schema):
    channels = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=60)),
        values=fields.List(fields.String(validate=validate.OneOf(sorted(CHANNELS))), validate=validate.Length(max=20)),
        required=True,
        validate=validate.Length(max=100),
        metadata={"description": "kind → channels; kinds not named keep their defaults; in_app is always on"},
    )
    robots = fields.Dict(
        keys=fields.String(validate=validate.OneOf(ROBOT_FIELDS)),
        values=fields.String(allow_none=True, validate=validate.Length(max=500)),
        load_default=None,
        metadata={"description": "webhook_url, wecom_key, dingtalk_token, dingtalk_secret; empty removes"},
    )
    # Checked in the service layer (with every other problem, each named); absent keeps what is stored.
    digest = fields.String(
        load_default=None,
        validate=validate.Length(max=16),
        metadata={"description": f"one of {', '.join(DIGEST_MODES)}"},
    )
    digest_time = fields.String(
        load_default=None, validate=validate.Length(max=8), metadata={"description": "HH:MM, default 08:00"}
    )
    digest_timezone = fields.String(
        load_default=None, validate=validate.Length(max=64), metadata={"description": "default Asia/Shanghai"}
    )


class DeliveryArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in DeliveryStatus]))
    channel = fields.String(validate=validate.OneOf(sorted(CHANNELS)))


class DeliverySchema(Schema):
    id = fields.UUID()
    message_id = fields.UUID(allow_none=True, metadata={"description": "null for a daily digest"})
    digest_id = fields.UUID(allow_none=True, metadata={"description": "the digest that carried a digested one"})
    event_id = fields.String()
    recipient_id = fields.String()
    channel = fields.String()
    kind = fields.String()
    org_path = fields.String(allow_none=True)
    subject = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    event_time = fields.DateTime()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)


DeliveryPage = page_schema(DeliverySchema, "DeliveryPage")


class AlertSchema(Schema):
    """One alert of Alertmanager's webhook payload (version 4); fields the inbox does not use are ignored."""

    class Meta:
        unknown = EXCLUDE

    status = fields.String(required=True, validate=validate.OneOf(["firing", "resolved"]))
    labels = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    annotations = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    startsAt = fields.AwareDateTime(required=True)  # Alertmanager's field names
    endsAt = fields.AwareDateTime(allow_none=True, load_default=None)
    fingerprint = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{1,32}$"))


class AlertmanagerPayload(Schema):
    """Alertmanager's webhook body: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config"""

    class Meta:
        unknown = EXCLUDE

    version = fields.String(required=True, validate=validate.Equal("4"))
    receiver = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["firing", "resolved"]))
    alerts = fields.List(fields.Nested(AlertSchema), required=True, validate=validate.Length(min=1, max=1000))


class AlertsReceived(Schema):
    received = fields.Integer(metadata={"description": "alerts in the payload"})
    messages = fields.Integer(metadata={"description": "new inbox messages (a re-sent alert adds none)"})
