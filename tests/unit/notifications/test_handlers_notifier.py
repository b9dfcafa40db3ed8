"""Events into inbox messages, deliveries and reminders, and the inbox, preference and delivery-log commands,
handled against a fake unit of work (nothing starts)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from notifications.adapters.templates import Templates
from notifications.bootstrap import load_rules
from notifications.domain.model import DeliveryStatus
from notifications.service_layer.delivery import retry_delivery, send_due_reminders
from notifications.service_layer.notifier import Notifier
from notifications.service_layer.queries import DigestChoice, mark_read, update_preferences

from shared.bus.envelope import CloudEvent
from shared.errors import Conflict, NotFound, PreconditionFailed
from tests.unit.notifications.fakes import FakeDirectory, FakeNotificationsUnitOfWork

COUNTY = "/4108/410802"
SCHOOL = "/4108/410802/4108020001"
REVIEWER = {"user_id": "county-1", "display_name": "李审核", "email": "li@jz.example", "phone": None, "locale": "zh-CN"}
NO_MAIL = {"user_id": "county-2", "display_name": "周审核", "email": None, "phone": None, "locale": "zh-CN"}


@pytest.fixture(scope="module")
def notifier() -> Notifier:
    templates = Templates.load()
    return Notifier(load_rules(templates), templates)


def county_office(*reviewers: dict[str, Any]) -> FakeNotificationsUnitOfWork:
    grants = [(r["user_id"], "county_reviewer", COUNTY) for r in reviewers]
    return FakeNotificationsUnitOfWork(FakeDirectory(reviewers, grants))


def task_assigned(due_in: dt.timedelta = dt.timedelta(days=3)) -> CloudEvent:
    data = {
        "task_id": str(uuid.uuid4()),
        "case_id": str(uuid.uuid4()),
        "role": "county_reviewer",
        "org_path": COUNTY,
        "stage_name": "县级审核",
        "school_org_path": SCHOOL,
        "school_name": "焦作市解放区实验小学",
        "due_at": (dt.datetime.now(dt.UTC) + due_in).isoformat(),
    }
    return CloudEvent(type="approvals.task.assigned", source="/cio/approvals", data=data)


def consume(notifier: Notifier, event: CloudEvent, uow: FakeNotificationsUnitOfWork) -> None:
    """As the consumer does: the handler inside the unit of work, one commit with the inbox row."""
    with uow:
        notifier.handle_many([event], uow)
        uow.commit()


def test_an_assigned_task_reaches_the_reviewers_inbox_and_mail(notifier: Notifier) -> None:
    uow = county_office(REVIEWER)

    consume(notifier, task_assigned(), uow)

    [message] = uow.messages.rows.values()
    assert (message["recipient_id"], message["kind"]) == ("county-1", "task_assigned")
    assert "焦作市解放区实验小学" in message["subject"]
    by_channel = {d["channel"]: d["status"] for d in uow.deliveries.rows.values()}
    assert by_channel == {"in_app": DeliveryStatus.SENT.value, "email": DeliveryStatus.PENDING.value}
    assert [r["kind"] for r in uow.reminders.rows] == ["task_due"]


def test_a_redelivered_event_adds_no_second_message(notifier: Notifier) -> None:
    uow = county_office(REVIEWER)
    event = task_assigned()

    consume(notifier, event, uow)
    consume(notifier, event, uow)

    assert len(uow.messages.rows) == 1
    assert len(uow.deliveries.rows) == 2
    assert len(uow.reminders.rows) == 1


def test_mail_to_a_reviewer_without_an_address_is_skipped_with_the_reason(notifier: Notifier) -> None:
    uow = county_office(NO_MAIL)

    consume(notifier, task_assigned(), uow)

    [mail] = [d for d in uow.deliveries.rows.values() if d["channel"] == "email"]
    assert mail["status"] == DeliveryStatus.SKIPPED.value
    assert mail["last_error"] == "no email address for the recipient"


def test_a_due_task_reminder_is_sent_once(notifier: Notifier) -> None:
    uow = county_office(REVIEWER)
    consume(notifier, task_assigned(due_in=dt.timedelta(hours=1)), uow)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)

    assert send_due_reminders(lambda: uow, notifier, now=lambda: later) == 1
    assert send_due_reminders(lambda: uow, notifier, now=lambda: later) == 0
    assert sorted(m["kind"] for m in uow.messages.rows.values()) == ["task_assigned", "task_due_reminder"]


def test_someone_elses_message_does_not_exist_for_the_caller(notifier: Notifier) -> None:
    uow = county_office(REVIEWER)
    consume(notifier, task_assigned(), uow)
    [message_id] = uow.messages.rows

    with pytest.raises(NotFound):
        mark_read(uow, "county-2", message_id)
    assert mark_read(uow, "county-1", message_id) == 1
    assert uow.messages.unread("county-1") == 0


def no_problem(url: str) -> str | None:
    return None


def test_preferences_changed_since_they_were_read_are_not_overwritten(notifier: Notifier) -> None:
    uow = county_office(REVIEWER)

    def choose(channels: dict[str, list[str]], if_match: str) -> int:
        kinds = notifier.rulebook.kinds
        return update_preferences(
            kinds, uow, "county-1", {if_match}, channels, None, DigestChoice(), webhook_problem=no_problem
        )

    assert choose({"task_assigned": ["in_app"]}, '"0"') == 1
    uow.committed = False

    with pytest.raises(PreconditionFailed):
        choose({}, '"0"')
    assert not uow.committed
    assert uow.preferences.get("county-1").channels == {"task_assigned": ("in_app",)}
    assert uow.audited_actions() == ["preferences.updated"]


def test_only_a_dead_delivery_is_sent_again_and_its_attempts_start_over(notifier: Notifier) -> None:
    uow = county_office(REVIEWER)
    consume(notifier, task_assigned(), uow)
    [mail] = [d for d in uow.deliveries.rows.values() if d["channel"] == "email"]

    with pytest.raises(Conflict):
        retry_delivery(uow, mail["id"], "operator", ["/"])

    uow.deliveries.change(mail["id"], status=DeliveryStatus.DEAD.value, attempts=8, last_error="SMTP 550")
    with pytest.raises(NotFound):
        retry_delivery(uow, mail["id"], "operator", ["/6401"])
    again = retry_delivery(uow, mail["id"], "operator", ["/4108"])

    assert (again["status"], again["attempts"]) == (DeliveryStatus.PENDING.value, 0)
    assert uow.deliveries.rows[mail["id"]]["status"] == DeliveryStatus.PENDING.value
    assert uow.audited[-1] == (
        "delivery.retried",
        {
            "actor": "operator",
            "target": str(mail["id"]),
            "details": {"channel": "email", "attempts_before": 8, "last_error": "SMTP 550"},
        },
    )


def test_a_run_of_events_leaves_what_one_by_one_leaves(notifier: Notifier) -> None:
    """What an event changes, the events after it in the same consumer batch see: the reminder a task planned is
    cancelled by its decision, and the decision reaches the candidate the submission before it remembered."""
    nomination_id = str(uuid.uuid4())
    assigned = task_assigned()
    submission = {
        "nomination_id": nomination_id,
        "round_id": "2025",
        "school_org_code": "4108020001",
        "school_org_path": SCHOOL,
        "school_name": "焦作市解放区实验小学",
        "candidate_user_id": "candidate-1",
        "candidate_name": "王老师",
    }
    decision = {
        "task_id": assigned.data["task_id"],
        "case_id": assigned.data["case_id"],
        "nomination_id": nomination_id,
        "school_org_path": SCHOOL,
        "stage_name": "县级审核",
        "decision": "approve",
        "outcome": "forwarded",
    }
    events = [
        assigned,
        CloudEvent(type="nominations.nomination.submitted", source="/cio/nominations", data=submission),
        CloudEvent(type="approvals.review.decided", source="/cio/approvals", data=decision),
    ]
    candidate = {"user_id": "candidate-1", "display_name": "王老师", "email": None, "phone": None, "locale": "zh-CN"}
    one_by_one, together = county_office(REVIEWER, candidate), county_office(REVIEWER, candidate)

    for event in events:
        consume(notifier, event, one_by_one)
    with together:
        notifier.handle_many(events, together)
        together.commit()

    def state(uow: FakeNotificationsUnitOfWork) -> tuple[Any, ...]:
        return (
            sorted((m["event_id"], m["recipient_id"], m["subject"], m["body"]) for m in uow.messages.rows.values()),
            sorted((d["event_id"], d["recipient_id"], d["channel"], d["status"]) for d in uow.deliveries.rows.values()),
            [(r["kind"], r["subject_key"], r["cancelled_by"]) for r in uow.reminders.rows],
            uow.known_nominations.rows,
        )

    assert state(together) == state(one_by_one)
    assert [r["cancelled_by"] for r in together.reminders.rows] == ["approvals.review.decided"]
    assert ("candidate-1", "review_decided") in {
        (m["recipient_id"], m["kind"]) for m in together.messages.rows.values()
    }


def test_mail_skipped_for_want_of_an_address_is_not_rendered_and_keeps_its_subject_and_reason(
    notifier: Notifier,
) -> None:
    uow = county_office(REVIEWER, NO_MAIL)

    consume(notifier, task_assigned(), uow)

    mail = {d["recipient_id"]: d for d in uow.deliveries.rows.values() if d["channel"] == "email"}
    sent, skipped = mail["county-1"], mail["county-2"]
    assert (skipped["status"], skipped["last_error"]) == ("skipped", "no email address for the recipient")
    # never sent, so no body; the subject the delivery log shows is the one the e-mail would have had
    assert (skipped["body"], skipped["is_html"]) == ("", True)
    assert skipped["subject"] == sent["subject"]
    assert sent["status"] == DeliveryStatus.PENDING.value
    assert "李审核" in sent["body"] and sent["body"].startswith("<!doctype html>")


def test_reviewers_of_one_event_share_its_inbox_text_and_each_mail_greets_its_own_reviewer(
    notifier: Notifier,
) -> None:
    colleague = {**REVIEWER, "user_id": "county-3", "display_name": "王审核", "email": "wang@jz.example"}
    uow = county_office(REVIEWER, colleague)

    consume(notifier, task_assigned(), uow)

    inbox = {m["recipient_id"]: (m["subject"], m["body"]) for m in uow.messages.rows.values()}
    assert inbox["county-1"] == inbox["county-3"]
    mail = {d["recipient_id"]: d["body"] for d in uow.deliveries.rows.values() if d["channel"] == "email"}
    assert "李审核" in mail["county-1"] and "王审核" not in mail["county-1"]
    assert "王审核" in mail["county-3"] and "李审核" not in mail["county-3"]
