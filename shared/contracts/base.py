"""What every event contract is: a pydantic model of the CloudEvent's `data`, named by its `type`.

One class per event type serves both sides: the producer builds it (it is the domain event the outbox writes),
the consumer parses the CloudEvent into it (`from_cloud_event`) and reads typed attributes instead of a dict.
Unknown fields are kept, not refused: a producer may add fields, a consumer ignores what it does not know
(docs/EVENTS.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator

from shared.bus.envelope import CloudEvent
from shared.events import DomainEvent, to_jsonable

SOURCE_PREFIX = "/cio/"


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
    def from_data(cls, data: dict[str, Any]) -> Self:
        return cls.model_validate(data)

    @classmethod
    def from_cloud_event(cls, event: CloudEvent) -> Self:
        """Parse a received CloudEvent; a pydantic ValidationError (a ValueError) names what does not fit."""
        if event.type != cls.event_type:
            raise ValueError(f"{cls.__name__} reads {cls.event_type}, not {event.type}")
        parsed = cls.model_validate(event.data)
        parsed._envelope = event
        return parsed

    def to_cloud_event(self, producer: str, **attributes: Any) -> CloudEvent:
        """The envelope as the outbox writes it (`source` /cio/<producer>, `subject` the aggregate's id)."""
        return CloudEvent(
            type=self.event_type,
            source=SOURCE_PREFIX + producer,
            data=self.payload(),
            subject=self.subject,
            **attributes,
        )

    def data_as_sent(self) -> dict[str, Any]:
        """The data as received (or built): the fields the producer set, and nothing filled in by defaults."""
        return self.model_dump(mode="python", exclude_unset=True)


C = TypeVar("C", bound=EventContract)
U = TypeVar("U")


class ContractHandler(Generic[C, U]):
    """An event handler that receives its typed contract: the consumer hands it the CloudEvent, it parses.

    A contract already parsed passes through, so one handler may call another with what it was given."""

    def __init__(self, contract: type[C], handle: Callable[[C, U], None]) -> None:
        self.contract = contract
        self.handle = handle
        functools.update_wrapper(self, handle)

    def __call__(self, event: CloudEvent | C, uow: U) -> None:
        parsed = event if isinstance(event, self.contract) else self.contract.from_cloud_event(event)  # type: ignore[arg-type]
        self.handle(parsed, uow)


def consumes(contract: type[C]) -> Callable[[Callable[[C, U], None]], ContractHandler[C, U]]:
    """Declare the contract a handler reads: `@consumes(AppointmentMade) def on_made(event, uow): ...`."""

    def register(handle: Callable[[C, U], None]) -> ContractHandler[C, U]:
        return ContractHandler(contract, handle)

    return register
