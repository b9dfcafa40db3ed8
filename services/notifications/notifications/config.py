"""notifications' own environment variables (the common ones are shared.config.Environment)."""

from __future__ import annotations

from pydantic import Field

from notifications.adapters.outbound import DEFAULT_ALLOWED_HOSTS
from shared.config import EnvironmentBase


class NotificationsEnvironment(EnvironmentBase):
    """E-mail, the robots' hosts, the users' webhooks, retries and the worker's timers (SMS: sms_provider_from_env)."""

    smtp_host: str = Field("127.0.0.1", alias="SMTP_HOST", description="the mail relay")
    smtp_port: int = Field(25, ge=1, le=65535, alias="SMTP_PORT", description="its port")
    smtp_from: str = Field("noreply@cio.local", alias="SMTP_FROM", description="the sender address")
    smtp_username: str | None = Field(None, alias="SMTP_USERNAME", description="relay account, if it asks for one")
    smtp_password: str | None = Field(None, alias="SMTP_PASSWORD", description="its password (a secret)")
    smtp_mode: str = Field("insecure", alias="SMTP_MODE", description="insecure, starttls or ssl")
    wecom_base_url: str = Field("https://qyapi.weixin.qq.com", alias="WECOM_BASE_URL", description="WeCom robots")
    dingtalk_base_url: str = Field("https://oapi.dingtalk.com", alias="DINGTALK_BASE_URL", description="DingTalk")
    webhook_hosts: str = Field(
        ",".join(DEFAULT_ALLOWED_HOSTS), alias="NOTIFY_WEBHOOK_HOSTS", description="hosts a user's webhook may name"
    )
    webhook_trusted_networks: str = Field(
        "", alias="NOTIFY_WEBHOOK_TRUSTED_NETWORKS", description="private networks a webhook may still reach"
    )
    max_attempts: int = Field(5, ge=1, alias="NOTIFY_MAX_ATTEMPTS", description="sends before a delivery is dead")
    backoff_seconds: float = Field(30, gt=0, alias="NOTIFY_BACKOFF_SECONDS", description="first retry's delay")
    backoff_max_seconds: float = Field(3600, gt=0, alias="NOTIFY_BACKOFF_MAX_SECONDS", description="longest delay")
    dispatch_interval_seconds: float = Field(1, gt=0, alias="NOTIFY_DISPATCH_INTERVAL_SECONDS", description="sender")
    reminder_interval_seconds: float = Field(
        30, gt=0, alias="NOTIFY_REMINDER_INTERVAL_SECONDS", description="reminders"
    )
    digest_interval_seconds: float = Field(60, gt=0, alias="NOTIFY_DIGEST_INTERVAL_SECONDS", description="digests")
