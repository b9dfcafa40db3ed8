"""The e-mail sender's TLS context: made once per sender, never per message (building one loads the CA bundle,
which was most of the notifications worker's CPU under deadline-day load), and never for a plain SMTP relay."""

from __future__ import annotations

import ssl

import pytest
from notifications.adapters import channels
from notifications.adapters.channels import EmailSender, SmtpSettings
from notifications.service_layer.delivery import Outgoing, Target

from tests.integration.notifications.conftest import SmtpSink

pytestmark = pytest.mark.integration

MESSAGE = Outgoing(subject="待审核推荐表", body="您有一份推荐表待审核。", html=False, kind="task_assigned")


def test_two_messages_over_a_plain_relay_build_no_tls_context(
    smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    real = ssl.create_default_context
    monkeypatch.setattr(channels.ssl, "create_default_context", lambda *a, **k: built.append(1) or real(*a, **k))
    sender = EmailSender(SmtpSettings(host="127.0.0.1", port=smtp_sink.port))
    for n in range(2):
        sender.send(Target(user_id=f"u{n}", email=f"reviewer{n}@example.cn"), MESSAGE)
    assert len(smtp_sink.received) == 2
    assert built == []


def test_a_tls_sender_keeps_one_verifying_context(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    real = ssl.create_default_context
    monkeypatch.setattr(channels.ssl, "create_default_context", lambda *a, **k: built.append(1) or real(*a, **k))
    sender = EmailSender(SmtpSettings(host="smtp.example.cn", port=465, mode="ssl"))
    first, second = sender.tls_context(), sender.tls_context()
    assert first is second and len(built) == 1
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname
