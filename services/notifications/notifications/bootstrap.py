"""The one place that wires the notifications service together, per process, when asked."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from notifications.adapters.channels import (
    DingTalkRobot,
    EmailSender,
    JsonWebhookSender,
    LoggingSmsProvider,
    SmsProvider,
    SmsSender,
    SmtpSettings,
    WeComRobot,
)
from notifications.adapters.outbound import DEFAULT_ALLOWED_HOSTS, OutboundPolicy, PinnedPoster
from notifications.adapters.templates import Templates
from notifications.adapters.tencent_sms import TencentSmsProvider, TencentSmsSettings
from notifications.config import NotificationsEnvironment
from notifications.domain.model import Channel, RetryPolicy
from notifications.domain.rules import RuleBook, load_rulebook
from notifications.service_layer.delivery import Sender
from notifications.service_layer.notifier import Notifier
from notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.auth import TokenVerifier
from shared.bootstrap import WiredService
from shared.bus.consumer import EventConsumer
from shared.config import BusSettings, Settings, read_environment

RULES_FILE = Path(__file__).resolve().parent / "rules.yaml"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelSettings:
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    wecom_base_url: str = "https://qyapi.weixin.qq.com"
    dingtalk_base_url: str = "https://oapi.dingtalk.com"
    # Hosts a user's webhook may name; addresses must be public unless inside a trusted network.
    webhook_allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    webhook_trusted_networks: tuple[str, ...] = ()
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    dispatch_interval: float = 1.0
    reminder_interval: float = 30.0
    digest_interval: float = 60.0

    @classmethod
    def from_env(cls) -> ChannelSettings:
        environment = read_environment(NotificationsEnvironment)
        return cls(
            smtp=SmtpSettings(
                host=environment.smtp_host,
                port=environment.smtp_port,
                sender=environment.smtp_from,
                username=environment.smtp_username,
                password=environment.smtp_password,
                mode=environment.smtp_mode,
            ),
            wecom_base_url=environment.wecom_base_url,
            dingtalk_base_url=environment.dingtalk_base_url,
            webhook_allowed_hosts=tuple(environment.webhook_hosts.split(",")),
            webhook_trusted_networks=tuple(environment.webhook_trusted_networks.split(",")),
            retry=RetryPolicy(
                max_attempts=environment.max_attempts,
                base_seconds=environment.backoff_seconds,
                max_seconds=environment.backoff_max_seconds,
            ),
            dispatch_interval=environment.dispatch_interval_seconds,
            reminder_interval=environment.reminder_interval_seconds,
            digest_interval=environment.digest_interval_seconds,
        )


def load_rules(templates: Templates, path: Path = RULES_FILE) -> RuleBook:
    """The rule book, checked against the templates: a kind without a Chinese template does not start."""
    return load_rulebook(yaml.safe_load(path.read_text(encoding="utf-8")), templates.kinds)


@dataclass(kw_only=True)
class Notifications(WiredService, name="notifications", unit_of_work=NotificationsUnitOfWork):
    """The wired service of one process: engine, sessions, rules, templates, senders, verifier."""

    channels: ChannelSettings
    templates: Templates
    rulebook: RuleBook
    sms_provider: SmsProvider = field(default_factory=LoggingSmsProvider)

    def __post_init__(self) -> None:
        if self.sms_provider.simulated and self.settings.is_production:
            log.warning(
                "SMS goes to the development sink: deliveries are recorded as simulated and reach no phone; "
                "set SMS_PROVIDER=tencent and the TENCENT_SMS_* variables"
            )

    @cached_property
    def notifier(self) -> Notifier:
        return Notifier(self.rulebook, self.templates)

    @cached_property
    def outbound(self) -> OutboundPolicy:
        """Where robots and webhooks may go: checked when a user saves a webhook and again at each send."""
        c = self.channels
        policy = OutboundPolicy.from_settings(c.webhook_allowed_hosts, c.webhook_trusted_networks)
        return policy.with_hosts(c.wecom_base_url, c.dingtalk_base_url)

    @cached_property
    def senders(self) -> dict[str, Sender]:
        poster = PinnedPoster(self.outbound)
        return {
            Channel.EMAIL.value: EmailSender(self.channels.smtp),
            Channel.WEBHOOK.value: JsonWebhookSender(poster),
            Channel.WECOM.value: WeComRobot(self.channels.wecom_base_url, poster),
            Channel.DINGTALK.value: DingTalkRobot(self.channels.dingtalk_base_url, poster=poster),
            Channel.SMS.value: SmsSender(self.sms_provider),
        }

    def consumer(self, bus: BusSettings | None = None, queue: str | None = None) -> EventConsumer:
        """The one consumer the declaration subscribes (tests give their own bus or queue name)."""
        from notifications.declaration import SPEC

        (fanout,) = SPEC.subscriptions
        return fanout.consumer(self, bus=bus, queue=queue)


def bootstrap(
    settings: Settings | None = None,
    verifier: TokenVerifier | None = None,
    channels: ChannelSettings | None = None,
) -> Notifications:
    templates = Templates.load()
    channels = channels or ChannelSettings.from_env()
    return Notifications.wired(
        settings,
        verifier,
        channels=channels,
        templates=templates,
        rulebook=load_rules(templates),
        sms_provider=sms_provider_from_env(os.environ, channels.webhook_trusted_networks),
    )


def sms_provider_from_env(env: Mapping[str, str], trusted_networks: Iterable[str] = ()) -> SmsProvider:
    """SMS_PROVIDER=tencent: Tencent Cloud SMS, its endpoint the only host on its own allow-list (the SSRF
    guard still checks its addresses); unset or `simulated`: the development sink."""
    choice = (env.get("SMS_PROVIDER") or "simulated").strip().lower()
    if choice == "simulated":
        return LoggingSmsProvider()
    if choice == "tencent":
        sms = TencentSmsSettings.from_env(env)
        policy = OutboundPolicy.from_settings([], trusted_networks).with_hosts(sms.endpoint)
        return TencentSmsProvider(sms, PinnedPoster(policy))
    raise ValueError(f"SMS_PROVIDER must be tencent or simulated, not {choice!r}")
