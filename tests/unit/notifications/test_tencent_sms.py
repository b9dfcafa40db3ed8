"""Issue 17 item 9, 「短信静默丢失」: SMS goes out through Tencent Cloud SMS (SendSms, TC3-HMAC-SHA256) behind the
SMS interface, checked by a local stand-in that verifies the signature; the logging sink is for development
and what it takes is `simulated`, never `sent`."""

from __future__ import annotations

import pytest
from notifications.adapters.channels import LoggingSmsProvider, SmsSender
from notifications.adapters.outbound import OutboundPolicy, PinnedPoster
from notifications.adapters.tencent_sms import TencentSmsProvider, TencentSmsSettings, e164, tc3_authorization
from notifications.bootstrap import sms_provider_from_env
from notifications.domain.model import DeliveryStatus
from notifications.service_layer.delivery import Outgoing, SendError, Target

from tests.tencent_sms_standin import TencentSmsStandIn, tencent_sms_standin

MESSAGE = Outgoing("首席信息官聘任已撤销", "【CIO平台】张三的首席信息官任命已取消。", False, "appointment_revoked")


def test_tc3_signature_reproduces_the_documented_example() -> None:
    """The worked example of Tencent Cloud's 签名方法 v3 page (CVM DescribeInstances, 2019-02-25)."""
    body = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    authorization = tc3_authorization(
        secret_id="AKIDEXAMPLE",
        secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        host="cvm.tencentcloudapi.com",
        body=body,
        timestamp=1551113065,
        service="cvm",
    )
    assert authorization == (
        "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_mainland_numbers_get_the_country_code() -> None:
    assert e164("13800138000") == "+8613800138000"
    assert e164("+85291234567") == "+85291234567"


def provider_for(standin: TencentSmsStandIn, secret_key: str | None = None) -> TencentSmsProvider:
    settings = TencentSmsSettings(
        secret_id=standin.secret_id,
        secret_key=secret_key or standin.secret_key,
        sdk_app_id="1400000001",
        sign_name="首席信息官平台",
        template_id="2000001",
        endpoint=standin.endpoint,
    )
    policy = OutboundPolicy.from_settings([], ["127.0.0.1/32"]).with_hosts(standin.endpoint)
    return TencentSmsProvider(settings, PinnedPoster(policy))


def test_sms_is_sent_through_tencent_send_sms_with_a_signature_the_stand_in_accepts() -> None:
    with tencent_sms_standin() as standin:
        outcome = SmsSender(provider_for(standin)).send(Target("u-1", phone="13800138000"), MESSAGE)
    assert outcome is None  # sent, not simulated
    assert standin.refused == []
    (request,) = standin.received
    assert request["headers"]["x-tc-action"] == "SendSms" and request["headers"]["x-tc-version"] == "2021-01-11"
    assert request["body"] == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": "1400000001",
        "SignName": "首席信息官平台",
        "TemplateId": "2000001",
        "TemplateParamSet": ["首席信息官聘任已撤销"],
    }


def test_a_wrong_secret_is_refused_by_the_stand_in_and_the_send_fails() -> None:
    with tencent_sms_standin() as standin, pytest.raises(SendError, match=r"AuthFailure\.SignatureFailure"):
        provider_for(standin, secret_key="not-the-key").send_sms("13800138000", MESSAGE)
    assert standin.received == [] and standin.refused == ["AuthFailure.SignatureFailure"]


def test_a_number_the_provider_does_not_send_to_is_a_failed_attempt() -> None:
    with tencent_sms_standin() as standin, pytest.raises(SendError, match=r"LimitExceeded\.PhoneNumberDailyLimit"):
        standin.send_code = "LimitExceeded.PhoneNumberDailyLimit"
        provider_for(standin).send_sms("13800138000", MESSAGE)


def test_the_sms_endpoint_goes_through_the_ssrf_guard() -> None:
    """Loopback is reached only because the test trusts it; without that the guard refuses the endpoint."""
    with tencent_sms_standin() as standin:
        settings = provider_for(standin).settings
        unguarded = TencentSmsProvider(settings)  # the default policy: the endpoint's host, public addresses only
        with pytest.raises(SendError, match="may not be reached"):
            unguarded.send_sms("13800138000", MESSAGE)
    assert standin.received == []


def test_the_logging_sink_is_simulated_never_sent() -> None:
    sink = LoggingSmsProvider()
    assert SmsSender(sink).send(Target("u-1", phone="13800138000"), MESSAGE) == DeliveryStatus.SIMULATED
    assert sink.sent[-1] == ("13800138000", MESSAGE.body)


def test_sms_provider_is_chosen_from_the_environment_and_a_half_configured_tencent_does_not_start() -> None:
    assert isinstance(sms_provider_from_env({}), LoggingSmsProvider)
    with pytest.raises(ValueError, match="TENCENT_SMS_SECRET_KEY"):
        sms_provider_from_env({"SMS_PROVIDER": "tencent", "TENCENT_SMS_SECRET_ID": "id"})
    with pytest.raises(ValueError, match="tencent or simulated"):
        sms_provider_from_env({"SMS_PROVIDER": "aliyun"})
    full = {
        "SMS_PROVIDER": "tencent",
        "TENCENT_SMS_SECRET_ID": "id",
        "TENCENT_SMS_SECRET_KEY": "key",
        "TENCENT_SMS_SDK_APP_ID": "1400000001",
        "TENCENT_SMS_SIGN_NAME": "首席信息官平台",
        "TENCENT_SMS_TEMPLATE_ID": "2000001",
    }
    assert isinstance(sms_provider_from_env(full), TencentSmsProvider)
