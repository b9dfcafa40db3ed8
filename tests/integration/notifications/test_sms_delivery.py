"""Issue 17 item 9, 「短信静默丢失」: a mandatory SMS (取消任命) goes through the real worker path to Tencent Cloud
SMS (a local stand-in that verifies the TC3 signature) and is `sent`; through the development sink it is
`simulated`; a refused signature leaves it pending with the provider's code, never sent."""

from __future__ import annotations

from typing import Any

import pytest
from notifications.adapters.orm import deliveries
from notifications.bootstrap import Notifications
from notifications.service_layer.delivery import dispatch_due
from sqlalchemy import select

from shared.bus.envelope import CloudEvent
from tests.integration.notifications.conftest import SCHOOL, apply, identity_events
from tests.tencent_sms_standin import tencent_sms_standin
from tests.unit.notifications.test_tencent_sms import provider_for

pytestmark = pytest.mark.integration


def appointment_revoked() -> CloudEvent:
    return CloudEvent(
        type="approvals.appointment.revoked",
        source="/cio/approvals",
        subject="a-1",
        data={
            "appointment_id": "a-1",
            "person_user_id": "u-school",
            "person_name": "学校管理员",
            "org_path": SCHOOL,
            "school_name": "解放区第一实验小学",
            "reason": "整改不合格",
        },
    )


def sms_deliveries(service: Notifications) -> list[dict[str, Any]]:
    with service.session_factory() as session:
        rows = (
            session.execute(
                select(deliveries).where(deliveries.c.channel == "sms", deliveries.c.recipient_id == "u-school")
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def test_revocation_sms_is_sent_through_tencent_cloud_sms(notifications_service: Notifications) -> None:
    service = notifications_service
    with tencent_sms_standin() as standin:
        service.sms_provider = provider_for(standin)
        apply(service, *identity_events(), appointment_revoked())
        dispatch_due(service.uow, service.senders, service.channels.retry)
    (sms,) = sms_deliveries(service)
    assert sms["status"] == "sent" and sms["sent_at"] is not None
    # the CIO and the county reviewer (both demo numbers): each one signed request the stand-in accepted
    assert [r["body"]["PhoneNumberSet"] for r in standin.received] == [["+8613800138000"]] * 2


def test_development_sink_records_the_sms_as_simulated_not_sent(notifications_service: Notifications) -> None:
    service = notifications_service  # the default provider: the logging sink
    apply(service, *identity_events(), appointment_revoked())
    dispatch_due(service.uow, service.senders, service.channels.retry)
    (sms,) = sms_deliveries(service)
    assert sms["status"] == "simulated"


def test_refused_signature_keeps_the_sms_pending_with_the_providers_code(notifications_service: Notifications) -> None:
    service = notifications_service
    with tencent_sms_standin() as standin:
        service.sms_provider = provider_for(standin, secret_key="rotated-away")
        apply(service, *identity_events(), appointment_revoked())
        dispatch_due(service.uow, service.senders, service.channels.retry)
    (sms,) = sms_deliveries(service)
    assert sms["status"] == "pending" and "AuthFailure.SignatureFailure" in sms["last_error"]
    assert standin.received == []
