"""Transports: e-mail over SMTP (smtplib), and plain JSON webhooks, WeCom (企业微信) and DingTalk (钉钉)
group robots through our own client (adapters.outbound), which sends one fixed JSON POST only to
allowed hosts at public addresses; SMS through a provider interface: Tencent Cloud SMS (adapters.tencent_sms)
or a logging sink for development whose deliveries are `simulated`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import smtplib
import ssl
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from notifications.adapters.outbound import Answer, OutboundFailed, OutboundPolicy, PinnedPoster, RefusedTarget
from notifications.domain.model import DeliveryStatus
from notifications.service_layer.delivery import Outgoing, SendError, Target

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "noreply@cio.local"
    sender_name: str = "首席信息官平台"
    username: str | None = None
    password: str | None = None
    mode: str = "insecure"  # insecure, starttls or ssl


class EmailSender:
    """E-mail over SMTP with the standard library: HTML or text bodies, UTF-8 headers."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._tls: ssl.SSLContext | None = None

    def tls_context(self) -> ssl.SSLContext:
        """One verifying TLS context per sender, made on first use: building one loads the CA bundle, which took
        most of the worker's CPU when it was done for every message."""
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def compose(self, to: str, message: Outgoing) -> EmailMessage:
        s = self.settings
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = Address(s.sender_name, addr_spec=s.sender)
        mail["To"] = to
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=s.sender.rsplit("@", 1)[-1])
        mail.set_content(message.body, subtype="html" if message.html else "plain", charset="utf-8")
        return mail

    def send(self, target: Target, message: Outgoing) -> None:
        if not target.email:
            raise SendError("the recipient has no e-mail address")
        s = self.settings
        context = self.tls_context() if s.mode in ("ssl", "starttls") else None
        try:
            smtp: smtplib.SMTP
            if s.mode == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT_SECONDS, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_SECONDS)
            with smtp:
                if s.mode == "starttls":
                    smtp.starttls(context=context)
                if s.username:
                    smtp.login(s.username, s.password or "")
                smtp.send_message(self.compose(target.email, message))
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"SMTP {s.host}:{s.port} refused or failed: {type(exc).__name__} {exc}") from exc


def answered(post: Callable[[], Answer], *, target: str, answerer: str) -> Answer:
    """A guarded POST made as a delivery: a refused target, a failed connection and an answer outside 2xx are
    each a SendError (`target`, `answerer`: what the message calls the two ends). Errors never name the URL (it
    may carry keys)."""
    try:
        answer = post()
    except RefusedTarget as exc:
        raise SendError(f"{target} refused: {exc}") from exc
    except OutboundFailed as exc:
        raise SendError(str(exc)) from exc
    if answer.status >= 300:
        raise SendError(f"{answerer} answered HTTP {answer.status}")
    return answer


def _post(poster: PinnedPoster, url: str, payload: dict[str, Any], *, robot: bool) -> None:
    """One guarded POST; a robot must also answer errcode 0."""
    answer = answered(lambda: poster.post_json(url, payload), target="target", answerer="robot" if robot else "webhook")
    if not robot:
        return
    try:
        result = answer.json()
    except ValueError as exc:
        raise SendError("robot answered something that is not JSON") from exc
    if not isinstance(result, dict) or result.get("errcode", 0) != 0:
        code = result.get("errcode") if isinstance(result, dict) else None
        message = str(result.get("errmsg", ""))[:200] if isinstance(result, dict) else ""
        raise SendError(f"robot refused: {code} {message}")


class JsonWebhookSender:
    """A plain JSON POST to the recipient's webhook URL (an allowed host), in the shape Apprise's json://
    plugin used (version, title, message, type), so receivers written for it keep working."""

    def __init__(self, poster: PinnedPoster) -> None:
        self.poster = poster

    def payload(self, message: Outgoing) -> dict[str, Any]:
        return {
            "version": "1.0",
            "title": message.subject,
            "message": message.body,
            "type": "info",
            "kind": message.kind,
        }

    def send(self, target: Target, message: Outgoing) -> None:
        url = target.robots.get("webhook_url")
        if not url:
            raise SendError("the recipient has no webhook URL")
        _post(self.poster, url, self.payload(message), robot=False)


class WeComRobot:
    """企业微信群机器人: POST {base}/cgi-bin/webhook/send?key=KEY with a markdown message."""

    def __init__(self, base_url: str = "https://qyapi.weixin.qq.com", poster: PinnedPoster | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.poster = poster or PinnedPoster(OutboundPolicy().with_hosts(self.base_url))

    def payload(self, message: Outgoing) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"content": f"**{message.subject}**\n{message.body}"}}

    def send(self, target: Target, message: Outgoing) -> None:
        key = target.robots.get("wecom_key")
        if not key:
            raise SendError("the recipient has no WeCom robot key")
        url = f"{self.base_url}/cgi-bin/webhook/send?key={urllib.parse.quote(key, safe='')}"
        _post(self.poster, url, self.payload(message), robot=True)


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """DingTalk's robot signature: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded once."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


class DingTalkRobot:
    """钉钉群机器人: POST {base}/robot/send?access_token=T[&timestamp=&sign=] with a markdown message."""

    def __init__(
        self, base_url: str = "https://oapi.dingtalk.com", clock: Any = time.time, poster: PinnedPoster | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.poster = poster or PinnedPoster(OutboundPolicy().with_hosts(self.base_url))

    def url_for(self, token: str, secret: str | None) -> str:
        url = f"{self.base_url}/robot/send?access_token={urllib.parse.quote(token, safe='')}"
        if secret:
            timestamp = int(self.clock() * 1000)
            url += f"&timestamp={timestamp}&sign={dingtalk_sign(timestamp, secret)}"
        return url

    def payload(self, message: Outgoing) -> dict[str, Any]:
        text = f"### {message.subject}\n\n{message.body}"
        return {"msgtype": "markdown", "markdown": {"title": message.subject, "text": text}}

    def send(self, target: Target, message: Outgoing) -> None:
        token = target.robots.get("dingtalk_token")
        if not token:
            raise SendError("the recipient has no DingTalk robot token")
        url = self.url_for(token, target.robots.get("dingtalk_secret"))
        _post(self.poster, url, self.payload(message), robot=True)


class SmsProvider(Protocol):
    """Sends one SMS or raises; `simulated` says the provider only pretends (the development sink)."""

    simulated: bool

    def send_sms(self, phone: str, message: Outgoing) -> None: ...


class LoggingSmsProvider:
    """Development sink: keeps the last messages for inspection and logs only the masked number and the
    length: the text is personal (names, decisions) and logs are kept longer and read more widely. Nothing
    reaches a phone, so its deliveries are recorded as `simulated`, never `sent`."""

    simulated = True

    def __init__(self, keep: int = 100) -> None:
        self.sent: deque[tuple[str, str]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def send_sms(self, phone: str, message: Outgoing) -> None:
        with self._lock:
            self.sent.append((phone, message.body))
        log.info("sms (logging sink)", extra={"phone": phone[:3] + "****" + phone[-4:], "chars": len(message.body)})


class SmsSender:
    def __init__(self, provider: SmsProvider) -> None:
        self.provider = provider

    def send(self, target: Target, message: Outgoing) -> DeliveryStatus | None:
        """None when the provider accepted it (sent); SIMULATED when the provider is the development sink."""
        if not target.phone:
            raise SendError("the recipient has no phone number")
        self.provider.send_sms(target.phone, message)
        return DeliveryStatus.SIMULATED if self.provider.simulated else None
