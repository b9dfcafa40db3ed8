"""Tencent Cloud SMS (腾讯云短信), API 3.0 `SendSms` (version 2021-01-11), signed with TC3-HMAC-SHA256.

Chinese carriers deliver only approved text: a message is a template approved in the console (模板 ID) with a
registered signature (签名), and the platform fills the template's variables. The operator approves one
notification template whose single variable takes the message's subject, for example
「您有一条首席信息官平台通知：{1}，请登录平台查看。」; the subject is cut to the variable's length limit.

The request goes through notifications' SSRF-guarded client (adapters.outbound): the endpoint's host is on
the SMS allow-list, its addresses are checked, the connection is pinned to the checked address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from notifications.adapters.channels import answered
from notifications.adapters.outbound import JSON_CONTENT_TYPE, OutboundPolicy, PinnedPoster
from notifications.service_layer.delivery import Outgoing, SendError

SERVICE = "sms"
ACTION = "SendSms"
VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_authorization(
    *, secret_id: str, secret_key: str, host: str, body: bytes, timestamp: int, service: str = SERVICE
) -> str:
    """The Authorization header of a TC3-HMAC-SHA256 signed POST of a JSON body to `/` on host.

    Canonical request: method, URI `/`, empty query, the signed headers content-type and host, the body's
    SHA-256; string to sign: algorithm, timestamp, credential scope (UTC date/service/tc3_request), the
    canonical request's SHA-256; key: HMAC chain over "TC3"+key, date, service, "tc3_request".
    """
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    signed_headers = "content-type;host"
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{JSON_CONTENT_TYPE}\nhost:{host}\n",
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"


def e164(phone: str) -> str:
    """Tencent wants E.164 (+8613800138000); the directory keeps mainland numbers without the country code."""
    digits = phone.strip().replace(" ", "").replace("-", "")
    return digits if digits.startswith("+") else f"+86{digits}"


@dataclass(frozen=True)
class TencentSmsSettings:
    secret_id: str
    secret_key: str
    sdk_app_id: str  # 短信 SdkAppId, 1400…
    sign_name: str  # 短信签名内容
    template_id: str  # the approved notification template, one variable
    region: str = "ap-guangzhou"
    endpoint: str = DEFAULT_ENDPOINT
    param_max_chars: int = 20  # the template variable's length limit in the console

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TencentSmsSettings:
        """Secrets only from the environment; every missing one is named, so the worker does not start half-set."""
        names = {
            "secret_id": "TENCENT_SMS_SECRET_ID",
            "secret_key": "TENCENT_SMS_SECRET_KEY",
            "sdk_app_id": "TENCENT_SMS_SDK_APP_ID",
            "sign_name": "TENCENT_SMS_SIGN_NAME",
            "template_id": "TENCENT_SMS_TEMPLATE_ID",
        }
        missing = [env_name for env_name in names.values() if not env.get(env_name)]
        if missing:
            raise ValueError(f"SMS_PROVIDER=tencent needs {', '.join(missing)}")
        return cls(
            **{field: env[env_name] for field, env_name in names.items()},
            region=env.get("TENCENT_SMS_REGION") or "ap-guangzhou",
            endpoint=env.get("TENCENT_SMS_ENDPOINT") or DEFAULT_ENDPOINT,
            param_max_chars=int(env.get("TENCENT_SMS_PARAM_MAX_CHARS") or "20"),
        )


class TencentSmsProvider:
    """Sends one SMS per call through `SendSms`; raises SendError on any refusal, so the delivery is retried
    and, after the last attempt, dead: never recorded as sent without the provider's "Ok"."""

    simulated = False

    def __init__(
        self,
        settings: TencentSmsSettings,
        poster: PinnedPoster | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.poster = poster or PinnedPoster(OutboundPolicy(allowed_hosts=frozenset()).with_hosts(settings.endpoint))
        self.clock = clock
        self.host = urllib.parse.urlsplit(settings.endpoint).netloc.lower()  # canonical headers are lowercase

    def request_body(self, phone: str, subject: str) -> dict[str, Any]:
        s = self.settings
        return {
            "PhoneNumberSet": [e164(phone)],
            "SmsSdkAppId": s.sdk_app_id,
            "SignName": s.sign_name,
            "TemplateId": s.template_id,
            "TemplateParamSet": [subject[: s.param_max_chars]],
        }

    def send_sms(self, phone: str, message: Outgoing) -> None:
        s = self.settings
        body = json.dumps(self.request_body(phone, message.subject), ensure_ascii=False).encode()
        timestamp = int(self.clock())
        headers = {
            "Authorization": tc3_authorization(
                secret_id=s.secret_id, secret_key=s.secret_key, host=self.host, body=body, timestamp=timestamp
            ),
            "X-TC-Action": ACTION,
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": s.region,
        }
        answer = answered(
            lambda: self.poster.post(s.endpoint.rstrip("/") + "/", body, headers),
            target="SMS endpoint",
            answerer="Tencent SMS",
        )
        try:
            response = answer.json().get("Response") or {}
        except (ValueError, AttributeError) as exc:
            raise SendError("Tencent SMS answered something that is not its JSON") from exc
        error = response.get("Error")
        if error:
            raise SendError(f"Tencent SMS refused: {error.get('Code')} {str(error.get('Message', ''))[:200]}")
        statuses = response.get("SendStatusSet") or []
        if not statuses or statuses[0].get("Code") != "Ok":
            code = statuses[0].get("Code") if statuses else "no SendStatusSet"
            said = str(statuses[0].get("Message", ""))[:200] if statuses else ""
            raise SendError(f"Tencent SMS did not send: {code} {said}")
