"""The robot adapters' formats, DingTalk's signature and the guarded POST every HTTP transport makes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Callable

import pytest
from notifications.adapters.channels import DingTalkRobot, WeComRobot, answered, dingtalk_sign
from notifications.adapters.outbound import Answer, OutboundFailed, RefusedTarget
from notifications.service_layer.delivery import Outgoing, SendError

# Computed outside Python: printf '1700000000000\nSECtest+/=' | openssl dgst -sha256 -hmac 'SECtest+/=' -binary | base64
OPENSSL_VECTOR = "zgJ4cDD2EMuHQDqQe2ncXwpipqu9PTJBXz9vXP0XdAg="


def test_dingtalk_signature_matches_an_independent_computation() -> None:
    timestamp, secret = 1700000000000, "SECtest+/="
    independent = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert independent == OPENSSL_VECTOR
    signed = dingtalk_sign(timestamp, secret)
    assert signed == urllib.parse.quote(OPENSSL_VECTOR, safe="")
    # encoded once: decoding once gives the base64 back, there is no second layer of %25
    assert urllib.parse.unquote(signed) == OPENSSL_VECTOR and "%25" not in signed


def test_dingtalk_url_carries_timestamp_and_sign_on_the_configured_base() -> None:
    robot = DingTalkRobot("http://127.0.0.1:1/", clock=lambda: 1700000000.0)
    url = robot.url_for("tok", "SECtest+/=")
    assert url == (
        "http://127.0.0.1:1/robot/send?access_token=tok&timestamp=1700000000000&sign="
        + urllib.parse.quote(OPENSSL_VECTOR, safe="")
    )
    assert robot.url_for("tok", None) == "http://127.0.0.1:1/robot/send?access_token=tok"


def test_robot_payloads_are_markdown_messages() -> None:
    message = Outgoing("待审核", "请处理", False, "task_assigned")
    assert WeComRobot().payload(message) == {"msgtype": "markdown", "markdown": {"content": "**待审核**\n请处理"}}
    assert DingTalkRobot().payload(message) == {
        "msgtype": "markdown",
        "markdown": {"title": "待审核", "text": "### 待审核\n\n请处理"},
    }


def _raise(error: Exception) -> Answer:
    raise error


@pytest.mark.parametrize(
    ("post", "said"),
    [
        (lambda: _raise(RefusedTarget("not on the allow-list")), "hook refused: not on the allow-list"),
        (lambda: _raise(OutboundFailed("no answer in 10 s")), "no answer in 10 s"),
        (lambda: Answer(502, b""), "robot answered HTTP 502"),
    ],
)
def test_a_guarded_post_that_goes_wrong_is_a_send_error(post: Callable[[], Answer], said: str) -> None:
    with pytest.raises(SendError, match=f"^{said}$"):
        answered(post, target="hook", answerer="robot")


def test_a_guarded_post_answered_2xx_is_returned() -> None:
    assert answered(lambda: Answer(204, b""), target="hook", answerer="robot") == Answer(204, b"")
