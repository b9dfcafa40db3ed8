"""Queue names and declarations: `<consumer>.<purpose>` with `.retry` and `.parking` siblings.

A handler failure is rejected without requeue; the queue dead-letters it to its `.retry`
sibling, which holds it for the retry delay (a per-queue TTL) and dead-letters it back.
After the last retry the consumer moves it to `.parking` with the error in its headers,
where an operator can read it and shovel it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pika.adapters.blocking_connection import BlockingChannel

from shared.config import BusSettings

# Stops a message that crashes the process (so is never rejected) from looping forever.
QUORUM_DELIVERY_LIMIT = 20


@dataclass(frozen=True)
class QueueSpec:
    """One consuming queue: its name and the routing keys (topic patterns) bound to it."""

    name: str
    bindings: Sequence[str]

    @property
    def retry(self) -> str:
        return f"{self.name}.retry"

    @property
    def parking(self) -> str:
        return f"{self.name}.parking"


def _type_args(settings: BusSettings) -> dict[str, object]:
    return {"x-queue-type": "quorum"} if settings.quorum_queues else {}


def declare_exchange(channel: BlockingChannel, settings: BusSettings) -> None:
    channel.exchange_declare(settings.exchange, exchange_type="topic", durable=True)


def declare_queue(channel: BlockingChannel, settings: BusSettings, spec: QueueSpec) -> None:
    """Declare the queue, its retry and parking siblings, and bind it before anyone consumes."""
    declare_exchange(channel, settings)
    main_args: dict[str, object] = {
        **_type_args(settings),
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": spec.retry,
    }
    if settings.quorum_queues:
        main_args["x-delivery-limit"] = QUORUM_DELIVERY_LIMIT
    channel.queue_declare(spec.name, durable=True, arguments=main_args)
    channel.queue_declare(
        spec.retry,
        durable=True,
        arguments={
            **_type_args(settings),
            "x-message-ttl": settings.retry_delay_ms,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": spec.name,
        },
    )
    channel.queue_declare(spec.parking, durable=True, arguments=_type_args(settings))
    for pattern in spec.bindings:
        channel.queue_bind(spec.name, settings.exchange, routing_key=pattern)


def declare_queues(settings: BusSettings, specs: Sequence[QueueSpec]) -> None:
    """Declare and bind a service's consuming queues once, at deploy time (the migrate step).

    Events published before a consumer's queue exists are routed nowhere; declaring every queue
    before any process publishes means the first deployment loses nothing either.
    """
    from shared.bus.publisher import connect

    connection = connect(settings.amqp_url, "declare-queues")
    try:
        channel = connection.channel()
        for spec in specs:
            declare_queue(channel, settings, spec)
    finally:
        connection.close()
