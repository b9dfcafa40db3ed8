"""The events between services have one typed contract each (shared/contracts): every event a service publishes
is one, every consumer's handler map is keyed by contract types and its handlers parse through them, and
docs/EVENTS.md is generated from them."""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
import uuid
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

import pydantic
import pytest
from approvals.service_layer import reviews
from notifications.adapters.templates import Templates
from notifications.bootstrap import load_rules
from notifications.service_layer.notifier import Notifier

from scripts import events_doc
from shared.bus.envelope import CloudEvent
from shared.bus.outbox import to_cloud_event
from shared.bus.topology import QueueSpec
from shared.contracts import CONTRACTS, ContractHandler, contract_for, matching
from shared.contracts.approvals import AppointmentMade, AppointmentRenewed
from shared.contracts.nominations import BatchSubmitted, RoundOpened
from shared.events import DomainEvent
from shared.policy import PolicyDocumentError
from shared.service import ServiceSpec, Subscription, resolve

SERVICES = ("identity", "nominations", "approvals", "training", "notifications", "governance")

# Raised by notifications' own web process from Alertmanager's webhook; never on the bus.
NOT_BUS_EVENTS = {"platform.alert.firing", "platform.alert.resolved"}


def _published_event_classes() -> set[type[DomainEvent]]:
    """Every event class the services' code can see (what their aggregates append and outbox writers publish):
    the domain events defined or imported in any of their modules, and their subclasses."""
    found: set[type[DomainEvent]] = set()
    for service in SERVICES:
        package = importlib.import_module(service)
        for module_info in pkgutil.walk_packages(package.__path__, f"{service}."):
            module = importlib.import_module(module_info.name)
            found |= {
                value
                for value in vars(module).values()
                if isinstance(value, type) and issubclass(value, DomainEvent) and value.event_type
            }
    return found


def test_every_event_a_service_publishes_is_its_contract() -> None:
    published = _published_event_classes()
    assert {cls.event_type for cls in published} == set(CONTRACTS)
    for cls in published:
        contract = contract_for(cls.event_type)
        assert contract is not None and issubclass(cls, contract), cls


# The wired service, as far as the declared handler maps read it (training's appointment handlers take the
# requirement for appointments whose policy names none).
WIRED = SimpleNamespace(rules=SimpleNamespace(default_centralized_per_year=1))


def _declared_subscriptions() -> list[Subscription]:
    """Every queue a service's declaration subscribes to, but notifications' fan-out (its handlers are the rule
    book's: see test_notifications_reads_every_bus_event_it_handles_through_its_contract)."""
    found: list[Subscription] = []
    for service in SERVICES:
        spec: ServiceSpec = resolve(f"{service}.declaration:SPEC")
        found += [s for s in spec.subscriptions if s.queue != "notifications.fanout"]
    return found


def _consumer_maps() -> dict[str, Mapping[str, Callable[..., Any]]]:
    return {s.queue: s.handler_map(WIRED) for s in _declared_subscriptions()}


@pytest.mark.parametrize("queue", sorted(_consumer_maps()))
def test_every_consumers_handlers_are_keyed_by_contract_types_and_parse_through_them(queue: str) -> None:
    for event_type, handler in _consumer_maps()[queue].items():
        assert contract_for(event_type) is not None, f"{queue}: {event_type} has no contract"
        assert isinstance(handler, ContractHandler), f"{queue}: the handler of {event_type} reads a raw dict"
        assert event_type in handler.event_types, f"{queue}: {handler.__name__} does not read {event_type}"


def test_notifications_reads_every_bus_event_it_handles_through_its_contract() -> None:
    templates = Templates.load()
    notifier = Notifier(rulebook=load_rules(templates), templates=templates)
    for event_type in set(notifier.handlers()) - NOT_BUS_EVENTS:
        assert contract_for(event_type) is not None, f"notifications handles {event_type}, which has no contract"


QUEUES = [s.queue_spec(WIRED) for s in _declared_subscriptions()]


@pytest.mark.parametrize("spec", QUEUES, ids=lambda spec: spec.name)
def test_every_queue_binding_receives_some_contract(spec: QueueSpec) -> None:
    for binding in spec.bindings:
        assert matching(binding), f"{spec.name}: nothing is published on {binding}"


def test_a_renewal_reaches_a_handler_of_appointments_made_as_itself() -> None:
    seen: list[Any] = []
    handler = ContractHandler((AppointmentMade,), lambda event, uow: seen.append(event))
    renewal = AppointmentRenewed(
        appointment_id=str(uuid.uuid4()),
        person_user_id=str(uuid.uuid4()),
        person_name="张三",
        org_code="4108020001",
        org_path="/4108/410802/4108020001",
        term_number=2,
        starts_on="2025-01-01",
        ends_on=None,
        document_number="焦教〔2025〕1号",
        round_id=str(uuid.uuid4()),
        nomination_id=str(uuid.uuid4()),
        policy_id="jiaozuo-2022",
        training_requirement={},
        previous_appointment_id="earlier",
    )
    data = to_cloud_event(renewal, "/cio/approvals")
    handler(data, None)
    [renewed] = seen
    assert isinstance(renewed, AppointmentRenewed) and renewed.previous_appointment_id == "earlier"
    assert renewed.envelope is data and renewed.subject == renewed.appointment_id


def test_a_batch_whose_fields_do_not_fit_is_refused_before_the_handler_runs() -> None:
    event = CloudEvent(BatchSubmitted.event_type, "/cio/nominations", {"nomination_ids": "not a list", "count": "x"})
    with pytest.raises(pydantic.ValidationError, match="nomination_ids"):
        reviews.on_batch_submitted(event, None)


def test_a_producer_cannot_leave_out_a_field_of_its_contract() -> None:
    with pytest.raises(pydantic.ValidationError, match="batch_id"):
        BatchSubmitted(round_id=str(uuid.uuid4()))  # type: ignore[call-arg]


def test_a_consumer_keeps_the_fields_a_newer_producer_added() -> None:
    data = {"batch_id": "b", "nomination_ids": [], "an_addition": 1} | {
        name: "x" for name in BatchSubmitted.model_fields if name not in ("batch_id", "nomination_ids", "count")
    }
    parsed = BatchSubmitted.from_cloud_event(
        CloudEvent(BatchSubmitted.event_type, "/cio/nominations", data | {"count": 0})
    )
    assert parsed.data_as_sent()["an_addition"] == 1


def test_docs_events_md_is_generated_from_the_contracts() -> None:
    assert events_doc.main(["--check"]) == 0, "run python -m scripts.events_doc"


def test_bindings_are_patterns_over_contract_types() -> None:
    assert [c.event_type for c in matching("identity.role.*")] == ["identity.role.granted", "identity.role.revoked"]
    assert all(fnmatch.fnmatchcase(t, "approvals.*") for t in (c.event_type for c in matching("approvals.#")))


def test_a_round_opened_carries_only_a_policy_the_one_schema_accepts_where_it_is_acted_on() -> None:
    from nominations.adapters.policies import PolicyCatalog

    document = PolicyCatalog.load().all()[0].document
    broken = {**document, "approval": {**document["approval"], "stages": []}}
    fields = {
        "round_id": str(uuid.uuid4()),
        "title": "t",
        "policy_id": document["id"],
        "policy_version": 1,
        "issuing_org_code": "4108",
        "issuing_org_path": "/4108",
        "opens_at": "2026-01-01T00:00:00+08:00",
        "deadline": "2026-02-01T00:00:00+08:00",
    }
    assert RoundOpened(**fields, policy=document).policy == document
    with pytest.raises(pydantic.ValidationError, match="does not match the policy schema"):
        RoundOpened(**fields, policy=broken)
    received = CloudEvent(RoundOpened.event_type, "/cio/nominations", {**fields, "policy": broken})
    assert RoundOpened.from_cloud_event(received).title == "t"  # passed on by who does not act on the policy
    with pytest.raises(PolicyDocumentError, match=r"approval/stages: \[\] should be non-empty"):
        reviews.on_round_opened(received, None)  # approvals acts on it: refused (and parked)


def test_an_appointment_carries_the_training_requirement_and_cadences_as_the_policy_schema_has_them() -> None:
    made = {
        "appointment_id": str(uuid.uuid4()),
        "person_user_id": str(uuid.uuid4()),
        "person_name": "张三",
        "org_code": "4108020001",
        "org_path": "/4108/410802/4108020001",
        "term_number": 1,
        "starts_on": "2025-01-01",
        "ends_on": None,
        "document_number": "焦教〔2025〕1号",
        "round_id": str(uuid.uuid4()),
        "nomination_id": str(uuid.uuid4()),
        "policy_id": "jiaozuo-2022",
    }
    cadences = [{"kind": "cio_annual", "every_years": 1, "subject": "cio"}]
    accepted = AppointmentMade(**made, training_requirement={"centralized_per_year": 1}, evaluation_cadences=cadences)
    assert accepted.payload()["evaluation_cadences"] == cadences
    with pytest.raises(pydantic.ValidationError, match="'per_decade' was unexpected"):
        AppointmentMade(**made, training_requirement={"per_decade": 1})
    with pytest.raises(pydantic.ValidationError, match=r"evaluation_cadences: .*\n.*at 0/every_years: 0 is less than"):
        AppointmentMade(**made, training_requirement={}, evaluation_cadences=[{"kind": "cio_annual", "every_years": 0}])
