"""Transports: e-mail over SMTP and plain JSON webhooks through Apprise; WeCom (企业微信) and DingTalk
(钉钉) group robots through adapters of our own (Apprise hard-codes their hosts and double-encodes
DingTalk's signature); SMS through a provider interface with a logging sink for development."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import apprise
import requests

from notifications.service_layer.delivery import Outgoing, SendError, Target

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


def _notify(url: str, message: Outgoing, body_format: str) -> None:
    """Send one Apprise notification; raise SendError with what Apprise logged when it fails."""
    client = apprise.Apprise()
    if not client.add(url):
        raise SendError("the channel address is not valid")
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = client.notify(title=message.subject, body=message.body, body_format=body_format)
    if not ok:
        detail = " ".join(captured.getvalue().split())[:1000] if hasattr(captured, "getvalue") else ""
        raise SendError(detail or "the channel refused the message")


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
    """E-mail over SMTP via Apprise's mailto plugin (HTML bodies, UTF-8 subjects)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def url_for(self, to: str) -> str:
        s = self.settings
        auth = ""
        if s.username:
            auth = urllib.parse.quote(s.username, safe="")
            if s.password:
                auth += ":" + urllib.parse.quote(s.password, safe="")
            auth += "@"
        query = urllib.parse.urlencode(
            {"from": s.sender, "name": s.sender_name, "to": to, "mode": s.mode, "smtp": s.host}
        )
        return f"mailtos://{auth}{s.host}:{s.port}?{query}"

    def send(self, target: Target, message: Outgoing) -> None:
        if not target.email:
            raise SendError("the recipient has no e-mail address")
        _notify(self.url_for(target.email), message, apprise.NotifyFormat.HTML if message.html else "text")


class JsonWebhookSender:
    """A plain JSON POST to the recipient's webhook URL via Apprise's json:// plugin."""

    def send(self, target: Target, message: Outgoing) -> None:
        url = target.robots.get("webhook_url")
        if not url:
            raise SendError("the recipient has no webhook URL")
        scheme, rest = url.split("://", 1)
        _notify(("jsons" if scheme == "https" else "json") + "://" + rest, message, "text")


def _post_robot(url: str, payload: dict[str, Any]) -> None:
    try:
        response = requests.post(url, json=payload, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise SendError(f"robot unreachable: {exc}") from exc
    if response.status_code >= 300:
        raise SendError(f"robot answered HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError as exc:
        raise SendError("robot answered something that is not JSON") from exc
    if answer.get("errcode", 0) != 0:
        raise SendError(f"robot refused: {answer.get('errcode')} {answer.get('errmsg', '')}")


class WeComRobot:
    """企业微信群机器人: POST {base}/cgi-bin/webhook/send?key=KEY with a markdown message."""

    def __init__(self, base_url: str = "https://qyapi.weixin.qq.com") -> None:
        self.base_url = base_url.rstrip("/")

    def payload(self, message: Outgoing) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"content": f"**{message.subject}**\n{message.body}"}}

    def send(self, target: Target, message: Outgoing) -> None:
        key = target.robots.get("wecom_key")
        if not key:
            raise SendError("the recipient has no WeCom robot key")
        url = f"{self.base_url}/cgi-bin/webhook/send?key={urllib.parse.quote(key, safe='')}"
        _post_robot(url, self.payload(message))


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """DingTalk's robot signature: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded once."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


class DingTalkRobot:
    """钉钉群机器人: POST {base}/robot/send?access_token=T[&timestamp=&sign=] with a markdown message."""

    def __init__(self, base_url: str = "https://oapi.dingtalk.com", clock: Any = time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock

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
        _post_robot(self.url_for(token, target.robots.get("dingtalk_secret")), self.payload(message))


class SmsProvider(Protocol):
    def send_sms(self, phone: str, text: str) -> None: ...


class LoggingSmsProvider:
    """Development sink: logs the (masked) number and the text, and keeps the last messages for inspection."""

    def __init__(self, keep: int = 100) -> None:
        self.sent: deque[tuple[str, str]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def send_sms(self, phone: str, text: str) -> None:
        with self._lock:
            self.sent.append((phone, text))
        log.info("sms (logging sink)", extra={"phone": phone[:3] + "****" + phone[-4:], "text": text})


class SmsSender:
    def __init__(self, provider: SmsProvider) -> None:
        self.provider = provider

    def send(self, target: Target, message: Outgoing) -> None:
        if not target.phone:
            raise SendError("the recipient has no phone number")
        self.provider.send_sms(target.phone, message.body)
