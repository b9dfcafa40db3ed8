"""What every event contract is: a pydantic model of the CloudEvent's `data`, named by its `type`.

One class per event type serves both sides: the producer builds it (it is the domain event the outbox wraps in a
CloudEvent, shared.bus.outbox), the consumer parses the CloudEvent into it (`from_cloud_event`) and reads typed
attributes instead of a dict.
Unknown fields are kept, not refused: a producer may add fields, a consumer ignores what it does not know
(docs/EVENTS.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar, Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict, PrivateAttr, create_model, model_validator

from shared.bus.envelope import CloudEvent
from shared.events import DomainEvent, to_jsonable

# Validation context of data parsed by a consumer (as opposed to built by its producer).
RECEIVED = "received"


class EventContract(BaseModel, DomainEvent):
    """The `data` of one event type; `subject_field` names the field that is the CloudEvent's `subject`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    event_type: ClassVar[str] = ""
    subject_field: ClassVar[str | None] = None
    # The version of the data's shape, where one is published (docs/EVENTS.md); None: unversioned.
    schema_version: ClassVar[int | None] = None

    _envelope: CloudEvent | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _wire_values(cls, data: Any) -> Any:
        """Producers pass UUIDs, dates and enums; the wire (and so the contract) holds their JSON form."""
        return to_jsonable(data) if isinstance(data, dict) else data

    @property
    def subject(self) -> str | None:
        if self.subject_field is None:
            return None
        value = getattr(self, self.subject_field)
        return None if value is None else str(value)

    @property
    def envelope(self) -> CloudEvent | None:
        """The CloudEvent this was parsed from (its id, time, source), None for one built by a producer."""
        return self._envelope

    def payload(self) -> dict[str, Any]:
        """The CloudEvent `data` a producer publishes: every field, with what was added beyond the contract."""
        return self.model_dump(mode="python")

    @classmethod
    def from_aggregate(cls, source: object, **overrides: Any) -> Self:
        """Build the event from the aggregate it tells of: each field the aggregate has an attribute of that name
        for is read from it, `overrides` give the rest (the id under its event name, who and when, what
        differs). Values are turned into their wire form as when given by keyword (`_wire_values`), so the
        payload is the one a hand-written keyword list would build."""
        data = {name: getattr(source, name) for name in cls.model_fields if hasattr(source, name)}
        return cls.model_validate(data | overrides)

    @classmethod
    def from_cloud_event(cls, event: CloudEvent) -> Self:
        """Parse a received CloudEvent; a pydantic ValidationError (a ValueError) names what does not fit."""
        if event.type != cls.event_type:
            raise ValueError(f"{cls.__name__} reads {cls.event_type}, not {event.type}")
        parsed = _as_received(cls).model_validate(event.data, context={RECEIVED: True})
        parsed._envelope = event
        return parsed

    def data_as_sent(self) -> dict[str, Any]:
        """The data as received (or built): the fields the producer set, and nothing filled in by defaults."""
        return self.model_dump(mode="python", exclude_unset=True)


C = TypeVar("C", bound="EventContract")
_RECEIVED: dict[type[EventContract], type[EventContract]] = {}


def _as_received(contract: type[C]) -> type[C]:
    """The contract as a consumer reads it: every field a producer sends is checked against its type, and a
    field absent from the data is None rather than a refusal, as before contracts (an older producer, or one
    that leaves out what it does not know). The producer side keeps its required fields: building a domain event
    without one fails at once."""
    if contract not in _RECEIVED:
        lenient: dict[str, Any] = {
            name: (cast(Any, info.annotation) | None, None)
            for name, info in contract.model_fields.items()
            if info.is_required()
        }
        _RECEIVED[contract] = create_model(contract.__name__, __base__=contract, __module__=__name__, **lenient)
    return _RECEIVED[contract]  # type: ignore[return-value]


class ContractHandler:
    """An event handler that receives its typed contract: the consumer hands it the CloudEvent, it parses.

    It reads the event types of `contracts` and of their subclasses (`approvals.appointment.renewed` is read as
    an `AppointmentRenewed` by a handler of `AppointmentMade`). A contract already parsed passes through, so one
    handler may call another with what it was given, and tests may call it with a CloudEvent as the consumer does.
    """

    def __init__(self, contracts: tuple[type[EventContract], ...], handle: Callable[..., None]) -> None:
        self.contracts = contracts
        self.handle = handle
        functools.update_wrapper(self, handle)

    @property
    def event_types(self) -> set[str]:
        return {c.event_type for contract in self.contracts for c in _with_subclasses(contract) if c.event_type}

    def parse(self, event: CloudEvent) -> EventContract:
        for contract in self.contracts:
            for candidate in _with_subclasses(contract):
                if candidate.event_type == event.type:
                    return candidate.from_cloud_event(event)
        raise ValueError(f"{self.__name__} reads {sorted(self.event_types)}, not {event.type}")  # type: ignore[attr-defined]

    def __call__(self, event: CloudEvent | EventContract, uow: Any) -> None:
        self.handle(event if isinstance(event, EventContract) else self.parse(event), uow)


def _with_subclasses(contract: type[EventContract]) -> list[type[EventContract]]:
    """The contract and the contracts derived from it; a producer's own subclass (same type) is not another."""
    found = [contract]
    for sub in contract.__subclasses__():
        found += [c for c in _with_subclasses(sub) if c.event_type not in {f.event_type for f in found}]
    return found


def consumes(*contracts: type[EventContract]) -> Callable[[Callable[..., None]], ContractHandler]:
    """Declare the contracts a handler reads: `@consumes(AppointmentMade) def on_made(event, uow): ...`."""

    def register(handle: Callable[..., None]) -> ContractHandler:
        return ContractHandler(contracts, handle)

    return register
