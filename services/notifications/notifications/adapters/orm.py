"""Tables of the notifications database: the identity projection, messages (the inbox), deliveries,
reminders, preferences and the audit trail. Queries use these Core tables directly."""

from __future__ import annotations

import sqlalchemy as sa

from shared import db
from shared.db import new_metadata
from shared.persistence import TS

metadata = new_metadata()

known_nominations = sa.Table(
    "known_nominations",
    metadata,
    sa.Column("nomination_id", sa.String(64), primary_key=True),
    sa.Column("round_id", sa.String(64)),
    sa.Column("school_org_code", sa.String(32)),
    sa.Column("school_org_path", sa.String(400)),
    sa.Column("school_name", sa.String(200)),
    sa.Column("candidate_user_id", sa.String(64)),
    sa.Column("candidate_name", sa.String(100)),
)

# -- messages and their deliveries --------------------------------------------------------------
messages = sa.Table(
    "messages",
    metadata,
    db.id_column(),
    sa.Column("event_id", sa.String(100), nullable=False, comment="CloudEvent id, or reminder:<id>"),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(60), nullable=False),
    sa.Column("recipient_id", sa.String(64), nullable=False),
    sa.Column("org_path", sa.String(400), comment="the org the event is about, for operators' scope"),
    sa.Column("locale", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(400), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("data", sa.JSON),
    sa.Column("event_time", TS, nullable=False),
    db.created_at_column(),
    sa.Column("read_at", TS),
    sa.UniqueConstraint("event_id", "recipient_id", name="uq_messages_event_recipient"),
    sa.Index("ix_messages_recipient_created", "recipient_id", "created_at"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    db.id_column(),
    # null for a daily digest, which carries many messages (their deliveries point at it by digest_id)
    sa.Column("message_id", sa.Uuid, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=True, index=True),
    sa.Column("event_id", sa.String(100), nullable=False),
    sa.Column("recipient_id", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(60), nullable=False),
    sa.Column("org_path", sa.String(400)),
    sa.Column("subject", sa.String(400), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("is_html", sa.Boolean, nullable=False, default=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("next_attempt_at", TS),
    sa.Column("event_time", TS, nullable=False),
    db.created_at_column(),
    sa.Column("sent_at", TS),
    sa.Column("digest_id", sa.Uuid, comment="the digest delivery that carried this one"),
    # Never the same message twice for one (event, recipient, channel), whatever redelivers it.
    sa.UniqueConstraint("event_id", "recipient_id", "channel", name="uq_deliveries_event_recipient_channel"),
    sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
    sa.Index("ix_deliveries_digest_id", "digest_id"),
)

preferences = sa.Table(
    "preferences",
    metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("channels", sa.JSON, nullable=False, comment="{kind: [channel, ...]}"),
    sa.Column("robots", sa.JSON, nullable=False, comment="webhook_url, wecom_key, dingtalk_token, dingtalk_secret"),
    db.version_column(),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("digest", sa.String(16), comment="null/off or daily"),
    sa.Column("digest_time", sa.String(5), comment="local HH:MM"),
    sa.Column("digest_timezone", sa.String(64)),
)

reminders = sa.Table(
    "reminders",
    metadata,
    db.id_column(),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("subject_key", sa.String(200), nullable=False, index=True),
    sa.Column("due_at", TS, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("source_event_id", sa.String(100), nullable=False),
    db.created_at_column(),
    sa.Column("cancelled_at", TS),
    sa.Column("cancelled_by", sa.String(100)),
    sa.Column("sent_at", TS),
    sa.UniqueConstraint("kind", "subject_key", "due_at", name="uq_reminders_kind_subject_due"),
    sa.Index("ix_reminders_due", "sent_at", "cancelled_at", "due_at"),
)
