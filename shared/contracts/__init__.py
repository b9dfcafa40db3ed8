"""The typed contracts of the events between services: one class per event type, imported by its producer (whose
domain event it is) and by every consumer (whose handler receives it, parsed).

Every event is a CloudEvents 1.0 JSON envelope on the topic exchange `cio.events`; the routing key is the
CloudEvent `type`, `<service>.<aggregate>.<event>`; `source` is `/cio/<service>`; `subject` is the id of the
aggregate the contract names; `data` is the contract. Ids are UUID strings, dates `YYYY-MM-DD`, times ISO 8601 with
offset, org paths materialized paths such as `/4108/410802/4108020001`. A consumer must ignore fields it does not
know; a producer may add fields, never rename or drop one. docs/EVENTS.md is generated from this package
(`python -m scripts.events_doc`).
"""

from __future__ import annotations

import fnmatch
from types import ModuleType
from typing import Any

from shared.bus.envelope import CloudEvent
from shared.contracts import approvals, governance, identity, nominations, training
from shared.contracts.base import ContractHandler, EventContract, consumes

__all__ = [
    "CONTRACTS",
    "PRODUCERS",
    "ContractHandler",
    "EventContract",
    "consumes",
    "contract_for",
    "data_of",
    "matching",
]

# In the order docs/EVENTS.md lists them: by producing service.
PRODUCERS: dict[str, ModuleType] = {
    "identity": identity,
    "nominations": nominations,
    "approvals": approvals,
    "training": training,
    "governance": governance,
}


def _contracts_of(module: ModuleType) -> list[type[EventContract]]:
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, EventContract)
        and value.__module__ == module.__name__
        and value.event_type
    ]
    return found


CONTRACTS: dict[str, type[EventContract]] = {
    contract.event_type: contract for module in PRODUCERS.values() for contract in _contracts_of(module)
}


def contract_for(event_type: str) -> type[EventContract] | None:
    return CONTRACTS.get(event_type)


def matching(binding: str) -> list[type[EventContract]]:
    """The contracts a queue binding (`identity.role.*`) receives."""
    pattern = binding.replace("#", "*")
    return [contract for event_type, contract in CONTRACTS.items() if fnmatch.fnmatchcase(event_type, pattern)]


def data_of(event: CloudEvent) -> dict[str, Any]:
    """The data of an event read by type alone (notifications' rules): parsed through its contract, so what does
    not fit is refused as in any other consumer, and returned as sent."""
    contract = contract_for(event.type)
    if contract is None:
        return dict(event.data)
    return contract.from_cloud_event(event).data_as_sent()
